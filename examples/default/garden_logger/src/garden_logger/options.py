"""The add-on's options: /data/options.json, checked against the schema of config.yaml.

The Supervisor validates options before it writes the file, but the add-on checks them again: the
file can be missing (a run outside the Supervisor), edited by hand, older than the schema, or
hostile (jsonfile reads it with bounds). Every problem becomes one OptionsError line that names
the file or the option and says what to fix.
SCHEMA and DEFAULTS must equal `schema` and `options` in config.yaml (tests/test_manifest.py).
"""

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Self

from . import paths
from .errors import AddonError
from .jsonfile import JsonFileError, load_object

LOG = logging.getLogger(__name__)

OptionValue = str | int | float | bool

SCHEMA: Final[dict[str, str]] = {
    "log_level": "list(debug|info|warning|error)",
    "log_to_file": "bool",
    "retention_days": "int(1,3650)",
    "min_free_mb": "int(0,1048576)",
}

DEFAULTS: Final[dict[str, OptionValue]] = {
    "log_level": "info",
    "log_to_file": False,
    "retention_days": 30,
    "min_free_mb": 100,
}

_ELEMENT = re.compile(r"(?P<kind>[a-z]+)(?:\((?P<args>.*)\))?(?P<optional>\?)?")
_SHOWN = 60  # characters of a bad value quoted in an error message
# What to do about an options file that cannot be used: the Supervisor replaces it at every start
# of the add-on (App.start calls write_options, an atomic write, in supervisor/apps/app.py;
# home-assistant/supervisor at 090ef31e); a local run without the file uses the defaults.
_REWRITE = "restart the add-on, the Supervisor then writes it anew (locally: fix or delete it)"


class OptionsError(AddonError):
    """A missing, unreadable or invalid options file, as one actionable line."""


@dataclass(frozen=True)
class Options:
    """The validated options, one attribute per option of config.yaml."""

    log_level: str
    log_to_file: bool
    retention_days: int
    min_free_mb: int

    @classmethod
    def from_values(cls, values: dict[str, OptionValue]) -> Self:
        """Build Options from values that validate() has checked."""
        return cls(
            log_level=str(values["log_level"]),
            log_to_file=bool(values["log_to_file"]),
            retention_days=int(values["retention_days"]),
            min_free_mb=int(values["min_free_mb"]),
        )


def load_options(path: Path | None = None) -> Options:
    """Read and validate the options file.

    Without the file, the defaults are used when the add-on runs locally (HA_APP_ROOT is set);
    under the Supervisor a missing file is an error, because the Supervisor always writes it.
    """
    path = path or paths.OPTIONS_FILE
    try:
        raw = load_object(path)
    except FileNotFoundError:
        if paths.is_local():
            LOG.info("No %s: using the defaults of config.yaml", path)
            return Options.from_values(DEFAULTS)
        msg = (
            f"{path} is missing: the Supervisor writes it when it starts the add-on; "
            f"to run the add-on elsewhere, set {paths.ROOT_VARIABLE} to a folder"
        )
        raise OptionsError(msg) from None
    except JsonFileError as error:
        raise OptionsError(f"{error}; {_REWRITE}") from None
    return Options.from_values(validate(raw, source=path))


def validate(raw: dict[str, object], source: Path) -> dict[str, OptionValue]:
    """Check raw options against SCHEMA; fill missing ones from DEFAULTS."""
    for key in sorted(set(raw) - set(SCHEMA)):
        LOG.warning("Ignoring unknown option %r in %s", key, source)
    values: dict[str, OptionValue] = {}
    for key, element in SCHEMA.items():
        if key in raw and raw[key] is not None:
            values[key] = check_element(key, element, raw[key], source)
        elif key in DEFAULTS:
            values[key] = DEFAULTS[key]
        else:
            msg = f"option '{key}' is missing from {source}: set it in the add-on's configuration"
            raise OptionsError(msg)
    return values


def check_element(key: str, element: str, value: object, source: Path) -> OptionValue:
    """Return value if it fits the schema element, else raise an OptionsError that says why."""
    match = _ELEMENT.fullmatch(element)
    if match is None:
        raise OptionsError(f"option '{key}' has an unknown schema element {element!r}")
    kind, args = match["kind"], match["args"]

    def bad(expected: str) -> OptionsError:
        shown = repr(value)
        if len(shown) > _SHOWN:
            shown = shown[:_SHOWN] + "..."
        return OptionsError(f"option '{key}' in {source}: expected {expected}, got {shown}")

    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind in ("int", "port", "float"):
        numeric = (int, float) if kind == "float" else (int,)
        if isinstance(value, bool) or not isinstance(value, numeric):
            raise bad("a number" if kind == "float" else "a whole number")
        if isinstance(value, float) and not math.isfinite(value):
            raise bad("a finite number")
        low, high = (1, 65535) if kind == "port" else _bounds(args)
        if (low is not None and value < low) or (high is not None and value > high):
            raise bad(f"a number from {_show(low, 'any')} to {_show(high, 'any')}")
        return value
    if not isinstance(value, str):
        raise bad("text")
    if kind == "list":
        choices = (args or "").split("|")
        if value not in choices:
            raise bad("one of " + ", ".join(choices))
    elif kind == "match":
        if re.fullmatch(args or "", value) is None:
            raise bad(f"text matching {args}")
    elif kind in ("str", "password"):
        low, high = _bounds(args)
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            raise bad(f"text of {_show(low, '0')} to {_show(high, 'any')} characters")
    elif kind == "email" and "@" not in value:
        raise bad("an email address")
    elif kind == "url" and "://" not in value:
        raise bad("a URL such as https://example.com")
    return value


def _bounds(args: str | None) -> tuple[float | None, float | None]:
    """Parse the "(min,max)" of a schema element; either side may be empty."""
    if not args:
        return None, None
    low, _, high = args.partition(",")
    return (float(low) if low else None), (float(high) if high else None)


def _show(bound: float | None, unbounded: str) -> str:
    if bound is None:
        return unbounded
    return str(int(bound)) if bound == int(bound) else str(bound)

"""Read-only look at Home Assistant's configuration in /homeassistant.

configuration.yaml uses Home Assistant's own YAML tags (!include, !secret, !env_var, ...) that a
plain YAML parser rejects, and the add-on carries no YAML parser. top_level() reads what an add-on
usually needs, the top-level keys with their one-line values, and keeps a tagged value's tag and
argument as text: secrets are never resolved or read.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import AddonError

_TOP_LEVEL = re.compile(r"(?P<key>[^\s#:'\"][^:#]*?|'[^']*'|\"[^\"]*\"):(?:\s+(?P<rest>.*))?")


class HomeAssistantConfigError(AddonError):
    """configuration.yaml is missing or unreadable."""


@dataclass(frozen=True)
class Entry:
    """A top-level key: its one-line value (None for a nested block) and its tag, if any."""

    key: str
    value: str | None
    tag: str | None = None


def top_level(path: Path | None = None) -> dict[str, Entry]:
    """The top-level entries of configuration.yaml, in file order."""
    path = path or paths.HOMEASSISTANT_CONFIG_DIR / "configuration.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        msg = f"cannot read {path}: {error}"
        raise HomeAssistantConfigError(msg) from error
    entries: dict[str, Entry] = {}
    for line in text.splitlines():
        if not line or line[0] in " \t#-" or line.startswith(("---", "...", "%")):
            continue
        match = _TOP_LEVEL.fullmatch(line.rstrip())
        if match is None:
            continue
        key = match["key"].strip("'\"")
        rest = (match["rest"] or "").strip()
        tag = None
        if rest.startswith("!"):
            tag, _, rest = rest.partition(" ")
        value = _scalar(rest.strip())
        entries[key] = Entry(key, value or None, tag)
    return entries


def _scalar(text: str) -> str:
    """A one-line value without its comment; a quoted one without its quotes."""
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        return text[1:end] if end > 0 else text
    return "" if text.startswith("#") else text.split(" #", 1)[0].strip()

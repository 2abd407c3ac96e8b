"""The settings store: a small JSON document in /data that the add-on reads and changes.

Every change is written at once with an atomic write, so the file always holds either the old or
the new settings. The file is read with jsonfile's bounds (never through a link, never waiting on
a FIFO, at most 1 MiB, 100 levels, 4300-digit numbers): one that cannot be used as a JSON object
is set aside as <name>.corrupt-<time> (never deleted), logged as one ERROR, and the defaults are
used, so the add-on still starts. A change that would make the file unreadable by those bounds is
refused, and the file stays as it was.
"""

import copy
import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from . import jsonfile, paths
from .atomicfile import write_atomic

LOG = logging.getLogger(__name__)

JsonValue = Any  # anything json.dumps accepts
T = TypeVar("T")
_SHOWN = 60  # characters of a wrong value quoted in a warning


class Settings:
    """A JSON object on disk with get/set; thread-safe."""

    def __init__(
        self, path: Path | None = None, defaults: Mapping[str, JsonValue] | None = None
    ) -> None:
        self.path = path or paths.SETTINGS_FILE
        self.defaults = dict(defaults or {})
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        loaded = jsonfile.load_or_set_aside(self.path, "the add-on starts with default settings")
        self._data = copy.deepcopy(self.defaults) | (loaded or {})

    def get(self, key: str, default: JsonValue = None) -> JsonValue:
        """Return a copy of the value of key (changing it does not change the store)."""
        with self._lock:
            return copy.deepcopy(self._data.get(key, default))

    def get_typed(self, key: str, default: T) -> T:
        """The value of key if it has the JSON type of default; else default, with a WARNING.

        Code that computes with a setting (`get_typed("starts", 0) + 1`) needs the type it
        expects, and a hand-edited or older file may hold another (`"starts": "x"`). That is one
        wrong value in a valid file, not a damaged file: the other settings are fine, so the
        file is neither set aside nor refused, and the add-on carries on with the default for
        this key, as configuration readers commonly do. The WARNING (once per key and run) names
        the file, the key, the value found and the default used, so the value is on record before
        a later set() of the key replaces it. Types are JSON's: an int default takes only whole
        numbers (not true/false, not 2.0); a float default takes whole numbers too.
        """
        with self._lock:
            value: T = self._data.get(key, default)
            if _same_json_type(value, default):
                return copy.deepcopy(value)
            if key not in self._warned:
                self._warned.add(key)
                shown = json.dumps(value)
                shown = shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "..."
                LOG.warning(
                    "%s: the setting %s holds %s, not %s; using %s instead",
                    self.path,
                    json.dumps(key),
                    shown,
                    _json_type(default),
                    json.dumps(default),
                )
            return default

    def set(self, key: str, value: JsonValue) -> None:
        """Set one key and save."""
        self.update({key: value})

    def update(self, changes: Mapping[str, JsonValue]) -> None:
        """Set several keys and save them in one atomic write."""
        with self._lock:
            data = self._data | copy.deepcopy(dict(changes))
            write_atomic(self.path, jsonfile.encode_object(self.path, data))
            self._data = data

    def flush(self) -> None:
        """Nothing to write: every change is written when it is made."""

    def close(self) -> None:
        """Nothing to close: the file is open only while it is read or written."""

    def as_dict(self) -> dict[str, JsonValue]:
        """A copy of all settings."""
        with self._lock:
            return copy.deepcopy(self._data)


def _same_json_type(value: JsonValue, default: JsonValue) -> bool:
    """Whether value has default's JSON type (true/false is no number; a whole number is one)."""
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return type(value) is type(default)


def _json_type(default: JsonValue) -> str:
    """default's JSON type, in words."""
    names: dict[type, str] = {bool: "true or false", int: "a whole number", float: "a number"}
    names |= {str: "a string", list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(default), type(default).__name__)

"""The state file: what the add-on is doing now, saved often but written rarely.

update() changes the state in memory at once and a background thread writes it at most once
every `interval` seconds, so a burst of thousands of updates costs a handful of atomic writes.
flush() writes immediately (the add-on calls it when it stops, on SIGTERM); request_flush() asks
the writer thread to do so (from a signal handler, where writing is not safe).

The file is read with jsonfile's bounds: one that cannot be used as a JSON object (valid JSON
that is not an object included) is set aside as <name>.corrupt-<time>, never deleted or
overwritten, logged as one ERROR, and the add-on starts with an empty state.
"""

import copy
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import jsonfile, paths
from .atomicfile import write_atomic
from .errors import AddonError

LOG = logging.getLogger(__name__)


class StateFile:
    """A JSON object of the add-on's state, with coalesced atomic writes."""

    def __init__(self, path: Path | None = None, interval: float = 1.0) -> None:
        self.path = path or paths.STATE_FILE
        self.interval = interval
        self.writes = 0
        loaded = jsonfile.load_or_set_aside(self.path, "the add-on starts with an empty state")
        self._state: dict[str, Any] = loaded or {}
        self._dirty = False
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="state-writer", daemon=True)
        self._writer.start()

    @property
    def state(self) -> dict[str, Any]:
        """A copy of the current state."""
        with self._lock:
            return copy.deepcopy(self._state)

    def update(self, changes: Mapping[str, Any] | None = None, **more: Any) -> None:
        """Change the state; it reaches the disk within `interval` seconds."""
        with self._lock:
            self._state.update(changes or {}, **more)
            self._state["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
            self._dirty = True

    def flush(self) -> None:
        """Write the state now if it changed."""
        with self._lock:
            if not self._dirty:
                return
            write_atomic(self.path, jsonfile.encode_object(self.path, self._state))
            self._dirty = False
            self.writes += 1

    def request_flush(self) -> None:
        """Ask the writer thread to write at once, even if nothing changed (an acknowledgement)."""
        with self._lock:
            self._dirty = True
        self._wake.set()

    def close(self) -> None:
        """Stop the writer thread and write the last changes."""
        self._closed.set()
        self._wake.set()
        self._writer.join()
        self.flush()

    def _write_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except (OSError, AddonError) as error:
                LOG.error("Could not save the state: %s", error)

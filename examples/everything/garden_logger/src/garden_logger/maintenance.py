"""Housekeeping in a background thread: retention clean-up and the disk-space watch.

Files in the cache and temporary folders older than `retention_days` are deleted (nothing outside
those folders is ever touched, and symbolic links are not followed). Free space on /data is
checked on every round: falling below `min_free_mb` is logged once as a warning. The thread never
blocks the add-on's work and stops with it.
"""

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from . import paths
from .diskspace import LowSpaceWatch

LOG = logging.getLogger(__name__)

DAY = 86400.0


def remove_old_files(folders: Sequence[Path], retention_days: int, now: float | None = None) -> int:
    """Delete files older than retention_days in folders (recursively); return how many."""
    cutoff = (now or time.time()) - retention_days * DAY
    removed = 0
    for folder in folders:
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in sorted(folder.rglob("*"), reverse=True):
            try:
                if path.is_symlink() or path.is_file():
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
            except OSError as error:
                LOG.warning("Could not clean up %s: %s", path, error)
    return removed


class Maintenance(threading.Thread):
    """Runs clean-up and the disk check now, then every `interval` seconds, until stop()."""

    def __init__(
        self,
        retention_days: int,
        interval: float = 3600.0,
        folders: Sequence[Path] = (paths.CACHE_DIR, paths.TMP_DIR),
    ) -> None:
        super().__init__(name="maintenance", daemon=True)
        self.retention_days = retention_days
        self.interval = interval
        self.folders = tuple(folders)
        self.disk = LowSpaceWatch(paths.DATA_DIR)
        self.rounds = 0
        self._stop_requested = threading.Event()

    def run_once(self) -> None:
        removed = remove_old_files(self.folders, self.retention_days)
        if removed:
            LOG.info("Removed %d file(s) older than %d days", removed, self.retention_days)
        self.disk.check()
        self.rounds += 1

    def run(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception:
                LOG.exception("Maintenance failed; trying again in %.0f s", self.interval)
            if self._stop_requested.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop_requested.set()
        self.join()

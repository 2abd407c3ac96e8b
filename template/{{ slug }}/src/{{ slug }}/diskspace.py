"""Free disk space: a reserve that writes may not eat into, and a once-only low-space warning.

The reserve comes from the `min_free_mb` option (set at start with set_reserve). A write that
would leave less free space than the reserve raises InsufficientSpaceError before it starts, so
it never fails half-way; the old file stays as it was.
"""

import logging
import os
import shutil
from pathlib import Path

LOG = logging.getLogger(__name__)
MB = 1024 * 1024

_reserve_bytes = 0


class InsufficientSpaceError(OSError):
    """Writing would leave less free space than the reserve."""


def set_reserve(min_free_mb: int) -> None:
    """Keep min_free_mb megabytes free: writes that would use them are refused."""
    global _reserve_bytes  # one process-wide setting, set once at start
    _reserve_bytes = max(0, min_free_mb) * MB


def free_bytes(path: Path | int) -> int:
    """Free space on the filesystem that holds path (or its nearest existing parent).

    path may also be an open descriptor (of a folder): nothing is then looked up by name.
    """
    if isinstance(path, int):
        status = os.fstatvfs(path)
        return status.f_bavail * status.f_frsize  # what shutil.disk_usage reports as free
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def ensure_room(path: Path | int, needed: int, *, purpose: str) -> None:
    """Raise InsufficientSpaceError unless needed bytes fit above the reserve (path: as above)."""
    free = free_bytes(path)
    if free - needed < _reserve_bytes:
        msg = (
            f"not enough disk space to {purpose}: it needs {needed} bytes, {free // MB} MB are "
            f"free and {_reserve_bytes // MB} MB are kept in reserve (option min_free_mb); "
            "free some space or lower min_free_mb"
        )
        raise InsufficientSpaceError(msg)


class LowSpaceWatch:
    """Warn once when free space drops below the reserve, and once when it recovers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.low = False

    def check(self) -> bool:
        """Return True when free space is below the reserve."""
        free = free_bytes(self.path)
        low = free < _reserve_bytes
        if low and not self.low:
            LOG.warning(
                "Low disk space: %d MB free on %s, below min_free_mb (%d MB): writes may fail",
                free // MB,
                self.path,
                _reserve_bytes // MB,
            )
        elif self.low and not low:
            LOG.info("Disk space recovered: %d MB free on %s", free // MB, self.path)
        self.low = low
        return low

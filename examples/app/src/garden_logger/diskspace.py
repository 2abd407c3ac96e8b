"""Free disk space: a reserve that writes may not eat into, and a once-only low-space warning.

The reserve comes from the `min_free_mb` option (set at start with set_reserve). A write that
would leave less free space than the reserve raises InsufficientSpaceError before it starts, so
it never fails half-way; the old file stays as it was.

When the disk is full anyway (a reserve of 0, or another program filled it) or has no free inode
left, room_problem says so in words ("disk full", "no inodes"), with the free space and the
folder, so that a failed write is never mistaken for a damaged file.
"""

import errno
import logging
import os
import shutil
from pathlib import Path

LOG = logging.getLogger(__name__)
KB = 1024
MB = 1024 * KB
# Less free space than this is a full disk. SQLite needs 32 KB just to open a WAL database (its
# -shm file), and it reports that failure only as "disk I/O error" or "unable to open database
# file"; with less than this free, that is what such an error means.
FULL_BELOW = MB
# What the kernel answers when a write or a new file finds no room: no free block or inode
# (ENOSPC), or the quota used up (EDQUOT).
NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

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


def room_problem(
    where: Path | int, *, shown: Path | str | None = None, failed: int | None = None
) -> str:
    """Why nothing more fits on the filesystem holding where (a path, or an open folder's
    descriptor): "no inodes: ..." or "disk full: ...", with the folder (shown, else where) and
    what is free; "" when there is room.

    failed: the errno with which the kernel refused a write (ENOSPC, EDQUOT): with room left by
    the counts (a quota, or space freed since) the line still says so, with the free space.
    """
    if isinstance(where, Path):
        while not where.exists() and where != where.parent:
            where = where.parent
        shown = shown or where
    shown = shown or "its folder"
    try:
        stats = os.statvfs(where)
    except OSError:
        return os.strerror(failed) if failed else ""
    # A filesystem without a fixed number of inodes (btrfs) reports 0 of 0: never "no inodes".
    if stats.f_files and not stats.f_favail:
        return (
            f"no inodes: no file can be created on the disk holding {shown} (all "
            f"{stats.f_files} inodes are in use); delete files there"
        )
    free = stats.f_bavail * stats.f_frsize
    if free < FULL_BELOW:
        return f"disk full: {size_text(free)} free on the disk holding {shown}; free some space"
    if failed:
        return f"{os.strerror(failed)} ({size_text(free)} free on the disk holding {shown})"
    return ""


def explain(error: BaseException) -> str:
    """error as one line; a file that could not be created or written for lack of room also
    says how full its disk is."""
    if isinstance(error, OSError) and error.errno in NO_ROOM_ERRNOS and error.filename:
        path = Path(os.fsdecode(error.filename))
        return f"cannot write {path}: {room_problem(path.parent, failed=error.errno)}"
    return str(error)


def size_text(size: int) -> str:
    """A size in KB below a megabyte, in MB above."""
    return f"{size // KB} KB" if size < MB else f"{size // MB} MB"


def ensure_room(path: Path | int, needed: int, *, purpose: str) -> None:
    """Raise InsufficientSpaceError unless needed bytes fit above the reserve (path: as above)."""
    free = free_bytes(path)
    if free - needed >= _reserve_bytes:
        return
    if free < needed or free < FULL_BELOW:  # no reserve setting would help: say what is wrong
        msg = (
            f"cannot {purpose}: disk full: it needs {needed} bytes, {size_text(free)} are free on "
            f"the disk holding {path if isinstance(path, Path) else 'its folder'}; free some space"
        )
    else:
        msg = (
            f"not enough disk space to {purpose}: it needs {needed} bytes, {size_text(free)} are "
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

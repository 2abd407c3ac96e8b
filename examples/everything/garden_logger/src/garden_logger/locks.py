"""The lock that keeps two add-ons off one /data, and tells the backup hooks whether one runs.

It is a flock(2) lock: advisory, held by an open file, and dropped by the kernel when the process
ends however it ends (SIGKILL, an OOM kill), so a crash never leaves a stale lock to clean up. It
locks the file itself, not a process id, so it also keeps apart two containers that share one
/data folder. A pid in another container means nothing here; it is shown for the user.
"""

import fcntl
import os
from pathlib import Path

from . import paths
from .diskspace import NO_ROOM_ERRNOS
from .errors import AddonError

SLUG = __name__.partition(".")[0]


class LockError(AddonError):
    """Another process holds the lock; the message says which and what to do."""


class InstanceLock:
    """The add-on's hold on its /data folder, for as long as the process runs."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor

    def release(self) -> None:
        """Give /data up (the kernel does it anyway when the process ends)."""
        if self._descriptor >= 0:
            os.close(self._descriptor)
            self._descriptor = -1


def hold_instance_lock(path: Path | None = None) -> InstanceLock:
    """Lock /data for this process; raise LockError when another add-on already runs on it."""
    path = path or paths.INSTANCE_LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(descriptor)
        msg = (
            f"Another instance of {SLUG} is running on this {path.parent} (pid {holder}): "
            "stop it first."
        )
        raise LockError(msg) from None
    except OSError:
        os.close(descriptor)
        raise
    # The pid is for the message above only: the lock itself is the flock. A full disk leaves it
    # out rather than stop the add-on here: the writes that need the room say "disk full".
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError as error:
        if error.errno not in NO_ROOM_ERRNOS:
            os.close(descriptor)
            raise
    return InstanceLock(descriptor)


def instance_is_running(path: Path | None = None) -> bool:
    """Tell whether an add-on holds /data (its lock; the pid in the file is not trusted).

    The backup hooks ask: the lock is taken before the add-on opens anything, so a free lock
    means nothing writes the files.
    """
    path = path or paths.INSTANCE_LOCK_FILE
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # also drops the shared lock just taken
    return False

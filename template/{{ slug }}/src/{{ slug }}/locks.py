"""Locks that keep two writers of the same files apart: one add-on per /data, one snapshot writer.

They are flock(2) locks: advisory, held by an open file, and dropped by the kernel when the
process ends however it ends (SIGKILL, an OOM kill), so a crash never leaves a stale lock to clean
up. They lock the file itself, not a process id, so they also keep apart two containers that
share one /data folder. A pid in another container means nothing here; it is shown for the user.
"""

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import paths
from .diskspace import NO_ROOM_ERRNOS
from .errors import AddonError

POLL_SECONDS = 0.05  # how often a waiting writer tries the lock again
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


@contextmanager
def exclusive(path: Path, *, wait: float, purpose: str) -> Iterator[None]:
    """Hold an exclusive lock on path (a file or a folder) for the block.

    Waits at most `wait` seconds for another holder to finish, then raises LockError, so a caller
    with a deadline of its own (backup-pre, a stop) never hangs.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    msg = (
                        f"cannot {purpose}: another process has been doing it for {wait:.0f} s "
                        f"(it holds the lock on {path}); try again when it has finished"
                    )
                    raise LockError(msg) from None
                time.sleep(POLL_SECONDS)
        yield
    finally:
        os.close(descriptor)

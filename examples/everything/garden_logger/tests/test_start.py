"""Start-up before the stores open: what a crash left is cleaned up, a full disk is named."""

import errno
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from garden_logger import app, locks, paths
from garden_logger.options import DEFAULTS, Options


def test_start_removes_left_overs_in_the_addons_own_folders_only(
    make_left_over: Callable[[Path, str], Path],
) -> None:
    """In /data and its sub-folders, and in the add-on configuration folder when the add-on
    writes it: what a crash left there would otherwise stay for good, and go into every backup.
    Never in the folders that other add-ons write too: one of them may be writing a file of the
    same name right now. A temporary file newer than the add-on's process is a write in progress:
    it stays too."""
    own = [mount.path for mount in paths.MOUNTS if mount.writable and mount.in_backup]
    shared = [mount.path for mount in paths.MOUNTS if mount.writable and not mount.in_backup]
    stale = [make_left_over(paths.DATA_DIR / "exports", "report.json")]
    stale += [make_left_over(paths.CACHE_DIR / "a" / "b", "x.json")]
    stale += [make_left_over(folder, "settings.json") for folder in own]
    others = [make_left_over(folder, "export.json") for folder in shared]
    for path in stale + others:
        os.utime(path, (app.STARTED - 60, app.STARTED - 60))
    in_progress = make_left_over(paths.DATA_DIR, "state.json")
    os.utime(in_progress, (app.STARTED + 3600, app.STARTED + 3600))
    app.start(Options.from_values(DEFAULTS)).close()
    assert [path for path in stale if path.exists()] == []
    assert all(path.exists() for path in others)
    assert in_progress.exists()


def test_a_disk_without_room_for_the_pid_still_locks_the_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pid in the lock file is only shown to a second add-on: a full disk must not stop
    the start there with a bare "No space left on device" (the writes that need room say
    "disk full")."""

    def no_room(*_args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", no_room)
    lock = locks.hold_instance_lock()
    try:
        with paths.INSTANCE_LOCK_FILE.open() as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        lock.release()

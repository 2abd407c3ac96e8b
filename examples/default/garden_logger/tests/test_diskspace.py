"""The disk reserve and the once-only low-space warning."""

import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from garden_logger import diskspace


@pytest.fixture(autouse=True)
def no_reserve() -> None:
    diskspace.set_reserve(0)


def test_free_bytes_of_a_path_that_does_not_exist_yet(tmp_path: Path) -> None:
    assert diskspace.free_bytes(tmp_path / "not" / "yet") > 0


def test_ensure_room_names_the_purpose_and_the_option(tmp_path: Path) -> None:
    diskspace.ensure_room(tmp_path, 1, purpose="write x")
    diskspace.set_reserve(10**9)
    with pytest.raises(diskspace.InsufficientSpaceError, match=r"to write x: .*min_free_mb"):
        diskspace.ensure_room(tmp_path, 1, purpose="write x")


def test_a_write_that_cannot_fit_says_disk_full_whatever_the_reserve(
    tmp_path: Path, full_disk: Callable[..., None]
) -> None:
    full_disk(free=16 * 1024)
    diskspace.set_reserve(100)
    with pytest.raises(diskspace.InsufficientSpaceError) as caught:
        diskspace.ensure_room(tmp_path, 10, purpose="write x")
    assert str(caught.value) == (
        f"cannot write x: disk full: it needs 10 bytes, 16 KB are free on the disk holding "
        f"{tmp_path}; free some space"
    )


def test_low_space_is_logged_once_and_recovery_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    watch = diskspace.LowSpaceWatch(tmp_path)
    diskspace.set_reserve(10**9)
    assert watch.check() is True
    assert watch.check() is True
    assert caplog.text.count("Low disk space") == 1
    diskspace.set_reserve(0)
    assert watch.check() is False
    assert "Disk space recovered" in caplog.text


def test_room_problem_names_a_full_disk_and_the_folder(
    tmp_path: Path, full_disk: Callable[..., None]
) -> None:
    assert diskspace.room_problem(tmp_path) == ""  # the test machine has room
    full_disk(free=16 * 1024)
    assert diskspace.room_problem(tmp_path / "not" / "yet") == (
        f"disk full: 16 KB free on the disk holding {tmp_path}; free some space"
    )


def test_room_problem_names_a_disk_without_inodes(
    tmp_path: Path, full_disk: Callable[..., None]
) -> None:
    full_disk(free=10**9, inodes=0)
    problem = diskspace.room_problem(tmp_path)
    assert problem.startswith(f"no inodes: no file can be created on the disk holding {tmp_path}")


def test_a_filesystem_without_an_inode_count_is_not_out_of_inodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """btrfs reports 0 inodes of 0: it has no fixed number, so none can run out."""
    fake = os.statvfs_result((4096, 4096, 10**6, 10**5, 10**5, 0, 0, 0, 0, 255))
    monkeypatch.setattr(os, "statvfs", lambda _where: fake)
    assert diskspace.room_problem(tmp_path) == ""


def test_explain_says_how_full_the_disk_of_a_refused_file_is(
    tmp_path: Path, full_disk: Callable[..., None]
) -> None:
    full_disk(free=0)
    lock = tmp_path / ".instance.lock"
    error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(lock))
    assert diskspace.explain(error) == (
        f"cannot write {lock}: disk full: 0 KB free on the disk holding {tmp_path}; free some space"
    )
    other = OSError(errno.EACCES, os.strerror(errno.EACCES), str(lock))
    assert diskspace.explain(other) == str(other)

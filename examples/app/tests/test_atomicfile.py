"""Atomic writes: the old file or the new one, never half; no temporary file left behind."""

import errno
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from garden_logger import atomicfile, diskspace
from garden_logger.atomicfile import (
    StorageError,
    remove_stale_temp_files,
    set_aside,
    write_atomic,
    write_atomic_at,
)


def leftovers(folder: Path) -> list[Path]:
    return list(folder.glob(atomicfile.TEMP_PREFIX + "*"))


def test_writes_text_and_bytes(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.txt", "héllo")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert leftovers(tmp_path) == []


def test_replaces_and_keeps_the_old_mode(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    target.write_text("old")
    target.chmod(0o600)
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o600


def test_modes_are_explicit_whatever_the_umask(tmp_path: Path) -> None:
    """A new file is private (0600), or has the mode asked for; the umask changes neither."""
    previous = os.umask(0)
    try:
        write_atomic(tmp_path / "new.json", "{}")
        write_atomic(tmp_path / "shared.json", "{}", mode=0o644)
    finally:
        os.umask(previous)
    assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "shared.json").stat().st_mode & 0o777 == 0o644


def test_a_link_in_place_of_the_file_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("untouched")
    outside.chmod(0o666)
    (tmp_path / "folder").mkdir()
    link = tmp_path / "folder" / "data.json"
    link.symlink_to(outside)
    write_atomic(link, "new")
    assert not link.is_symlink()
    assert link.read_text() == "new"
    assert link.stat().st_mode & 0o777 == 0o600  # not the mode of what the link pointed to
    assert outside.read_text() == "untouched"


def test_crash_between_write_and_rename_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "data.json"
    target.write_text("old")

    def crash(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageError, match=r"cannot write .*data\.json: Input/output error"):
        write_atomic(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EIO])
def test_failed_fsync_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: int
) -> None:
    target = tmp_path / "data.json"
    target.write_text("old")

    def broken_fsync(_descriptor: int) -> None:
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StorageError, match=os.strerror(failure)) as caught:
        write_atomic(target, "new")
    monkeypatch.undo()
    assert str(target) in str(caught.value)
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot write"):
        write_atomic(tmp_path / "nowhere" / "x.json", "{}")


def test_refuses_to_eat_into_the_disk_reserve(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    target.write_text("old")
    diskspace.set_reserve(10**9)  # a petabyte: more than any test machine has free
    try:
        with pytest.raises(diskspace.InsufficientSpaceError, match="min_free_mb"):
            write_atomic(target, "new")
    finally:
        diskspace.set_reserve(0)
    assert target.read_text() == "old"


def test_the_staged_write_checks_the_reserve_itself(tmp_path: Path) -> None:
    """write_atomic_at, which share.py calls with a folder it opened itself, keeps the reserve."""
    target = tmp_path / "data.json"
    target.write_text("old")
    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    diskspace.set_reserve(10**9)
    try:
        with pytest.raises(diskspace.InsufficientSpaceError, match=f"to write {target}: "):
            write_atomic_at(folder, target.name, b"new", shown=str(target))
    finally:
        diskspace.set_reserve(0)
        os.close(folder)
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_left_overs_are_removed_in_every_sub_folder_and_only_they(
    tmp_path: Path, make_left_over: Callable[[Path, str], Path]
) -> None:
    """A crash leaves the temporary file of a write in whichever folder it wrote; the clean-up
    removes exactly those, and never follows a link out."""
    data = tmp_path / "data"
    stale = [
        make_left_over(data, "settings.json"),
        make_left_over(data / "exports", "report.json"),
        make_left_over(data / "cache" / "a" / "b", "x.json"),
    ]
    kept = [data / ".tmp-notes.txt", data / "keep.json", data / "cache" / ".tmp-x.0a1b2c"]
    for path in kept:
        path.write_text("not the add-on's temporary file")
    outside = make_left_over(tmp_path / "outside", "y.json")
    (data / "link").symlink_to(outside.parent, target_is_directory=True)
    linked = data / outside.name  # a link named like a left-over: not a regular file
    linked.symlink_to(outside)
    assert sorted(remove_stale_temp_files(data)) == sorted(stale)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert outside.read_bytes() == b"half"
    assert linked.is_symlink()


def test_left_overs_newer_than_the_cutoff_stay(
    tmp_path: Path, make_left_over: Callable[[Path, str], Path]
) -> None:
    """A write that another process of the add-on has in progress is not a left-over."""
    old, new = make_left_over(tmp_path, "a.json"), make_left_over(tmp_path, "b.json")
    os.utime(old, (1000, 1000))
    os.utime(new, (3000, 3000))
    assert remove_stale_temp_files(tmp_path, before=2000) == [old]
    assert new.exists()


def test_the_clean_up_goes_only_max_depth_deep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_left_over: Callable[[Path, str], Path]
) -> None:
    monkeypatch.setattr(atomicfile, "MAX_DEPTH", 2)
    deepest = make_left_over(tmp_path / "1" / "2", "a.json")
    too_deep = make_left_over(tmp_path / "1" / "2" / "3", "b.json")
    assert remove_stale_temp_files(tmp_path) == [deepest]
    assert too_deep.exists()


@pytest.mark.parametrize(
    ("free", "inodes", "said"),
    [(8 * 1024, 100, "disk full: 8 KB free on the disk holding"), (10**9, 0, "no inodes: ")],
)
def test_a_full_disk_is_named_and_the_old_file_stays(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    full_disk: Callable[..., None],
    free: int,
    inodes: int,
    said: str,
) -> None:
    """No room for the data (ENOSPC at fsync) or for the temporary file (ENOSPC at create)."""
    target = tmp_path / "data.json"
    target.write_text("old")
    full_disk(free=free, inodes=inodes)
    create = os.open

    def no_room(*_args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def no_inode(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            no_room()
        return create(path, flags, *args, **kwargs)

    if inodes:
        monkeypatch.setattr(os, "fsync", no_room)
    else:
        monkeypatch.setattr(os, "open", no_inode)
    with pytest.raises(StorageError) as caught:
        write_atomic(target, "new")
    monkeypatch.undo()
    assert str(caught.value).startswith(f"[Errno 28] cannot write {target}: {said}")
    assert str(tmp_path) in str(caught.value)
    assert "\n" not in str(caught.value)
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


class Clock:
    """The clock set_aside reads, at a time the test sets (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def gmtime(self, seconds: float | None = None) -> time.struct_time:
        return time.gmtime(self.now if seconds is None else seconds)

    def localtime(self, seconds: float | None = None) -> time.struct_time:
        return time.localtime(self.now if seconds is None else seconds)

    def strftime(self, pattern: str, moment: time.struct_time | None = None) -> str:
        return time.strftime(pattern, moment or self.localtime())


def test_set_aside_keeps_the_file_under_a_new_name(tmp_path: Path) -> None:
    damaged = tmp_path / "x.json"
    damaged.write_text("{broken")
    aside = set_aside(damaged, "corrupt")
    assert not damaged.exists()
    assert aside.name.startswith("x.json.corrupt-")
    assert aside.read_text() == "{broken"


def make_file(path: Path, number: int) -> None:
    path.write_text(f"damaged {number}")


def make_folder(path: Path, number: int) -> None:
    path.mkdir()
    (path / "inside").write_text(f"damaged {number}")


def make_link(path: Path, number: int) -> None:
    path.symlink_to(f"/nowhere/damaged {number}")


def content(path: Path) -> str:
    """What a file, folder or link set aside holds, read without following the link."""
    if path.is_symlink():
        return f"link to {path.readlink()}"
    if path.is_dir():
        return "folder holding " + (path / "inside").read_text()
    return path.read_text()


@pytest.mark.parametrize("make", [make_file, make_folder, make_link])
def test_set_aside_never_replaces_an_earlier_one_whatever_the_clock_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path, int], None]
) -> None:
    """Two in the same second, then the clock stepped back a second: all kept, none replaced."""
    start = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
    clock = Clock(start)
    monkeypatch.setattr(atomicfile, "time", clock)
    damaged = tmp_path / "x.json"
    kept: dict[Path, str] = {}
    for number, offset in enumerate([0.0, 0.5, 1.0, 0.2]):
        clock.now = start + offset
        make(damaged, number)
        before = content(damaged)
        kept[set_aside(damaged, "corrupt")] = before
    assert len(kept) == 4  # four names
    for aside, before in kept.items():
        assert content(aside) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "x.json.corrupt-20270115T080000Z",
        "x.json.corrupt-20270115T080000Z-2",
        "x.json.corrupt-20270115T080000Z-3",
        "x.json.corrupt-20270115T080001Z",
    ]


def test_set_aside_of_nothing_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"cannot set aside .*x\.json: No such file"):
        set_aside(tmp_path / "x.json", "corrupt")

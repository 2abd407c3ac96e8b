"""Atomic file writes: readers, crashes and power cuts see the old file or the new one, never half.

The data goes to a temporary file in the same folder, is flushed and fsynced, then renamed over
the target with os.replace (atomic on POSIX), and the folder is fsynced so the rename itself
survives a power cut. No temporary file is left behind, whatever fails; only a crash can leave
one, and remove_stale_temp_files deletes it at the next start. A write that finds the disk full
or out of inodes says so ("disk full", "no inodes") and leaves the old file as it was.

Every step works on the open folder (a directory descriptor), never on a path looked up again, so
write_atomic_at() also serves folders that other add-ons can change at the same time; it is the
one staged write of the add-on (write_atomic() opens the folder for it, share.py reaches the folder
without following links), and it also checks the disk reserve, on that same open folder.
Modes are set explicitly, whatever the umask: a replaced file keeps its mode, and a new file gets
NEW_FILE_MODE (only the add-on can read it) unless the caller asks for another.
"""

import contextlib
import os
import re
import secrets
import stat
import time
from pathlib import Path

from . import diskspace

TEMP_PREFIX = ".tmp-"
_TOKEN_BYTES = 6
# Exactly the names _create_temp gives: the prefix, the file's name, a dot, 12 hex digits.
# Nothing else is ever removed as a left-over (config.yaml's backup_exclude matches them too).
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r".+\." + "[0-9a-f]" * 2 * _TOKEN_BYTES, re.DOTALL)
MAX_DEPTH = 32  # folder levels below the top that the clean-up of left-overs enters
NEW_FILE_MODE = 0o600
_TEMP_TRIES = 8
_ASIDE_TRIES = 1000  # set-aside names tried per second's time stamp


class StorageError(OSError):
    """A file could not be written; the message names the file and the cause."""


def write_atomic(
    path: Path, data: bytes | str, *, encoding: str = "utf-8", mode: int | None = None
) -> None:
    """Replace path with data (bytes, or text encoded with encoding) atomically.

    mode: the new file's permissions; None keeps those of the file it replaces (NEW_FILE_MODE
    for a new one).
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise StorageError(error.errno, f"cannot write {path}: {error.strerror}") from error
    try:
        write_atomic_at(folder, path.name, payload, mode=mode, shown=str(path))
    finally:
        os.close(folder)


def write_atomic_at(
    folder: int, name: str, payload: bytes, *, mode: int | None = None, shown: str = ""
) -> None:
    """Replace name in the folder open as descriptor folder with payload, atomically.

    Nothing is looked up by path: the disk reserve is checked on the open folder, the temporary
    file is created beside name with O_EXCL and O_NOFOLLOW, and the rename replaces the entry name
    itself (a link there is replaced, never followed). shown names the file in errors.
    """
    shown = shown or name
    diskspace.ensure_room(folder, len(payload), purpose=f"write {shown}")
    if mode is None:
        mode = _mode_of(folder, name)
    temp, descriptor = _create_temp(folder, name, shown)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fchmod(handle.fileno(), mode)  # not filtered by the umask, unlike a create mode
            os.fsync(handle.fileno())
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=folder)
        raise _write_error(error, folder, shown) from error
    try:
        os.fsync(folder)
    except OSError as error:
        msg = f"cannot flush the folder of {shown} to disk: {error.strerror}"
        raise StorageError(error.errno, msg) from error


def _mode_of(folder: int, name: str) -> int:
    """The permissions of the regular file name replaces, or NEW_FILE_MODE."""
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return NEW_FILE_MODE
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else NEW_FILE_MODE


def _create_temp(folder: int, name: str, shown: str) -> tuple[str, int]:
    """A new, empty, private temporary file beside name: its name and descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(_TEMP_TRIES):
        temp = f"{TEMP_PREFIX}{name}.{secrets.token_hex(_TOKEN_BYTES)}"
        try:
            return temp, os.open(temp, flags, 0o600, dir_fd=folder)
        except FileExistsError:
            continue
        except OSError as error:
            raise _write_error(error, folder, shown) from error
    msg = f"cannot write {shown}: no free temporary file name beside it"
    raise StorageError(msg)


def _write_error(error: OSError, folder: int, shown: str) -> StorageError:
    """The one-line StorageError for a failed write: no room says "disk full" or "no inodes"."""
    cause = error.strerror
    if error.errno in diskspace.NO_ROOM_ERRNOS:
        where = Path(shown).parent if os.sep in shown else "its folder"
        cause = diskspace.room_problem(folder, shown=where, failed=error.errno)
    return StorageError(error.errno, f"cannot write {shown}: {cause}")


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def set_aside(path: Path, label: str) -> Path:
    """Rename a damaged file (or folder, or link) to <name>.<label>-<UTC time>, never over another.

    Nothing is ever replaced, whatever the clock does: the new name is first created exclusively
    (O_EXCL; mkdir for a folder) as an empty placeholder, and only that placeholder is then
    replaced by the rename. A name already taken, by a set-aside earlier in the same second or
    before the clock stepped back, gets a counter (-2, -3, ...) instead. The time tells roughly
    when, to the second; names sort by it as long as the clock only moves forward. A crash
    between the two steps leaves an empty placeholder beside the damaged file, which stays where
    it was (and is set aside again at the next start): nothing is lost either way.
    """
    try:
        is_folder = stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError as error:
        raise StorageError(error.errno, f"cannot set aside {path}: {error.strerror}") from error
    base = f"{path.name}.{label}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    for number in range(1, _ASIDE_TRIES + 1):
        aside = path.with_name(base if number == 1 else f"{base}-{number}")
        try:
            _reserve(aside, is_folder=is_folder)
        except FileExistsError:
            continue
        except OSError as error:
            msg = f"cannot set aside {path} as {aside}: {error.strerror}"
            raise StorageError(error.errno, msg) from error
        try:
            path.replace(aside)  # over the empty placeholder made just now, and nothing else
        except OSError as error:
            with contextlib.suppress(OSError):
                if is_folder:
                    aside.rmdir()
                else:
                    aside.unlink()
            msg = f"cannot set aside {path} as {aside}: {error.strerror}"
            raise StorageError(error.errno, msg) from error
        fsync_folder(path.parent)
        return aside
    msg = f"cannot set aside {path}: {_ASIDE_TRIES} names for this second are already taken"
    raise StorageError(msg)


def _reserve(name: Path, *, is_folder: bool) -> None:
    """Create name as an empty placeholder; FileExistsError if anything has that name."""
    if is_folder:
        name.mkdir(mode=0o700)
    else:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        os.close(os.open(name, flags, NEW_FILE_MODE))


def remove_stale_temp_files(folder: Path, *, before: float | None = None) -> list[Path]:
    """Delete the temporary files that interrupted writes left in folder and its sub-folders.

    Only regular files named as _create_temp names them are removed, and with `before` (a
    time.time() value) only those last changed earlier, so a write that another process of the
    add-on has in progress is left alone. Links are never followed: os.fwalk goes through
    directory descriptors and enters a folder only if it is the one it listed, so a link (or a
    folder swapped for one) never leads outside. Folders deeper than MAX_DEPTH are not entered:
    the add-on makes none, and a hostile tree cannot exhaust the open descriptors.
    """
    removed = []
    depth_of_top = str(folder).count(os.sep)
    for current, folders, files, descriptor in os.fwalk(folder, follow_symlinks=False):
        if current.count(os.sep) - depth_of_top >= MAX_DEPTH:
            folders.clear()
        for name in files:
            if not _TEMP_NAME.fullmatch(name):
                continue
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
                info = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and (before is None or info.st_mtime < before):
                    os.unlink(name, dir_fd=descriptor)
                    removed.append(Path(current, name))
    return removed

"""Files beneath a folder that other add-ons can change: opened without ever following a link.

Another add-on that can write a shared folder can swap a folder in it for a link at any moment, so
a name that was checked and is then opened by its path may lead anywhere, the add-on's private data
included. Nothing here is checked first and used later: the folder is opened once, each folder of
the name is opened relative to the one before it (a directory descriptor) with O_NOFOLLOW, and so
is the file. A link anywhere in the name makes that open fail, whenever it was put there; `..` and
absolute names are refused before anything is opened. Links inside the folder are therefore not
followed either.

openat2(RESOLVE_BENEATH) would do the same in one call, but it needs Linux 5.6 and the standard
library does not offer it: ctypes with a system call number per architecture, and a fallback for
older kernels anyway, would add risk for nothing the descriptor walk does not already give.
"""

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import AddonError

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO must not wait for a writer; it is then refused as not a regular file.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# What open(O_NOFOLLOW) reports for a link: ELOOP on Linux, EMLINK on FreeBSD.
_LINK_ERRORS = (errno.ELOOP, errno.EMLINK)


class BeneathError(AddonError, ValueError):
    """A name that would leave the folder, goes through a link, or names no regular file."""


def parts_of(name: str, root: Path) -> tuple[str, ...]:
    """The folders and the file of a name relative to root; BeneathError if it could leave root."""
    problem = ""
    if "\0" in name:
        problem = ": it contains a NUL character"
    elif name.startswith("/"):
        problem = ": give a name relative to that folder"
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if not problem and ".." in parts:
        problem = ": '..' is not allowed"
    if problem or not parts:
        msg = f"{name!r} is not a file name inside {root}{problem}"
        raise BeneathError(msg)
    return parts


def open_folder(root: Path, parts: Sequence[str], *, create_mode: int | None = None) -> int:
    """A descriptor of the folder root/parts, reached without following a link.

    root itself is trusted (a mount point). With create_mode, missing folders are created with
    that mode, whatever the umask; existing folders keep theirs.
    """
    try:
        current = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        msg = f"cannot open {root}: {error.strerror}"
        raise BeneathError(msg) from error
    try:
        for depth, part in enumerate(parts, 1):
            shown = root.joinpath(*parts[:depth])
            following = _open_child_folder(current, part, shown, create_mode)
            os.close(current)
            current = following
    except BaseException:
        os.close(current)
        raise
    return current


def _open_child_folder(parent: int, part: str, shown: Path, create_mode: int | None) -> int:
    """The folder part of parent, opened with O_NOFOLLOW; created first if allowed and missing."""
    created = False
    if create_mode is not None:
        try:
            os.mkdir(part, create_mode, dir_fd=parent)
            created = True
        except FileExistsError:
            pass
        except OSError as error:
            msg = f"cannot create the folder {shown}: {error.strerror}"
            raise BeneathError(msg) from error
    try:
        folder = os.open(part, _FOLDER_FLAGS, dir_fd=parent)
    except FileNotFoundError as error:
        msg = f"{shown} does not exist"
        raise BeneathError(msg) from error
    except OSError as error:
        if error.errno in (*_LINK_ERRORS, errno.ENOTDIR):  # a link, or a file
            msg = f"{shown} is a link or not a folder: the add-on does not follow links there"
        else:
            msg = f"cannot open {shown}: {error.strerror}"
        raise BeneathError(msg) from error
    if create_mode is not None and created:
        os.fchmod(folder, create_mode)  # the mode of mkdir is filtered by the umask
    return folder


@contextlib.contextmanager
def opened_file(root: Path, name: str) -> Iterator[int]:
    """A read-only descriptor of the regular file name beneath root, closed on exit."""
    parts = parts_of(name, root)
    shown = root.joinpath(*parts)
    folder = open_folder(root, parts[:-1])
    try:
        descriptor = os.open(parts[-1], _READ_FLAGS, dir_fd=folder)
    except FileNotFoundError as error:
        msg = f"{shown} does not exist"
        raise BeneathError(msg) from error
    except OSError as error:
        if error.errno in _LINK_ERRORS:
            msg = f"{shown} is a link: the add-on does not follow links there"
        else:
            msg = f"cannot open {shown}: {error.strerror}"
        raise BeneathError(msg) from error
    finally:
        os.close(folder)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            msg = f"{shown} is not a regular file"
            raise BeneathError(msg)
        os.set_blocking(descriptor, True)
        yield descriptor
    finally:
        os.close(descriptor)


def read_file(root: Path, name: str) -> bytes:
    """The bytes of the regular file name beneath root."""
    with opened_file(root, name) as descriptor:
        chunks = []
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

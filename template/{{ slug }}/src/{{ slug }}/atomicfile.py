"""Atomic file writes: readers, crashes and power cuts see the old file or the new one, never half.

The data goes to a temporary file in the same folder, is flushed and fsynced, then renamed over
the target with os.replace (atomic on POSIX), and the folder is fsynced so the rename itself
survives a power cut. The new file keeps the old file's permissions. No temporary file is left
behind, whatever fails.
"""

import contextlib
import os
import stat
import tempfile
import time
from pathlib import Path

from . import diskspace

TEMP_PREFIX = ".tmp-"


class StorageError(OSError):
    """A file could not be written; the message names the file and the cause."""


def write_atomic(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> None:
    """Replace path with data (bytes, or text encoded with encoding) atomically."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    folder = path.parent
    diskspace.ensure_room(folder, len(payload), purpose=f"write {path}")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    try:
        descriptor, temp_name = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX + path.name + ".")
    except OSError as error:
        raise StorageError(error.errno, f"cannot write {path}: {error.strerror}") from error
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        temp.chmod(mode)
        temp.replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StorageError(error.errno, f"cannot write {path}: {error.strerror}") from error
    fsync_folder(folder)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def set_aside(path: Path, label: str) -> Path:
    """Rename a damaged file to <name>.<label>-<timestamp> so that nothing is ever deleted."""
    aside = path.with_name(f"{path.name}.{label}-{time.strftime('%Y%m%dT%H%M%S')}")
    path.replace(aside)
    return aside


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files that a crash left in folder; return what was removed."""
    removed = []
    for temp in folder.glob(TEMP_PREFIX + "*"):
        if temp.is_file():
            temp.unlink(missing_ok=True)
            removed.append(temp)
    return removed

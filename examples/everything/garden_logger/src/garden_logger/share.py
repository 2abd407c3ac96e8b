"""Files in /share, the folder shared with other add-ons and Home Assistant.

Names come from users and other add-ons, and other add-ons can change /share at any moment, so a
name is never checked first and opened later: the beneath module opens it folder by folder
without following a link. A name that would lead outside /share (`../`, an absolute path, a NUL,
a link anywhere in it) is refused with ShareError, even while another add-on swaps a folder for a
link. Links inside /share are not followed either.

Exports are written atomically, so another add-on never reads a half-written file. They are meant
to be read by other add-ons and by people (Samba, the media browser), some of which run as users
other than root: an export is EXPORT_FILE_MODE (0644: everyone reads, only root writes) and a
folder created for it EXPORT_FOLDER_MODE (0755), whatever the umask.
"""

import os
from pathlib import Path

from . import beneath, diskspace, paths
from .atomicfile import write_atomic_at
from .errors import AddonError

EXPORT_FILE_MODE = 0o644
EXPORT_FOLDER_MODE = 0o755


class ShareError(AddonError, ValueError):
    """A name that leads outside the share folder, or a file that is not there."""


def import_file(name: str, folder: Path | None = None) -> bytes:
    """Read the regular file name (relative to /share, folders allowed) from /share."""
    try:
        return beneath.read_file(folder or paths.SHARE_DIR, name)
    except beneath.BeneathError as error:
        raise ShareError(str(error)) from error


def export_file(name: str, data: bytes | str, folder: Path | None = None) -> Path:
    """Write data to name in /share atomically, creating its folders; return its path."""
    root = folder or paths.SHARE_DIR
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        parts = beneath.parts_of(name, root)
        target = root.joinpath(*parts)
        diskspace.ensure_room(root, len(payload), purpose=f"write {target}")
        descriptor = beneath.open_folder(root, parts[:-1], create_mode=EXPORT_FOLDER_MODE)
    except beneath.BeneathError as error:
        raise ShareError(str(error)) from error
    try:
        write_atomic_at(descriptor, parts[-1], payload, mode=EXPORT_FILE_MODE, shown=str(target))
    finally:
        os.close(descriptor)
    return target

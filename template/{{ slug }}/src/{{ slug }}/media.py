"""Home Assistant's media library in /media: listing files, without following links out.

Other add-ons write /media and can swap a folder for a link while it is listed. os.fwalk walks
through directory descriptors and enters a folder only if the folder it opened is the one it
listed, so a swapped-in link is never entered; a listed name was a regular file, not a link.
"""

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from . import paths


def list_media(suffixes: Iterable[str] | None = None, folder: Path | None = None) -> list[Path]:
    """Files in /media (recursively, hidden ones skipped), relative to it, sorted.

    suffixes limits the listing to those file endings, for example {".mp3", ".flac"}.
    """
    folder = folder or paths.MEDIA_DIR
    wanted = {suffix.lower() for suffix in suffixes} if suffixes is not None else None
    found = []
    for current, folders, files, descriptor in os.fwalk(folder, follow_symlinks=False):
        folders[:] = [name for name in folders if not name.startswith(".")]
        relative = Path(current).relative_to(folder)
        for name in files:
            hidden = name.startswith(".")
            if hidden or (wanted is not None and Path(name).suffix.lower() not in wanted):
                continue
            try:
                info = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
            except OSError:
                continue  # gone since it was listed
            if stat.S_ISREG(info.st_mode):
                found.append(relative / name)
    return sorted(found)

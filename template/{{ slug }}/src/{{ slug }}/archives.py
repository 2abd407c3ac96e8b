"""Home Assistant's backup archives in /backup: what is there, newest first."""

import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import paths


@dataclass(frozen=True)
class Archive:
    """One backup archive (a .tar file the Supervisor wrote)."""

    path: Path
    size: int
    modified: datetime


def list_backups(folder: Path | None = None) -> list[Archive]:
    """The backup archives in /backup, newest first; links are skipped, never followed."""
    folder = folder or paths.BACKUP_DIR
    archives = []
    for path in folder.glob("*.tar"):
        try:
            info = path.lstat()  # one look: what is checked is what is reported
        except OSError:
            continue  # gone since it was listed
        if stat.S_ISREG(info.st_mode):
            modified = datetime.fromtimestamp(info.st_mtime, UTC)
            archives.append(Archive(path, info.st_size, modified))
    return sorted(archives, key=lambda archive: archive.modified, reverse=True)

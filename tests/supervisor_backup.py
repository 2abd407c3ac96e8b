"""Back up and restore an add-on's folders as the Supervisor does, with its own archive library.

Backup (home-assistant/supervisor 090ef31, supervisor/backups/backup.py `create`, `_app_save`;
supervisor/apps/app.py `backup`, `_is_excluded_by_filter`): the backup is a SecureTarArchive
(securetar v3 for current Home Assistant, encrypted when it has a password, which Home Assistant
sets by default); each add-on is an inner `./<slug>.tar.gz` made with create_tar, into which
atomic_contents_add puts /data as `data` and /config as `config`, leaving out every path whose
Supervisor-side name matches a backup_exclude pattern (PurePath.match).

Restore (backups/backup.py `open`, `_app_restore`; apps/app.py `restore`): the outer tar is
extracted with filter="tar", the inner one opened with SecureTarFile and extracted with
filter="tar"; the add-on's folders are removed and the extracted ones copied in
(shutil.copytree with symlinks=True).

`before_each` runs before each file or folder is added, with its name in the archive: a test
uses it to write and checkpoint between the files the archive reads.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath, PurePosixPath

from securetar import SecureTarArchive, SecureTarFile, atomic_contents_add

BUF_SIZE = 2**20 * 4  # supervisor/backups/const.py
CREATE_VERSION = 3  # SECURETAR_V3_CREATE_VERSION, for Home Assistant 2025.x and later
PARTS = ("data", "config")


def supervisor_path(slug: str, part: str) -> PurePosixPath:
    """Where the Supervisor keeps an add-on's folder on the host (since 2026.05)."""
    folder = {"data": "apps/data", "config": "app_configs"}[part]
    return PurePosixPath(f"/data/{folder}/local_{slug}")


def backup(
    root: Path,
    slug: str,
    patterns: list[str],
    target: Path,
    *,
    password: str | None = "backup-password",
    before_each: Callable[[PurePath], None] | None = None,
) -> list[str]:
    """Archive root/data and root/config into target; return the names left out."""
    excluded: list[str] = []

    def leave_out(part: str, item: PurePath) -> bool:
        host_path = supervisor_path(slug, part) / item.relative_to(part)
        if any(host_path.match(pattern) for pattern in patterns):
            excluded.append(item.as_posix())
            return True
        if before_each is not None:
            before_each(item)
        return False

    with SecureTarArchive(
        target, "w", bufsize=BUF_SIZE, create_version=CREATE_VERSION, password=password
    ) as outer:
        inner = outer.create_tar(f"./{slug}.tar.gz", gzip=True)
        with inner as tar:
            for part in PARTS:
                if (root / part).is_dir():
                    atomic_contents_add(
                        tar,
                        root / part,
                        file_filter=lambda item, part=part: leave_out(part, item),
                        arcname=part,
                    )
    return excluded


def restore(
    archive: Path, slug: str, root: Path, *, password: str | None = "backup-password"
) -> None:
    """Replace root/data and root/config with what the archive holds."""
    with tempfile.TemporaryDirectory() as outer_folder, tempfile.TemporaryDirectory() as inner:
        with tarfile.open(archive, "r:") as outer:
            outer.extractall(outer_folder, filter="tar")
        app_file = SecureTarFile(
            Path(outer_folder, f"{slug}.tar.gz"), gzip=True, bufsize=BUF_SIZE, password=password
        )
        with app_file as tar:
            tar.extractall(inner, filter="tar")
        for part in PARTS:
            target = root / part
            if target.is_dir():
                shutil.rmtree(target)
            if Path(inner, part).is_dir():
                shutil.copytree(Path(inner, part), target, symlinks=True)
            elif part == "data":
                target.mkdir()

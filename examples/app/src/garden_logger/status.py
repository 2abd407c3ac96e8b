"""The storage as it is now: the one collection of facts that `doctor` prints and the web UI shows.

collect() looks once at each folder config.yaml maps, and /data (is it there, with the access
config.yaml gives it, and how full is its disk), at the options and the space they keep free, at
every JSON file in /data (read with bounds: a hostile file must not hang it), at the data version,
at each store's file and its own check, and at the backup state. Each check is a finding
(health.Finding): `doctor` prints them one a line, the web UI's JSON carries them as `checks`, so
the two cannot disagree. A full disk is reported as such, never as a damaged file. Nothing here
changes the data: the only write is an empty file that a writable folder's check creates and
removes at once.
"""

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from . import database, diskspace, jsonfile, migrations, paths
from .health import Finding, Level
from .jsonfile import JsonFileError
from .migrations import MigrationError
from .options import Options, OptionsError, load_options

Access = Literal["missing", "writable", "read-only"]
PROBE_PREFIX = ".doctor-"  # the file a writable folder's check creates and removes
# How backups treat the add-on (config.yaml's `backup`), and whether backup hooks hold the
# database from backup-pre until backup-post (hotbackup.py).
BACKUP_MODE: Literal["hot", "cold"] = "hot"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _without_path(text: str, path: Path) -> str:
    """A finding's text without the path it starts with (the page shows the path beside it)."""
    return text.removeprefix(f"{path}: ")


@dataclass(frozen=True)
class Folder:
    """A folder config.yaml maps (or /data): its access, its check, and the disk that holds it.

    The sizes are the disk's (statvfs), not the folder's: adding up a folder such as /media file by
    file could take minutes. reserve_bytes is what the add-on's writes leave free (min_free_mb),
    for the folders it writes to; None for the others and when the options cannot be read.
    """

    mount: paths.Mount
    state: Access
    finding: Finding
    total_bytes: int | None
    used_bytes: int | None
    free_bytes: int | None
    reserve_bytes: int | None

    def as_json(self) -> dict[str, Any]:
        level, text = self.finding
        return {
            "path": str(self.mount.path),
            "map_type": self.mount.map_type,
            "access": "read-write" if self.mount.writable else "read-only",
            "state": self.state,
            "writable_ok": self.state != "missing"
            and (self.state == "writable") == self.mount.writable,
            "in_backup": self.mount.in_backup,
            "total_bytes": self.total_bytes,
            "used_bytes": self.used_bytes,
            "free_bytes": self.free_bytes,
            "reserve_bytes": self.reserve_bytes,
            "level": level.value,
            "detail": _without_path(text, self.mount.path),
        }


@dataclass(frozen=True)
class StoreFile:
    """One store's file (a row of the template's persistence table) and what its check found."""

    name: str
    file: Path
    size_bytes: int | None
    modified: datetime | None
    schema_version: int | None
    finding: Finding

    def as_json(self) -> dict[str, Any]:
        level, text = self.finding
        return {
            "name": self.name,
            "file": str(self.file),
            "size_bytes": self.size_bytes,
            "modified": _iso(self.modified),
            "schema_version": self.schema_version,
            "level": level.value,
            "detail": _without_path(text, self.file),
        }


@dataclass(frozen=True)
class Backup:
    """How backups treat the add-on, and since when a backup holds its database (if one does)."""

    mode: Literal["hot", "cold"]
    hooks: bool
    held_since: datetime | None

    def as_json(self) -> dict[str, Any]:
        if self.held_since is not None:
            detail = "a backup holds the database still (from backup-pre until backup-post)"
        elif self.hooks:
            detail = "backups archive the live files while the add-on runs; none is in progress"
        elif self.mode == "hot":
            detail = "backups archive the files while the add-on runs"
        else:
            detail = "the Supervisor stops the add-on for each backup"
        return {"mode": self.mode, "held_since": _iso(self.held_since), "detail": detail}


@dataclass(frozen=True)
class Status:
    """One look at the storage: the facts, and the findings `doctor` prints, in its order."""

    generated: datetime
    folders: tuple[Folder, ...]
    stores: tuple[StoreFile, ...]
    data_version: int | None
    backup: Backup
    checks: tuple[Finding, ...]

    @property
    def failures(self) -> int:
        return sum(level is Level.FAIL for level, _ in self.checks)

    def as_json(self) -> dict[str, Any]:
        """The web UI's api/status (and the page's data)."""
        return {
            "generated": _iso(self.generated),
            "healthy": not self.failures,
            "failures": self.failures,
            "folders": [folder.as_json() for folder in self.folders],
            "stores": [store.as_json() for store in self.stores],
            "data_version": self.data_version,
            "backup": self.backup.as_json(),
            "checks": [{"level": level.value, "text": text} for level, text in self.checks],
        }


def collect(*, quick: bool = False) -> Status:
    """Look at the storage once. quick: SQLite's quicker check (the HEALTHCHECK, the web UI)."""
    generated = datetime.now(UTC)
    options = _load_options()
    reserve = options.min_free_mb * diskspace.MB if isinstance(options, Options) else None
    folders = tuple(_folder(mount, reserve) for mount in paths.MOUNTS)
    checks = [folder.finding for folder in folders]
    data = next(folder for folder in folders if folder.mount.path == paths.DATA_DIR)
    checks += _options_and_space(options, data)
    json_files = _json_files()
    checks += json_files.values()
    data_version, version_finding = _data_version()
    if version_finding is not None:
        checks.append(version_finding)
    own_checks: dict[Path, Finding] = {}  # the stores' own checks, by their file
    own_checks[paths.DATABASE_FILE] = database.check_health(quick=quick)
    checks += own_checks.values()
    stores = tuple(_stores(json_files | own_checks))
    return Status(generated, folders, stores, data_version, _backup(), tuple(checks))


def _load_options() -> Options | OptionsError:
    try:
        return load_options()
    except OptionsError as error:
        return error


def _folder(mount: paths.Mount, reserve: int | None) -> Folder:
    """A folder is there, writable exactly where config.yaml says read-write."""
    state = probe(mount.path, try_write=mount.writable)
    if state == "missing":
        finding = Level.FAIL, f"{mount.path}: missing, but config.yaml maps it ({mount.map_type})"
    elif mount.writable and state != "writable":
        finding = Level.FAIL, f"{mount.path}: not writable, but config.yaml maps it read-write"
    elif mount.writable and (room := diskspace.room_problem(mount.path)):
        finding = Level.FAIL, f"{mount.path}: {room}"
    elif not mount.writable and state == "writable":
        finding = Level.WARN, f"{mount.path}: writable, but config.yaml maps it read-only"
    else:
        finding = Level.OK, f"{mount.path}: {state}"
    usage = None
    if state != "missing":
        with suppress(OSError):  # else the disk cannot say: its sizes are unknown
            usage = shutil.disk_usage(mount.path)
    return Folder(
        mount,
        state,
        finding,
        total_bytes=usage.total if usage else None,
        used_bytes=usage.used if usage else None,
        free_bytes=usage.free if usage else None,
        reserve_bytes=reserve if mount.writable else None,
    )


def probe(folder: Path, *, try_write: bool) -> Access:
    """Return "missing", "writable" or "read-only".

    A folder that must be writable is tested by creating a file in it. A read-only one is only
    asked (access(2) reports a read-only mount), because an attempted write there would be logged
    as an AppArmor denial at every health check.
    """
    if not folder.is_dir():
        return "missing"
    if not try_write:
        return "writable" if os.access(folder, os.W_OK) else "read-only"
    try:
        descriptor, name = tempfile.mkstemp(dir=folder, prefix=PROBE_PREFIX)
    except OSError as error:
        # Refused for lack of room, not of access: the folder's finding is then the full disk.
        return "writable" if error.errno in diskspace.NO_ROOM_ERRNOS else "read-only"
    os.close(descriptor)
    Path(name).unlink()
    return "writable"


def _options_and_space(options: Options | OptionsError, data: Folder) -> list[Finding]:
    """The options are valid, and /data has the free space they keep in reserve."""
    if isinstance(options, OptionsError):
        return [(Level.FAIL, f"options: {options}")]
    found: list[Finding] = [(Level.OK, "options: valid")]
    if data.free_bytes is None or diskspace.room_problem(paths.DATA_DIR):
        return found  # missing, or a full disk: reported with the folder
    free_mb = data.free_bytes // diskspace.MB
    if free_mb < options.min_free_mb:
        found.append(
            (
                Level.WARN,
                f"{paths.DATA_DIR}: {free_mb} MB free, below min_free_mb ({options.min_free_mb})",
            )
        )
    else:
        found.append((Level.OK, f"{paths.DATA_DIR}: {free_mb} MB free"))
    return found


def _json_files() -> dict[Path, Finding]:
    """Every JSON file in /data parses (options, data version, settings, state)."""
    found: dict[Path, Finding] = {}
    for path in sorted(paths.DATA_DIR.glob("*.json")):
        try:
            jsonfile.load(path)
        except JsonFileError as error:
            found[path] = Level.FAIL, f"{path}: {error.problem}"
        except OSError as error:
            found[path] = Level.FAIL, f"{path}: cannot be read ({error.strerror})"
        else:
            found[path] = Level.OK, f"{path}: valid JSON"
    return found


def _data_version() -> tuple[int | None, Finding | None]:
    """The recorded data version, and whether this add-on starts with it (None: there is none,
    or the file is damaged, which the JSON files' check reports)."""
    try:
        version = migrations.recorded_version(paths.DATA_VERSION_FILE)
    except (OSError, JsonFileError):
        return None, None
    except MigrationError as error:
        return None, (Level.FAIL, f"data version: {error}")
    steps = len(migrations.STEPS)
    if version > steps:
        return version, (Level.FAIL, f"data version {version} is newer than this add-on ({steps})")
    return version, (Level.OK, f"data version {version}")


def _stores(findings: Mapping[Path, Finding]) -> list[StoreFile]:
    """Each store of the add-on, in the order app.py opens them."""
    return [
        _store("settings", paths.SETTINGS_FILE, findings, None),
        _store("database", paths.DATABASE_FILE, findings, database.schema_version_at),
    ]


def _store(
    name: str,
    file: Path,
    findings: Mapping[Path, Finding],
    schema_version: Callable[[Path], int | None] | None,
) -> StoreFile:
    try:
        info = file.stat()
    except OSError:
        info = None
    return StoreFile(
        name,
        file,
        size_bytes=info.st_size if info else None,
        modified=datetime.fromtimestamp(info.st_mtime, UTC) if info else None,
        schema_version=schema_version(file) if schema_version and info else None,
        finding=findings.get(file) or (Level.OK, f"{file}: not created yet"),
    )


def _backup() -> Backup:
    """Since when backup-pre has marked a backup in progress (backup-post removes the mark)."""
    try:
        marked = paths.BACKUP_PENDING_FILE.stat().st_mtime
    except OSError:
        return Backup(BACKUP_MODE, hooks=True, held_since=None)
    return Backup(BACKUP_MODE, hooks=True, held_since=datetime.fromtimestamp(marked, UTC))

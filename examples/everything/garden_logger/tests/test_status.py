"""The storage's facts, collected once (status.py): what `doctor` prints and the web UI shows."""

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from garden_logger import (
    app,
    diskspace,
    doctor,
    migrations,
    paths,
    status,
)
from garden_logger.database import SCHEMA
from garden_logger.health import Level
from garden_logger.options import DEFAULTS, Options


def started() -> Options:
    """Data as a run of the add-on leaves it: migrated, each store written and closed."""
    options = Options.from_values(DEFAULTS)
    assert app.close(app.start(options))
    return options


def everything_in(folder: Path) -> dict[str, float]:
    """Each file and folder in folder, with its last change; not SQLite's shared-memory index and
    log, which reading a database (its check) may create."""
    return {
        str(path): path.stat().st_mtime
        for path in sorted(folder.rglob("*"))
        if not path.name.endswith(("-shm", "-wal"))
    }


def test_doctor_prints_the_findings_of_the_collection(
    capsys: pytest.CaptureFixture[str], full_disk: Callable[..., None]
) -> None:
    full_disk(free=2**29, inodes=10**4)  # numbers that hold still between two looks
    started()
    collected = status.collect()
    assert collected.failures == 0, collected.checks
    assert doctor.run() == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [*(doctor.line(finding) for finding in collected.checks), "healthy"]


def test_folders_have_their_access_and_their_disk(full_disk: Callable[..., None]) -> None:
    full_disk(free=2**29, inodes=10**4)
    options = started()
    folders = status.collect().folders
    assert [folder.mount for folder in folders] == list(paths.MOUNTS)
    for folder in folders:
        disk = shutil.disk_usage(folder.mount.path)
        assert folder.state == "writable"  # locally every folder is
        assert (folder.total_bytes, folder.used_bytes, folder.free_bytes) == disk
        reserve = options.min_free_mb * diskspace.MB if folder.mount.writable else None
        assert folder.reserve_bytes == reserve
        shown = folder.as_json()
        assert shown["access"] == ("read-write" if folder.mount.writable else "read-only")
        assert shown["writable_ok"] is folder.mount.writable  # read-only ones are writable here


def test_a_missing_folder_has_no_sizes() -> None:
    started()
    missing = paths.MOUNTS[-1]
    shutil.rmtree(missing.path)
    folder = status.collect().folders[-1]
    assert folder.state == "missing"
    assert folder.finding[0] is Level.FAIL
    assert (folder.total_bytes, folder.used_bytes, folder.free_bytes) == (None, None, None)
    assert folder.as_json()["writable_ok"] is False


def test_each_store_has_its_file_size_and_last_write() -> None:
    started()
    stores = status.collect().stores
    assert [store.name for store in stores] == ["settings", "database", "state"]
    for store in stores:
        info = store.file.stat()
        assert store.size_bytes == info.st_size
        assert store.modified == datetime.fromtimestamp(info.st_mtime, UTC)
        assert store.finding[0] is Level.OK, store.finding
    [database] = [store for store in stores if store.name == "database"]
    assert database.schema_version == len(SCHEMA)


def test_a_store_not_written_yet_is_no_problem() -> None:
    for store in status.collect().stores:
        assert store.size_bytes is None
        assert store.modified is None
        assert store.schema_version is None
        assert store.as_json()["detail"] == "not created yet"


def test_the_data_version_is_the_recorded_one() -> None:
    assert status.collect().data_version is None
    started()
    assert status.collect().data_version == len(migrations.STEPS)


def test_the_backup_state_is_read_from_the_hooks_files() -> None:
    backup = status.collect().backup
    assert backup.mode == "hot"
    assert backup.held_since is None
    paths.make_private_folder(paths.RUN_DIR)
    paths.BACKUP_PENDING_FILE.write_text("backup-pre\n")
    marked = paths.BACKUP_PENDING_FILE.stat().st_mtime
    held = status.collect().backup
    assert held.held_since == datetime.fromtimestamp(marked, UTC)
    assert held.as_json()["held_since"] == held.held_since.isoformat(timespec="seconds")


def test_collecting_changes_nothing_on_disk() -> None:
    """Its only write, the check of a writable folder, leaves no file behind."""
    started()
    before = {folder: everything_in(folder) for folder in (m.path for m in paths.MOUNTS)}
    status.collect()
    status.collect(quick=True)
    assert {folder: everything_in(folder) for folder in before} == before

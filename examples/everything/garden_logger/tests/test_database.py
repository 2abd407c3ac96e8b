"""The database: one tuned connection, UTC timestamps, batches, migrations that survive a crash."""

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC
from pathlib import Path

import pytest

from garden_logger import paths
from garden_logger.database import (
    SCHEMA,
    Database,
    DatabaseError,
    check_health,
    integrity_problem,
    schema_version_of,
)
from garden_logger.health import Level


def pragma(database: Database, name: str) -> object:
    return database._connection.execute(f"PRAGMA {name}").fetchone()[0]


@pytest.mark.parametrize(("durable", "synchronous"), [(True, 2), (False, 1)])
def test_connection_is_tuned(tmp_path: Path, durable: bool, synchronous: int) -> None:
    database = Database(tmp_path / "db.sqlite3", durable=durable)
    assert pragma(database, "journal_mode") == "wal"
    assert pragma(database, "synchronous") == synchronous
    assert pragma(database, "foreign_keys") == 1
    assert pragma(database, "busy_timeout") == 5000
    database.close()


def test_events_round_trip_with_utc_timestamps(tmp_path: Path) -> None:
    database = Database(tmp_path / "db.sqlite3")
    first = database.add_event("started", {"by": "test"})
    assert database.add_events([("a", {}), ("b", {"n": 1})]) == 2
    events = database.recent_events(5)
    assert [event.kind for event in events] == ["b", "a", "started"]
    assert events[-1].id == first
    assert events[-1].data == {"by": "test"}
    assert all(event.created.tzinfo == UTC for event in events)
    assert database.count_events() == 3
    database.close()


def test_schema_is_migrated_to_the_latest_step(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(path).close()
    assert schema_version_of(path) == len(SCHEMA)
    assert integrity_problem(path) == ""


def test_interrupted_migration_rolls_back_and_runs_again(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    broken = (*SCHEMA, ("ALTER TABLE event ADD COLUMN priority INTEGER", "SELECT nonsense()"))
    with pytest.raises(DatabaseError, match="cannot open the database"):
        Database(path, schema=broken)
    assert schema_version_of(path) == len(SCHEMA)
    with closing(sqlite3.connect(path)) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(event)")]
    assert "priority" not in columns
    fixed = (*SCHEMA, ("ALTER TABLE event ADD COLUMN priority INTEGER",))
    database = Database(path, schema=fixed)
    assert database.schema_version == len(SCHEMA) + 1
    database.close()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(path).close()
    with pytest.raises(DatabaseError, match="newer version of the add-on"):
        Database(path, schema=SCHEMA[:1])


def test_garbage_file_is_reported_as_damage(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    assert integrity_problem(path) != ""
    with pytest.raises(DatabaseError, match=str(path)) as caught:
        Database(path)
    assert caught.value.damaged


@pytest.mark.parametrize(
    ("free", "inodes", "said"), [(16 * 1024, 100, "disk full"), (10**9, 0, "no inodes")]
)
def test_on_a_full_disk_nothing_is_damage(
    tmp_path: Path, full_disk: Callable[..., None], free: int, inodes: int, said: str
) -> None:
    """Without room SQLite cannot open its -wal and -shm files and reports an error that says
    nothing about the file: even "not a database" is then never damage, and the error says why."""
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    full_disk(free=free, inodes=inodes)
    with pytest.raises(DatabaseError, match=f"cannot open the database {path}: {said}") as opened:
        Database(path)
    assert not opened.value.damaged
    with pytest.raises(DatabaseError, match=f"cannot check the database {path}: {said}") as checked:
        integrity_problem(path)
    assert not checked.value.damaged
    assert path.read_bytes() == b"not a database at all" * 100


def test_a_newer_database_is_not_damage(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(path).close()
    with pytest.raises(DatabaseError) as caught:
        Database(path, schema=SCHEMA[:1])
    assert not caught.value.damaged


def test_write_errors_name_the_database(tmp_path: Path) -> None:
    database = Database(tmp_path / "db.sqlite3")
    database._connection.execute("PRAGMA query_only = ON")
    with pytest.raises(DatabaseError, match="cannot write to"):
        database.add_event("x")
    with pytest.raises(DatabaseError, match="cannot write to"):
        database.add_events([("x", {})])
    database._connection.execute("PRAGMA query_only = OFF")
    database.close()


def test_doctor_finds_a_damaged_database() -> None:
    paths.DATABASE_FILE.parent.mkdir(parents=True, exist_ok=True)
    paths.DATABASE_FILE.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    level, text = check_health()
    assert level is Level.FAIL
    assert "integrity check failed" in text


@pytest.mark.parametrize("quick", [False, True])
def test_doctor_fails_an_empty_database_file(quick: bool) -> None:
    """0 bytes pass SQLite's integrity check (they open as a new database), but the data is gone."""
    paths.DATABASE_FILE.parent.mkdir(parents=True, exist_ok=True)
    paths.DATABASE_FILE.write_bytes(b"")
    level, text = check_health(quick=quick)
    assert level is Level.FAIL
    assert text == f"{paths.DATABASE_FILE}: empty (0 bytes), the data it held is lost"


def test_doctor_reports_the_schema_version_of_a_healthy_database() -> None:
    assert check_health() == (Level.OK, f"{paths.DATABASE_FILE}: not created yet")
    Database().close()
    assert check_health() == (
        Level.OK, f"{paths.DATABASE_FILE}: integrity ok, schema version {len(SCHEMA)}"
    )  # fmt: skip
    with closing(sqlite3.connect(paths.DATABASE_FILE)) as connection:
        connection.execute(f"PRAGMA user_version = {len(SCHEMA) + 1}")
    level, text = check_health()
    assert level is Level.FAIL
    assert text.endswith(f"is newer than this add-on ({len(SCHEMA)})")

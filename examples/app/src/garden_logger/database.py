"""The add-on's SQLite database: one connection per process, WAL, numbered schema migrations.

Commits are durable by default (synchronous=FULL: a committed row survives a power cut). With the
option durable_commits off, SQLite's WAL default (synchronous=NORMAL) is used: much faster, never
corrupt, but the last commits before a power cut can be lost.

A backup taken while the add-on runs archives the live database files as the add-on writes them.
hold() keeps them still for that time: a read transaction on a second, read-only connection stops
every checkpoint from copying pages into the main file and the WAL from being reset, so the
archive holds a main file and a WAL prefix, which SQLite opens as after a crash.

The schema is a numbered list of steps (SCHEMA). PRAGMA user_version records how many have run;
each step runs in one transaction together with raising user_version, so a crash mid-migration
rolls back and the step simply runs again at the next start. Timestamps are stored in UTC.
"""

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from . import diskspace, paths
from .atomicfile import set_aside
from .errors import AddonError
from .health import Finding, Level

LOG = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
AUTOCHECKPOINT_PAGES = 1000  # SQLite's default: the WAL is copied back once it is this long

# Step N of the schema is SCHEMA[N - 1]. Append new steps; never edit or reorder old ones.
SCHEMA: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE event (
            id INTEGER PRIMARY KEY,
            created TEXT NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        )""",
    ),
    ("CREATE INDEX event_created ON event (created)",),
)


class DatabaseError(AddonError):
    """The database cannot be opened or migrated; the message says which file and why.

    `damaged` is True when SQLite found the file corrupt or not a database at all, as opposed to,
    say, locked, unreadable, on a full disk or from a newer add-on.
    """

    def __init__(self, message: str, *, damaged: bool = False) -> None:
        super().__init__(message)
        self.damaged = damaged


def is_damage(error: sqlite3.Error) -> bool:
    """Tell whether SQLite reported the file itself as damaged (not busy, locked or unreadable).

    Only database_error() knows whether the disk had room: use that to decide what to do.
    """
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def database_error(doing: str, path: Path, error: sqlite3.Error) -> DatabaseError:
    """The DatabaseError for an error of SQLite while doing something with the database at path.

    On a disk that is full or has no free inode, SQLite cannot create or grow the -wal and -shm
    files beside the database and says "disk I/O error", "unable to open database file" or
    "database or disk is full": nothing about the database file itself. Then the error says
    "disk full" or "no inodes", and is never damage, so nothing is set aside for it, whatever
    SQLite reported.
    """
    room = diskspace.room_problem(path.parent)
    if room:
        return DatabaseError(f"cannot {doing} {path}: {room}")
    return DatabaseError(f"cannot {doing} {path}: {error}", damaged=is_damage(error))


@dataclass(frozen=True)
class Event:
    """One row of the event table."""

    id: int
    created: datetime
    kind: str
    data: dict[str, Any]


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp (sortable as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Database:
    """The add-on's one connection to its database; thread-safe."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        durable: bool = True,
        schema: Sequence[Sequence[str]] = SCHEMA,
    ) -> None:
        self.path = path or paths.DATABASE_FILE
        self._lock = threading.RLock()
        self._hold: sqlite3.Connection | None = None  # the read transaction of hold()
        self._held_since = 0.0  # time.monotonic() of the last hold()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection: sqlite3.Connection | None = None
        try:
            # isolation_level=None: this class opens every transaction itself.
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._connection = connection
            self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._connection.execute("PRAGMA journal_mode = WAL")
            self._connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            self._connection.execute("PRAGMA foreign_keys = ON")
            self.migrate(schema)
        except sqlite3.Error as error:
            if connection is not None:
                connection.close()
            raise database_error("open the database", self.path, error) from error

    @classmethod
    def open_or_replace(cls, *, durable: bool = True) -> Self:
        """Open the add-on's database; a damaged one is set aside (never deleted) and replaced."""
        path = paths.DATABASE_FILE
        wal = Path(f"{path}-wal")
        if _size(path) == 0 and _size(wal):
            # SQLite would take the empty file for a new database and delete the WAL with the data.
            for damaged in (path, wal):
                LOG.error("%s is damaged (the database file is empty): kept as %s",
                          damaged, set_aside(damaged, "corrupt"))  # fmt: skip
        try:
            return cls(durable=durable)
        except DatabaseError as error:
            if not error.damaged:
                raise
            for suffix in ("", "-wal", "-shm", "-journal"):
                damaged = Path(f"{path}{suffix}")
                if damaged.exists():
                    LOG.error("%s is damaged: kept as %s", damaged, set_aside(damaged, "corrupt"))
        LOG.error("Starting with an empty database instead of the damaged one: to get its data "
                  "back, restore a backup of the add-on made before the damage")  # fmt: skip
        return cls(durable=durable)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
                self._connection.execute("COMMIT")
            except BaseException:
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        """How many schema steps have run (PRAGMA user_version)."""
        with self._lock:
            version: int = self._connection.execute("PRAGMA user_version").fetchone()[0]
            return version

    def migrate(self, schema: Sequence[Sequence[str]]) -> None:
        """Run the schema steps this database has not run yet, each in its own transaction."""
        current = self.schema_version
        if current > len(schema):
            msg = (
                f"{self.path} has schema version {current}, newer than this add-on knows "
                f"({len(schema)}): it was written by a newer version of the add-on"
            )
            raise DatabaseError(msg)
        for number in range(current + 1, len(schema) + 1):
            with self._transaction() as connection:
                for statement in schema[number - 1]:
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number}")
            LOG.info("Database %s migrated to schema version %d", self.path, number)

    def add_event(self, kind: str, data: dict[str, Any] | None = None) -> int:
        """Insert one event and commit; return its id."""
        with self._lock:
            try:
                cursor = self._connection.execute(
                    "INSERT INTO event (created, kind, data) VALUES (?, ?, ?)",
                    (utc_now(), kind, json.dumps(data or {})),
                )
            except sqlite3.Error as error:
                raise database_error("write to", self.path, error) from error
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def add_events(self, events: Iterable[tuple[str, dict[str, Any]]]) -> int:
        """Insert many events in one transaction (one commit, one fsync); return how many."""
        now = utc_now()
        rows = [(now, kind, json.dumps(data)) for kind, data in events]
        try:
            with self._transaction() as connection:
                connection.executemany(
                    "INSERT INTO event (created, kind, data) VALUES (?, ?, ?)", rows
                )
        except sqlite3.Error as error:
            raise database_error("write to", self.path, error) from error
        return len(rows)

    def recent_events(self, limit: int = 10) -> list[Event]:
        """The newest events, newest first."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT id, created, kind, data FROM event ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [
            Event(
                id=row[0],
                created=datetime.fromisoformat(row[1]),
                kind=row[2],
                data=json.loads(row[3]),
            )
            for row in rows
        ]

    def count_events(self) -> int:
        """How many events the database holds."""
        with self._lock:
            count: int = self._connection.execute("SELECT count(*) FROM event").fetchone()[0]
            return count

    def hold(self) -> None:
        """Keep the database file still for a backup, until release(); writes go on.

        A checkpoint first empties the WAL into the main file, so the backup holds a small WAL,
        and then a read transaction on a read-only connection pins the database as it is. SQLite
        never checkpoints past a reader's snapshot, so from now on the main file is not written
        and commits only append to the WAL, which is never reset while the reader uses it. The
        empty WAL matters: were the pin taken on a full one, a checkpoint could copy its frames
        while the backup reads, or a writer restart it from the start. So when a reader keeps
        the WAL from being emptied for the busy timeout, hold() fails (try the backup again);
        automatic checkpoints are off meanwhile all the same. Calling it again while held just
        restarts the clock (see held_for).
        """
        with self._lock:
            if self._hold is None:
                try:
                    self._connection.execute("PRAGMA wal_autocheckpoint = 0")
                    busy = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                    if busy:
                        raise sqlite3.OperationalError(
                            f"another reader kept its log busy for {BUSY_TIMEOUT_MS // 1000} s; "
                            "try the backup again"
                        )
                    self._hold = _read_only(self.path)
                    self._hold.execute("BEGIN")
                    self._hold.execute("SELECT count(*) FROM sqlite_master").fetchone()
                except sqlite3.Error as error:
                    self._drop_hold()
                    with suppress(sqlite3.Error):
                        self._connection.execute(
                            f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}"
                        )
                    raise DatabaseError(f"cannot hold {self.path} for a backup: {error}") from error
            self._held_since = time.monotonic()

    def release(self) -> None:
        """End hold(): checkpoints may copy the WAL into the main file again."""
        with self._lock:
            if self._hold is None:
                return
            self._drop_hold()
            try:
                self._connection.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
                self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as error:
                LOG.warning("Checkpoint of %s after a backup failed: %s", self.path, error)

    def held_for(self) -> float | None:
        """Seconds since hold() when the database is held, else None."""
        with self._lock:
            return None if self._hold is None else time.monotonic() - self._held_since

    def _drop_hold(self) -> None:
        if self._hold is not None:
            self._hold.close()  # read-only: closing it never checkpoints
            self._hold = None

    def flush(self) -> None:
        """Nothing to write: every change is committed when it is made."""

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close the connection.

        While held (a stop during a backup), the files are left exactly as they are: the main
        connection cannot checkpoint on close while the read-only one is open, and that one
        never does; SQLite replays the WAL at the next start, as after a crash.
        """
        with self._lock:
            if self._hold is None:
                self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                LOG.warning("Stopped during a backup: %s keeps its WAL until the next start",
                            self.path)  # fmt: skip
            self._connection.close()
            self._drop_hold()


def _size(path: Path) -> int | None:
    """The size of the file at path, None when there is none."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the database at path (which must exist)."""
    if not path.is_file():
        raise sqlite3.OperationalError(f"{path} does not exist")
    # mode=ro: a read-only connection never checkpoints, not even when it is the last to close.
    uri = f"{path.absolute().as_uri()}?mode=ro"
    timeout = BUSY_TIMEOUT_MS / 1000
    connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    connection.execute("PRAGMA query_only = ON")
    return connection


def integrity_problem(path: Path, *, quick: bool = False) -> str:
    """Return "" when SQLite's integrity check passes for the database at path, else its report.

    Raises DatabaseError (never damage) when the check cannot run because the disk is full or has
    no free inode: even a read opens the -wal and -shm files, and that failure says nothing about
    the database.
    """
    pragma = "quick_check" if quick else "integrity_check"
    try:
        with closing(_read_only(path)) as connection:
            rows = connection.execute(f"PRAGMA {pragma}").fetchall()
    except sqlite3.Error as error:
        if diskspace.room_problem(path.parent):
            raise database_error("check the database", path, error) from error
        return str(error)
    report = "; ".join(str(row[0]) for row in rows)
    return "" if report == "ok" else report


def schema_version_of(path: Path) -> int:
    """The schema version recorded in the database at path (0 when it has none)."""
    with closing(_read_only(path)) as connection:
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
        return version


def schema_version_at(path: Path) -> int | None:
    """The schema version recorded in the database at path; None when there is no file, it is
    empty, or SQLite cannot read it (check_health says why)."""
    try:
        if path.stat().st_size == 0:
            return None
        return schema_version_of(path)
    except (OSError, sqlite3.Error):
        return None


def check_health(*, quick: bool = False) -> Finding:
    """doctor's check: the database passes SQLite's integrity check and has the schema this
    add-on knows. A full disk is reported as such, never as a damaged database."""
    path = paths.DATABASE_FILE
    if not path.exists():
        return Level.OK, f"{path}: not created yet"
    if path.stat().st_size == 0:
        # SQLite reads a 0-byte file as a new, empty database: its integrity check passes.
        return Level.FAIL, f"{path}: empty (0 bytes), the data it held is lost"
    try:
        problem = integrity_problem(path, quick=quick)
    except DatabaseError as error:  # the disk is full: the check could not run
        return Level.FAIL, str(error)
    if problem:
        return Level.FAIL, f"{path}: integrity check failed: {problem}"
    version = schema_version_of(path)
    if version == len(SCHEMA):
        return Level.OK, f"{path}: integrity ok, schema version {version}"
    if version < len(SCHEMA):
        return Level.WARN, f"{path}: schema version {version}, {len(SCHEMA)} after the next start"
    return Level.FAIL, f"{path}: schema version {version} is newer than this add-on ({len(SCHEMA)})"

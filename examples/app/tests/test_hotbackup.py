"""Hot backups: the database held still for the archive, and the hooks that ask for it."""

import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from garden_logger import __main__ as cli
from garden_logger import hotbackup, locks, paths
from garden_logger.database import Database, DatabaseError

ROWS = 4000  # with PAD, several times SQLite's automatic checkpoint threshold (1000 pages)
PAD = "x" * 1000
WAIT = 60.0  # seconds: the bound on every wait for a process
SRC = Path(__file__).resolve().parents[1] / "src"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wal() -> Path:
    return Path(f"{paths.DATABASE_FILE}-wal")


def add_rows(database: Database, count: int) -> None:
    """Commit `count` rows, one transaction each, as a busy add-on does."""
    for n in range(count):
        database.add_event("row", {"n": n, "pad": PAD})


def force_checkpoint() -> tuple[int, int, int]:
    """What another process may try while a backup runs: a full checkpoint of the WAL."""
    with closing(sqlite3.connect(paths.DATABASE_FILE, timeout=0.1)) as connection:
        busy, log, copied = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy, log, copied


def rows_in_copy(main: bytes, log: bytes, folder: Path) -> int:
    """Open a copy made of these bytes, as a restored backup is: the integrity check must pass."""
    folder.mkdir()
    (folder / "copy.sqlite3").write_bytes(main)
    (folder / "copy.sqlite3-wal").write_bytes(log)
    with closing(sqlite3.connect(folder / "copy.sqlite3")) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        count: int = connection.execute("SELECT count(*) FROM event").fetchone()[0]
        return count


def test_a_held_database_file_does_not_change_while_writes_go_on(tmp_path: Path) -> None:
    """An archive reads the database file, then the WAL, while the add-on commits and something
    forces checkpoints in between: what it read opens with every row committed before."""
    database = Database()
    add_rows(database, 50)
    database.hold()
    main = paths.DATABASE_FILE.read_bytes()  # the archive reads the database file first
    add_rows(database, ROWS)
    assert force_checkpoint()[0] == 1, "a checkpoint ran while the database was held"
    assert paths.DATABASE_FILE.read_bytes() == main
    log = wal().read_bytes()  # ...and the WAL later
    add_rows(database, 10)
    assert paths.DATABASE_FILE.read_bytes() == main
    assert rows_in_copy(main, log, tmp_path / "restored") == 50 + ROWS
    database.release()
    database.close()


def test_release_lets_checkpoints_run_again() -> None:
    database = Database()
    database.hold()
    held = digest(paths.DATABASE_FILE)
    add_rows(database, 100)
    database.release()
    assert database.held_for() is None
    assert force_checkpoint()[0] == 0
    assert digest(paths.DATABASE_FILE) != held
    database.close()


def test_a_stop_during_a_backup_leaves_the_files_as_they_are(tmp_path: Path) -> None:
    """The Supervisor never stops an add-on it is backing up, but a crash of the Supervisor or a
    manual stop can: closing must not checkpoint into the file being archived."""
    database = Database()
    add_rows(database, 20)
    database.hold()
    main = paths.DATABASE_FILE.read_bytes()
    add_rows(database, 30)
    database.close()
    assert paths.DATABASE_FILE.read_bytes() == main
    assert rows_in_copy(main, wal().read_bytes(), tmp_path / "restored") == 50
    reopened = Database()
    assert reopened.count_events() == 50
    reopened.close()


def request(action: str, token: str = "1-1") -> Path:
    """A request as a hook leaves it before it wakes the add-on."""
    folder = paths.make_private_folder(paths.BACKUP_REQUESTS_DIR)
    (folder / f"{token}.request").write_text(f"{action}\n")
    return folder / f"{token}.answer"


def test_the_addon_saves_holds_and_releases_as_the_hooks_ask() -> None:
    database = Database()
    saved: list[bool] = []
    responder = hotbackup.Responder(database, save=lambda: saved.append(True))
    first, second = request(hotbackup.HOLD, "1-1"), request(hotbackup.HOLD, "2-2")
    responder.handle()
    assert (first.read_text(), second.read_text()) == ("held\n", "held\n")
    assert saved == [True, True]
    assert database.held_for() is not None
    assert not list(paths.BACKUP_REQUESTS_DIR.glob("*.request")), "answered twice"
    # backup-post ends the hold outright: a hold whose backup-pre gave up must not outlive it.
    answer = request(hotbackup.RELEASE, "3-3")
    responder.handle()
    assert answer.read_text() == "released\n"
    assert database.held_for() is None
    database.close()


def test_a_hold_is_refused_while_a_reader_keeps_the_log_busy() -> None:
    """Pinned on a log it could not empty, the database file could still change: refused."""
    database = Database()
    add_rows(database, 20)
    database._connection.execute("PRAGMA busy_timeout = 100")
    with closing(sqlite3.connect(paths.DATABASE_FILE)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM event").fetchone()  # a snapshot with the log in it
        with pytest.raises(DatabaseError, match="another reader kept its log busy"):
            database.hold()
        assert database.held_for() is None
        reader.rollback()
    before = digest(paths.DATABASE_FILE)
    add_rows(database, ROWS)
    assert digest(paths.DATABASE_FILE) != before, "automatic checkpoints stayed off"
    database.hold()
    database.release()
    database.close()


def not_an_action(path: Path) -> None:
    path.write_text("format c:\n")


def not_a_token(path: Path) -> None:
    path.with_name("x.request").write_text("hold\n")


def fifo(path: Path) -> None:
    os.mkfifo(path)  # opened as a regular file, it would block the add-on


def link(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize("make", [not_an_action, not_a_token, fifo, link])
def test_what_is_not_a_request_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture, make: Callable[[Path], None]
) -> None:
    database = Database()
    make(paths.make_private_folder(paths.BACKUP_REQUESTS_DIR) / "1-1.request")
    responder = hotbackup.Responder(database, save=lambda: None)
    responder.handle()
    assert database.held_for() is None
    assert not list(paths.BACKUP_REQUESTS_DIR.glob("*.answer"))
    assert caplog.text.count("Ignored the backup request") == 1, caplog.text
    database.close()


def test_a_hold_without_backup_post_ends_after_the_limit(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database()
    responder = hotbackup.Responder(database, save=lambda: None)
    request(hotbackup.HOLD)
    responder.handle()
    responder.release_if_overdue()
    assert database.held_for() is not None
    monkeypatch.setattr(hotbackup, "HOLD_LIMIT", 0.0)
    responder.release_if_overdue()
    assert database.held_for() is None
    assert "No backup-post" in caplog.text
    database.close()


def pre() -> int:
    """backup-pre, as config.yaml's backup_pre hook runs it."""
    return cli.backup_hook(hotbackup.pre, failed=cli.EXIT_FAILED)


def post() -> int:
    """backup-post, likewise."""
    return cli.backup_hook(hotbackup.post, failed=cli.EXIT_OK)


def test_hooks_of_a_stopped_addon_succeed_at_once(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing writes the files of a stopped add-on: there is nothing to hold."""
    caplog.set_level(logging.INFO)
    assert not locks.instance_is_running()
    assert pre() == cli.EXIT_OK
    assert paths.BACKUP_PENDING_FILE.is_file(), "a start now would wait for backup-post"
    paths.DATA_DIR.mkdir(parents=True, exist_ok=True)
    paths.INSTANCE_LOCK_FILE.write_text("1\n")  # left by an add-on that has stopped
    assert pre() == cli.EXIT_OK
    assert post() == cli.EXIT_OK
    assert not paths.BACKUP_PENDING_FILE.exists()
    assert caplog.text.count("the add-on is not running") == 3, caplog.text


def test_a_start_waits_while_a_backup_is_in_progress(caplog: pytest.LogCaptureFixture) -> None:
    """backup-pre found no add-on, so the Supervisor archives the files: a start meanwhile must
    not write them until backup-post."""
    assert pre() == cli.EXIT_OK
    looks: list[float] = []

    def sleep(seconds: float) -> None:
        looks.append(seconds)
        if len(looks) == 3:
            assert post() == cli.EXIT_OK

    assert hotbackup.wait_while_backing_up(sleep, lambda: False)
    assert len(looks) == 3
    assert "A backup of the add-on's files is in progress" in caplog.text
    assert pre() == cli.EXIT_OK
    assert not hotbackup.wait_while_backing_up(lambda _seconds: None, lambda: True)  # a stop came
    assert post() == cli.EXIT_OK


def test_a_mark_left_by_a_backup_pre_long_ago_is_removed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert pre() == cli.EXIT_OK
    monkeypatch.setattr(hotbackup, "HOLD_LIMIT", 0.0)

    def never(_seconds: float) -> None:
        pytest.fail("waited")

    assert hotbackup.wait_while_backing_up(never, lambda: False)
    assert not paths.BACKUP_PENDING_FILE.exists()
    assert "no backup-post came" in caplog.text


def hold_the_lock(code: str) -> subprocess.Popen[str]:
    """Another process that holds the instance lock, then runs code (which may use the modules
    hotbackup and locks); started once it holds it."""
    script = (
        "import signal, sys, time\n"
        "from garden_logger import hotbackup, locks\n"
        "lock = locks.hold_instance_lock()\n"
        f"{code}\n"
        "print('holding', flush=True)\n"
        "time.sleep(3600)\n"
    )
    environment = os.environ | {"PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        [sys.executable, "-c", script], env=environment, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "holding\n"
    return process


def test_backup_pre_fails_with_one_line_when_the_addon_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Better no backup of the add-on than one whose database may change while it is read: an
    add-on that holds /data but never answers (still starting, or stuck)."""
    monkeypatch.setattr(hotbackup, "ANSWER_TIMEOUT", 1.0)
    deaf = hold_the_lock("hotbackup.listen()  # never reads it")
    try:
        assert pre() == cli.EXIT_FAILED
        assert not paths.BACKUP_PENDING_FILE.exists(), "no backup-post follows a failed backup-pre"
        assert post() == cli.EXIT_OK  # the archive is written anyway
        assert deaf.poll() is None
    finally:
        deaf.kill()
        deaf.wait(WAIT)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: backup-pre: the add-on did not answer the hold request in 1 s",
        "warning: backup-post: the add-on did not answer the release request in 1 s",
    ]
    assert not list(paths.BACKUP_REQUESTS_DIR.iterdir()), "a hook left its request behind"


def test_hooks_never_signal_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pid in the lock file may name any process by now (or one in another container): the
    hooks wake the add-on through its FIFO, never with a signal to a pid."""
    monkeypatch.setattr(hotbackup, "ANSWER_TIMEOUT", 0.5)
    sleeper = subprocess.Popen(["sleep", "3600"])
    holder = hold_the_lock("")  # holds the lock, listens on no FIFO
    try:
        paths.INSTANCE_LOCK_FILE.write_text(f"{sleeper.pid}\n")
        with pytest.raises(hotbackup.BackupError, match="did not answer"):
            hotbackup.ask(hotbackup.HOLD)
        assert sleeper.poll() is None  # SIGUSR1 would have killed it
    finally:
        for process in (sleeper, holder):
            process.kill()
            process.wait(WAIT)


def test_an_empty_database_file_with_a_log_is_kept_aside(caplog: pytest.LogCaptureFixture) -> None:
    """SQLite takes a 0-byte database file for a new database and deletes its WAL, rows and all."""
    database = Database()
    database.hold()  # the rows stay in the WAL
    add_rows(database, 5)
    database.close()
    paths.DATABASE_FILE.write_bytes(b"")
    log = wal().read_bytes()
    reopened = Database.open_or_replace(durable=True)
    assert reopened.count_events() == 0
    reopened.close()
    kept = list(paths.DATA_DIR.glob(f"{paths.DATABASE_FILE.name}-wal.corrupt-*"))
    assert [path.read_bytes() for path in kept] == [log]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2, errors


@pytest.mark.parametrize("make", [fifo, link])
def test_a_hook_never_waits_on_an_answer_that_is_not_a_file(make: Callable[[Path], None]) -> None:
    """Read with the add-on's one bounded reader: a FIFO or a link is refused at once, one line."""
    answer = paths.make_private_folder(paths.BACKUP_REQUESTS_DIR) / "1-1.answer"
    make(answer)
    with pytest.raises(hotbackup.BackupError) as refused:
        hotbackup._read_answer(answer)
    assert "not a regular file" in str(refused.value)
    assert "\n" not in str(refused.value)

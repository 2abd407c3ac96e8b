"""Backups of the add-on, made and restored with the Supervisor's own archive library.

Each test brings the add-on to one of the moments a backup can come (running, with its hooks;
stopped after a kill; stopped cleanly by an older version), archives /data and /config as the
Supervisor does (supervisor_backup.py: securetar, backup_exclude, encrypted), restores the archive
into an empty folder the way the Supervisor restores it, and starts the add-on there: every row
committed before the backup began must be back. Progress is counted, not timed, and every wait is
bounded generously, so a loaded machine only makes it slower.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path, PurePath

import pytest

import supervisor_backup
from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer
from rendered import load_yaml

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("backup-restore")]

COMBO = Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app", writable_mode="all")
SLUG = COMBO.slug
WAIT = 60  # seconds: the bound on every wait, so a hang fails instead of stalling the suite
ROWS_BEFORE_BACKUP = 200  # rows committed, and not yet checkpointed, when backup-pre runs
ROWS_DURING_BACKUP = 500  # rows committed between the two database files of the archive
PAD = "x" * 1000
ACKS_BEFORE_KILL = 200  # rows the killed add-on reported as saved


class Addon:
    """The rendered add-on run as processes under one HA_APP_ROOT."""

    def __init__(self, addon: Path, root: Path) -> None:
        self.root = root
        self.environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        self.environment |= {"HA_APP_ROOT": str(root), "PYTHONPATH": str(addon / "src")}

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", SLUG, *args],
            env=self.environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=WAIT,
        )

    def python(self, code: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", code],
            env=self.environment,
            check=True,
            capture_output=True,
            text=True,
            timeout=WAIT,
        ).stdout

    def start(self) -> subprocess.Popen[bytes]:
        """Start `run` and wait until it logs "Started"; its log so far is kept in startup_log."""
        self.log = self.root.with_name(f"{self.root.name}.log")  # outside the backed-up folders
        with self.log.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", SLUG], env=self.environment, stdout=log, stderr=log
            )
        deadline = time.monotonic() + WAIT
        while "Started" not in (text := self.log.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                pytest.fail(f"the add-on did not start (waited up to {WAIT} s):\n{text}")
            time.sleep(0.05)
        self.startup_log = text
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> str:
        """SIGTERM, as the Supervisor stops it; it must exit by itself with status 0."""
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"the add-on did not stop within {WAIT} s:\n{self.log.read_text()}")
        out = self.log.read_text()
        assert process.returncode == 0, out
        return out


def rows_in(database: Path, kind: str = "load") -> int:
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        query = "SELECT count(*) FROM event WHERE kind = ?"
        (count,) = connection.execute(query, (kind,)).fetchone()
        return int(count)


@pytest.fixture
def addon_dir(render: Renderer) -> Path:
    return render.project(COMBO).addon


@pytest.fixture
def patterns(addon_dir: Path) -> list[str]:
    """config.yaml's backup_exclude, which the archive honours."""
    return list(load_yaml(addon_dir / "config.yaml")["backup_exclude"])


def restore_and_start(addon_dir: Path, archive: Path, root: Path, **password: str | None) -> Addon:
    """Restore the archive into an empty root as the Supervisor does, then start and stop the
    add-on there; doctor must find it healthy."""
    root.mkdir()
    supervisor_backup.restore(archive, SLUG, root, **password)
    restored = Addon(addon_dir, root)
    restored.stop(restored.start())
    doctor = restored.command("doctor")
    assert doctor.returncode == 0, doctor.stdout
    return restored


def test_hot_backup_restores_every_row_committed_before_it(
    addon_dir: Path, patterns: list[str], tmp_path: Path
) -> None:
    """backup-pre, then the archive, while rows are committed and checkpoints forced between
    the database files the archive reads (a checkpoint that rewrote the database file, or reset
    the WAL, between them would leave the archive without rows, or damaged), then backup-post."""
    addon = Addon(addon_dir, tmp_path / "live")
    running = addon.start()
    data = tmp_path / "live" / "data"
    names = ("database.sqlite3", "database.sqlite3-wal")
    database_files = {PurePath("data", name) for name in names}
    archived: list[PurePath] = []
    forced: list[tuple[int, int, int]] = []
    with closing(sqlite3.connect(data / "database.sqlite3", timeout=WAIT)) as writer:
        writer.execute("PRAGMA synchronous = FULL")
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # the rows stay in the WAL until backup-pre

        def commit(rows: int) -> None:
            for _ in range(rows):
                writer.execute(
                    "INSERT INTO event (created, kind, data) VALUES (datetime(), 'load', ?)",
                    (f'{{"pad": "{PAD}"}}',),
                )
                writer.commit()

        def between_files(item: PurePath) -> None:
            if item in database_files:
                if archived:  # the other database file is in the archive already
                    commit(ROWS_DURING_BACKUP)
                    writer.execute("PRAGMA busy_timeout = 100")  # a held database stays busy
                    forced.append(writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
                archived.append(item)

        commit(ROWS_BEFORE_BACKUP)
        pre = addon.command("backup-pre")
        assert pre.returncode == 0, pre.stdout + pre.stderr
        archive = tmp_path / "backup.tar"
        excluded = supervisor_backup.backup(
            tmp_path / "live", SLUG, patterns, archive, before_each=between_files
        )
        post = addon.command("backup-post")
        commit(1)  # after backup-post: checkpoints run again
        released = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    addon.stop(running)
    assert post.returncode == 0, post.stdout + post.stderr
    assert sorted(archived) == sorted(database_files)
    assert forced and forced[0][0] == 1, f"a checkpoint ran during the backup: {forced}"
    assert released[0] == 0, f"no checkpoint after backup-post: {released}"
    assert "data/database.sqlite3-shm" in excluded
    assert "data/.instance.lock" in excluded

    restored = restore_and_start(addon_dir, archive, tmp_path / "restored")
    assert rows_in(tmp_path / "restored" / "data" / "database.sqlite3") >= ROWS_BEFORE_BACKUP
    assert "damaged" not in restored.startup_log


KILLED_CHILD = f"""
from {SLUG} import app, logsetup
from {SLUG}.options import load_options

logsetup.configure("warning")
stores = app.start(load_options())
while True:
    stores.database.add_event("load", {{}})
    print("saved", flush=True)
"""


def test_backup_of_a_killed_addon_restores_every_saved_row(
    addon_dir: Path, patterns: list[str], tmp_path: Path
) -> None:
    """SIGKILL (an OOM kill, a crash), then a backup of the stopped add-on: no hook runs, and the
    archive must hold every row the add-on reported as saved."""
    addon = Addon(addon_dir, tmp_path / "live")
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD],
        env=addon.environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged = 0
    deadline = time.monotonic() + WAIT
    while acknowledged < ACKS_BEFORE_KILL and time.monotonic() < deadline:
        if child.stdout.readline() != "saved\n":
            break
        acknowledged += 1
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=WAIT)
    child.stdout.close()
    assert acknowledged == ACKS_BEFORE_KILL, f"{acknowledged} rows saved in {WAIT} s"
    archive = tmp_path / "backup.tar"
    supervisor_backup.backup(tmp_path / "live", SLUG, patterns, archive)
    restore_and_start(addon_dir, archive, tmp_path / "restored")
    assert rows_in(tmp_path / "restored" / "data" / "database.sqlite3") >= acknowledged


def test_backup_of_an_older_version_is_migrated_on_restore(
    addon_dir: Path, patterns: list[str], tmp_path: Path
) -> None:
    """Data as an older add-on left it at a clean stop (schema step 1, data version 1), in an
    unencrypted backup: the restored add-on upgrades it and keeps every row."""
    old = Addon(addon_dir, tmp_path / "old")
    old.python(
        f"from {SLUG} import migrations\n"
        f"from {SLUG}.database import SCHEMA, Database\n"
        "migrations.migrate(steps=migrations.STEPS[:1])\n"
        "db = Database(schema=SCHEMA[:1])\n"
        "db.add_events([('load', {}) for _ in range(25)])\n"
        "db.close()\n"
    )
    archive = tmp_path / "backup.tar"
    supervisor_backup.backup(tmp_path / "old", SLUG, patterns, archive, password=None)
    restored = restore_and_start(addon_dir, archive, tmp_path / "restored", password=None)
    assert "Data migration 2" in restored.startup_log
    database = tmp_path / "restored" / "data" / "database.sqlite3"
    assert rows_in(database) == 25
    with closing(sqlite3.connect(database)) as connection:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
    latest = restored.python(f"from {SLUG}.database import SCHEMA; print(len(SCHEMA))")
    assert version == int(latest) > 1

"""Hot backup under load, archived and restored the way the Supervisor does it.

The add-on runs while a writer inserts rows; backup-pre runs in the middle of it; the archive is
built from /data and /config honouring backup_exclude with the Supervisor's own rule (each pattern
matched with PurePath.match against the Supervisor-side path, an excluded folder pruned with its
contents: supervisor/apps/app.py `backup`, securetar `atomic_contents_add`); backup-post runs; the
archive is restored into an empty folder and the add-on started there. The writer's progress is
counted, not timed, and every wait is bounded generously, so a loaded machine only makes it slower.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from contextlib import closing
from pathlib import Path, PurePosixPath

import pytest

from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer
from rendered import load_yaml

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("backup-restore")]

COMBO = Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app", writable_mode="all")
SLUG = COMBO.slug
WAIT = 60  # seconds: the bound on every wait, so a hang fails instead of stalling the suite
ROWS_BEFORE_BACKUP = 50  # rows the writer commits before backup-pre runs
PARALLEL_ROUNDS = 12  # rounds of two backup-pre at once (the bug tore 1 in 6 before the lock)
# Where the Supervisor keeps the add-on's folders on the host (since 2026.05).
SUPERVISOR_PATHS = {
    "data": PurePosixPath(f"/data/apps/data/local_{SLUG}"),
    "config": PurePosixPath(f"/data/app_configs/local_{SLUG}"),
}


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


def supervisor_archive(root: Path, patterns: list[str], archive: Path) -> list[str]:
    """Tar data/ and config/ like the Supervisor; return what was left out."""
    excluded: list[str] = []
    with tarfile.open(archive, "w") as tar:
        for part in ("data", "config"):
            folder = root / part
            if not folder.exists():
                continue
            tar.add(folder, arcname=part, recursive=False)
            pruned: list[Path] = []
            for path in sorted(folder.rglob("*")):
                if any(prune in path.parents for prune in pruned):
                    continue
                host_path = SUPERVISOR_PATHS[part] / path.relative_to(folder).as_posix()
                if any(host_path.match(pattern) for pattern in patterns):
                    excluded.append(f"{part}/{path.relative_to(folder)}")
                    if path.is_dir():
                        pruned.append(path)
                    continue
                tar.add(path, arcname=f"{part}/{path.relative_to(folder)}", recursive=False)
    return excluded


def restore(archive: Path, root: Path) -> None:
    root.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")


def rows_in(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        (count,) = connection.execute("SELECT count(*) FROM event WHERE kind = 'load'").fetchone()
        return int(count)


@pytest.fixture
def addon_dir(render: Renderer) -> Path:
    return render.project(COMBO).addon


@pytest.fixture
def patterns(addon_dir: Path) -> list[str]:
    """config.yaml's backup_exclude, which the archive honours."""
    return list(load_yaml(addon_dir / "config.yaml")["backup_exclude"])


def test_hot_backup_under_load_restores_every_committed_row(
    addon_dir: Path, patterns: list[str], tmp_path: Path
) -> None:
    addon = Addon(addon_dir, tmp_path / "live")
    running = addon.start()
    database = tmp_path / "live" / "data" / "database.sqlite3"
    committed = 0
    failures: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        nonlocal committed
        try:
            with closing(sqlite3.connect(database, timeout=WAIT)) as connection:
                connection.execute("PRAGMA synchronous = FULL")
                while not stop.is_set():
                    connection.execute(
                        "INSERT INTO event (created, kind, data) VALUES (datetime(), 'load', '{}')"
                    )
                    connection.commit()
                    committed += 1
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + WAIT
    while committed < ROWS_BEFORE_BACKUP and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)  # backup-pre comes after a count of commits, not after a delay
    before_backup = committed
    pre = addon.command("backup-pre")
    archive = tmp_path / "backup.tar"
    excluded = supervisor_archive(tmp_path / "live", patterns, archive)  # while writes go on
    post = addon.command("backup-post")
    stop.set()
    thread.join(timeout=WAIT)
    addon.stop(running)
    assert not failures, failures
    assert not thread.is_alive(), "the writer did not stop"
    assert before_backup >= ROWS_BEFORE_BACKUP, f"{before_backup} rows in {WAIT} s"
    assert pre.returncode == 0, pre.stdout + pre.stderr
    assert post.returncode == 0, post.stdout + post.stderr
    assert "data/database.sqlite3" in excluded

    restore(archive, tmp_path / "restored")
    restored = Addon(addon_dir, tmp_path / "restored")
    assert not (tmp_path / "restored" / "data" / "database.sqlite3").exists()
    restored.stop(restored.start())
    assert "Restored" in restored.startup_log
    assert rows_in(tmp_path / "restored" / "data" / "database.sqlite3") >= before_backup
    assert restored.command("doctor").returncode == 0


def test_backup_of_an_older_version_is_migrated_on_restore(
    addon_dir: Path, patterns: list[str], tmp_path: Path
) -> None:
    old = Addon(addon_dir, tmp_path / "old")
    # Data as an older add-on left it: schema step 1 only, data version 1, then a backup of the
    # stopped add-on (no hooks: the snapshot it made when it stopped is what the backup holds).
    old.python(
        f"from {SLUG} import backup, migrations, paths\n"
        f"from {SLUG}.database import SCHEMA, Database\n"
        "migrations.migrate(steps=migrations.STEPS[:1])\n"
        "db = Database(schema=SCHEMA[:1])\n"
        "db.add_events([('load', {}) for _ in range(25)])\n"
        "db.close()\n"
        "backup.prepare()\n"
    )
    archive = tmp_path / "backup.tar"
    supervisor_archive(tmp_path / "old", patterns, archive)
    restore(archive, tmp_path / "restored")
    restored = Addon(addon_dir, tmp_path / "restored")
    restored.stop(restored.start())
    assert "Restored" in restored.startup_log
    assert "Data migration 2" in restored.startup_log
    database = tmp_path / "restored" / "data" / "database.sqlite3"
    assert rows_in(database) == 25
    with closing(sqlite3.connect(database)) as connection:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
    latest = restored.python(f"from {SLUG}.database import SCHEMA; print(len(SCHEMA))")
    assert version == int(latest) > 1


def test_two_backup_pre_at_once_never_tear_the_snapshot(
    addon_dir: Path, patterns: list[str], tmp_path: Path
) -> None:
    """Two backup-pre at the same moment (two backups started together, or a retry while one
    runs) take turns: every round leaves metadata whose checksum matches its snapshot, and the
    snapshot holds every row; the last one is archived and restored in full."""
    addon = Addon(addon_dir, tmp_path / "live")
    addon.python(
        f"from {SLUG}.database import Database\n"
        "db = Database()\n"
        "db.add_events([('load', {'pad': 'x' * 200}) for _ in range(3000)])\n"
        "db.close()\n"
    )
    data = tmp_path / "live" / "data"
    rows = 3000
    for round_ in range(PARALLEL_ROUNDS):
        with closing(sqlite3.connect(data / "database.sqlite3")) as connection:
            connection.execute("INSERT INTO event (created, kind) VALUES (datetime(), 'load')")
            connection.commit()
        rows += 1
        both = [
            subprocess.Popen(
                [sys.executable, "-m", SLUG, "backup-pre"],
                env=addon.environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=WAIT)[0] for process in both]
        assert [process.returncode for process in both] == [0, 0], (round_, outputs)
        recorded = json.loads((data / "snapshot" / "metadata.json").read_text())
        snapshot = data / recorded["snapshot"]["path"]
        digest = hashlib.sha256(snapshot.read_bytes()).hexdigest()
        assert digest == recorded["snapshot"]["sha256"], f"round {round_}: torn snapshot"
        assert rows_in(snapshot) == rows, f"round {round_}"
    archive = tmp_path / "backup.tar"
    supervisor_archive(tmp_path / "live", patterns, archive)
    restore(archive, tmp_path / "restored")
    restored = Addon(addon_dir, tmp_path / "restored")
    restored.stop(restored.start())
    assert "Restored" in restored.startup_log
    assert rows_in(tmp_path / "restored" / "data" / "database.sqlite3") == rows

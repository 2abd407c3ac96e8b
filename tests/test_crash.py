"""Crash consistency: SIGKILL the add-on at random moments; nothing it confirmed may be lost.

A child process runs the add-on's real start-up (temp-file clean-up, restore, data migrations, the
stores) and then a loop of settings changes, state updates, durable database inserts and backup
snapshots, printing an acknowledgement after each one returns. The parent kills it at a random
moment, then checks what a power cut or an OOM kill would leave: every JSON file parses and holds
the old or the new value, the database passes integrity_check and holds every acknowledged row, the
backup metadata points to an intact snapshot, and after the next start no temporary file is left.
CRASH_KILLS sets the number of kills (a soak run: CRASH_KILLS=5000).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("crash")]

KILLS = int(os.environ.get("CRASH_KILLS", "200"))
COMBO = Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app", writable_mode="all")
SLUG = COMBO.slug

CHILD = f"""
import json
from {SLUG} import app, backup, paths
from {SLUG}.options import load_options

stores = app.start(load_options())
leftovers = [p.name for p in paths.DATA_DIR.glob(".tmp-*")]
leftovers += [p.name for p in paths.SNAPSHOT_DIR.glob(".partial*")]
print("READY", json.dumps(leftovers), flush=True)
counter = int(stores.settings.get("counter", 0))
print("BASE", counter, stores.database.count_events(), flush=True)
while True:
    counter += 1
    stores.settings.set("counter", counter)
    print("S", counter, flush=True)
    stores.state.update(counter=counter)
    stores.database.add_event("write", {{"n": counter}})
    print("D", counter, flush=True)
    if counter % 40 == 0:
        backup.prepare()
"""


def verify(data: Path, counter: int, rows: int) -> None:
    """What the kill left must be consistent and hold everything acknowledged."""
    settings = data / "settings.json"
    if settings.exists():
        stored = json.loads(settings.read_text()).get("counter", 0)
        assert stored in (counter, counter + 1), (stored, counter)
    for name in ("state.json", "data-version.json"):
        if (data / name).exists():
            assert isinstance(json.loads((data / name).read_text()), dict), name
    database = data / "database.sqlite3"
    if database.exists():
        with closing(sqlite3.connect(database)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            (found,) = connection.execute("SELECT count(*) FROM event").fetchone()
        assert found in (rows, rows + 1), (found, rows)
    metadata = data / "snapshot" / "metadata.json"
    if metadata.exists():
        recorded = json.loads(metadata.read_text())
        snapshot = data / recorded["snapshot"]["path"]
        digest = hashlib.sha256(snapshot.read_bytes()).hexdigest()
        assert digest == recorded["snapshot"]["sha256"]


def test_random_kills_lose_nothing_acknowledged(render: Renderer, tmp_path: Path) -> None:
    addon = render.project(COMBO).addon
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment |= {"HA_APP_ROOT": str(tmp_path), "PYTHONPATH": str(addon / "src")}
    data = tmp_path / "data"
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    counter = rows = 0
    for kill in range(KILLS):
        if kill % 10 == 9:
            (data / "data-version.json").unlink(missing_ok=True)  # migrations run again
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            child.wait(timeout=rng.uniform(0.0, 0.35))
        except subprocess.TimeoutExpired:
            child.kill()
        out, err = child.communicate()
        assert child.returncode == -9, f"seed {seed}: the child ended by itself:\n{err}"
        # Only complete lines count: the kill can cut the last acknowledgement short.
        for line in out.split("\n")[:-1]:
            kind, _, value = line.partition(" ")
            if kind == "READY":
                assert json.loads(value) == [], f"seed {seed}: temp files after start: {value}"
            elif kind == "BASE":
                # What the restart recovered: everything acknowledged, plus at most the one write
                # that completed while it was being acknowledged.
                base_counter, base_rows = map(int, value.split())
                assert base_counter in (counter, counter + 1), f"seed {seed}: settings lost"
                assert base_rows in (rows, rows + 1), f"seed {seed}: database rows lost"
                counter, rows = base_counter, base_rows
            elif kind == "S":
                counter = int(value)
            elif kind == "D":
                rows += 1
        verify(data, counter, rows)
        if kill % 50 == 49:
            doctor = subprocess.run(
                [sys.executable, "-m", SLUG, "doctor"],
                env=environment,
                capture_output=True,
                text=True,
                check=False,
            )
            assert doctor.returncode == 0, f"seed {seed}:\n{doctor.stdout}"
    assert rows >= KILLS // 4, f"seed {seed}: too few writes happened between kills to mean much"

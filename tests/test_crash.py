"""Crash consistency: SIGKILL the add-on at random moments; nothing it confirmed may be lost.

A child process runs the add-on's real start-up (temp-file clean-up, data migrations, the stores)
and then a loop of settings changes, state updates and durable database inserts, holding the
database for a backup a quarter of the time, printing an acknowledgement after each one returns.
The parent kills it at a random moment, then checks what a power cut or an OOM kill would leave:
every JSON file parses and holds the old or the new value, the database passes integrity_check and
holds every acknowledged row, and after the next start no temporary file is left.

The kill moments do not depend on how fast the machine is: the parent reads the child's output as
it comes and draws each moment relative to what the child reports. Most kills come after a random
number of acknowledged writes; the others during start-up, after a random number of its log lines
or after a random fraction of the previous start-up's duration. Every tenth start re-runs the data
migrations, so kills also land in those. Every RESTORE_EVERY kills, the killed add-on is backed up
as the Supervisor backs up a stopped add-on (no hooks; securetar, see supervisor_backup.py) and
the backup restored in its place: the next start must find everything acknowledged. The test
counts where the kills landed and requires enough of them in real work and in start-up. The
folders and options.json exist before the first start, as the Supervisor creates them before it
starts a container.

CRASH_KILLS sets the number of kills (a soak run: CRASH_KILLS=5000); CRASH_SEED replays the kill
plan of a failed run (the seed is in every failure message).
"""

from __future__ import annotations

import json
import os
import queue
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

import supervisor_backup
import supervisor_rules
from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("crash")]

KILLS = int(os.environ.get("CRASH_KILLS", "200"))
COMBO = Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app", writable_mode="all")
SLUG = COMBO.slug
WAIT = 60.0  # seconds: the bound on every wait for a child, so a hang fails instead of stalling
START_UP_SHARE = 0.3  # the share of kills aimed at start-up; the rest hit work
MAX_ACKS = 80  # work kills come after 1..MAX_ACKS acknowledgements (40 writes: one hold cycle)
MIGRATE_EVERY = 10  # every tenth start finds no data version and runs the data migrations again
RESTORE_EVERY = 25  # every 25th start finds a restored backup of the killed add-on

CHILD = f"""
import json
from {SLUG} import app, logsetup, paths
from {SLUG}.options import load_options

options = load_options()
logsetup.configure("info")  # start-up's log lines on stdout: the parent counts them
print("BOOT", flush=True)
stores = app.start(options)
leftovers = [p.name for p in paths.DATA_DIR.glob(".tmp-*")]
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
    if counter % 40 == 30:
        stores.database.hold()  # as backup-pre asks: writes go on, checkpoints wait
    elif counter % 40 == 0:
        stores.database.release()
"""


@dataclass(frozen=True)
class Plan:
    """When to kill one child: after `acks` acknowledgements, or during start-up after the given
    share of the previous start-up's log lines (`lines`) or of its duration (`time`)."""

    kind: str  # "work", "lines" or "time"
    acks: int = 0
    share: float = 0.0

    def __str__(self) -> str:
        if self.kind == "work":
            return f"kill after {self.acks} acknowledgements"
        return f"kill at {self.share:.2f} of start-up ({self.kind})"


def plans(rng: random.Random) -> list[Plan]:
    """The kill plan: a fixed share aimed at start-up, in random order; the first at work, so the
    start-up the others are drawn against has been seen. Draws never depend on outcomes, so a
    seed always gives the same plan."""
    start_up = round(KILLS * START_UP_SHARE)
    kinds = ["work"] * (KILLS - start_up) + ["lines", "time"] * (start_up // 2)
    kinds += ["lines"] * (KILLS - len(kinds))
    rng.shuffle(kinds)
    if kinds and kinds[0] != "work":
        kinds[kinds.index("work")] = kinds[0]
        kinds[0] = "work"
    return [Plan(kind, acks=rng.randint(1, MAX_ACKS), share=rng.random()) for kind in kinds]


class Child:
    """One run of CHILD; a thread reads its stdout line by line as it comes."""

    def __init__(self, environment: dict[str, str], stderr: Path) -> None:
        self.stderr_path = stderr
        with stderr.open("w") as error_file:
            self.process = subprocess.Popen(
                [sys.executable, "-c", CHILD],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=error_file,
                text=True,
            )
        self.lines: queue.Queue[tuple[float, str | None]] = queue.Queue()
        self.output: list[tuple[float, str]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as stdout:
            for line in stdout:
                self.lines.put((time.monotonic(), line))
        self.lines.put((time.monotonic(), None))

    def next_line(self, until: float) -> tuple[float, str] | None:
        """The next complete line; None when `until` (a monotonic time) comes first."""
        try:
            at, line = self.lines.get(timeout=max(0.0, until - time.monotonic()))
        except queue.Empty:
            return None
        if line is None:
            self.lines.put((at, None))
            raise ChildEnded
        self.output.append((at, line))
        return at, line

    def kill(self) -> None:
        """SIGKILL it, then collect the rest of what it printed."""
        self.process.kill()
        self.process.wait(timeout=WAIT)
        self.reader.join(timeout=WAIT)
        assert not self.reader.is_alive(), "the child's stdout stayed open after it was killed"
        while True:
            at, line = self.lines.get_nowait()
            if line is None:
                return
            self.output.append((at, line))

    def complete_lines(self) -> list[tuple[float, str]]:
        """What it printed in whole lines: the kill can cut the last one short."""
        return [(at, line[:-1]) for at, line in self.output if line.endswith("\n")]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


class ChildEnded(Exception):
    """The child's stdout closed before the parent killed it."""


def run_until_kill(child: Child, plan: Plan, last_lines: int, last_duration: float) -> None:
    """Read the child's output until the plan says kill; fail if it stalls for WAIT seconds."""
    deadline = time.monotonic() + WAIT
    kill_at: float | None = None  # set at BOOT for a "time" plan
    ready = False
    start_up_lines = acks = 0
    while True:
        got = child.next_line(deadline if kill_at is None else min(deadline, kill_at))
        if got is None:
            if kill_at is not None and time.monotonic() >= kill_at:
                return
            raise TimeoutError(f"no kill point reached within {WAIT:.0f} s")
        at, line = got
        kind = line.split(" ", 1)[0].strip()
        if kind == "BOOT" and plan.kind == "time":
            kill_at = at + plan.share * last_duration
        elif kind == "READY":
            ready = True
            if plan.kind == "lines":
                return  # start-up had fewer lines than the last one: kill now
        elif ready and kind in ("S", "D"):
            acks += 1
            if plan.kind == "work" and acks >= plan.acks:
                return
        elif not ready and kind != "BOOT":
            start_up_lines += 1
            if plan.kind == "lines" and start_up_lines >= 1 + int(plan.share * last_lines):
                return


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


def back_up_and_restore(root: Path, patterns: list[str]) -> None:
    """Back the stopped add-on up as the Supervisor does, and restore that backup in its place."""
    archive = root.parent / f"{root.name}-backup.tar"
    supervisor_backup.backup(root, SLUG, patterns, archive)
    supervisor_backup.restore(archive, SLUG, root)
    archive.unlink()


def supervisor_folders(root: Path, config: dict[str, object]) -> None:
    """What the Supervisor creates before it starts the container: /data with options.json (the
    defaults of config.yaml) and every mapped folder."""
    (root / "data").mkdir()
    (root / "data" / "options.json").write_text(json.dumps(config["options"]))
    for entry in config.get("map", []):  # type: ignore[attr-defined]
        path = supervisor_rules.MAP_CONTAINER_PATHS[entry["type"]]
        (root / path.lstrip("/")).mkdir(parents=True)


def test_random_kills_lose_nothing_acknowledged(render: Renderer, tmp_path: Path) -> None:
    project = render.project(COMBO)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment |= {"HA_APP_ROOT": str(tmp_path), "PYTHONPATH": str(project.addon / "src")}
    supervisor_folders(tmp_path, project.config)
    patterns = list(project.config["backup_exclude"])
    data = tmp_path / "data"
    seed = int(os.environ.get("CRASH_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    counter = rows = 0
    counts: Counter[str] = Counter()  # where the kills landed, by what the child had printed
    acknowledged = 0
    last_lines, last_duration = 1, 0.0  # the last complete start-up: log lines, seconds
    for kill, plan in enumerate(plans(rng)):
        where = f"seed {seed}, kill {kill} ({plan})"
        if kill % MIGRATE_EVERY == MIGRATE_EVERY - 1:
            (data / "data-version.json").unlink(missing_ok=True)  # migrations run again
        if kill % RESTORE_EVERY == RESTORE_EVERY // 2:
            back_up_and_restore(tmp_path, patterns)  # verify() found everything in the original
            counts["backups of the killed add-on restored"] += 1
        child = Child(environment, tmp_path / "stderr.txt")
        try:
            run_until_kill(child, plan, last_lines, last_duration)
        except ChildEnded:
            child.process.wait(timeout=WAIT)
            pytest.fail(f"{where}: the child ended by itself:\n{child.stderr()}")
        except TimeoutError as error:
            child.kill()
            tail = "".join(line for _, line in child.output[-20:])
            pytest.fail(f"{where}: {error}; its last lines:\n{tail}\n{child.stderr()}")
        child.kill()
        assert child.process.returncode == -9, f"{where}: the child ended by itself"
        boot_at = ready_at = None
        start_up_lines = acks = 0
        migrating = False
        for at, line in child.complete_lines():
            kind, _, value = line.partition(" ")
            if kind == "BOOT":
                boot_at = at
            elif kind == "READY":
                ready_at = at
                assert json.loads(value) == [], f"{where}: temp files after start: {value}"
            elif kind == "BASE":
                # What the restart recovered: everything acknowledged, plus at most the one write
                # that completed while it was being acknowledged.
                base_counter, base_rows = map(int, value.split())
                assert base_counter in (counter, counter + 1), f"{where}: settings lost"
                assert base_rows in (rows, rows + 1), f"{where}: database rows lost"
                counter, rows = base_counter, base_rows
            elif kind == "S":
                counter = int(value)
                acks += 1
            elif kind == "D":
                rows += 1
                acks += 1
            elif ready_at is None:
                start_up_lines += 1
                if "Data migration" in line:
                    migrating = True
        if ready_at is None:
            counts["kills in start-up" if boot_at is not None else "kills before start-up"] += 1
            if migrating:
                counts["of them in or after a data migration"] += 1
        else:
            counts["kills in work" if acks else "kills after start-up, before work"] += 1
            if boot_at is not None:
                last_lines, last_duration = start_up_lines, ready_at - boot_at
        acknowledged += acks
        try:
            verify(data, counter, rows)
        except (AssertionError, ValueError, OSError, sqlite3.Error) as error:
            raise AssertionError(f"{where}: {type(error).__name__}: {error}") from error
        if kill % 50 == 49 or kill == KILLS - 1:
            doctor = subprocess.run(
                [sys.executable, "-m", SLUG, "doctor"],
                env=environment,
                capture_output=True,
                text=True,
                check=False,
                timeout=WAIT,
            )
            assert doctor.returncode == 0, f"{where}:\n{doctor.stdout}"
    summary = f"seed {seed}: {dict(counts)}, {acknowledged} acknowledgements"
    print(summary)
    # Counts of events, not times: a work plan waits for its acknowledgements, so every one of
    # them hits work on any machine; a start-up plan reacts to the child's own lines and misses
    # start-up only when the parent falls behind the child by the rest of its start-up.
    assert counts["kills in work"] >= KILLS // 2, f"too few kills hit real work: {summary}"
    assert counts["kills in start-up"] >= max(1, KILLS // 20), f"too few start-up kills: {summary}"

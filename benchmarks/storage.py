"""Storage speed of the generated add-on, measured side by side against the seed's patterns.

Prints, for one run on this machine: a durable insert against one fsync (the floor) and against
the seed's connection-per-insert; the batched insert rate; a settings set() against a bare
write+fsync; and how many writes a burst of 10 000 state updates costs.
Run: .venv/bin/python benchmarks/storage.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from _addon import SLUG, machine, render_addon

MEASURE = f"""
import json, os, sqlite3, statistics, time
from pathlib import Path
from {SLUG}.database import Database
from {SLUG}.settings import Settings
from {SLUG}.state import StateFile

data = Path(os.environ["HA_APP_ROOT"]) / "data"
data.mkdir(parents=True)
N = 300

def per_op(action):
    start = time.perf_counter()
    for number in range(N):
        action(number)
    return (time.perf_counter() - start) / N

floor_fd = os.open(data / "floor", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def floor(number):
    os.write(floor_fd, b"x" * 100)
    os.fsync(floor_fd)

database = Database(data / "database.sqlite3", durable=True)
def durable(number):
    database.add_event("bench", {{"n": number}})

# The seed's Database.add_event: a new connection, default journal, commit, close, every time.
seed_path = data / "seed.sqlite3"
with sqlite3.connect(seed_path) as connection:
    connection.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "timestamp DATETIME DEFAULT CURRENT_TIMESTAMP, event_type TEXT NOT NULL, data TEXT)"
    )
def seed(number):
    connection = sqlite3.connect(seed_path)
    row = ("bench", json.dumps({{"n": number}}))
    connection.execute("INSERT INTO events (event_type, data) VALUES (?, ?)", row)
    connection.commit()
    connection.close()

settings = Settings(data / "settings.json")
def settings_set(number):
    settings.set("value", number)

def bare_write(number):
    with open(data / "bare.json", "w") as handle:
        handle.write(json.dumps({{"value": number}}))
        handle.flush()
        os.fsync(handle.fileno())

rounds = {{name: [] for name in ("floor", "durable", "seed", "settings", "bare")}}
for _ in range(3):  # interleaved, so that every pattern sees the same disk conditions
    rounds["floor"].append(per_op(floor))
    rounds["durable"].append(per_op(durable))
    rounds["seed"].append(per_op(seed))
    rounds["settings"].append(per_op(settings_set))
    rounds["bare"].append(per_op(bare_write))
result = {{name: statistics.median(values) for name, values in rounds.items()}}

rows = [("bench", {{"n": number}}) for number in range(50_000)]
start = time.perf_counter()
database.add_events(rows)
result["batch_rows_per_s"] = len(rows) / (time.perf_counter() - start)

state = StateFile(data / "state.json", interval=1.0)
start = time.perf_counter()
for number in range(10_000):
    state.update(counter=number)
state.close()
result["burst_seconds"] = time.perf_counter() - start
result["burst_writes"] = state.writes
print(json.dumps(result))
"""


def main() -> int:
    addon = render_addon()
    with tempfile.TemporaryDirectory() as root:
        environment = os.environ | {"HA_APP_ROOT": root, "PYTHONPATH": str(addon / "src")}
        output = subprocess.run(
            [sys.executable, "-c", MEASURE], env=environment, capture_output=True, text=True,
            check=True,
        ).stdout  # fmt: skip
    r = json.loads(output)
    checks = [
        ("durable insert / one fsync", r["durable"] / r["floor"], "<= 1.5"),
        ("seed's insert / durable insert", r["seed"] / r["durable"], ">= 3"),
        ("batched inserts, rows/s", r["batch_rows_per_s"], ">= 50000"),
        ("settings set() / bare write+fsync", r["settings"] / r["bare"], "(report)"),
        ("state writes for 10 000 updates", r["burst_writes"], "<= 20"),
    ]
    print(f"machine: {machine()}")
    milliseconds = {name: f"{r[name] * 1e3:.2f} ms" for name in ("floor", "durable", "seed")}
    milliseconds |= {name: f"{r[name] * 1e3:.2f} ms" for name in ("settings", "bare")}
    print("per operation:", ", ".join(f"{name} {value}" for name, value in milliseconds.items()))
    print(f"burst of 10 000 state updates: {r['burst_seconds']:.2f} s")
    failed = False
    for label, value, target in checks:
        ok = target == "(report)" or eval(f"{value} {target}")  # our own literals only
        failed |= not ok
        print(f"{label:38} {value:12.2f}  target {target:9} {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The web UI under load: what polling its page costs the add-on's writes, and how fast it answers.

Renders the all-features add-on with `web_ui: ingress` and runs, in one process as the add-on
does, its web server (webui.WebUI) and a writer doing durable database inserts. This script is the
browser, in a process of its own:

- durable inserts while the page and api/status are polled once a second, against the same
  inserts with nobody polling: rounds alternate A B B A, and the ratio of the medians (with a 95 %
  interval) is checked against the target of at most 1.10 (issue 14);
- api/status requests per second, from 1 and from 8 clients at once, while the writer inserts;
- time to the first byte of the page (`/`) and of api/status while the writer inserts.

    .venv/bin/python benchmarks/webui.py [--rounds 12] [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _addon import SLUG, all_features, machine, render_addon, template_copy

TARGET = 1.10  # polled / quiet durable insert time, at most

# Runs in the rendered add-on (PYTHONPATH=src, HA_APP_ROOT set): the add-on's web server and a
# writer, in one process. Commands on stdin: "insert SECONDS" (insert for that long, print the
# mean seconds per insert), "write" (insert until the next command), "quit".
DRIVER = """
import sys, threading, time
from {slug} import paths, webui
from {slug}.database import Database

paths.DATA_DIR.mkdir(parents=True, exist_ok=True)
database = Database(durable=True)
web = webui.WebUI(port=0)
web.start()
print(web.port, flush=True)
writing = threading.Event()

def write_forever():
    while True:
        writing.wait()
        database.add_event("bench", {{"n": 1}})

threading.Thread(target=write_forever, daemon=True).start()
for line in sys.stdin:
    command, *rest = line.split()
    writing.clear()
    if command == "insert":
        seconds, count, start = float(rest[0]), 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            database.add_event("bench", {{"n": count}})
            count += 1
        print((time.perf_counter() - start) / count, flush=True)
    elif command == "write":
        writing.set()
        print("writing", flush=True)
    else:
        break
web.stop()
database.close()
"""


class Addon:
    """The driver process, talked to line by line."""

    def __init__(self, addon: Path) -> None:
        root = Path(tempfile.mkdtemp(prefix="bench-webui-root-"))
        environment = os.environ | {
            "PYTHONPATH": str(addon / "src"), "HA_APP_ROOT": str(root), "PYTHONUNBUFFERED": "1",
        }  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-c", DRIVER.format(slug=SLUG)],
            cwd=addon, env=environment, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.ask(None)}/"

    def ask(self, command: str | None) -> str:
        assert self.process.stdin and self.process.stdout
        if command is not None:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if not answer:
            raise SystemExit(f"the add-on's driver ended (status {self.process.wait()})")
        return answer

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait(30)


def fetch(url: str) -> tuple[float, int]:
    """Seconds to the first byte of the answer, and its size."""
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as answer:
        first = answer.read(1)
        elapsed = time.perf_counter() - start
        return elapsed, len(first + answer.read())


class Poller:
    """The page as a browser keeps it open: the page once, then api/status once a second."""

    def __init__(self, base: str) -> None:
        self.base, self.stop, self.requests = base, threading.Event(), 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        fetch(self.base)
        while not self.stop.wait(1.0):
            fetch(self.base + "api/status")
            self.requests += 1

    def __enter__(self) -> Poller:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def ratio_interval(quiet: list[float], polled: list[float]) -> tuple[float, float, float]:
    """The ratio of the medians and a 95 % bootstrap interval of it (fixed seed: reproducible)."""
    import random

    generator = random.Random(14)
    ratios = sorted(
        statistics.median(generator.choices(polled, k=len(polled)))
        / statistics.median(generator.choices(quiet, k=len(quiet)))
        for _ in range(2000)
    )
    return statistics.median(polled) / statistics.median(quiet), ratios[50], ratios[1949]


def requests_per_second(url: str, clients: int, seconds: float) -> float:
    deadline = time.perf_counter() + seconds

    def client() -> int:
        done = 0
        while time.perf_counter() < deadline:
            fetch(url)
            done += 1
        return done

    with ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(lambda _: client(), range(clients))) / seconds


def first_bytes(url: str, count: int) -> tuple[float, float]:
    """Median and 95th percentile of the time to the first byte, in ms."""
    times = sorted(fetch(url)[0] * 1000 for _ in range(count))
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=12, help="A B B A rounds (default 12)")
    parser.add_argument("--seconds", type=float, default=2.0, help="of inserts per round")
    arguments = parser.parse_args()
    template = template_copy(Path(tempfile.mkdtemp(prefix="bench-webui-")) / "template")
    addon_dir = render_addon(all_features(template) | {"web_ui": "ingress"})
    addon = Addon(addon_dir)
    try:
        quiet: list[float] = []
        polled: list[float] = []
        for round_ in range(arguments.rounds):
            for with_page in (False, True) if round_ % 2 == 0 else (True, False):
                if with_page:
                    with Poller(addon.base):
                        polled.append(float(addon.ask(f"insert {arguments.seconds}")))
                else:
                    quiet.append(float(addon.ask(f"insert {arguments.seconds}")))
        ratio, low, high = ratio_interval(quiet, polled)
        addon.ask("write")
        single = requests_per_second(addon.base + "api/status", 1, 3.0)
        eight = requests_per_second(addon.base + "api/status", 8, 3.0)
        page = first_bytes(addon.base, 200)
        api = first_bytes(addon.base + "api/status", 200)
    finally:
        addon.close()
    verdict = "met" if high <= TARGET else ("missed" if low > TARGET else "run again")
    print(machine())
    print(json.dumps({"rounds": arguments.rounds, "seconds_per_round": arguments.seconds}))
    print(
        f"durable insert: quiet {statistics.median(quiet) * 1000:.3f} ms, "
        f"page polled each second {statistics.median(polled) * 1000:.3f} ms"
    )
    print(f"  ratio {ratio:.2f} (95 % {low:.2f}-{high:.2f}), target <= {TARGET:.2f}: {verdict}")
    print(f"api/status while writing: {single:.0f} requests/s (1 client), {eight:.0f} (8 clients)")
    print(f"first byte while writing: page {page[0]:.2f} ms (p95 {page[1]:.2f}), "
          f"api/status {api[0]:.2f} ms (p95 {api[1]:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()

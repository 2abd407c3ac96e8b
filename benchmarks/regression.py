"""Durable insert and settings set() of the add-on against an earlier version of it, side by side.

Issue 12's target: neither more than 10 % slower than before. Both versions are rendered with the
all-features answers and the same slug: the baseline from a commit of this repository (default
3fe9257, the last one before the issue-12 work), the candidate from the working tree (or
--candidate REF). Each runs in its own process with its own HA_APP_ROOT, both in one folder (one
filesystem); for one measure at a time, the parent asks them in turn for rounds of N operations,
A B B A ..., so both see the same disk and the same load. It prints the medians over rounds with
their quartiles, the ratio of the medians and its 95 % bootstrap interval: on a loaded machine a
ratio whose interval spans the target says "run again", not "slower". Only what both versions
have is called; what one has and the other lacks is listed.
Run: .venv/bin/python benchmarks/regression.py [--baseline REF] [--candidate REF]
     [--rounds R] [--ops N] [--seconds S] [--dir FOLDER]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from _addon import SLUG, TEMPLATE_PARTS, git, machine, render, template_at, template_copy

TARGET = 1.10  # candidate / baseline, per operation
MIN_ROUNDS = 20  # the time budget never cuts a run shorter than this
BOOTSTRAP = 2000  # resamples for the ratio's interval
REPLY_TIMEOUT_S = 300  # one round is seconds; a worker silent this long is stuck
# What the parent calls, per class: both versions must have it.
CALLED = {"Database": ("add_event", "close"), "Settings": ("set",)}
MEASURES = {"durable": "durable insert", "settings": "settings set()"}

# One worker per version: it answers each "<measure> <ops>" line with the seconds they took.
WORKER = f"""
import inspect, json, os, sys, time
from pathlib import Path
from {SLUG}.database import Database
from {SLUG}.settings import Settings

protocol, sys.stdout = sys.stdout, sys.stderr  # anything the add-on prints stays off the protocol

def reply(message):
    protocol.write(json.dumps(message) + "\\n")
    protocol.flush()

def public(kind):
    return sorted(name for name in dir(kind) if not name.startswith("_"))

def construct(kind, path, **options):
    # The shim: pass path the way this version takes it (positional-only or by name).
    parameters = inspect.signature(kind).parameters
    unknown = [name for name in ["path", *options] if name not in parameters]
    if unknown:
        sys.exit(f"{{kind.__name__}}() has no parameter {{', '.join(unknown)}} in this version: "
                 "adapt construct() in benchmarks/regression.py")
    if parameters["path"].kind is inspect.Parameter.POSITIONAL_ONLY:
        return kind(path, **options)
    return kind(path=path, **options)

data = Path(os.environ["HA_APP_ROOT"]) / "data"
data.mkdir(mode=0o700, parents=True)
reply({{"api": {{"Database": public(Database), "Settings": public(Settings)}}}})
database = construct(Database, data / "database.sqlite3", durable=True)
settings = construct(Settings, data / "settings.json")
count = 0

def durable(number):
    database.add_event("bench", {{"n": number}})

def settings_set(number):
    settings.set("counter", number)

measures = {{"durable": durable, "settings": settings_set}}
for line in sys.stdin:
    name, ops = line.split()
    action = measures[name]
    start = time.perf_counter()
    for _ in range(int(ops)):
        count += 1
        action(count)
    reply({{"seconds": time.perf_counter() - start}})
database.close()
"""


class BenchError(Exception):
    """The benchmark cannot run; the message says why in one line."""


@dataclass
class Version:
    """One rendered version of the add-on and its worker process."""

    name: str
    label: str
    addon: Path
    root: Path
    process: subprocess.Popen[str] | None = None
    errors: IO[str] | None = None
    api: dict[str, list[str]] | None = None

    def start(self) -> None:
        self.root.mkdir()
        environment = os.environ | {"HA_APP_ROOT": str(self.root)}
        environment["PYTHONPATH"] = str(self.addon / "src")  # its own code only
        self.errors = (self.root / "worker.err").open("w+")
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER], env=environment, cwd=self.root, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors,
        )  # fmt: skip
        self.api = self._reply()["api"]

    def run(self, measure: str, ops: int) -> float:
        """Seconds per operation for ops operations of measure, timed inside the worker."""
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(f"{measure} {ops}\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # _reply says why the worker is gone
        seconds: float = self._reply()["seconds"]
        return seconds / ops

    def _reply(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], REPLY_TIMEOUT_S)
        line = self.process.stdout.readline() if ready else ""
        if line:
            reply: dict[str, Any] = json.loads(line)
            return reply
        if not ready:
            raise BenchError(f"the {self.name} worker gave no answer in {REPLY_TIMEOUT_S} s")
        self.process.wait(timeout=REPLY_TIMEOUT_S)
        assert self.errors is not None
        self.errors.seek(0)
        last = ([line for line in self.errors.read().splitlines() if line.strip()] or ["?"])[-1]
        raise BenchError(f"the {self.name} worker ({self.label}) stopped: {last.strip()}")

    def stop(self) -> None:
        if self.process is not None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.errors is not None:
            self.errors.close()


def commit_of(ref: str) -> str:
    try:
        return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except subprocess.CalledProcessError:
        raise BenchError(f"{ref!r} is not a commit of this repository") from None


def prepare(name: str, ref: str | None, work: Path) -> Version:
    """Render the version at ref (None: the working tree) into work/name."""
    if ref is None:
        head = commit_of("HEAD")[:9]
        dirty = git("status", "--porcelain", "--", *TEMPLATE_PARTS).strip()
        label = f"working tree at {head}" + (" with uncommitted changes" if dirty else "")
        template = template_copy(work / f"{name}-template")
    else:
        commit = commit_of(ref)
        label = ref if commit.startswith(ref) else f"{ref} ({commit[:9]})"
        template = template_at(commit, work / f"{name}-template")
    addon = render(template, work / f"{name}-addon")
    return Version(name, label, addon, work / f"{name}-root")


def filesystem(folder: Path) -> str:
    """The type of the filesystem that holds folder (Linux), or "?"."""
    best, kind = "", "?"
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return kind
    resolved = str(folder.resolve())
    for line in mounts:
        fields = line.split()
        point = fields[1].replace("\\040", " ")
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def api_differences(baseline: Version, candidate: Version) -> list[str]:
    """Lines naming the public methods one version has and the other lacks."""
    assert baseline.api is not None and candidate.api is not None
    lines = []
    for kind in CALLED:
        old, new = set(baseline.api[kind]), set(candidate.api[kind])
        for side, names in (("candidate", new - old), ("baseline", old - new)):
            if names:
                lines.append(
                    f"only the {side} has {', '.join(f'{kind}.{n}' for n in sorted(names))}"
                )
        missing = [name for name in CALLED[kind] if name not in old & new]
        if missing:
            raise BenchError(f"{kind}.{', '.join(missing)} is not in both versions: adapt WORKER")
    return lines


def measure(
    baseline: Version, candidate: Version, rounds: int, ops: int, budget: float
) -> dict[str, dict[str, list[float]]]:
    """Seconds per operation, per measure, per version, one value per round.

    The measures run one after the other, so that neither leaves work behind (dirty pages, a
    journal to commit) for the other's timing; within one, the versions take turns.
    """
    share = budget / len(MEASURES)
    return {name: alternate(baseline, candidate, name, rounds, ops, share) for name in MEASURES}


def alternate(
    baseline: Version, candidate: Version, measure: str, rounds: int, ops: int, budget: float
) -> dict[str, list[float]]:
    """Rounds of measure, A B B A ..., after one uncounted round each (first pages, caches).

    Stops after an even number of rounds once budget seconds have passed, so that each version
    still goes first as often as the other.
    """
    times: dict[str, list[float]] = {"baseline": [], "candidate": []}
    for version in (baseline, candidate):
        version.run(measure, ops)
    start = time.monotonic()
    for number in range(rounds):
        if number % 2 == 0 and number >= MIN_ROUNDS and time.monotonic() - start > budget:
            break
        for version in (baseline, candidate) if number % 2 == 0 else (candidate, baseline):
            times[version.name].append(version.run(measure, ops))
    return times


def report(times: dict[str, dict[str, list[float]]]) -> bool:
    """Print each measure against the target; return whether all met it."""
    print(f"{'':16}{'baseline ms/op':>22}{'candidate ms/op':>22}{'ratio':>7}{'95 % interval':>15}")
    met = True
    for measure_name, label in MEASURES.items():
        old, new = times[measure_name]["baseline"], times[measure_name]["candidate"]
        ratio = statistics.median(new) / statistics.median(old)
        low, high = interval(old, new)
        ok = ratio <= TARGET
        met &= ok
        verdict = "met" if ok else "MISSED"
        if low <= TARGET < high:
            verdict += " (the interval spans the target)"
        print(
            f"{label:16}{spread(old):>22}{spread(new):>22}{ratio:7.2f}{low:9.2f}-{high:<5.2f}"
            f"  target <= {TARGET:.2f} {verdict}"
        )
    return met


def spread(values: list[float]) -> str:
    """The median in ms with the quartiles over rounds."""
    low, mid, high = statistics.quantiles(values, n=4)
    return f"{mid * 1e3:.2f} ({low * 1e3:.2f}-{high * 1e3:.2f})"


def interval(old: list[float], new: list[float]) -> tuple[float, float]:
    """A 95 % bootstrap interval of the ratio of medians, resampling whole rounds (pairs)."""
    draw = random.Random(0)  # the same data gives the same interval
    indices = range(len(old))
    ratios = []
    for _ in range(BOOTSTRAP):
        sample = draw.choices(indices, k=len(old))
        ratios.append(
            statistics.median(new[i] for i in sample) / statistics.median(old[i] for i in sample)
        )
    ratios.sort()
    return ratios[int(0.025 * BOOTSTRAP)], ratios[int(0.975 * BOOTSTRAP) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline",
        default="3fe9257",
        metavar="REF",
        help="commit to compare against (default: 3fe9257)",
    )
    parser.add_argument(
        "--candidate", metavar="REF", help="commit to measure (default: the working tree)"
    )
    parser.add_argument("--rounds", type=int, default=400, help="rounds at most (default: 400)")
    parser.add_argument("--ops", type=int, default=20, help="operations per round (default: 20)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=120,
        help=f"stop starting rounds after this long, {MIN_ROUNDS} at least (default: 120)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(tempfile.gettempdir()),
        metavar="FOLDER",
        help="where the databases and settings go (default: the temp folder)",
    )
    arguments = parser.parse_args()
    if arguments.rounds < 2 or arguments.ops < 1:
        parser.error("--rounds must be at least 2 and --ops at least 1")
    if not arguments.dir.is_dir():
        parser.error(f"--dir {arguments.dir} is not a folder")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-regression-", dir=arguments.dir) as folder:
            return compare(arguments, Path(folder))
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def compare(arguments: argparse.Namespace, work: Path) -> int:
    baseline = prepare("baseline", arguments.baseline, work)
    candidate = prepare("candidate", arguments.candidate, work)
    print(f"machine: {machine()}")
    kind = filesystem(work)
    print(f"folder: {work} ({kind})")
    if kind in ("tmpfs", "ramfs"):
        print("warning: fsync costs nothing on this filesystem; use --dir on a disk")
    print(f"baseline: {baseline.label}; candidate: {candidate.label}")
    try:
        for version in (baseline, candidate):
            version.start()
        for line in api_differences(baseline, candidate):
            print(line)
        times = measure(baseline, candidate, arguments.rounds, arguments.ops, arguments.seconds)
        rounds = "/".join(str(len(times[name]["baseline"])) for name in MEASURES)
        print(f"{rounds} rounds of {arguments.ops} operations per version, in turn (A B B A ...); "
              "median per operation (quartiles over rounds)")  # fmt: skip
    finally:
        for version in (baseline, candidate):
            version.stop()
    return 0 if report(times) else 1


if __name__ == "__main__":
    sys.exit(main())

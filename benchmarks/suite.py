"""Wall time of this repository's whole test suite on this machine (README's test command).

Run: .venv/bin/python benchmarks/suite.py [--runs N] [--stress CPUS]

--stress runs `stress-ng --cpu CPUS` beside the suite for its whole length (Debian's stress-ng),
the loaded machine that CI can be; --runs repeats the suite and stops at the first failure.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _addon import machine

REPO = Path(__file__).resolve().parents[1]


def run_suite() -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--durations=10"], cwd=REPO, check=False
    )
    return time.perf_counter() - start, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="run the suite this many times")
    parser.add_argument("--stress", type=int, default=0, metavar="CPUS",
                        help="load this many CPUs with stress-ng meanwhile")  # fmt: skip
    arguments = parser.parse_args()
    stress = None
    if arguments.stress:
        if shutil.which("stress-ng") is None:
            print("stress-ng is not installed (apt-get install stress-ng)")
            return 2
        stress = subprocess.Popen(
            ["stress-ng", "--cpu", str(arguments.stress), "--quiet"], stdin=subprocess.DEVNULL
        )
    results = []
    try:
        for _ in range(arguments.runs):
            elapsed, status = run_suite()
            results.append((elapsed, status))
            if status != 0:
                break
    finally:
        if stress is not None:
            stress.terminate()
            stress.wait()
    load = f", beside stress-ng --cpu {arguments.stress}" if arguments.stress else ""
    print(f"machine: {machine()}")
    for number, (elapsed, status) in enumerate(results, 1):
        print(f"run {number}: {elapsed / 60:.1f} min wall time{load}, exit {status}")
    return max(status for _, status in results)


if __name__ == "__main__":
    sys.exit(main())

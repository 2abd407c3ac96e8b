"""Wall time of this repository's whole test suite on this machine (README's test command).

Run: .venv/bin/python benchmarks/suite.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from _addon import machine

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=REPO, check=False)
    elapsed = time.perf_counter() - start
    print(f"machine: {machine()}")
    print(f"test suite: {elapsed / 60:.1f} min wall time, exit {result.returncode}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())

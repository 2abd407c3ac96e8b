"""Another add-on attacking a shared folder: it swaps a real folder (or file) and a link, nonstop.

renameat2(RENAME_EXCHANGE) swaps two names atomically, so the name always exists, as in the
attack that was reported against the share folder. The swapper is a separate process, so it runs
truly in parallel with the code under test. Tests count outcomes, never time: they go on until
they have met both the real folder and the link many times, within a bounded number of tries.
"""

import ctypes
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_SCRIPT = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
first, second = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
stop, bound = sys.argv[3], int(sys.argv[4])
AT_FDCWD, RENAME_EXCHANGE = -100, 2
for count in range(bound):
    if libc.renameat2(AT_FDCWD, first, AT_FDCWD, second, RENAME_EXCHANGE) != 0:
        print("unsupported:", os.strerror(ctypes.get_errno()), flush=True)
        sys.exit(1)
    if count == 0:
        print("swapping", flush=True)
    if count % 64 == 0 and os.path.exists(stop):
        break
"""
SWAPS = 20_000_000  # the swapper's own bound, far above what any test needs
TRIES = 200_000  # operations a test tries at most; each test also says how many are enough
WAIT = 60.0  # seconds: the bound on waiting for the swapper to start or stop


needs_swapper = pytest.mark.skipif(
    sys.platform != "linux" or not hasattr(ctypes.CDLL(None), "renameat2"),
    reason="needs renameat2 (Linux, glibc)",
)


@contextmanager
def swapping(first: Path, second: Path) -> Iterator[None]:
    """Swap first and second over and over while the block runs."""
    stop = first.parent / f".stop-swapping-{first.name}"
    process = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(first), str(second), str(stop), str(SWAPS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        started, _, _ = select.select([process.stdout], [], [], WAIT)
        assert started, "the swapper did not start"
        line = process.stdout.readline()
        if line.startswith("unsupported:"):
            pytest.skip(f"this filesystem cannot swap names atomically: {line.strip()}")
        assert line == "swapping\n", f"the swapper did not start: {line!r}"
        yield
        stop.touch()
        process.wait(WAIT)
    finally:
        process.kill()
        process.wait(WAIT)
        process.stdout.close()
        stop.unlink(missing_ok=True)
    assert process.returncode == 0, "the swapper failed"

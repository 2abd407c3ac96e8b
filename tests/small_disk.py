"""Run the rendered add-on on a full /data: the child half of test_disk_full.py.

It runs inside a private mount namespace whose /data ($HA_APP_ROOT/data) is a small tmpfs, so the
disk fills up for real: the kernel answers ENOSPC, for want of blocks or of inodes. It fills the
disk after the add-on has saved its data, runs `doctor`, `run` and a JSON write against it, frees
the disk and runs `doctor` again, and prints what it saw as one JSON object. The parent judges.

Usage: python small_disk.py SLUG bytes|inodes KEEP_BYTES ROWS
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

WAIT = 60  # seconds: the bound on every child, so that a hang fails instead of stalling
MAX_FILES = 100_000  # the inode filler gives up after this many (the tmpfs has far fewer inodes)

SAVE = """
from {slug} import app
from {slug}.options import load_options
stores = app.start(load_options())
stores.database.add_events([("row", {{"n": n}}) for n in range({rows})])
stores.close()
"""

# A JSON file written by the add-on's staged write, as every store of the add-on writes them.
WRITE_JSON = """
import json
from {slug} import paths
from {slug}.atomicfile import write_atomic
from {slug}.errors import AddonError
try:
    write_atomic(paths.SETTINGS_FILE, json.dumps({{"pad": "x" * 65536}}))
except (OSError, AddonError) as error:
    print(error)
"""


def main(slug: str, scenario: str, keep: int, rows: int) -> dict[str, Any]:
    data = Path(os.environ["HA_APP_ROOT"]) / "data"
    (data / "options.json").write_text(json.dumps({"min_free_mb": 0}))
    python(SAVE.format(slug=slug, rows=rows))
    filler = data / "fill"
    if scenario == "bytes":
        fill_bytes(filler, keep)
    else:
        fill_inodes(filler)
    stats = os.statvfs(data)
    seen: dict[str, Any] = {
        "free": stats.f_bavail * stats.f_frsize,
        "free_inodes": stats.f_favail,
        "files_before": files(data, filler),
        "database_before": digest(data / "database.sqlite3"),
        "settings_before": digest(data / "settings.json"),
    }
    seen["doctor"] = addon(slug, "doctor")
    seen["run"] = addon(slug, "run")
    seen["write_json"] = python(WRITE_JSON.format(slug=slug))
    seen["files_after"] = files(data, filler)
    seen["database_after"] = digest(data / "database.sqlite3")
    seen["settings_after"] = digest(data / "settings.json")
    shutil.rmtree(filler) if filler.is_dir() else filler.unlink()
    seen["doctor_with_room"] = addon(slug, "doctor")
    with contextlib.closing(sqlite3.connect(data / "database.sqlite3")) as connection:
        seen["rows"] = connection.execute("SELECT count(*) FROM event").fetchone()[0]
    return seen


def fill_bytes(filler: Path, keep: int) -> None:
    """Leave `keep` bytes free, and inodes to spare."""
    stats = os.statvfs(filler.parent)
    room = stats.f_bavail * stats.f_frsize - keep
    with filler.open("wb") as handle:
        while room > 0:
            room -= handle.write(b"\0" * min(room, 1 << 16))


def fill_inodes(filler: Path) -> None:
    """Take every free inode with empty files, and leave the free space as it is."""
    filler.mkdir()
    for number in range(MAX_FILES):
        try:
            (filler / str(number)).touch()
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
            return
    raise AssertionError(f"{MAX_FILES} files and still free inodes")


def files(data: Path, filler: Path) -> list[str]:
    """Every name under data but the filler's, relative to data."""
    found = []
    for path in data.rglob("*"):
        if filler not in (path, *path.parents):
            found.append(str(path.relative_to(data)))
    return sorted(found)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def addon(slug: str, command: str) -> dict[str, Any]:
    return run([sys.executable, "-m", slug, command])


def python(code: str) -> dict[str, Any]:
    return run([sys.executable, "-c", code])


def run(arguments: list[str]) -> dict[str, Any]:
    """Exit status and output; a child still running after WAIT seconds is killed and noted."""
    try:
        result = subprocess.run(arguments, capture_output=True, text=True, timeout=WAIT)
    except subprocess.TimeoutExpired:
        return {"status": None, "output": f"still running after {WAIT} s"}
    return {"status": result.returncode, "output": result.stdout + result.stderr}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))

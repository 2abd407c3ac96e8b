"""A full disk, for real: /data on a small tmpfs, out of space (16 KB left) or out of inodes.

SQLite then cannot create or grow its -wal and -shm files and says "disk I/O error" or "unable to
open database file", which says nothing about the database. The add-on must say "disk full" or
"no inodes" (with the free space and the folder), never call the database damaged, never set a
file aside, and lose nothing: once the disk has room, every row is there.

The tmpfs is mounted in a private mount namespace (`unshare --mount`, which needs root, or a user
namespace), so nothing outlives the test. small_disk.py runs the add-on there and reports; this
file judges. Where no tmpfs can be mounted, the test is skipped, except in CI (CI is set), where
.ci/run runs as root and a skip would hide the check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer
from tools import namespace_command

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("disk_full")]

COMBO = Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app", writable_mode="all")
SLUG = COMBO.slug
CHILD = Path(__file__).with_name("small_disk.py")
KEEP = 16 * 1024  # bytes left free in the "bytes" scenario: the report
ROWS = 100
TMPFS = "size=4m,nr_inodes=256"  # room for the add-on's files, and few inodes to fill
WAIT = 300  # seconds for the whole child: each of its own children is bounded too
# What is expected of each scenario: the words that name the problem.
SAID = {"bytes": "disk full", "inodes": "no inodes"}
# What only SQLite creates beside the database (its own files, which it reuses) and the lock
# file: the only names the failed runs may add to /data.
MAY_APPEAR = {"database.sqlite3-wal", "database.sqlite3-shm", ".instance.lock"}


def in_small_disk(
    root: Path, *command: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run command with $root/data a new, small tmpfs that only it (and its children) see."""
    mount = 'mount -t tmpfs -o "$1" tmpfs "$2" && shift 2 && exec "$@"'
    return subprocess.run(
        [*namespace_command(), "sh", "-c", mount, "sh", TMPFS, str(root / "data"), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )


@pytest.fixture(scope="module")
def can_mount(tmp_path_factory: pytest.TempPathFactory) -> None:
    probe = tmp_path_factory.mktemp("probe")
    (probe / "data").mkdir()
    result = in_small_disk(probe, "true")
    if result.returncode != 0:
        message = f"cannot mount a tmpfs in a private mount namespace: {result.stderr.strip()}"
        if not os.environ.get("CI"):
            pytest.skip(f"SKIPPED CHECK: {message}")
        pytest.fail(message)


@pytest.mark.parametrize("scenario", list(SAID))
def test_a_full_disk_is_named_and_loses_nothing(
    render: Renderer, tmp_path: Path, can_mount: None, scenario: str
) -> None:
    addon = render.project(COMBO).addon
    for folder in ("data", "config", "share", "ssl", "media", "backup", "homeassistant"):
        (tmp_path / folder).mkdir()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment |= {"HA_APP_ROOT": str(tmp_path), "PYTHONPATH": str(addon / "src")}
    result = in_small_disk(
        tmp_path, sys.executable, str(CHILD), SLUG, scenario, str(KEEP), str(ROWS), env=environment
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout)
    said = SAID[scenario]
    if scenario == "bytes":
        assert seen["free"] <= KEEP, seen["free"]
    else:
        assert seen["free_inodes"] == 0, seen["free_inodes"]

    doctor = seen["doctor"]["output"]
    assert seen["doctor"]["status"] == 1, doctor
    assert f"FAIL {tmp_path / 'data'}: {said}: " in doctor, doctor
    database = tmp_path / "data" / "database.sqlite3"
    assert f"FAIL cannot check the database {database}: {said}: " in doctor, doctor
    assert "integrity check failed" not in doctor, doctor
    assert "Traceback" not in doctor, doctor

    run = seen["run"]["output"]
    assert seen["run"]["status"] == 1, run
    errors = [line for line in run.splitlines() if " ERROR " in line]
    assert len(errors) == 1, run
    assert "Cannot start: " in errors[0], run
    assert f"{said}: " in errors[0], run
    assert str(tmp_path / "data") in errors[0], run
    assert "damaged" not in run, run
    assert "Traceback" not in run, run

    written = seen["write_json"]["output"].strip()
    assert seen["write_json"]["status"] == 0, written
    assert f"cannot write {tmp_path / 'data' / 'settings.json'}: " in written, written
    assert f"{said}: " in written, written
    assert len(written.splitlines()) == 1, written

    # Nothing was set aside or renamed, nothing changed, and no temporary file was left.
    assert set(seen["files_before"]) <= set(seen["files_after"]), seen
    assert set(seen["files_after"]) - set(seen["files_before"]) <= MAY_APPEAR, seen
    assert seen["database_after"] == seen["database_before"]
    assert seen["settings_after"] == seen["settings_before"]

    # With room again, the add-on is healthy and every row is there.
    healthy = seen["doctor_with_room"]["output"]
    assert seen["doctor_with_room"]["status"] == 0, healthy
    assert seen["rows"] == ROWS

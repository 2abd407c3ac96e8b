"""Retention clean-up and the maintenance thread."""

import os
import threading
import time
from pathlib import Path

import pytest

from garden_logger import diskspace
from garden_logger.maintenance import (
    DAY,
    Maintenance,
    remove_old_files,
)


def aged(path: Path, days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    moment = time.time() - days * DAY
    os.utime(path, (moment, moment))
    return path


def test_only_old_files_in_the_folders_are_removed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    old = aged(cache / "sub" / "old.bin", 40)
    recent = aged(cache / "recent.bin", 1)
    outside = aged(tmp_path / "elsewhere" / "old.bin", 400)
    assert remove_old_files([cache], retention_days=30) == 1
    assert not old.exists()
    assert not old.parent.exists()
    assert recent.exists()
    assert outside.exists()


def test_links_out_of_the_folder_are_not_followed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    outside = aged(tmp_path / "precious" / "photo.jpg", 400)
    (cache / "link").symlink_to(outside.parent)
    remove_old_files([cache], retention_days=30)
    assert outside.exists()


def test_missing_folders_are_fine(tmp_path: Path) -> None:
    assert remove_old_files([tmp_path / "none"], retention_days=1) == 0


def test_thread_runs_at_once_and_stops_promptly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Counted, not timed: with an hour between rounds, one round means it ran at once, and a
    stop that ends the thread within a minute (generous under load) did not wait for the next."""
    old = aged(tmp_path / "cache" / "old", 10)
    diskspace.set_reserve(10**9)
    try:
        maintenance = Maintenance(retention_days=5, interval=3600, folders=[tmp_path / "cache"])
        maintenance.start()
        deadline = time.monotonic() + 60
        while maintenance.rounds == 0:
            assert time.monotonic() < deadline, "no round within a minute"
            time.sleep(0.01)
        stopper = threading.Thread(target=maintenance.stop, daemon=True)
        stopper.start()
        stopper.join(60)
    finally:
        diskspace.set_reserve(0)
    assert not maintenance.is_alive(), "stop() waited for the next round"
    assert maintenance.rounds == 1
    assert not old.exists()
    assert "Low disk space" in caplog.text

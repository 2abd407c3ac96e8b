"""The state file: coalesced writes, flushed on stop, a damaged file set aside.

The writer thread's timing is never asserted on: the bound on writes is measured around the whole
burst (so a loaded machine only loosens it), and waits for the writer are bounded generously.
"""

import json
import logging
import time
from pathlib import Path

import pytest

import hostile
from garden_logger.state import StateFile

WAIT = 60.0  # seconds: the bound on every wait for the writer thread


def wait_until_written(state: StateFile) -> None:
    """Wait (hostile.bounded) until the writer thread has written the file once."""
    deadline = time.monotonic() + WAIT
    while state.writes == 0:
        assert time.monotonic() < deadline, f"the writer thread wrote nothing in {WAIT:.0f} s"
        time.sleep(0.01)


def test_a_burst_of_updates_costs_a_bounded_number_of_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    started = time.monotonic()  # before the writer thread starts: the bound holds under load
    state = StateFile(path, interval=0.2)
    for number in range(10_000):
        state.update(counter=number)
    state.close()
    elapsed = time.monotonic() - started
    assert json.loads(path.read_text())["counter"] == 9_999
    # The writer waits a whole interval before each write, then close() writes once more.
    assert 1 <= state.writes <= elapsed / 0.2 + 1


def test_updates_between_two_writes_cost_one_write(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path, interval=3600)  # the writer thread never wakes up by itself here
    for number in range(10_000):
        state.update(counter=number)
    state.request_flush()
    wait_until_written(state)
    for number in range(10_000):
        state.update(counter=-number)
    state.close()
    assert state.writes == 2
    assert json.loads(path.read_text())["counter"] == -9_999


def test_close_writes_the_last_change(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path, interval=3600)
    state.update({"status": "stopping"})
    state.close()
    assert json.loads(path.read_text())["status"] == "stopping"
    assert StateFile(path, interval=3600).state["status"] == "stopping"


def test_changes_reach_the_disk_without_a_flush(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path, interval=0.05)
    state.update(status="running")
    wait_until_written(state)  # by the writer thread: close() has not run yet
    assert json.loads(path.read_text())["status"] == "running"
    state.close()


def test_request_flush_writes_even_without_changes(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json", interval=3600)
    state.request_flush()
    wait_until_written(state)  # long before the interval: the request woke the writer
    assert (tmp_path / "state.json").is_file()
    state.close()
    assert state.writes == 1


NOT_AN_OBJECT = {"string": '"x"', "number": "5", "null": "null"}


@pytest.mark.parametrize("kind", list(hostile.HOSTILE) + list(NOT_AN_OBJECT))
def test_a_damaged_file_is_kept_aside_with_one_error_never_overwritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    path = tmp_path / "state.json"
    if kind in NOT_AN_OBJECT:
        path.write_text(NOT_AN_OBJECT[kind])  # valid JSON, but no state
    else:
        hostile.HOSTILE[kind](path)
    before = hostile.what_is(path)
    state = hostile.bounded(lambda: StateFile(path, interval=3600))
    assert state.state == {}
    state.update(status="running")
    state.close()
    assert json.loads(path.read_text())["status"] == "running"
    [kept] = tmp_path.glob("state.json.corrupt-*")
    assert hostile.what_is(kept) == before  # the very file, unchanged
    [error] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    message = error.getMessage()
    assert f"{path} " in message
    assert f"kept as {kept}; the add-on starts with an empty state" in message
    assert "\n" not in message
    assert error.exc_info is None


def test_timestamps_are_utc(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json", interval=3600)
    state.update(status="x")
    state.close()
    assert state.state["updated"].endswith("+00:00")

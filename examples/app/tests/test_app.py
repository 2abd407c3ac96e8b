"""The main loop carries on through errors it can report, and stops on request."""

import json
import os
import signal
import threading
from collections.abc import Callable

import pytest

from garden_logger import app, paths, workload
from garden_logger.atomicfile import StorageError
from garden_logger.options import DEFAULTS, Options

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)


def bare_stores(monkeypatch: pytest.MonkeyPatch, heartbeat: Callable[[], None]) -> app.Stores:
    """Stores with nothing opened, its backup hooks noted; each heartbeat calls the given one.

    It stands in for workload.beat(), the author's code, which the loop must call with the stores.
    """
    stores = object.__new__(app.Stores)

    def beat(given: app.Stores) -> None:
        assert given is stores
        heartbeat()

    monkeypatch.setattr(workload, "beat", beat)
    monkeypatch.setattr(stores, "backups", Hooks(), raising=False)
    return stores


class Hooks:
    """Stands in for hotbackup.Responder: notes what the loop asks of it."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.answered = threading.Event()

    def handle(self) -> None:
        self.asked.append("handle")
        self.answered.set()

    def release_if_overdue(self) -> None:
        self.asked.append("release_if_overdue")


def test_a_full_disk_during_work_is_logged_and_the_addon_keeps_running(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    signals = app.Signals()
    beats: list[int] = []

    def heartbeat() -> None:
        beats.append(1)
        if len(beats) == 1:
            raise StorageError(28, "cannot write /data/state.json: No space left on device")
        signals.stop = True

    stores = bare_stores(monkeypatch, heartbeat)
    monkeypatch.setattr(app, "HEARTBEAT_SECONDS", 0.01)
    app.work(stores, signals)
    assert len(beats) == 2
    assert "No space left on device" in caplog.text


def test_a_backup_request_is_answered_before_the_next_heartbeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signals = app.Signals()
    done: list[str] = []

    def heartbeat() -> None:
        done.append("heartbeat")
        signals.stop = True

    stores = bare_stores(monkeypatch, heartbeat)
    monkeypatch.setattr(app, "HEARTBEAT_SECONDS", 0.01)
    signals.pending.add(signal.SIGUSR1)
    app.work(stores, signals)
    assert done == ["heartbeat"]
    assert stores.backups.asked == ["handle", "release_if_overdue", "release_if_overdue"]  # type: ignore[attr-defined]


def test_signals_wake_the_loop_without_waiting_for_the_heartbeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGUSR1 (a backup hook) or a stop is handled at once, not at the next heartbeat (an hour).

    Counted, not timed: the signals go to this process as the hooks and the Supervisor send
    them, whichever thread they land in, while the loop sleeps in another thread. Only a sleep
    that they cut short lets the loop answer and end before the waits below give up, a minute
    later (generous on a loaded machine, still far short of the heartbeat).
    """
    signals = app.Signals()
    beats: list[int] = []
    asleep = threading.Event()
    woken = threading.Event()

    def heartbeat() -> None:
        beats.append(1)
        if len(beats) == 1:
            asleep.set()  # the loop goes to sleep next; a signal that comes first must still count
        else:
            woken.set()

    stores = bare_stores(monkeypatch, heartbeat)
    woken = stores.backups.answered  # type: ignore[attr-defined]
    monkeypatch.setattr(app, "HEARTBEAT_SECONDS", 3600.0)
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    wakeup_fd = signal.set_wakeup_fd(-1)
    signals.install()
    loop = threading.Thread(target=app.work, args=(stores, signals), daemon=True)
    try:
        loop.start()
        assert asleep.wait(60), "no first heartbeat"
        os.kill(os.getpid(), signal.SIGUSR1)
        assert woken.wait(60), "SIGUSR1 waited for the next heartbeat"
        os.kill(os.getpid(), signal.SIGTERM)
        loop.join(60)
    finally:
        signal.set_wakeup_fd(wakeup_fd)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert not loop.is_alive(), "the stop signal waited for the next heartbeat"
    assert len(beats) == 1


def test_threads_started_by_the_addon_never_take_its_signals() -> None:
    """Only the main thread takes them, so they reach the wake-up pipe in the order sent."""
    signals = app.Signals()
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    masks: list[set[int | signal.Signals]] = []

    def record() -> None:
        masks.append(signal.pthread_sigmask(signal.SIG_BLOCK, []))

    with signals.only_in_this_thread():
        inside = threading.Thread(target=record)
        inside.start()
    inside.join(60)
    outside = threading.Thread(target=record)
    outside.start()
    outside.join(60)
    assert set(SIGNALS) <= masks[0]
    assert not set(SIGNALS) & masks[1]
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before


def test_a_start_count_of_the_wrong_type_counts_again_from_zero(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """settings.json holding {"starts": "x"}, valid JSON, ended every start with a traceback."""
    paths.DATA_DIR.mkdir(parents=True)
    paths.SETTINGS_FILE.write_text('{"starts": "x", "name": "kept"}')
    stores = app.start(Options.from_values(DEFAULTS))
    stores.close()
    assert json.loads(paths.SETTINGS_FILE.read_text()) == {"starts": 1, "name": "kept"}
    messages = [record.getMessage() for record in caplog.records]
    [warning] = [message for message in messages if '"starts"' in message]
    assert warning.endswith('the setting "starts" holds "x", not a whole number; using 0 instead')


class Recorder:
    """A store that notes what it was asked; `failing` makes close() or flush() raise."""

    def __init__(self, name: str, log: list[str], failing: str = "") -> None:
        self.name, self.log, self.failing = name, log, failing

    def flush(self) -> None:
        self._note("flush")

    def close(self) -> None:
        self._note("close")

    def _note(self, what: str) -> None:
        self.log.append(f"{what} {self.name}")
        if what == self.failing:
            raise StorageError(f"{self.name} could not {what}")


def test_every_store_is_closed_even_when_one_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that cannot write at stop must not keep the others from writing theirs."""
    log: list[str] = []
    first, failing, last = (
        Recorder("first", log), Recorder("second", log, "close"), Recorder("third", log)
    )  # fmt: skip
    stores = object.__new__(app.Stores)
    monkeypatch.setattr(stores, "each", lambda: (first, failing, last))
    stores.flush()
    assert log == ["flush first", "flush second", "flush third"]
    log.clear()
    with pytest.raises(StorageError, match="second could not close"):
        stores.close()
    assert log == ["close third", "close second", "close first"]


def test_the_stores_are_closed_when_the_authors_stop_fails(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """workload.stop() is the author's code: an error there is one line, and the stores close."""
    log: list[str] = []
    stores = object.__new__(app.Stores)
    monkeypatch.setattr(stores, "each", lambda: (Recorder("only", log),))

    def stop(given: app.Stores) -> None:
        assert given is stores
        raise StorageError("the author's stop failed")

    monkeypatch.setattr(workload, "stop", stop)
    assert app.close(stores) is False
    assert log == ["close only"]
    assert "Could not stop cleanly: the author's stop failed" in caplog.text

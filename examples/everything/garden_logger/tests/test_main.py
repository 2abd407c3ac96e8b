"""The add-on run as the Supervisor runs it: a real process, signals and exit codes.

The tests wait for what the add-on reports (a log line, the pid file), and every wait is bounded
generously, so a loaded machine makes them slower, never red. That a stop signal does not wait for
the next heartbeat is checked in test_app.py, without a clock. One bound is the Supervisor's own:
it kills an add-on that has not stopped STOP_TIMEOUT seconds after SIGTERM, so the signal tests
measure that time and hold it to STOP_TIMEOUT, not to how fast a stop usually is.
"""

import json
import os
import queue
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from garden_logger import __main__ as cli
from garden_logger import migrations, paths, webui
from garden_logger.options import DEFAULTS

SRC = Path(__file__).resolve().parents[1] / "src"
WAIT = 60.0  # seconds: the bound on every wait, so that a hang fails instead of stalling
# The address space of an add-on run by run_once: a read of /dev/zero fails fast instead of
# taking the machine's memory.
MEMORY = 1024**3

# The Supervisor's default stop timeout (config.yaml `timeout`): SIGKILL follows after it. A stop
# takes well under a second even on a busy machine; a missed signal takes a heartbeat (60 s).
STOP_TIMEOUT = 10.0
SAVED = "Saved what was in memory"  # the add-on's log line when it saves before a backup
BURST = 50_000  # SIGUSR1 sent back to back by each of SENDERS processes
SENDERS = 2
PAIRS = 10  # runs of SIGUSR1 then SIGTERM, every other one delivered together


def command(app_root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "garden_logger", *args]


def environment(app_root: Path) -> dict[str, str]:
    return os.environ | {
        "HA_APP_ROOT": str(app_root),
        "PYTHONPATH": str(SRC),
        webui.PORT_VARIABLE: "0",  # any free port (the log says which): runs never collide
    }


class Running:
    """The add-on as a process; a thread reads its output as it comes."""

    def __init__(self, app_root: Path) -> None:
        self.process = subprocess.Popen(
            command(app_root),
            env=environment(app_root),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as stdout:
            for line in stdout:
                self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, text: str) -> list[str]:
        """The output up to the first line that contains text."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"{text!r} not logged within {WAIT:.0f} s: {''.join(self.seen)}")
            if line is None:
                pytest.fail(f"{text!r} never appeared; output: {''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return self.seen

    def stop(self, signum: int = signal.SIGTERM) -> str:
        """Send signum and wait for the add-on to exit by itself; return all its output."""
        self.process.send_signal(signum)
        self.wait_for_exit()
        return self.output()

    def wait_for_exit(self) -> float:
        """Wait for the add-on to exit by itself; return how long that took, in seconds."""
        started = time.monotonic()
        try:
            self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"the add-on did not stop within {WAIT:.0f} s: {self.output()}")
        return time.monotonic() - started

    def output(self) -> str:
        """Everything it printed (wait for it to exit first)."""
        self.process.wait(timeout=WAIT)
        self._reader.join(timeout=WAIT)
        while (line := self._lines.get(timeout=WAIT)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def write_options(app_root: Path, text: str) -> None:
    options_file = app_root / "data" / "options.json"
    options_file.parent.mkdir(parents=True, exist_ok=True)
    options_file.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_sets_up_storage_and_stops_cleanly(app_root: Path, signum: int) -> None:
    addon = Running(app_root)
    seen = addon.wait_for("Started")
    for mount in paths.MOUNTS:
        assert any(f"Storage: {mount.path} ({mount.map_type}" in line for line in seen)
    assert paths.PID_FILE.read_text().strip() == str(addon.process.pid)
    out = addon.stop(signum)
    assert addon.process.returncode == cli.EXIT_OK, out
    assert "Stopped cleanly" in out
    assert not paths.PID_FILE.exists()
    assert json.loads(paths.DATA_VERSION_FILE.read_text())["version"] >= 1
    assert json.loads(paths.STATE_FILE.read_text())["status"] == "stopped"
    assert json.loads(paths.SETTINGS_FILE.read_text())["starts"] == 1
    assert paths.DATABASE_FILE.is_file()


def test_only_the_main_thread_takes_signals(app_root: Path) -> None:
    """Every other thread of the running add-on blocks the signals it handles, so they reach the
    main loop in the order they were sent (Linux: each thread's mask is in /proc)."""
    addon = Running(app_root)
    addon.wait_for("Started")
    handled = (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGUSR1 - 1))
    tasks = Path(f"/proc/{addon.process.pid}/task")
    masks = {}
    for task in tasks.iterdir():
        status = (task / "status").read_text(encoding="utf-8")
        masks[int(task.name)] = int(status.split("SigBlk:")[1].split()[0], 16)
    out = addon.stop()
    assert addon.process.returncode == cli.EXIT_OK, out
    others = {tid: mask for tid, mask in masks.items() if tid != addon.process.pid}
    assert others, "the add-on runs background threads"
    assert all(mask & handled == handled for mask in others.values()), others
    assert masks[addon.process.pid] & handled == 0


def ask_for_a_hold() -> Path:
    """What a backup hook leaves for the add-on before it wakes it; returns the answer's path."""
    folder = paths.make_private_folder(paths.BACKUP_REQUESTS_DIR)
    (folder / "1-1.request").write_text("hold\n")
    return folder / "1-1.answer"


def check_the_hold(answer: Path, out: str) -> None:
    """The hold asked for was done once, before the stop."""
    assert answer.read_text() == "held\n", out
    assert out.count(SAVED) == 1, out
    assert "Stopped during a backup" in out, out


def test_a_burst_of_sigusr1_then_a_stop(app_root: Path) -> None:
    """SIGUSR1 as fast as SENDERS processes can send it, then SIGTERM: no traceback, a clean exit
    within the Supervisor's stop timeout, and the backup request answered before the stop.

    Several senders keep signals coming while the add-on handles the previous one, which is what
    broke handlers that did more than wake the loop (a lock taken in a handler deadlocked, and the
    handlers that piled up on it ended in a RecursionError).
    """
    addon = Running(app_root)
    addon.wait_for("Started")
    answer = ask_for_a_hold()
    pid = addon.process.pid
    burst = f"import os, signal\nfor _ in range({BURST}): os.kill({pid}, signal.SIGUSR1)"
    senders = [subprocess.Popen([sys.executable, "-c", burst]) for _ in range(SENDERS)]
    for sender in senders:
        assert sender.wait(timeout=WAIT) == 0
    addon.process.send_signal(signal.SIGTERM)
    took = addon.wait_for_exit()
    out = addon.output()
    print(f"stop after {SENDERS} x {BURST} SIGUSR1: {took:.2f} s")
    assert addon.process.returncode == cli.EXIT_OK, out
    assert "Traceback" not in out, out
    assert "Exception ignored" not in out, out
    assert "Stopped cleanly" in out
    check_the_hold(answer, out)
    assert took <= STOP_TIMEOUT, f"took {took:.1f} s to stop: {out}"


def test_a_stop_right_after_sigusr1_is_never_late(app_root: Path) -> None:
    """SIGUSR1 immediately followed by SIGTERM, PAIRS times: each run answers the backup request
    once and stops within the Supervisor's stop timeout (measured from the SIGTERM; the slowest
    is printed).

    Every other run sends the pair while the add-on is held with SIGSTOP, so that both signals
    reach it at once when SIGCONT lets it go on, whatever the machine's speed: the case where
    the stop must not swallow the request. The other runs send them as they come.
    """
    took: list[float] = []
    for run in range(PAIRS):
        shutil.rmtree(app_root, ignore_errors=True)
        app_root.mkdir()
        addon = Running(app_root)
        addon.wait_for("Started")
        answer = ask_for_a_hold()
        held = run % 2 == 1
        if held:
            addon.process.send_signal(signal.SIGSTOP)
        os.kill(addon.process.pid, signal.SIGUSR1)
        addon.process.send_signal(signal.SIGTERM)
        if held:
            addon.process.send_signal(signal.SIGCONT)
        took.append(addon.wait_for_exit())
        out = addon.output()
        assert addon.process.returncode == cli.EXIT_OK, out
        assert "Traceback" not in out, out
        check_the_hold(answer, out)
        assert took[-1] <= STOP_TIMEOUT, f"took {took[-1]:.1f} s to stop: {out}"
    print(f"{PAIRS} stops right after SIGUSR1: slowest {max(took):.2f} s")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('{"log_level": ', "options.json is not valid JSON"),
        ('{"log_level": "loud"}', "option 'log_level'"),
        ('{"retention_days": 0}', "option 'retention_days'"),
        ('{"min_free_mb": "lots"}', "option 'min_free_mb'"),
    ],
)
def test_bad_options_exit_with_one_line(app_root: Path, options: str, message: str) -> None:
    write_options(app_root, options)
    result = subprocess.run(
        command(app_root),
        env=environment(app_root),
        capture_output=True,
        text=True,
        check=False,
        timeout=WAIT,
    )
    assert result.returncode == cli.EXIT_BAD_OPTIONS
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_data_from_a_newer_version_stops_the_addon_without_a_traceback(app_root: Path) -> None:
    paths.DATA_DIR.mkdir(parents=True)
    paths.DATA_VERSION_FILE.write_text('{"version": 999}')
    result = subprocess.run(
        command(app_root),
        env=environment(app_root),
        capture_output=True,
        text=True,
        check=False,
        timeout=WAIT,
    )
    assert result.returncode == cli.EXIT_FAILED
    assert "Cannot start: the data in" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_log_level_option_is_honoured(app_root: Path) -> None:
    write_options(app_root, json.dumps(DEFAULTS | {"log_level": "warning"}))
    addon = Running(app_root)
    deadline = time.monotonic() + WAIT
    while not paths.PID_FILE.exists() and addon.process.poll() is None:
        assert time.monotonic() < deadline, f"no pid file within {WAIT:.0f} s"
        time.sleep(0.05)  # nothing is logged at level warning: the pid file says it started
    out = addon.stop()
    assert addon.process.returncode == cli.EXIT_OK, out
    assert "Storage:" not in out


def test_a_second_addon_on_the_same_data_is_refused_with_one_line(app_root: Path) -> None:
    """Two containers given one /data (or a second `run` in the same one) would both write it."""
    write_options(app_root, json.dumps(DEFAULTS))  # as the Supervisor does: no note about it
    first = Running(app_root)
    first.wait_for("Started")
    second = subprocess.run(
        command(app_root),
        env=environment(app_root),
        capture_output=True,
        text=True,
        check=False,
        timeout=WAIT,
    )
    out = first.stop()
    assert first.process.returncode == cli.EXIT_OK, out
    assert second.returncode == cli.EXIT_FAILED
    lines = (second.stdout + second.stderr).splitlines()
    assert len(lines) == 1, lines
    assert f"Another instance of {cli.__package__} is running on this {paths.DATA_DIR}" in lines[0]
    assert f"(pid {first.process.pid}): stop it first." in lines[0]


def web_ui_port(seen: list[str]) -> int:
    """The port of the running add-on's web UI, from its log line."""
    [line] = [line for line in seen if "Web UI listening on port" in line]
    return int(line.split()[-1])


def test_the_web_ui_holds_up_neither_the_work_nor_the_stop(app_root: Path) -> None:
    """More silent connections than the web UI serves at once, all held open: the add-on still
    does its work (a backup request) and stops cleanly
    within the Supervisor's stop timeout."""
    addon = Running(app_root)
    port = web_ui_port(addon.wait_for("Web UI listening on port"))
    addon.wait_for("Started")
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as client:
        client.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert client.recv(64).startswith(b"HTTP/1.0 200 ")
    clients = [
        socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        for _ in range(webui.MAX_CONNECTIONS + 4)
    ]
    try:
        answer = ask_for_a_hold()
        os.kill(addon.process.pid, signal.SIGUSR1)
        addon.process.send_signal(signal.SIGTERM)
        took = addon.wait_for_exit()
    finally:
        for client in clients:
            client.close()
    out = addon.output()
    assert addon.process.returncode == cli.EXIT_OK, out
    assert "Traceback" not in out, out
    assert "Stopped cleanly" in out, out
    check_the_hold(answer, out)
    assert took <= STOP_TIMEOUT, f"took {took:.1f} s to stop: {out}"


@pytest.mark.parametrize("port", ["taken", "x"])
def test_a_web_ui_port_it_cannot_use_stops_the_start_with_one_line(
    app_root: Path, port: str
) -> None:
    write_options(app_root, json.dumps(DEFAULTS))  # as the Supervisor does: no note about it
    with socket.create_server(("0.0.0.0", 0)) as taken:
        value = str(taken.getsockname()[1]) if port == "taken" else port
        result = subprocess.run(
            command(app_root),
            env=environment(app_root) | {webui.PORT_VARIABLE: value},
            capture_output=True,
            text=True,
            check=False,
            timeout=WAIT,
        )
    assert result.returncode == cli.EXIT_FAILED, result.stdout + result.stderr
    assert result.stderr == ""
    [line] = result.stdout.splitlines()
    if port == "taken":
        assert f"Cannot start: the web UI cannot listen on port {value}: Address already" in line
    else:
        assert f"Cannot start: {webui.PORT_VARIABLE} must be a port number" in line
    assert not paths.DATA_VERSION_FILE.exists()  # refused before anything was opened


def hook(app_root: Path, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(app_root, name),
        env=environment(app_root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_backup_hooks_hold_and_release_the_running_addon(app_root: Path) -> None:
    """Two backup-pre at once (a retry while one runs) both hold; backup-post releases."""
    addon = Running(app_root)
    addon.wait_for("Started")
    pre = [hook(app_root, "backup-pre") for _ in range(2)]
    pre_out = [process.communicate(timeout=WAIT)[0] for process in pre]
    addon.wait_for("Backup hold request: held")
    post = hook(app_root, "backup-post").communicate(timeout=WAIT)[0]
    addon.wait_for("Backup release request: released")
    out = addon.stop()
    assert [process.returncode for process in pre] == [cli.EXIT_OK, cli.EXIT_OK], pre_out
    assert all("backup-pre: held" in text for text in pre_out), pre_out
    assert "backup-post: released" in post
    assert addon.process.returncode == cli.EXIT_OK, out
    assert out.count(SAVED) == 2, out
    assert "Stopped during a backup" not in out
    assert not list(paths.BACKUP_REQUESTS_DIR.iterdir())


def test_an_addon_started_during_a_backup_waits_for_backup_post(app_root: Path) -> None:
    """backup-pre ran before the add-on took its lock (the container was starting), so the
    Supervisor archives the files: the add-on must not open them until backup-post."""
    pre = hook(app_root, "backup-pre").communicate(timeout=WAIT)[0]
    assert "backup-pre: the add-on is not running" in pre
    addon = Running(app_root)
    addon.wait_for("A backup of the add-on's files is in progress")
    assert not paths.DATABASE_FILE.exists()
    assert not paths.PID_FILE.exists()
    post = hook(app_root, "backup-post").communicate(timeout=WAIT)[0]
    addon.wait_for("Started")
    out = addon.stop()
    assert addon.process.returncode == cli.EXIT_OK, out
    assert "backup-post: released" in post or "not running" in post, post


def test_a_damaged_database_is_kept_aside_and_the_addon_starts(app_root: Path) -> None:
    paths.DATA_DIR.mkdir(parents=True)
    paths.DATABASE_FILE.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    addon = Running(app_root)
    seen = list(addon.wait_for("Started"))
    out = addon.stop()
    assert addon.process.returncode == cli.EXIT_OK, out
    assert any("is damaged: kept as" in line for line in seen)
    kept = list(paths.DATA_DIR.glob(paths.DATABASE_FILE.name + ".corrupt-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes().startswith(b"SQLite format 3")
    assert paths.DATABASE_FILE.is_file()


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_once(app_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command of the add-on to its end, bounded in time and memory."""
    try:
        return subprocess.run(
            command(app_root, *args),
            env=environment(app_root),
            capture_output=True,
            text=True,
            check=False,
            timeout=WAIT,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired as timeout:
        what = " ".join(args) or "run"
        pytest.fail(f"{what} did not end within {WAIT:.0f} s: {timeout.output!r}")


def stored() -> dict[str, bytes | str]:
    """Every file in /data: a regular file's bytes, else what it is (a link's target; not read).
    The instance lock is not data: it holds the pid of whichever run last took it."""
    found: dict[str, bytes | str] = {}
    for path in sorted(paths.DATA_DIR.rglob("*")):
        if path == paths.INSTANCE_LOCK_FILE:
            continue
        info = path.lstat()
        name = str(path.relative_to(paths.DATA_DIR))
        if stat.S_ISREG(info.st_mode):
            found[name] = path.read_bytes()
        elif stat.S_ISLNK(info.st_mode):
            found[name] = f"link to {path.readlink()}"
        elif not stat.S_ISDIR(info.st_mode):
            found[name] = stat.filemode(info.st_mode)
    return found


def some_data() -> None:
    """Data an earlier start left, which no bad input may change."""
    paths.DATA_DIR.mkdir(parents=True, exist_ok=True)
    paths.DATA_VERSION_FILE.write_text(json.dumps({"version": len(migrations.STEPS)}) + "\n")
    (paths.DATA_DIR / "kept.txt").write_text("saved by the add-on\n")
    for mount in paths.MOUNTS:
        mount.path.mkdir(parents=True, exist_ok=True)


def digits(path: Path) -> None:
    path.write_text('{"min_free_mb": ' + "1" * 5000 + "}")


def nesting(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000)


def dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def fifo(path: Path) -> None:
    os.mkfifo(path)


def array(path: Path) -> None:
    path.write_text('["log_level", "debug"]')


LOCALLY = "(locally: fix or delete it)"
HOSTILE_OPTIONS: dict[str, Callable[[Path], None]] = {
    "5000-digits": digits,
    "100000-deep": nesting,
    "link-to-dev-zero": dev_zero,
    "fifo": fifo,
    "not-an-object": array,
}


@pytest.mark.parametrize("hostile", list(HOSTILE_OPTIONS))
def test_hostile_options_stop_the_addon_with_one_line(app_root: Path, hostile: str) -> None:
    some_data()
    HOSTILE_OPTIONS[hostile](paths.OPTIONS_FILE)
    before = stored()
    result = run_once(app_root)
    assert result.returncode == cli.EXIT_BAD_OPTIONS, result.stdout + result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {paths.OPTIONS_FILE} ")
    assert line.endswith("restart the add-on, the Supervisor then writes it anew " + LOCALLY)
    assert stored() == before


@pytest.mark.parametrize("hostile", list(HOSTILE_OPTIONS))
def test_doctor_reports_hostile_options(app_root: Path, hostile: str) -> None:
    some_data()
    HOSTILE_OPTIONS[hostile](paths.OPTIONS_FILE)
    before = stored()
    result = run_once(app_root, "doctor", "--quick")
    assert result.returncode == cli.EXIT_FAILED, result.stdout + result.stderr
    assert result.stderr == ""
    assert f"FAIL options: {paths.OPTIONS_FILE} " in result.stdout
    if hostile != "not-an-object":  # valid JSON, which is all the JSON files' check asks
        assert f"FAIL {paths.OPTIONS_FILE}: " in result.stdout
    assert result.stdout.rstrip().endswith("problem(s)")
    assert stored() == before


@pytest.mark.parametrize("version", ['"99"', "99.0"])
def test_a_data_version_that_is_not_a_whole_number_stops_the_addon(
    app_root: Path, version: str
) -> None:
    some_data()
    paths.DATA_VERSION_FILE.write_text('{"version": ' + version + "}\n")
    before = stored()
    result = run_once(app_root)
    assert result.returncode == cli.EXIT_FAILED, result.stdout + result.stderr
    assert result.stderr == ""
    assert "Traceback" not in result.stdout
    [error] = [line for line in result.stdout.splitlines() if " ERROR " in line]
    assert f"Cannot start: {paths.DATA_VERSION_FILE} holds the data version {version}," in error
    assert stored() == before
    doctor = run_once(app_root, "doctor", "--quick")
    assert doctor.returncode == cli.EXIT_FAILED, doctor.stdout + doctor.stderr
    assert f"FAIL data version: {paths.DATA_VERSION_FILE} holds the data version" in doctor.stdout
    assert stored() == before


def test_log_to_file_with_a_logs_file_stops_the_addon_with_one_line(app_root: Path) -> None:
    some_data()
    write_options(app_root, json.dumps({"log_to_file": True}))
    paths.LOG_DIR.write_text("not a folder\n")
    before = stored()
    result = run_once(app_root)
    assert result.returncode == cli.EXIT_FAILED, result.stdout + result.stderr
    assert result.stderr == ""
    [line] = result.stdout.splitlines()
    assert f"Cannot start: cannot write the log file: {paths.LOG_DIR} is not a folder" in line
    assert stored() == before

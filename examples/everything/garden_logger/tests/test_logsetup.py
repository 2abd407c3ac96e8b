"""Logging to stdout and, optionally, to a rotated file in /data/logs."""

import errno
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from garden_logger import app, logsetup, paths
from garden_logger.logsetup import LogSetupError
from garden_logger.options import DEFAULTS, Options

LOG = logging.getLogger("garden_logger.test")
# logsetup names the file after the package.
LOG_FILE = "garden_logger.log"


@pytest.fixture(autouse=True)
def console_only() -> Iterator[None]:
    """Leave no file handler behind for the next test."""
    yield
    logsetup.configure("info")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_file_log_is_written_when_asked(tmp_path: Path) -> None:
    logsetup.configure("debug", to_file=True, folder=tmp_path)
    LOG.debug("written to the file")
    flush()
    files = list(tmp_path.glob("*.log"))
    assert len(files) == 1
    assert "written to the file" in files[0].read_text()


def test_level_is_applied_and_no_file_by_default(tmp_path: Path) -> None:
    logsetup.configure("warning", folder=tmp_path)
    assert logging.getLogger().level == logging.WARNING
    assert list(tmp_path.iterdir()) == []


def test_the_log_file_and_folder_are_private_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    old_umask = os.umask(0)
    try:
        logsetup.configure("info", to_file=True, folder=folder)
        LOG.info("first")
        [handler] = [
            h for h in logging.getLogger().handlers if isinstance(h, logsetup.PrivateLogFile)
        ]
        handler.doRollover()  # the new file after a rotation
        LOG.info("second")
        flush()
    finally:
        os.umask(old_umask)
    assert mode(folder) == logsetup.FOLDER_MODE == 0o700
    files = sorted(folder.iterdir())
    assert [file.name for file in files] == [LOG_FILE, f"{LOG_FILE}.1"]
    for file in files:
        assert mode(file) == logsetup.FILE_MODE == 0o600, file


def test_a_log_file_left_readable_by_an_older_version_is_made_private(tmp_path: Path) -> None:
    log_file = tmp_path / LOG_FILE
    log_file.write_text("old lines\n")
    log_file.chmod(0o666)
    logsetup.configure("info", to_file=True, folder=tmp_path)
    LOG.info("new line")
    flush()
    assert mode(log_file) == 0o600
    assert log_file.read_text().startswith("old lines\n")


def test_a_log_folder_that_is_a_file_is_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.write_text("not a folder")
    with pytest.raises(LogSetupError, match="logs is not a folder; move it away or turn") as caught:
        logsetup.configure("info", to_file=True, folder=folder)
    assert "\n" not in str(caught.value)
    assert folder.read_text() == "not a folder"
    assert len(logging.getLogger().handlers) == 1  # stdout still works


def test_a_log_file_that_is_a_symbolic_link_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("kept\n")
    (tmp_path / LOG_FILE).symlink_to(target)
    with pytest.raises(LogSetupError, match="is a symbolic link, not the log file"):
        logsetup.configure("info", to_file=True, folder=tmp_path)
    assert target.read_text() == "kept\n"


def read_only_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make /data a read-only file system for mkdir and os.open, as far as the add-on can tell.

    Simulated, because the tests may run as root, which file modes do not stop.
    """
    real_mkdir, real_open = os.mkdir, os.open

    def refused(path: str | os.PathLike[str]) -> bool:
        return Path(path).is_relative_to(paths.DATA_DIR)

    def mkdir(path: str | os.PathLike[str], mode: int = 0o777) -> None:
        if refused(path) and not os.path.lexists(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        real_mkdir(path, mode)

    def open_(
        path: str | os.PathLike[str], flags: int, mode: int = 0o777, *, dir_fd: int | None = None
    ) -> int:
        if refused(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)


def run_once(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """app.run with log_to_file on; told to stop at once, should it start after all."""
    signals = app.Signals()
    signals.stop = True
    # min_free_mb 0: app.run sets the reserve for the whole process, and other tests expect none.
    values = DEFAULTS | {"log_to_file": True, "min_free_mb": 0}
    status = app.run(Options.from_values(values), signals)
    return status, capsys.readouterr().out


@pytest.mark.parametrize("logs_exist", [False, True], ids=["no-logs-folder", "logs-folder"])
def test_a_read_only_data_folder_stops_the_addon_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], logs_exist: bool
) -> None:
    paths.DATA_DIR.mkdir(parents=True)
    paths.DATA_VERSION_FILE.write_text('{"version": 1}\n')
    if logs_exist:
        paths.LOG_DIR.mkdir()
    read_only_data(monkeypatch)
    status, out = run_once(capsys)
    assert status == 1
    [line] = out.splitlines()
    assert "ERROR" in line
    assert "Cannot start: cannot " in line
    assert "log_to_file off" in line
    assert "Read-only file system" in line
    assert paths.DATA_VERSION_FILE.read_text() == '{"version": 1}\n'


def test_a_logs_file_in_data_stops_the_addon_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths.DATA_DIR.mkdir(parents=True)
    paths.LOG_DIR.write_text("kept\n")
    status, out = run_once(capsys)
    assert status == 1
    [line] = out.splitlines()
    assert f"Cannot start: cannot write the log file: {paths.LOG_DIR} is not a folder" in line
    assert paths.LOG_DIR.read_text() == "kept\n"

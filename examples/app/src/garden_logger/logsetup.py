"""Logging: to stdout (which Home Assistant shows in the add-on's Log tab) at the log_level option,
and optionally to a size-rotated file in /data/logs, which is never backed up.

The log file can hold anything the add-on reports, so it is private: FILE_MODE whatever the
umask, also each new file after a rotation, and never opened through a symbolic link or into a
FIFO. A log file that cannot be opened (a read-only /data, /data/logs that is a file) is one
LogSetupError line; stdout is set up first, so that line still reaches the Log tab.
"""

import logging
import os
import stat
import sys
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from . import paths
from .errors import AddonError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FILE_BYTES = 1024 * 1024
FILE_COUNT = 3
FILE_MODE = 0o600
FOLDER_MODE = 0o700  # only when this module creates the folder
_OFF = "or turn the option log_to_file off"


class LogSetupError(AddonError):
    """The log file cannot be written; the message says where, why and what to do."""


class PrivateLogFile(RotatingFileHandler):
    """A rotated log file that is a regular file with FILE_MODE, after every rotation too."""

    def _open(self) -> TextIOWrapper:
        # FileHandler opens the file in _open, at construction and after each rotation.
        path = self.baseFilename
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
        descriptor = os.open(path, flags | os.O_CLOEXEC, FILE_MODE)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise LogSetupError(f"{path} is not a regular file; move it away {_OFF}")
            if stat.S_IMODE(status.st_mode) != FILE_MODE:
                os.fchmod(descriptor, FILE_MODE)  # a file made by an older version
            os.set_blocking(descriptor, True)
            return os.fdopen(descriptor, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(descriptor)
            raise


def configure(level: str = "info", *, to_file: bool = False, folder: Path | None = None) -> None:
    """Set the log level and handlers of the whole process (call again to change them).

    Raises LogSetupError when to_file is set and the log file cannot be opened; logging to
    stdout is in place by then.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level.upper())
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    if to_file:
        log_file = open_log_file(folder or paths.LOG_DIR)
        log_file.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(log_file)


def open_log_file(folder: Path) -> PrivateLogFile:
    """The handler of the log file in folder, which is created if needed."""
    path = folder / f"{__package__}.log"
    try:
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        msg = f"cannot write the log file: {folder} is not a folder; move it away {_OFF}"
        raise LogSetupError(msg) from None
    except OSError as error:
        msg = f"cannot create {folder} for the log file ({error.strerror}); fix that {_OFF}"
        raise LogSetupError(msg) from None
    try:
        return PrivateLogFile(path, maxBytes=FILE_BYTES, backupCount=FILE_COUNT, encoding="utf-8")
    except OSError as error:
        if path.is_symlink():
            msg = f"{path} is a symbolic link, not the log file; move it away {_OFF}"
        else:
            msg = f"cannot write the log file {path} ({error.strerror}); fix that {_OFF}"
        raise LogSetupError(msg) from None

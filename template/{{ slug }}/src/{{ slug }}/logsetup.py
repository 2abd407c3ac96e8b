"""Logging: to stdout (which Home Assistant shows in the add-on's Log tab) at the log_level option,
and optionally to a size-rotated file in /data/logs, which is never backed up."""

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from . import paths

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FILE_BYTES = 1024 * 1024
FILE_COUNT = 3


def configure(level: str = "info", *, to_file: bool = False, folder: Path | None = None) -> None:
    """Set the log level and handlers of the whole process (call again to change them)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level.upper())
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    if to_file:
        folder = folder or paths.LOG_DIR
        folder.mkdir(parents=True, exist_ok=True)
        log_file = RotatingFileHandler(
            folder / f"{__package__}.log", maxBytes=FILE_BYTES, backupCount=FILE_COUNT
        )
        log_file.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(log_file)

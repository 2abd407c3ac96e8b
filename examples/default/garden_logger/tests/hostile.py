"""Damaged and hostile data files, as a disk fault, a hand edit or another process leaves them.

Each maker puts one kind in place of a JSON file. what_is() describes an entry without reading
through it (a link's target, a FIFO), so a test can check that a file set aside is the very one
that was there. bounded() runs a call that could block (a FIFO read by path waits for a writer)
and fails the test instead of hanging it.
"""

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")
WAIT = 60.0  # seconds: the bound on a call that could block, so that a hang fails


def _text(text: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return make


def _link_to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")  # read by path: an endless stream of NUL bytes


HOSTILE: dict[str, Callable[[Path], None]] = {
    "torn": _text('{"a": 1, "b'),
    "not-an-object": _text("[1, 2]"),
    "5000-digits": _text('{"starts": ' + "7" * 5000 + "}"),
    "100000-deep": _text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    "link-to-dev-zero": _link_to_dev_zero,
    "fifo": os.mkfifo,
    "folder": Path.mkdir,
}


def what_is(path: Path) -> bytes | str:
    """A regular file's bytes, else what the entry is (a link with its target), unread."""
    info = path.lstat()
    if stat.S_ISREG(info.st_mode):
        return path.read_bytes()
    if stat.S_ISLNK(info.st_mode):
        return f"link to {path.readlink()}"
    return stat.filemode(info.st_mode)  # a folder ("d..."), a FIFO ("p...")


def bounded(call: Callable[[], T]) -> T:
    """call(), run in a thread: its result, or its exception; the test fails if it blocks."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:
            failure.append(error)

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    caller.join(WAIT)
    if caller.is_alive():
        pytest.fail(f"the call blocked for {WAIT:.0f} s")
    if failure:
        raise failure[0]
    return outcome[0]

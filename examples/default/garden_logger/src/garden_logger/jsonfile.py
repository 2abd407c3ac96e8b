"""Bounded reading of JSON files: one line for whatever a damaged or hostile file holds.

A JSON file in /data can be damaged, edited by hand or replaced on purpose: a symbolic link to
/dev/zero (read until memory runs out), a FIFO (open waits for a writer for ever), a number with
thousands of digits (Python's int conversion refuses it with ValueError), arrays nested 100 000
deep (RecursionError). load() turns each into a JsonFileError that names the file and the
problem, and never blocks: it opens the file without following a symbolic link and without
waiting for a FIFO's writer, reads only a regular file, and at most `limit` bytes of it.
Callers add what to do, which depends on the file, and decide what a missing file means
(FileNotFoundError passes through). For the add-on's own stores (settings, state), which start
afresh rather than not at all, load_or_set_aside() does it: a file that cannot be used is set
aside, never deleted, and reported once. encode_object() is the other half: the stores never write
a file that load_object() would refuse at the next start.
"""

import errno
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from .atomicfile import set_aside
from .errors import AddonError

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
# The default bound on a file's size. The add-on's JSON files are small documents: options.json
# holds what a user types in the Configuration tab, typically well under 1 KiB. What a file may
# cost is what matters: json.loads turns 1 MiB of `[],[],...` into some 50 MB of objects in a
# fraction of a second, 32 MiB into 1.6 GB in 13 s (measured on the development machine). The
# Supervisor's API would accept options of up to 16 MiB (MAX_CLIENT_SIZE in
# supervisor/api/__init__.py, home-assistant/supervisor at 090ef31e), but no real add-on's
# options come near 1 MiB. Callers pass a larger limit for a file that needs one.
LIMIT = MiB
# Far deeper than any of the add-on's files needs, and far below the depth at which json.loads,
# repr, copy.deepcopy or json.dumps raise RecursionError on any supported Python: json.loads fails
# somewhere between 1 000 levels (3.11) and 100 000 (3.13), and accepts some depths on one
# version that it refuses on another; this bound is the same everywhere.
MAX_DEPTH = 100
# Python's own default for int("...") (sys.int_info.default_max_str_digits), held fixed here so
# that PYTHONINTMAXSTRDIGITS cannot change which files are readable.
MAX_DIGITS = 4300
_CHUNK = MiB

JsonValue = Any  # whatever json.loads returns


class JsonFileError(AddonError):
    """A JSON file that cannot be used; the message is "<path> <problem>", one line."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path} {problem}")
        self.path = path
        self.problem = problem


class _TooManyDigitsError(Exception):
    """A whole number longer than MAX_DIGITS (raised inside json.loads, caught in load)."""


def load(path: Path, limit: int = LIMIT) -> JsonValue:
    """The JSON value in path; JsonFileError when it cannot be read or used."""
    try:
        text = read_bytes(path, limit).decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonFileError(path, f"is not UTF-8 text (byte {error.start})") from None
    try:
        value = json.loads(text, parse_int=_whole_number)
    except json.JSONDecodeError as error:
        problem = f"is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        raise JsonFileError(path, problem) from None
    except _TooManyDigitsError:
        problem = f"is not usable JSON: it holds a number of more than {MAX_DIGITS} digits"
        raise JsonFileError(path, problem) from None
    except RecursionError:
        problem = f"is not usable JSON: it is nested more than {MAX_DEPTH} levels deep"
        raise JsonFileError(path, problem) from None
    except ValueError as error:  # a lower int limit set with PYTHONINTMAXSTRDIGITS
        raise JsonFileError(path, f"is not usable JSON ({error})") from None
    if _depth_exceeds(value, MAX_DEPTH):
        problem = f"is not usable JSON: it is nested more than {MAX_DEPTH} levels deep"
        raise JsonFileError(path, problem)
    return value


def load_object(path: Path, limit: int = LIMIT) -> dict[str, JsonValue]:
    """The JSON object in path; JsonFileError when it cannot be read or is not an object."""
    value = load(path, limit)
    if not isinstance(value, dict):
        raise JsonFileError(path, f"must hold a JSON object, not {_json_kind(value)}")
    return value


def load_or_set_aside(
    path: Path, consequence: str, limit: int = LIMIT
) -> dict[str, JsonValue] | None:
    """The JSON object in path; None when there is no file, or when it cannot be used.

    A file that cannot be used is renamed to <name>.corrupt-<time> (atomicfile.set_aside: never
    deleted, never over an earlier one) and reported with one ERROR line that names it, the
    problem, where it was kept and the consequence (what the caller does instead). Raises
    StorageError, an OSError, when it cannot be set aside (a read-only /data).
    """
    try:
        return load_object(path, limit)
    except FileNotFoundError:
        return None
    except JsonFileError as error:
        aside = set_aside(path, "corrupt")
        LOG.error("%s: kept as %s; %s", error, aside, consequence)
        return None


def encode_object(path: Path, value: dict[str, JsonValue], limit: int = LIMIT) -> str:
    """value as the JSON text of path; JsonFileError if load_object would refuse to read it back.

    A store that wrote more than limit bytes, or deeper nesting than MAX_DEPTH, would have its
    own file set aside at the next start; refusing the write keeps the file as it was instead.
    """
    if _depth_exceeds(value, MAX_DEPTH):
        problem = f"cannot be saved: it would be nested more than {MAX_DEPTH} levels deep"
        raise JsonFileError(path, problem)
    try:
        text = json.dumps(value, indent=2, sort_keys=True) + "\n"
    except ValueError as error:  # a whole number of more than 4300 digits (Python's own limit)
        raise JsonFileError(path, f"cannot be saved ({error})") from None
    if len(text.encode("utf-8")) > limit:
        problem = f"cannot be saved: it would be larger than {_size(limit)}, the most it may hold"
        raise JsonFileError(path, problem)
    return text


def read_bytes(path: Path, limit: int) -> bytes:
    """Up to limit bytes of the regular file at path, without blocking or following a link."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP and path.is_symlink():
            problem = "cannot be read: it is a symbolic link, not a regular file"
            raise JsonFileError(path, problem) from None
        raise JsonFileError(path, f"cannot be read: {error.strerror}") from None
    remaining = limit + 1  # one byte more tells a file that grew past the limit
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            kind = _file_kind(status.st_mode)
            raise JsonFileError(path, f"cannot be read: it is {kind}, not a regular file")
        if status.st_size > limit:
            raise JsonFileError(path, f"cannot be read: it is larger than {_size(limit)}")
        chunks: list[bytes] = []
        while remaining > 0 and (chunk := os.read(descriptor, min(remaining, _CHUNK))):
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as error:
        raise JsonFileError(path, f"cannot be read: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if remaining <= 0:
        raise JsonFileError(path, f"cannot be read: it is larger than {_size(limit)}")
    return b"".join(chunks)


def _whole_number(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _TooManyDigitsError
    return int(digits)


def _depth_exceeds(value: JsonValue, limit: int) -> bool:
    """Whether value nests arrays and objects more than limit levels deep (without recursion)."""
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _json_kind(value: JsonValue) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit} bytes"

"""Bounded JSON reading: every damaged or hostile file is one JsonFileError line, never a hang."""

import os
import threading
from pathlib import Path

import pytest

from garden_logger import jsonfile
from garden_logger.jsonfile import (
    JsonFileError,
    encode_object,
    load,
    load_object,
)

WAIT = 60.0  # seconds: the bound on a call that could block, so that a hang fails


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, message: str, *, limit: int = jsonfile.LIMIT) -> JsonFileError:
    with pytest.raises(JsonFileError, match=message) as caught:
        load_object(path, limit)
    assert str(caught.value).startswith(f"{path} ")
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 300
    return caught.value


def test_an_object_is_loaded(tmp_path: Path) -> None:
    assert load_object(write(tmp_path / "a.json", '{"a": [1, 2.5, "x", null]}')) == {
        "a": [1, 2.5, "x", None]
    }


def test_a_missing_file_is_left_to_the_caller(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.json")


@pytest.mark.parametrize("sign", ["", "-"])
def test_a_number_of_5000_digits_is_refused(tmp_path: Path, sign: str) -> None:
    text = '{"a": ' + sign + "7" * 5000 + "}"
    refused(write(tmp_path / "a.json", text), "more than 4300 digits")


def test_a_number_of_4300_digits_is_read(tmp_path: Path) -> None:
    assert load(write(tmp_path / "a.json", "9" * jsonfile.MAX_DIGITS)) == int("9" * 4300)


@pytest.mark.parametrize("depth", [jsonfile.MAX_DEPTH + 1, 2000, 100_000])
@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a": ', "}")])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int, opening: str, closing: str) -> None:
    text = '{"a": ' + opening * (depth - 1) + "1" + closing * (depth - 1) + "}"
    refused(write(tmp_path / "a.json", text), "nested more than 100 levels deep")


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    depth = jsonfile.MAX_DEPTH
    text = '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    assert "a" in load_object(write(tmp_path / "a.json", text))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("[]", "an array"),
        ('"x"', "a string"),
        ("5", "a number"),
        ("true", "true or false"),
        ("null", "null"),
    ],
)
def test_a_value_that_is_not_an_object_is_refused(tmp_path: Path, text: str, kind: str) -> None:
    refused(write(tmp_path / "a.json", text), f"must hold a JSON object, not {kind}")


def test_invalid_json_names_the_place(tmp_path: Path) -> None:
    refused(write(tmp_path / "a.json", '{"a": \n'), r"is not valid JSON \(.* at line 2, column 1\)")


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b'{"a": "\xff"}')
    refused(path, "is not UTF-8 text")


def test_a_symbolic_link_is_not_followed(tmp_path: Path) -> None:
    target = write(tmp_path / "target.json", "{}")
    link = tmp_path / "a.json"
    link.symlink_to(target)
    refused(link, "cannot be read: it is a symbolic link, not a regular file")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.json").mkdir()
    refused(tmp_path / "a.json", "cannot be read: it is a folder, not a regular file")


def test_a_device_is_refused_without_reading_it() -> None:
    refused(Path("/dev/null"), "cannot be read: it is a device, not a regular file")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "a.json"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            load_object(fifo)
        except BaseException as error:
            outcome.append(error)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(WAIT)
    if caller.is_alive():
        # Release the blocked open so that the thread ends, then fail.
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"load_object blocked on a FIFO for {WAIT:.0f} s")
    assert len(outcome) == 1
    assert isinstance(outcome[0], JsonFileError)
    assert "it is a FIFO (named pipe), not a regular file" in str(outcome[0])


def test_a_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    with path.open("wb") as sparse:
        sparse.truncate(jsonfile.LIMIT + 1)  # no data written: refused on its size alone
    refused(path, "cannot be read: it is larger than 1 MiB")
    refused(write(tmp_path / "b.json", '{"a": 1}'), "larger than 7 bytes", limit=7)


def test_a_file_at_the_limit_is_read(tmp_path: Path) -> None:
    assert load_object(write(tmp_path / "a.json", '{"a": 1}'), limit=8) == {"a": 1}


def test_the_problem_is_available_without_the_path(tmp_path: Path) -> None:
    error = refused(write(tmp_path / "a.json", "[]"), "not an array")
    assert error.path == tmp_path / "a.json"
    assert error.problem == "must hold a JSON object, not an array"


def test_what_encode_object_accepts_load_object_reads_back(tmp_path: Path) -> None:
    deepest: object = 1
    for _ in range(jsonfile.MAX_DEPTH - 1):  # the object itself is the first level
        deepest = [deepest]
    value = {"deep": deepest, "big": int("9" * jsonfile.MAX_DIGITS), "text": "é"}
    path = tmp_path / "a.json"
    text = encode_object(path, value)
    assert load_object(write(path, text)) == value
    with pytest.raises(JsonFileError, match="nested more than 100 levels deep"):
        encode_object(path, {"deep": [deepest]})
    with pytest.raises(JsonFileError, match="larger than 1 MiB"):
        encode_object(path, {"text": "x" * jsonfile.LIMIT})

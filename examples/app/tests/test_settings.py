"""The settings store: persistent, atomic, and a damaged file never stops the add-on."""

import json
import logging
import os
from pathlib import Path

import pytest

import hostile
from garden_logger import jsonfile
from garden_logger.atomicfile import StorageError
from garden_logger.jsonfile import JsonFileError
from garden_logger.settings import Settings


def test_defaults_then_saved_values_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = Settings(path, defaults={"volume": 5, "name": "x"})
    assert settings.get("volume") == 5
    settings.set("volume", 7)
    settings.update({"name": "y", "tags": ["a"]})
    again = Settings(path, defaults={"volume": 5, "new": True})
    assert again.as_dict() == {"volume": 7, "name": "y", "tags": ["a"], "new": True}
    assert json.loads(path.read_text())["volume"] == 7


@pytest.mark.parametrize("kind", list(hostile.HOSTILE))
def test_a_damaged_file_is_kept_aside_with_one_error_and_defaults_are_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    path = tmp_path / "settings.json"
    hostile.HOSTILE[kind](path)
    before = hostile.what_is(path)
    settings = hostile.bounded(lambda: Settings(path, defaults={"volume": 5}))
    assert settings.as_dict() == {"volume": 5}
    [kept] = tmp_path.glob("settings.json.corrupt-*")
    assert hostile.what_is(kept) == before  # the very file, unchanged
    [error] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    message = error.getMessage()
    assert f"{path} " in message
    assert f"kept as {kept}; the add-on starts with default settings" in message
    assert "\n" not in message
    assert error.exc_info is None
    settings.set("volume", 6)  # the add-on carries on: a new file beside the one kept
    assert json.loads(path.read_text()) == {"volume": 6}
    assert hostile.what_is(kept) == before


def test_a_value_of_the_wrong_type_falls_back_to_its_default_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"starts": "x", "ratio": 2, "flag": 1, "name": "kept"}')
    settings = Settings(path, defaults={"starts": 0})
    assert settings.get_typed("starts", 0) == 0
    assert settings.get_typed("starts", 0) == 0
    assert settings.get_typed("ratio", 0.5) == 2  # a whole number is a number
    assert settings.get_typed("flag", False) is False  # 1 is not true or false
    assert settings.get_typed("name", "") == "kept"
    assert settings.get_typed("missing", [1]) == [1]
    warnings = [record.getMessage() for record in caplog.records]
    assert warnings == [
        f'{path}: the setting "starts" holds "x", not a whole number; using 0 instead',
        f'{path}: the setting "flag" holds 1, not true or false; using false instead',
    ]
    assert not list(tmp_path.glob("*.corrupt-*"))  # a valid file: nothing set aside
    settings.set("starts", settings.get_typed("starts", 0) + 1)
    assert json.loads(path.read_text()) == {"starts": 1, "ratio": 2, "flag": 1, "name": "kept"}


def test_a_long_wrong_value_is_shortened_in_the_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"starts": "9" * 100_000}))
    assert Settings(path).get_typed("starts", 0) == 0
    assert len(caplog.records[0].getMessage()) < 300


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("x" * jsonfile.LIMIT, "larger than 1 MiB"),
        (nested(jsonfile.MAX_DEPTH), "nested more than 100 levels deep"),
    ],
    ids=["1-MiB", "too-deep"],
)
def test_a_change_the_next_start_could_not_read_is_refused(
    tmp_path: Path, value: object, problem: str
) -> None:
    path = tmp_path / "settings.json"
    settings = Settings(path)
    settings.set("a", 1)
    with pytest.raises(JsonFileError, match=f"{path} cannot be saved: it would be .*{problem}"):
        settings.set("b", value)
    assert settings.as_dict() == {"a": 1}
    assert Settings(path).as_dict() == {"a": 1}


def test_values_are_copies(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "s.json", defaults={"tags": ["a"]})
    settings.get("tags").append("b")
    assert settings.get("tags") == ["a"]


def test_failed_write_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    settings = Settings(path)
    settings.set("a", 1)

    def broken_fsync(_descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StorageError, match="No space left on device"):
        settings.set("a", 2)
    monkeypatch.undo()
    assert settings.get("a") == 1
    assert json.loads(path.read_text()) == {"a": 1}

"""Loading /data/options.json: defaults, validation and one-line errors."""

import json
from pathlib import Path

import pytest

from garden_logger import jsonfile, options, paths
from garden_logger.options import (
    OptionsError,
    check_element,
    load_options,
)

SOURCE = Path("options.json")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_locally_gives_the_defaults() -> None:
    loaded = load_options()
    for key, value in options.DEFAULTS.items():
        assert getattr(loaded, key) == value


def test_missing_file_under_the_supervisor_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ROOT_VARIABLE)
    with pytest.raises(OptionsError, match="is missing: the Supervisor writes it"):
        load_options(Path("/nonexistent/options.json"))


def test_full_file_is_loaded() -> None:
    write(paths.OPTIONS_FILE, json.dumps(options.DEFAULTS | {"log_level": "debug"}))
    assert load_options().log_level == "debug"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not valid JSON"),
        ("{", "is not valid JSON"),
        ('{"log_level": "info"', "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object, not an array"),
        ('"info"', "must hold a JSON object, not a string"),
        ('{"log_level": 5}', "option 'log_level' .* expected text, got 5"),
        ('{"log_level": "loud"}', "option 'log_level' .* expected one of debug, info"),
    ],
)
def test_bad_file_is_one_clear_error(text: str, message: str) -> None:
    write(paths.OPTIONS_FILE, text)
    with pytest.raises(OptionsError, match=message) as caught:
        load_options()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"min_free_mb": ' + "1" * 5000 + "}", "holds a number of more than 4300 digits"),
        ("[" * 100_000 + "]" * 100_000, "nested more than 100 levels deep"),
    ],
    ids=["5000-digits", "100000-deep"],
)
def test_hostile_file_is_one_clear_error(text: str, message: str) -> None:
    write(paths.OPTIONS_FILE, text)
    with pytest.raises(OptionsError, match=message) as caught:
        load_options()
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 300


def test_unreadable_file_is_an_error() -> None:
    paths.OPTIONS_FILE.mkdir(parents=True)
    with pytest.raises(OptionsError, match="cannot be read: it is a folder") as caught:
        load_options()
    assert str(caught.value).endswith("(locally: fix or delete it)")


def test_a_symbolic_link_is_refused() -> None:
    # The Supervisor writes a regular file; a link there was put by someone else.
    write(paths.DATA_DIR / "elsewhere.json", json.dumps(options.DEFAULTS))
    paths.OPTIONS_FILE.symlink_to(paths.DATA_DIR / "elsewhere.json")
    with pytest.raises(OptionsError, match="it is a symbolic link, not a regular file"):
        load_options()


def test_binary_file_is_an_error() -> None:
    paths.OPTIONS_FILE.parent.mkdir(parents=True)
    paths.OPTIONS_FILE.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(OptionsError):
        load_options()


def test_unknown_option_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    write(paths.OPTIONS_FILE, json.dumps(options.DEFAULTS | {"surprise": 1}))
    load_options()
    assert "Ignoring unknown option 'surprise'" in caplog.text


def test_missing_or_null_option_falls_back_to_its_default() -> None:
    write(paths.OPTIONS_FILE, json.dumps({"log_level": None}))
    assert load_options().log_level == options.DEFAULTS["log_level"]


def test_huge_bad_value_is_shortened_in_the_message() -> None:
    write(paths.OPTIONS_FILE, json.dumps({"log_level": "x" * 1_000_000}))
    with pytest.raises(OptionsError) as caught:
        load_options()
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("bool", True),
        ("int", -3),
        ("int(1,10)", 10),
        ("float(0.5,)", 0.5),
        ("float", 2),
        ("port", 8080),
        ("str", ""),
        ("str(2,3)", "abc"),
        ("password(4,)", "secret"),
        ("list(a|b)", "b"),
        ("match(^[a-z]+$)", "abc"),
        ("email", "ada@example.com"),
        ("url", "https://example.com"),
        ("int?", 1),
    ],
)
def test_element_accepts(element: str, value: object) -> None:
    assert check_element("x", element, value, SOURCE) == value


@pytest.mark.parametrize(
    ("element", "value", "message"),
    [
        ("bool", "true", "true or false"),
        ("int", True, "a whole number"),
        ("int", 1.5, "a whole number"),
        ("int(1,10)", 11, "from 1 to 10"),
        ("int(,0)", 1, "from any to 0"),
        ("float", "1", "a number"),
        ("float", float("nan"), "a finite number"),
        ("port", 0, "from 1 to 65535"),
        ("str", 5, "text"),
        ("str(2,3)", "abcd", "2 to 3 characters"),
        ("list(a|b)", "c", "one of a, b"),
        ("match(^[a-z]+$)", "ABC", "text matching"),
        ("email", "nobody", "an email address"),
        ("url", "example.com", "a URL"),
        ("nonsense(", "x", "unknown schema element"),
    ],
)
def test_element_rejects(element: str, value: object, message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        check_element("x", element, value, SOURCE)


def test_a_large_options_file() -> None:
    padding = "x" * (jsonfile.LIMIT - 1000)
    write(paths.OPTIONS_FILE, json.dumps(options.DEFAULTS | {"padding": padding}))
    assert load_options().log_level == options.DEFAULTS["log_level"]
    write(paths.OPTIONS_FILE, "{" + padding)
    with pytest.raises(OptionsError, match="is not valid JSON") as caught:
        load_options()
    assert len(str(caught.value)) < 300


def test_a_ten_megabyte_options_file_is_refused_unparsed() -> None:
    write(paths.OPTIONS_FILE, json.dumps(options.DEFAULTS | {"padding": "x" * 10_000_000}))
    with pytest.raises(OptionsError, match="cannot be read: it is larger than 1 MiB") as caught:
        load_options()
    assert len(str(caught.value)) < 300

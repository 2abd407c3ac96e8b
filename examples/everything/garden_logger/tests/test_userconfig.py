"""The user's settings file in /config."""

import logging
import os
from pathlib import Path

import pytest

from garden_logger import paths, userconfig
from garden_logger.userconfig import (
    EXAMPLE,
    FILE_NAME,
    UserConfigError,
    ensure_user_config,
    load_user_config,
)


def test_created_from_the_example_once_and_never_overwritten(tmp_path: Path) -> None:
    path = ensure_user_config(tmp_path)
    assert path.read_text() == EXAMPLE
    path.write_text('greeting = "mine"\n')
    ensure_user_config(tmp_path)
    assert load_user_config(tmp_path) == {"greeting": "mine"}


def test_the_example_is_readable_by_the_editing_addons_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        path = ensure_user_config(tmp_path)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644


def test_missing_file_means_no_settings(tmp_path: Path) -> None:
    assert load_user_config(tmp_path) == {}


def test_invalid_toml_says_how_to_recover(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("greeting = \n")
    with pytest.raises(UserConfigError, match=r"is not valid TOML .*delete it to start over"):
        load_user_config(tmp_path)


def test_start_up_writes_the_example_and_logs_the_users_settings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    paths.ADDON_CONFIG_DIR.mkdir(parents=True, exist_ok=True)
    with caplog.at_level(logging.INFO):
        userconfig.prepare()
    assert (paths.ADDON_CONFIG_DIR / FILE_NAME).read_text() == EXAMPLE
    assert "User settings: {}" in caplog.messages

"""The paths module: container paths, re-rooted by HA_APP_ROOT."""

import os
from pathlib import Path

import pytest

from garden_logger import app, paths
from garden_logger.options import DEFAULTS, Options


def test_container_path_is_unchanged_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ROOT_VARIABLE)
    assert paths.container_path("/data") == Path("/data")
    assert not paths.is_local()


def test_container_path_is_rerooted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(paths.ROOT_VARIABLE, str(tmp_path))
    assert paths.container_path("/data/options.json") == tmp_path / "data" / "options.json"
    assert paths.is_local()


def test_constants_live_under_the_test_root(app_root: Path) -> None:
    assert app_root / "data" == paths.DATA_DIR
    assert app_root / "data" / "options.json" == paths.OPTIONS_FILE
    assert app_root / "config" == paths.ADDON_CONFIG_DIR
    assert app_root / "share" == paths.SHARE_DIR


def test_mounts_list_data_first_then_config_yaml_map() -> None:
    data = paths.MOUNTS[0]
    assert (data.map_type, data.writable, data.in_backup) == ("data", True, True)
    assert len({mount.path for mount in paths.MOUNTS}) == len(paths.MOUNTS)


def test_private_folders_are_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = tmp_path / "made-by-an-older-version"
    old.mkdir()
    old.chmod(0o777)
    previous = os.umask(0)
    try:
        made = paths.make_private_folder(tmp_path / "new" / "deeper")
        paths.make_private_folder(old)
    finally:
        os.umask(previous)
    assert made == tmp_path / "new" / "deeper"
    assert made.stat().st_mode & 0o777 == 0o700
    assert old.stat().st_mode & 0o777 == 0o700


def test_every_folder_of_the_addon_is_private_after_start_whatever_the_umask() -> None:
    """umask 000 once made cache/, tmp/, logs/ and the run folder 0777."""
    paths.DATA_DIR.mkdir(parents=True)
    previous = os.umask(0)
    try:
        stores = app.start(Options.from_values(DEFAULTS))
        stores.close()
    finally:
        os.umask(previous)
    folders = [paths.RUN_DIR, *paths.DATA_FOLDERS]
    modes = {str(folder): folder.stat().st_mode & 0o777 for folder in folders}
    assert modes == dict.fromkeys(modes, 0o700)

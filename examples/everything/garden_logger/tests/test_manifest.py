"""config.yaml, translations and the Python code must agree; edit them together."""

import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from garden_logger import options, paths

ADDON = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8"))
    return loaded


def test_options_and_schema_match_options_py(config: dict[str, Any]) -> None:
    assert config["options"] == options.DEFAULTS
    assert config["schema"] == options.SCHEMA


def test_every_option_has_a_translation(config: dict[str, Any]) -> None:
    text = (ADDON / "translations" / "en.yaml").read_text(encoding="utf-8")
    translations = yaml.safe_load(text)["configuration"]
    assert set(translations) == set(config["schema"])
    assert all(entry.get("name") for entry in translations.values())


def test_every_option_is_documented(config: dict[str, Any]) -> None:
    """DOCS.md's Configuration table has one row per option, in config.yaml's order."""
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    section = docs.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE)
    assert documented == list(config["schema"])


def test_map_matches_the_paths_module(config: dict[str, Any]) -> None:
    mapped = {entry["type"]: not entry.get("read_only", True) for entry in config.get("map", [])}
    in_code = {mount.map_type: mount.writable for mount in paths.MOUNTS if mount.map_type != "data"}
    assert mapped == in_code


def test_backup_excludes_the_volatile_folders(config: dict[str, Any]) -> None:
    # The Supervisor matches each pattern with PurePath.match against its own full path.
    supervisor_root = PurePosixPath("/data/apps/data", f"local_{config['slug']}")
    patterns = config["backup_exclude"]
    for folder in paths.DATA_FOLDERS:
        inside = supervisor_root / folder.relative_to(paths.DATA_DIR)
        assert any(inside.match(p) for p in patterns), folder
    kept = supervisor_root / paths.DATA_VERSION_FILE.relative_to(paths.DATA_DIR)
    assert not any(kept.match(p) for p in patterns)
    lock = supervisor_root / paths.INSTANCE_LOCK_FILE.relative_to(paths.DATA_DIR)
    assert any(lock.match(p) for p in patterns)  # only the running add-on's pid


def test_backup_holds_the_database_and_its_log_but_not_its_index(config: dict[str, Any]) -> None:
    """The database file and its WAL are what SQLite opens after a crash; the -shm index it
    rebuilds from them."""
    supervisor_root = PurePosixPath("/data/apps/data", f"local_{config['slug']}")
    live = supervisor_root / paths.DATABASE_FILE.relative_to(paths.DATA_DIR)
    patterns = config["backup_exclude"]
    for suffix, excluded in (("", False), ("-wal", False), ("-journal", False), ("-shm", True)):
        path = live.with_name(live.name + suffix)
        assert any(path.match(p) for p in patterns) == excluded, path


def test_backup_excludes_what_interrupted_writes_left(
    config: dict[str, Any], tmp_path: Path, make_left_over: Callable[[Path, str], Path]
) -> None:
    """A crash can leave a write's temporary file in any folder the add-on writes; the next start
    removes it, but a backup of the stopped add-on must not hold it meanwhile. A file of the
    user's whose name merely starts the same way is backed up."""
    supervisor_root = PurePosixPath("/data/apps/data", f"local_{config['slug']}")
    patterns = config["backup_exclude"]
    for folder in ("", "exports", "cache/a"):
        left = make_left_over(tmp_path / folder, "settings.json")
        inside = supervisor_root / folder / left.name
        assert any(inside.match(p) for p in patterns), inside
    user_files = (f"/addon_configs/local_{config['slug']}/.tmp-notes.txt", "/data/x/.tmp-a.json.1")
    for user_file in user_files:
        assert not any(PurePosixPath(user_file).match(p) for p in patterns), user_file


def test_backup_hooks_hold_the_database(config: dict[str, Any]) -> None:
    package = paths.__package__  # the add-on's package, which the image runs
    assert config["backup_pre"].split() == ["python3", "-m", package, "backup-pre"]
    assert config["backup_post"].split() == ["python3", "-m", package, "backup-post"]

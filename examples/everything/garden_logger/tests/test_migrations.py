"""Data migrations: integer steps, recorded after each one, safe to repeat after a crash."""

import json
from pathlib import Path

import pytest

import hostile
from garden_logger import migrations, paths
from garden_logger.migrations import (
    MigrationError,
    data_version,
    migrate,
)


def test_fresh_data_reaches_the_latest_version(tmp_path: Path) -> None:
    version_file = tmp_path / "data-version.json"
    assert migrate(tmp_path, version_file=version_file) == len(migrations.STEPS)
    assert json.loads(version_file.read_text()) == {"version": len(migrations.STEPS)}
    for folder in paths.DATA_FOLDERS:
        assert (tmp_path / folder.name).is_dir()


def test_every_step_is_idempotent(tmp_path: Path) -> None:
    for step in migrations.STEPS:
        step(tmp_path)
        step(tmp_path)


def test_interrupted_migration_resumes_at_the_failed_step(tmp_path: Path) -> None:
    version_file = tmp_path / "v.json"
    calls: list[str] = []

    def first(_data: Path) -> None:
        calls.append("first")

    def crashing(_data: Path) -> None:
        calls.append("second")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        migrate(tmp_path, steps=(first, crashing), version_file=version_file)
    assert data_version(version_file) == 1

    def second(_data: Path) -> None:
        calls.append("second again")

    assert migrate(tmp_path, steps=(first, second), version_file=version_file) == 2
    assert calls == ["first", "second", "second again"]


def test_versions_compare_as_numbers_not_text(tmp_path: Path) -> None:
    version_file = tmp_path / "v.json"
    version_file.write_text('{"version": 9}')
    steps = tuple(lambda _data: None for _ in range(10))
    assert migrate(tmp_path, steps=steps, version_file=version_file) == 10


def test_data_from_a_newer_addon_is_refused(tmp_path: Path) -> None:
    version_file = tmp_path / "v.json"
    version_file.write_text('{"version": 99}')
    with pytest.raises(MigrationError, match="newer version of the add-on"):
        migrate(tmp_path, version_file=version_file)
    assert version_file.read_text() == '{"version": 99}'  # left as it is
    assert sorted(tmp_path.iterdir()) == [version_file]  # no step ran


@pytest.mark.parametrize("kind", list(hostile.HOSTILE))
def test_an_unreadable_version_file_stops_the_start_and_is_left_as_it_is(
    tmp_path: Path, kind: str
) -> None:
    version_file = tmp_path / "v.json"
    hostile.HOSTILE[kind](version_file)
    before = hostile.what_is(version_file)
    ran: list[str] = []
    with pytest.raises(MigrationError) as caught:
        migrate(tmp_path, steps=(lambda _data: ran.append("step"),), version_file=version_file)
    message = str(caught.value)
    assert message.startswith(f"{version_file} ")
    assert "the add-on cannot tell which data migrations have run, so it changes nothing" in message
    assert message.endswith("Restore a backup made with this version of the add-on, or repair it")
    assert "\n" not in message
    assert len(message) < 400
    assert ran == []
    assert hostile.what_is(version_file) == before  # left as it is, nothing set aside
    assert sorted(tmp_path.iterdir()) == [version_file]


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        ('{"version": "99"}', 'version "99", which is not a whole number'),
        ('{"version": 99.0}', "version 99.0, which is not a whole number"),
        ('{"version": "2"}', 'version "2", which is not a whole number'),
        ('{"version": true}', "version true, which is not a whole number"),
        ('{"version": -1}', "version -1, which is not a whole number of at least 0"),
        ('{"version": null}', "version null, which is not a whole number"),
        ('{"other": 1}', "holds no data version"),
    ],
)
def test_a_version_that_is_not_a_whole_number_is_refused_like_a_newer_one(
    tmp_path: Path, content: str, shown: str
) -> None:
    version_file = tmp_path / "v.json"
    version_file.write_text(content)
    ran: list[str] = []
    with pytest.raises(MigrationError, match=shown) as caught:
        migrate(tmp_path, steps=(lambda _data: ran.append("step"),), version_file=version_file)
    assert "\n" not in str(caught.value)
    assert "Update the add-on, or restore a backup made with this version" in str(caught.value)
    assert ran == []
    assert version_file.read_text() == content  # left as it is, nothing set aside
    assert sorted(tmp_path.iterdir()) == [version_file]


def test_a_huge_version_is_shortened_in_the_message(tmp_path: Path) -> None:
    version_file = tmp_path / "v.json"
    version_file.write_text('{"version": "' + "9" * 100_000 + '"}')
    with pytest.raises(MigrationError) as caught:
        data_version(version_file)
    assert len(str(caught.value)) < 500


def test_legacy_config_json_becomes_settings_json(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"a": 1}')
    migrate(tmp_path, version_file=tmp_path / "v.json")
    assert (tmp_path / "settings.json").read_text() == '{"a": 1}'
    assert not (tmp_path / "config.json").exists()

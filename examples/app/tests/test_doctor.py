"""The storage report behind the HEALTHCHECK."""

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from garden_logger import __main__ as cli
from garden_logger import doctor, migrations, paths

STEPS = len(migrations.STEPS)


def make_mounts() -> None:
    for mount in paths.MOUNTS:
        mount.path.mkdir(parents=True, exist_ok=True)


def test_healthy_when_every_folder_is_there(capsys: pytest.CaptureFixture[str]) -> None:
    make_mounts()
    assert cli.main(["doctor"]) == cli.EXIT_OK
    assert capsys.readouterr().out.rstrip().endswith("healthy")


def test_fails_when_a_folder_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    make_mounts()
    missing = paths.MOUNTS[-1].path
    missing.rmdir()
    assert cli.main(["doctor", "--quick"]) == cli.EXIT_FAILED
    assert f"FAIL {missing}: missing" in capsys.readouterr().out


def test_fails_when_a_writable_folder_is_not(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_mounts()

    def read_only(*, dir: Path, prefix: str) -> tuple[int, str]:
        raise PermissionError(30, "Read-only file system")

    monkeypatch.setattr("tempfile.mkstemp", read_only)
    assert cli.main(["doctor"]) == cli.EXIT_FAILED
    assert f"FAIL {paths.DATA_DIR}: not writable" in capsys.readouterr().out


def test_writes_only_where_it_may(monkeypatch: pytest.MonkeyPatch) -> None:
    make_mounts()
    written: list[Path] = []
    create = tempfile.mkstemp

    def recording_mkstemp(*, dir: Path, prefix: str) -> tuple[int, str]:
        written.append(Path(dir))
        return create(dir=dir, prefix=prefix)

    monkeypatch.setattr("tempfile.mkstemp", recording_mkstemp)
    report = doctor.check()
    assert set(written) == {mount.path for mount in paths.MOUNTS if mount.writable}
    for mount in paths.MOUNTS:
        expected = "OK  " if mount.writable else "WARN"  # locally every folder is writable
        assert any(line.startswith(f"{expected} {mount.path}:") for line in report.lines)


def test_invalid_options_fail(capsys: pytest.CaptureFixture[str]) -> None:
    make_mounts()
    paths.OPTIONS_FILE.write_text("{")
    assert cli.main(["doctor"]) == cli.EXIT_FAILED
    assert "FAIL options:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("version", "line"),
    [
        (STEPS, f"OK   data version {STEPS}"),
        (STEPS + 1, f"FAIL data version {STEPS + 1} is newer than this add-on ({STEPS})"),
    ],
)
def test_the_data_version_is_checked(version: int, line: str) -> None:
    make_mounts()
    paths.DATA_VERSION_FILE.write_text(json.dumps({"version": version}))
    report = doctor.check()
    assert any(reported.startswith(line) for reported in report.lines), report.lines


@pytest.mark.parametrize(
    ("free", "inodes", "said"),
    [(16 * 1024, 100, "disk full: 16 KB free"), (10**9, 0, "no inodes: ")],
)
def test_a_full_disk_is_reported_as_such(
    monkeypatch: pytest.MonkeyPatch,
    full_disk: Callable[..., None],
    free: int,
    inodes: int,
    said: str,
) -> None:
    """Not as a folder that is not writable, nor as a database that fails its integrity check."""
    make_mounts()
    # What SQLite says when it cannot open the -wal and -shm files is no finding about the file:
    # here even a file that is not a database is then only "not checked".
    paths.DATABASE_FILE.write_bytes(b"not a database at all" * 100)
    full_disk(free=free, inodes=inodes)

    def no_room(*, dir: Path, prefix: str) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    if not inodes:
        monkeypatch.setattr("tempfile.mkstemp", no_room)
    text = "\n".join(doctor.check().lines)
    assert f"FAIL {paths.DATA_DIR}: {said}" in text, text
    assert "not writable" not in text
    assert f"FAIL cannot check the database {paths.DATABASE_FILE}: {said}" in text, text
    assert "integrity check failed" not in text


def test_damaged_json_file_fails() -> None:
    make_mounts()
    paths.DATA_VERSION_FILE.write_text("{oops")
    report = doctor.check()
    assert report.failures == 1
    assert any(line.startswith(f"FAIL {paths.DATA_VERSION_FILE}") for line in report.lines)

"""Run every test against a private HA_APP_ROOT, never the real /data."""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The paths module reads HA_APP_ROOT when it is imported, so set it before any test imports it.
APP_ROOT = Path(tempfile.mkdtemp(prefix="garden_logger-"))
os.environ["HA_APP_ROOT"] = str(APP_ROOT)


@pytest.fixture(autouse=True)
def app_root() -> Iterator[Path]:
    """Give each test an empty container tree under APP_ROOT."""
    shutil.rmtree(APP_ROOT, ignore_errors=True)
    APP_ROOT.mkdir()
    yield APP_ROOT
    shutil.rmtree(APP_ROOT, ignore_errors=True)


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make every filesystem report (statvfs) `free` bytes and `inodes` inodes left, as a full
    disk does; the writes themselves still work unless a test makes them fail too."""

    def make(*, free: int = 8 * 1024, inodes: int = 100) -> None:
        block = 1024
        fake = os.statvfs_result((block, block, 10**6, free // block, free // block,
                                  10**4, inodes, inodes, 0, 255))  # fmt: skip
        monkeypatch.setattr(os, "statvfs", lambda *_args, **_kwargs: fake)

    return make


@pytest.fixture
def make_left_over() -> Callable[[Path, str], Path]:
    """What a write of name into folder leaves when a crash cuts it short: its temporary file,
    made by the add-on's own code, holding part of the data."""
    # Imported here, not at the top: only once HA_APP_ROOT is set.
    from garden_logger import atomicfile

    def make(folder: Path, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            temp, handle = atomicfile._create_temp(descriptor, name, name)
        finally:
            os.close(descriptor)
        os.write(handle, b"half")
        os.close(handle)
        return folder / temp

    return make

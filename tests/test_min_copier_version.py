"""`_min_copier_version` is true: the oldest copier it names renders exactly what today's does."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import copier
import pytest

from combos import MOUNTS, PERSISTENCE
from conftest import REPO, copier_config

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("min-copier")]

ANSWERS = [
    "-d", "name=Oldest Copier", "-d", f"mounts=[{', '.join(MOUNTS)}]",
    "-d", f"persistence=[{', '.join(PERSISTENCE)}]", "-d", "writable_mounts=[share]",
]  # fmt: skip


@pytest.fixture(scope="module")
def oldest_copier() -> Path:
    """copier at _min_copier_version, in a virtual environment kept under .cache/ between runs."""
    version = copier_config()["_min_copier_version"]
    home = REPO / ".cache" / f"copier-{version}"
    executable = home / "bin" / "copier"
    if not executable.exists():
        venv.create(home, with_pip=True, clear=True)
        subprocess.run(
            [home / "bin" / "python", "-m", "pip", "install", "-q", f"copier=={version}"],
            check=True,
            capture_output=True,
        )
    return executable


def render(copier_executable: Path, template: Path, destination: Path) -> dict[str, bytes]:
    subprocess.run(
        [copier_executable, "copy", "--defaults", "--quiet", *ANSWERS, template, destination],
        check=True,
        capture_output=True,
        env=os.environ | {"COPIER_SETTINGS_PATH": os.environ["COPIER_SETTINGS_PATH"]},
    )
    return {
        str(path.relative_to(destination)): path.read_bytes()
        for path in sorted(destination.rglob("*"))
        if path.is_file()
    }


def test_oldest_supported_copier_renders_the_same_files(
    oldest_copier: Path, template_snapshot: Path, tmp_path: Path
) -> None:
    current = Path(sys.executable).with_name("copier")
    assert copier.__version__ != copier_config()["_min_copier_version"]
    old = render(oldest_copier, template_snapshot, tmp_path / "old")
    new = render(current, template_snapshot, tmp_path / "new")
    assert old.keys() == new.keys()
    assert [name for name in old if old[name] != new[name]] == []

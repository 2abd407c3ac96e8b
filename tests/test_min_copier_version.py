"""`_min_copier_version` is true: the oldest copier it names renders exactly what today's does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import copier
import pytest
from packaging.version import Version

from combos import MOUNTS, PERSISTENCE
from conftest import REPO, copier_config

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("min-copier")]

# All but one mount and one pattern: nearly every file, and several left out by copier.yml's
# `_exclude` (one entry that renders a pattern a line, which copier before 9.18 reads as one).
ANSWERS = [
    "-d", "name=Oldest Copier", "-d", f"mounts=[{', '.join(MOUNTS[:-1])}]",
    "-d", f"persistence=[{', '.join(PERSISTENCE[:-1])}]", "-d", "writable_mounts=[share]",
]  # fmt: skip


@pytest.fixture(scope="module")
def oldest_copier() -> list[str]:
    """The command that runs copier at _min_copier_version: that copier's code alone, installed
    under .cache/ (kept between runs) and imported ahead of this environment's copier. Its
    dependencies are this environment's; what renders the template is copier's code and Jinja."""
    version = copier_config()["_min_copier_version"]
    target = REPO / ".cache" / f"copier-{version}"
    if not (target / f"copier-{version}.dist-info").is_dir():
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target,
             f"copier=={version}"],
            check=True, capture_output=True,
        )  # fmt: skip
    return ["env", f"PYTHONPATH={target}", sys.executable, "-m", "copier"]


def render(copier_command: list[str], template: Path, destination: Path) -> dict[str, bytes]:
    subprocess.run(
        [*copier_command, "copy", "--defaults", "--quiet", *ANSWERS, template, destination],
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
    oldest_copier: list[str], template_snapshot: Path, tmp_path: Path
) -> None:
    current = [str(Path(sys.executable).with_name("copier"))]
    version = copier_config()["_min_copier_version"]
    assert copier.__version__ != version
    reported = subprocess.run(
        [*oldest_copier, "--version"], check=True, capture_output=True, text=True
    ).stdout
    assert version in reported, reported
    old = render(oldest_copier, template_snapshot, tmp_path / "old")
    new = render(current, template_snapshot, tmp_path / "new")
    assert old.keys() == new.keys()
    assert [name for name in old if old[name] != new[name]] == []


def test_the_weekly_update_installs_a_copier_the_template_accepts() -> None:
    """The rendered template-update workflow asks pip for no copier older than the minimum."""
    workflow = REPO / "template" / ".github" / "workflows" / "template-update.yaml"
    text = workflow.read_text(encoding="utf-8")
    floors = re.findall(r'pip install "copier>=([0-9.]+),<10"', text)
    assert floors, "template-update.yaml no longer installs copier as this test expects"
    minimum = Version(copier_config()["_min_copier_version"])
    assert [Version(floor) for floor in floors] == [Version(f"{minimum.major}.{minimum.minor}")]

"""Render the all-features add-on for the benchmarks (a git-free copy of the template)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import copier

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test suite's reader of copier.yml

from questionnaire import Questionnaire  # noqa: E402

TEMPLATE_PARTS = ("copier.yml", "template", "includes")  # what copier reads
SLUG = "bench_demo"


def all_features(template: Path) -> dict[str, object]:
    """Every mount and every persistence pattern that template offers (its copier.yml's choices,
    so that a template of another commit gets its own), in layout app."""
    questionnaire = Questionnaire(template)
    return {
        "name": "Bench Demo",
        "mounts": questionnaire.choice_values("mounts"),
        "persistence": questionnaire.choice_values("persistence"),
        "layout": "app",
    }


def template_copy(destination: Path) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    for part in TEMPLATE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, destination / part)
        else:
            shutil.copy2(source, destination / part)
    return destination


def template_at(commit: str, destination: Path) -> Path:
    """The template as committed at commit, from this repository by git archive (no network)."""
    listed = git("ls-tree", "--name-only", commit).decode().split()
    archive = git("archive", "--format=tar", commit, *(p for p in TEMPLATE_PARTS if p in listed))
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return destination


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, check=True).stdout


def render(template: Path, destination: Path, answers: dict[str, object] | None = None) -> Path:
    copier.run_copy(
        str(template),
        destination,
        data={**(answers or all_features(template)), "slug": SLUG},
        defaults=True,
        quiet=True,
    )
    return destination


def render_addon(answers: dict[str, object] | None = None) -> Path:
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    return render(template_copy(work / "template"), work / "addon", answers)


def machine() -> str:
    import os
    import platform

    system = f"{platform.system()} {platform.release()}"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {system}"
    )

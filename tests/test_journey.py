"""A newcomer's journey, run exactly as README.md tells it: render, commit, a release, update.

README's commands are run verbatim with bash, from a clone of this template, with HOME in a
temporary folder (the render command installs copier into ~/.venvs/copier, and the update commands
use that copier again). The clone is a git repository of the working tree, released as 1.0.0; the
template's next release changes DOCS.md, and README's update command must bring that change into
the project the render command made, with no error and no conflict. The same for layout `app`,
rendered into a repository that already exists.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from combos import Combo
from conftest import REPO, Renderer, git
from readme import fenced_block
from rendered import load_yaml

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("journey")]

RELEASE_NOTE = "This line arrived with the template's next release."
SLUG = "garden_logger"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's home: README's commands install copier in ~/.venvs/copier, once per module."""
    return tmp_path_factory.mktemp("home")


def run_readme(marker: str, cwd: Path, home: Path, readme: Path = REPO / "README.md") -> str:
    """Run a README's commands under `marker` verbatim in `cwd`, as a user's shell would."""
    command = fenced_block(marker, readme)
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("PYTEST_", "VIRTUAL_ENV"))}  # fmt: skip
    # pip's downloads are kept where they always are, not in the temporary home.
    environment.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        env=environment | {"HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"README's {marker} failed in {cwd}:\n$ {command}\n{output}"
    assert "Traceback" not in output, output
    return output


def template_clone(parent: Path, *, released: bool) -> Path:
    """A clone of this template as a user has it: the working tree, committed (and tagged)."""
    clone = parent / "ha-addon-template"
    clone.mkdir()
    for part in ("copier.yml", "template", "includes", "README.md", "LICENSE"):
        source = REPO / part
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.py[co]", ".*_cache")
            shutil.copytree(source, clone / part, ignore=ignore)
        else:
            shutil.copy2(source, clone / part)
    git(clone, "init", "-q")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "template")
    if released:
        git(clone, "tag", "1.0.0")
    return clone


def release_a_change(clone: Path, *, released: bool) -> None:
    """The template's next release: one more line in every add-on's DOCS.md."""
    docs = clone / "template" / "{{ slug }}" / "DOCS.md.jinja"
    docs.write_text(docs.read_text(encoding="utf-8") + f"\n{RELEASE_NOTE}\n", encoding="utf-8")
    git(clone, "commit", "-q", "-am", "next release")
    if released:
        git(clone, "tag", "1.1.0")


def commit_all(repository: Path, message: str) -> None:
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", message)


def assert_updated(
    repository: Path, addon: Path, answers_file: Path, clone: Path, *, released: bool
) -> None:
    """The release arrived, merged cleanly, and the answers point at the template for next time."""
    assert RELEASE_NOTE in (addon / "DOCS.md").read_text(encoding="utf-8")
    status = git(repository, "status", "--porcelain")
    assert not [line for line in status.splitlines() if line[:2] in ("UU", "AA", "DU", "UD")]
    answers = load_yaml(answers_file)
    assert answers["_src_path"] == str(clone)
    # A release is a tag; before the first one, copier records the commit it rendered.
    expected = "1.1.0" if released else git(clone, "rev-parse", "--short", "HEAD").strip()
    assert answers["_commit"] == expected


@pytest.mark.parametrize("released", [True, False], ids=["tagged", "untagged"])
def test_readme_render_then_update(home: Path, tmp_path: Path, released: bool) -> None:
    clone = template_clone(tmp_path, released=released)
    run_readme("render-command", clone, home)
    project = tmp_path / "garden-logger"
    assert load_yaml(project / SLUG / "config.yaml")["name"] == "Garden Logger"
    # The add-on's own license (the default), never the template's.
    license_lines = (project / "LICENSE").read_text(encoding="utf-8").splitlines()
    assert license_lines[:3] == ["MIT License", "", "Copyright (c) Garden Logger maintainers"]
    git(project, "init", "-q")
    commit_all(project, f"Add {SLUG}")

    release_a_change(clone, released=released)
    copier = home / ".venvs" / "copier" / "bin" / "copier"
    check = subprocess.run(
        [copier, "check-update", "--output-format", "json"],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert json.loads(check.stdout)["update_available"] is True, check.stdout + check.stderr

    run_readme("update-command", project, home)
    assert_updated(
        project, project / SLUG, project / ".copier-answers.yml", clone, released=released
    )


def test_readme_app_layout_into_an_existing_repository(home: Path, tmp_path: Path) -> None:
    clone = template_clone(tmp_path, released=True)
    host = tmp_path / "my-addons"
    host.mkdir()
    git(host, "init", "-q")
    (host / "repository.yaml").write_text("name: My add-ons\n", encoding="utf-8")
    commit_all(host, "my add-on repository")

    run_readme("render-app-command", clone, home)
    addon = host / SLUG
    assert load_yaml(addon / "config.yaml")["slug"] == SLUG
    assert (host / "repository.yaml").read_text(encoding="utf-8") == "name: My add-ons\n"
    commit_all(host, f"Add {SLUG}")

    release_a_change(clone, released=True)
    run_readme("update-app-command", host, home)
    assert_updated(host, addon, addon / ".copier-answers.yml", clone, released=True)


def test_addon_readme_checks_and_hook_work_as_written(
    render: Renderer, home: Path, tmp_path: Path
) -> None:
    """The add-on README's set-up in a fresh venv (no pip into the system's Python), its checks,
    and the git hook it tells authors to install, which must refuse conflict markers."""
    rendered = render.project(Combo(mounts=("share",), persistence=("sqlite",)))
    project = tmp_path / "project"
    shutil.copytree(rendered.root, project)
    addon = project / rendered.addon.relative_to(rendered.root)
    git(project, "init", "-q")
    commit_all(project, "rendered")

    run_readme("checks", addon, home, addon / "README.md")
    run_readme("pre-commit", project, home, addon / "README.md")
    status = git(project, "status", "--porcelain", "--ignored")
    assert f"!! {addon.name}/.venv/" in status.splitlines()  # the venv is never committed

    docs = addon / "DOCS.md"
    clean = docs.read_text(encoding="utf-8")
    docs.write_text(
        f"{clean}<<<<<<< before updating\nmine\n=======\ntheirs\n>>>>>>> after updating\n",
        encoding="utf-8",
    )
    git(project, "add", "-A")
    refused = subprocess.run(
        ["git", "commit", "-q", "-m", "unresolved"],
        cwd=project, env=os.environ | {"HOME": str(home)}, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert refused.returncode != 0, "a commit with conflict markers went through"
    assert "no conflict markers" in refused.stdout + refused.stderr
    docs.write_text(clean + "resolved\n", encoding="utf-8")
    git(project, "add", "-A")
    subprocess.run(
        ["git", "commit", "-q", "-m", "resolved"],
        cwd=project, env=os.environ | {"HOME": str(home)}, timeout=300, check=True,
        capture_output=True,
    )  # fmt: skip

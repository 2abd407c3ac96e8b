"""This repository keeps its promises: README's commands work and agree with CI."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from rendered import load_yaml


def fenced_command(marker: str) -> str:
    """The one-line command in the code block right after `<!-- marker -->` in README.md."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\n```sh\n(.+)\n```", readme)
    assert match, f"README.md has no {marker} block"
    return match[1]


def test_ci_runs_the_readme_test_command() -> None:
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert script[-1] == fenced_command("test-command")
    workflow = load_yaml(REPO / ".github" / "workflows" / "ci.yml")
    runs = [step.get("run", "") for step in workflow["jobs"]["test"]["steps"]]
    assert any(".ci/run" in run for run in runs)


def test_readme_render_command_renders_an_addon(tmp_path: Path) -> None:
    command = fenced_command("render-command")
    copier_part = command.split(".venv/bin/copier ", 1)[1]
    args = [tmp_path / "garden-logger" if a == "../garden-logger" else a
            for a in shlex.split(copier_part)]  # fmt: skip
    copier = Path(sys.executable).with_name("copier")
    result = subprocess.run(
        [copier, *map(str, args)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    config = load_yaml(tmp_path / "garden-logger" / "garden_logger" / "config.yaml")
    assert config["name"] == "Garden Logger"
    assert "copier==9.19.1" in command


def test_changelog_has_an_unreleased_section() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert "Keep a Changelog" in changelog


def test_template_file_names_are_portable() -> None:
    for path in (REPO / "template").rglob("*"):
        assert '"' not in path.name, f"double quote in {path} breaks Windows checkouts"


def test_answers_file_template_is_where_copier_expects_it() -> None:
    template = REPO / "template" / "{{ _copier_conf.answers_file }}.jinja"
    assert template.read_text(encoding="utf-8").strip() == "{{ _copier_answers | to_nice_yaml -}}"


def test_this_repository_passes_ruff() -> None:
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--no-cache", "tests", "benchmarks"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_ci_script_is_executable() -> None:
    assert (REPO / ".ci" / "run").stat().st_mode & 0o111

"""This repository keeps its promises: README's commands work and agree with CI."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO
from readme import fenced_command
from rendered import load_yaml


def test_ci_runs_the_readme_test_command() -> None:
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert script[-1] == fenced_command("test-command")
    workflow = load_yaml(REPO / ".github" / "workflows" / "ci.yml")
    runs = [step.get("run", "") for step in workflow["jobs"]["test"]["steps"]]
    assert any(".ci/run" in run for run in runs)


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

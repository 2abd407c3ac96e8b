"""hadolint, shellcheck, yamllint and apparmor_parser on every rendered combination."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from yamllint import linter
from yamllint.config import YamlLintConfig

from combos import MATRIX, Combo
from conftest import REPO, Renderer
from rendered import load_yaml
from tools import check_once

pytestmark = pytest.mark.parametrize("combo", MATRIX, ids=lambda combo: combo.id)

# The generated repository's own yamllint settings, applied to both layouts.
YAMLLINT = YamlLintConfig(
    next((REPO / "template").glob("*.yamllint.yaml*")).read_text(encoding="utf-8")
)
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lint")


def test_dockerfile_passes_hadolint(render: Renderer, combo: Combo, workdir: Path) -> None:
    dockerfile = render.project(combo).addon / "Dockerfile"
    check_once("hadolint", ["--failure-threshold", "info"], dockerfile.read_text(), "", workdir)


def test_apparmor_profile_parses(render: Renderer, combo: Combo, workdir: Path) -> None:
    profile = render.project(combo).addon / "apparmor.txt"
    check_once("apparmor_parser", ["-Q", "-K"], profile.read_text(), ".txt", workdir)


_YAML_PASSED: set[str] = set()


def test_yaml_passes_yamllint(render: Renderer, combo: Combo) -> None:
    for path in render.project(combo).files():
        if path.suffix in (".yaml", ".yml"):
            text = path.read_text(encoding="utf-8")
            if text in _YAML_PASSED:  # many renders share a file; lint each content once
                continue
            problems = list(linter.run(text, YAMLLINT, str(path)))
            assert problems == [], "\n".join(f"{path}:{p.line}: {p.message}" for p in problems)
            _YAML_PASSED.add(text)


def test_shell_passes_shellcheck(render: Renderer, combo: Combo, workdir: Path) -> None:
    """Shell scripts, and the shell of every `run:` step of the generated workflows."""
    project = render.project(combo)
    for path in project.files():
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        if re.match(r"#!.*\b(ba|da|)sh\b", text):
            check_once("shellcheck", [], text, ".sh", workdir)
        if path.parent.name == "workflows":
            for step_run in _run_steps(load_yaml(path)):
                script = GITHUB_EXPRESSION.sub("EXPRESSION", step_run)
                check_once("shellcheck", ["--shell=bash"], script, ".sh", workdir)


def _run_steps(workflow: dict[str, object]) -> list[str]:
    jobs = workflow.get("jobs", {})
    assert isinstance(jobs, dict)
    return [
        step["run"]
        for job in jobs.values()
        for step in job.get("steps", [])
        if isinstance(step, dict) and "run" in step
    ]

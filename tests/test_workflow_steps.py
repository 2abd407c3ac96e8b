"""The generated workflows' own shell steps, run with bash the way GitHub runs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from combos import PYTHON_VERSIONS, Combo
from conftest import Renderer
from rendered import load_yaml


def step(workflow: Path, job: str, step_id: str) -> str:
    """The `run:` script of one step, as written in the workflow file."""
    steps = load_yaml(workflow)["jobs"][job]["steps"]
    (found,) = [s for s in steps if s.get("id") == step_id]
    script: str = found["run"]
    return script


def run_step(script: str, cwd: Path, tmp_path: Path) -> tuple[int, str, str]:
    """Run a step's script as GitHub does (`bash -e`), returning its status, outputs and stderr."""
    outputs = tmp_path / "github-output"
    outputs.write_text("", encoding="utf-8")
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd, env={"GITHUB_OUTPUT": str(outputs), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.returncode, outputs.read_text(encoding="utf-8"), result.stderr


@pytest.mark.parametrize("version", PYTHON_VERSIONS)
def test_ci_sets_up_the_python_of_the_image(render: Renderer, tmp_path: Path, version: str) -> None:
    project = render.project(Combo(mounts=(), persistence=("state",), python_version=version))
    script = step(project.root / ".github" / "workflows" / "ci.yaml", "python", "python")
    status, outputs, _ = run_step(script, project.addon, tmp_path)
    assert (status, outputs) == (0, f"version={version}\n")


def test_ci_says_what_is_missing_without_a_base_image(render: Renderer, tmp_path: Path) -> None:
    project = render.project(Combo(mounts=(), persistence=("state",)))
    script = step(project.root / ".github" / "workflows" / "ci.yaml", "python", "python")
    addon = tmp_path / "addon"
    addon.mkdir()
    (addon / "Dockerfile").write_text("FROM alpine:3.24\n", encoding="utf-8")
    status, outputs, stderr = run_step(script, addon, tmp_path)
    assert status != 0
    assert outputs == ""
    assert "Dockerfile has no ARG BASE_IMAGE" in stderr

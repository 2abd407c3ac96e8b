"""The GitHub workflows the linters and the pin checks read: the generated ones and this
repository's own."""

from __future__ import annotations

from pathlib import Path

from combos import MOUNTS, PERSISTENCE, Combo
from conftest import REPO, Renderer

TEMPLATE_WORKFLOWS = REPO / "template" / ".github" / "workflows"
OWN_WORKFLOWS = REPO / ".github" / "workflows"

# Workflows are copied, not templated (test_workflows_are_copied_verbatim), so the default answers
# and an all-mounts render cover them; layout app renders no workflow at all.
LINT_COMBOS = (
    Combo(mounts=(), persistence=("json_config", "state")),
    Combo(mounts=MOUNTS, persistence=PERSISTENCE, writable_mode="all"),
)


def template_workflow_names() -> list[str]:
    """File names of the generated workflows, one test parameter each."""
    return sorted(path.name for path in TEMPLATE_WORKFLOWS.iterdir())


def own_workflows() -> list[Path]:
    """This repository's own workflows (its CI)."""
    return sorted(path for path in OWN_WORKFLOWS.iterdir() if path.suffix in (".yml", ".yaml"))


def rendered_workflows(render: Renderer, name: str) -> list[Path]:
    """One generated workflow as each of LINT_COMBOS renders it."""
    return [render.project(combo).root / ".github" / "workflows" / name for combo in LINT_COMBOS]


def all_workflows(render: Renderer) -> list[Path]:
    """Every workflow of the first render and this repository's own."""
    root = render.project(LINT_COMBOS[0]).root / ".github" / "workflows"
    return [*sorted(root.iterdir()), *own_workflows()]

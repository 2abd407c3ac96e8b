"""examples/ is what the template renders today: every template change shows there in review."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import Renderer
from examples import EXAMPLES, EXAMPLES_DIR, REGENERATE, differences, read_tree
from readme import fenced_command

SHOWN = 10


def test_every_example_folder_has_answers() -> None:
    folders = sorted(path.name for path in EXAMPLES_DIR.iterdir())
    assert folders == sorted(EXAMPLES), f"examples/ holds {folders}; regenerate: {REGENERATE}"


def test_readme_gives_the_regeneration_command() -> None:
    assert fenced_command("examples-command") == REGENERATE


@pytest.mark.xdist_group("examples")
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_is_a_fresh_render(render: Renderer, name: str) -> None:
    committed = read_tree(EXAMPLES_DIR / name)
    problems = differences(committed, read_tree(render(EXAMPLES[name])))
    more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    assert not problems, (
        f"examples/{name} is not what the template renders now; files that differ: "
        f"{len(problems)}\n  "
        + "\n  ".join(problems[:SHOWN])
        + more
        + f"\nRegenerate and commit: {REGENERATE}"
    )


@pytest.mark.tools
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_addon_passes_its_own_ruff(name: str) -> None:
    """The examples' slug is not the test matrix's: code that only fits for one slug shows here."""
    [config] = (EXAMPLES_DIR / name).glob("**/pyproject.toml")
    for check in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "--no-cache", "."],
            cwd=config.parent, capture_output=True, text=True, check=False,
        )  # fmt: skip
        command = " ".join(check)
        assert result.returncode == 0, f"ruff {command} in examples/{name}:\n{result.stdout}"

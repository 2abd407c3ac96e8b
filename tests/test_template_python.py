"""The template's own plain-named Python passes ruff, ruff format and mypy --strict with the
add-on's settings, read here in the template repository (tests/template_python.py says how)."""

from __future__ import annotations

from pathlib import Path

import pytest

from readme import fenced_command
from template_python import CHECKS, COMMAND, assemble, plain_files, run_check

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("template-python")]


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    work = tmp_path_factory.mktemp("template-python")
    return work, assemble(work)


def test_the_checks_see_the_optional_modules_and_their_helpers() -> None:
    names = {path.name for path in plain_files()}
    assert {"archives.py", "beneath.py", "hotbackup.py", "database.py", "swapper.py"} <= names


def test_readme_gives_the_command() -> None:
    assert fenced_command("template-python-command") == COMMAND


@pytest.mark.parametrize("check", CHECKS)
def test_the_templates_python_passes(check: str, assembled: tuple[Path, dict[str, Path]]) -> None:
    work, placed = assembled
    assert len(placed) == len(plain_files())
    passed, output = run_check(check, work, placed)
    assert passed, f"{check} failed:\n{output}"

"""The generated add-on's own checks pass: ruff, ruff format, mypy --strict and its pytest suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from combos import TOOL_COMBOS, Combo
from conftest import Renderer

pytestmark = [
    pytest.mark.tools,
    pytest.mark.parametrize("combo", TOOL_COMBOS, ids=lambda combo: combo.id),
]

CHECKS = {
    "ruff check": ["-m", "ruff", "check", "--no-cache"],
    "ruff format": ["-m", "ruff", "format", "--check", "--no-cache"],
    "mypy --strict": ["-m", "mypy", "--no-incremental", "--strict"],
    "pytest": ["-m", "pytest", "-q", "-p", "no:cacheprovider"],
}


def clean_environment() -> dict[str, str]:
    """This suite's pytest and xdist settings must not leak into the add-on's own run."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "HA_APP_ROOT", "COV_"))
    } | {"PYTHONDONTWRITEBYTECODE": "1"}


@pytest.mark.parametrize("check", list(CHECKS))
def test_generated_addon_passes(render: Renderer, combo: Combo, check: str) -> None:
    addon: Path = render.project(combo).addon
    result = subprocess.run(
        [sys.executable, *CHECKS[check]],
        cwd=addon,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{check} failed in {addon}:\n{result.stdout}\n{result.stderr}"

"""The generated add-on's own checks pass: ruff, ruff format, mypy --strict and its pytest suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from combos import LONG_SLUG_COMBOS, PYTEST_COMBOS, TOOL_COMBOS, Combo
from conftest import Renderer

pytestmark = pytest.mark.tools

# Each check, and the combinations it runs on (combos.py says why pytest needs fewer, and why ruff
# sees the longest slug too: line lengths and import formatting depend on it; types do not).
STATIC_COMBOS = TOOL_COMBOS + LONG_SLUG_COMBOS
CHECKS = {
    "ruff check": (["-m", "ruff", "check", "--no-cache"], STATIC_COMBOS),
    "ruff format": (["-m", "ruff", "format", "--check", "--no-cache"], STATIC_COMBOS),
    "mypy --strict": (["-m", "mypy", "--strict"], TOOL_COMBOS),
    "pytest": (["-m", "pytest", "-q", "-p", "no:cacheprovider"], PYTEST_COMBOS),
}


def clean_environment() -> dict[str, str]:
    """This suite's pytest and xdist settings must not leak into the add-on's own run."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "HA_APP_ROOT", "COV_"))
    } | {"PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture(scope="session")
def mypy_caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mypy's incremental caches, one per Python version, shared by this worker's add-ons.

    Checking the standard library's stubs is most of a cold mypy run; mypy checks again every
    module whose source or options differ from what it cached, so sharing loses nothing.
    """
    return tmp_path_factory.mktemp("mypy-caches")


@pytest.mark.parametrize(
    ("check", "combo"),
    [(check, combo) for check, (_, combos) in CHECKS.items() for combo in combos],
    ids=lambda value: value.id if isinstance(value, Combo) else str(value),
)
def test_generated_addon_passes(
    render: Renderer, combo: Combo, check: str, mypy_caches: Path
) -> None:
    addon: Path = render.project(combo).addon
    arguments = CHECKS[check][0]
    if check.startswith("mypy"):
        arguments = [*arguments, "--cache-dir", str(mypy_caches / combo.python_version)]
    result = subprocess.run(
        [sys.executable, *arguments],
        cwd=addon,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{check} failed in {addon}:\n{result.stdout}\n{result.stderr}"

"""ruff and mypy over the template's own plain-named Python, here in the template repository.

The add-on's package folder is `src/{{ slug }}`, not an importable name, and some of its
modules are templates (`.jinja`), so the tools cannot run on template/ as it is. They run on an
add-on assembled in a temporary folder: the committed render examples/everything (every mount
and pattern, so every optional module) gives the templated modules and the add-on's own ruff and
mypy settings (its pyproject.toml); the template's plain-named modules and tests are copied over
its copies of them. Findings name the template's files.

From the repository's top (exit status 1 when a check fails):

    .venv/bin/python tests/template_python.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import REPO
from examples import EXAMPLES_DIR, REGENERATE

ADDON_TEMPLATE = REPO / "template" / "{{ slug }}"
PACKAGE_TEMPLATE = ADDON_TEMPLATE / "src" / "{{ slug }}"
RENDER = EXAMPLES_DIR / "everything"
COMMAND = ".venv/bin/python tests/template_python.py"
# Each check: its arguments after `python -m`; the files to check follow them.
CHECKS = {
    "ruff check": ["ruff", "check", "--no-cache"],
    "ruff format": ["ruff", "format", "--check", "--no-cache"],
    "mypy --strict": ["mypy", "--strict"],
}


def plain_files() -> list[Path]:
    """The template's Python files whose content is not templated: the tools can read them."""
    return sorted(
        path
        for folder in (PACKAGE_TEMPLATE, ADDON_TEMPLATE / "tests")
        for path in folder.glob("*.py")
    )


def rendered_addon() -> Path:
    """The add-on folder of examples/everything."""
    (config,) = RENDER.glob("*/config.yaml")
    return config.parent


def assemble(work: Path) -> dict[str, Path]:
    """The add-on in work/addon, with the template's plain files in place of the render's copies.
    Returns each plain file's path in it (relative to the add-on) and the template file it is."""
    addon = work / "addon"
    source = rendered_addon()
    shutil.copytree(source / "src", addon / "src")
    shutil.copytree(source / "tests", addon / "tests")
    shutil.copy2(source / "pyproject.toml", addon / "pyproject.toml")
    (package,) = (addon / "src").iterdir()
    placed = {}
    for path in plain_files():
        folder = package if path.parent == PACKAGE_TEMPLATE else addon / "tests"
        target = folder / path.name
        if not target.is_file():
            raise SystemExit(
                f"{target.relative_to(addon)} is not in {RENDER.relative_to(REPO)}: "
                f"regenerate the examples ({REGENERATE})"
            )
        shutil.copyfile(path, target)
        placed[target.relative_to(addon).as_posix()] = path
    return placed


def run_check(check: str, work: Path, placed: dict[str, Path]) -> tuple[bool, str]:
    """Run one check in the assembled add-on; its output names the template's files."""
    arguments = [sys.executable, "-m", *CHECKS[check]]
    if check.startswith("mypy"):
        arguments += ["--cache-dir", str(work / "mypy-cache")]
    result = subprocess.run(
        [*arguments, *placed],
        cwd=work / "addon",
        env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    for relative, path in placed.items():
        output = output.replace(relative, path.relative_to(REPO).as_posix())
    return result.returncode == 0, output


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        placed = assemble(work)
        failed = []
        for check in CHECKS:
            passed, output = run_check(check, work, placed)
            print(f"{check}: {'passed' if passed else 'FAILED'}\n{output.strip()}\n")
            if not passed:
                failed.append(check)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

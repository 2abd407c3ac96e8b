"""The committed example renders in examples/: their answers (the one table), how they are
rendered, and how a tree of files is read for comparison.

After changing the template, regenerate them from the repository's top and commit the result:

    .venv/bin/python tests/examples.py --write

tests/test_examples.py renders the same answers afresh and fails when examples/ differs.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from conftest import (
    CACHE_PATTERNS,
    REPO,
    choice_values,
    copy,
    hermetic_environment,
    snapshot_template,
)

EXAMPLES_DIR = REPO / "examples"
REGENERATE = ".venv/bin/python tests/examples.py --write"


def every(question: str) -> list[str]:
    """All values of a multiple-choice question, in copier.yml's order."""
    return choice_values(question)


# One row per folder of examples/: the answers given on top of --defaults.
EXAMPLES: dict[str, dict[str, Any]] = {
    # Only the name: what `copier copy --defaults -d name=...` gives.
    "default": {"name": "Garden Logger"},
    # Every mount (all writable), every persistence pattern, hot backups, the web UI: every
    # optional module (tests/template_python.py checks the template's own Python in it).
    "everything": {
        "name": "Garden Logger",
        "mounts": every("mounts"),
        "writable_mounts": every("mounts"),
        "persistence": every("persistence"),
        "backup_mode": "hot",
        "web_ui": "ingress",
        "layout": "repository",
    },
    # One add-on folder for an existing repository, with a typical set of answers.
    "app": {
        "name": "Garden Logger",
        "layout": "app",
        "mounts": ["addon_config", "share"],
        "persistence": ["json_config", "sqlite"],
    },
}

ANSWERS_FILE = ".copier-answers.yml"
# `_src_path` is where the template was rendered from (here a temporary snapshot), so it changes
# with every render; it is written as this fixed value in examples/ and in every comparison. The
# snapshot has no git, so copier records no `_commit`; a `_commit` line is dropped all the same.
SOURCE_LINE = b"_src_path: <path or URL of this template>"

# A file: whether it is executable (git keeps that bit), and its bytes.
Tree = dict[str, tuple[bool, bytes]]


def normalised(name: str, content: bytes) -> bytes:
    """The content as examples/ keeps it: only the answers file's source lines are rewritten."""
    if Path(name).name != ANSWERS_FILE:
        return content
    lines = []
    for line in content.splitlines(keepends=True):
        if line.startswith(b"_src_path:"):
            lines.append(SOURCE_LINE + b"\n")
        elif not line.startswith(b"_commit:"):
            lines.append(line)
    return b"".join(lines)


def read_tree(root: Path) -> Tree:
    """Every file under root, normalised. Caches that running the example's tools may leave are
    skipped: copier.yml's _exclude keeps them out of every render, so no example has one."""
    tree: Tree = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(fnmatch.fnmatch(part, cache) for part in relative.parts for cache in CACHE_PATTERNS):
            continue
        if path.is_file() or path.is_symlink():
            name = relative.as_posix()
            executable = bool(path.lstat().st_mode & 0o100)
            tree[name] = (executable, normalised(name, path.read_bytes()))
    return tree


def differences(committed: Tree, fresh: Tree) -> list[str]:
    """One line per file that differs, in path order."""
    lines = []
    for name in sorted(committed.keys() | fresh.keys()):
        if name not in fresh:
            lines.append(f"{name}: in examples/ but not rendered")
        elif name not in committed:
            lines.append(f"{name}: rendered but not in examples/")
        elif committed[name][1] != fresh[name][1]:
            lines.append(f"{name}: content differs")
        elif committed[name][0] != fresh[name][0]:
            lines.append(f"{name}: executable bit differs")
    return lines


def write_tree(tree: Tree, root: Path) -> None:
    """Replace root with exactly the files of tree."""
    shutil.rmtree(root, ignore_errors=True)
    for name, (executable, content) in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(0o755 if executable else 0o644)


def write_examples() -> None:
    """Render every example as the tests do (git-free snapshot, hermetic settings, no --trust)
    and write it into examples/, whose folders without a row in EXAMPLES are removed."""
    for folder in EXAMPLES_DIR.glob("*/"):
        if folder.name not in EXAMPLES:
            shutil.rmtree(folder)
            print(f"examples/{folder.name}: removed")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for folder in ("home", "template"):
            (work / folder).mkdir()
        os.environ.update(hermetic_environment(work / "home"))
        template = snapshot_template(work / "template")
        for name, answers in EXAMPLES.items():
            rendered = copy(template, work / "renders" / name, **answers)
            write_tree(read_tree(rendered), EXAMPLES_DIR / name)
            print(f"examples/{name}: written")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {REGENERATE}  (renders examples/ again from the template)")
    write_examples()

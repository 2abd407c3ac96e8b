"""docs/decisions: every record has its sections and is in the index, and the index names no
missing file, so a new record cannot be forgotten (see record 1 there)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO

DECISIONS = REPO / "docs" / "decisions"
INDEX = DECISIONS / "README.md"
RECORD_NAME = re.compile(r"(?P<number>[0-9]{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md")
SECTIONS = ("## Status", "## Context", "## Decision", "## Consequences")
DATE = re.compile(r"Date: [0-9]{4}-[0-9]{2}-[0-9]{2}")
STATUS = re.compile(r"(Proposed|Accepted|Deprecated|Superseded by [0-9]+)")
INDEX_ENTRY = re.compile(r"^(?P<number>[0-9]+)\. \[[^\]]+\]\((?P<file>[^)]+)\)$", re.MULTILINE)


def records() -> list[Path]:
    return sorted(path for path in DECISIONS.glob("*.md") if path != INDEX)


def record_problems(path: Path) -> list[str]:
    """What the record lacks: a numbered name and title, a date, its sections in order, a status."""
    match = RECORD_NAME.fullmatch(path.name)
    if match is None:
        return [f"{path.name}: name it NNNN-short-title.md"]
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    if not lines or not lines[0].startswith(f"# {int(match['number'])}. "):
        found.append(f"{path.name}: the first line must be '# {int(match['number'])}. <title>'")
    if not any(DATE.fullmatch(line) for line in lines):
        found.append(f"{path.name}: no 'Date: YYYY-MM-DD' line")
    positions = [lines.index(s) if s in lines else -1 for s in SECTIONS]
    missing = [s for s, at in zip(SECTIONS, positions, strict=True) if at < 0]
    if missing:
        found.append(f"{path.name}: missing {', '.join(missing)}")
    elif positions != sorted(positions):
        found.append(f"{path.name}: sections out of order, want {', '.join(SECTIONS)}")
    else:
        status = next((line for line in lines[positions[0] + 1 :] if line.strip()), "")
        if not STATUS.fullmatch(status):
            found.append(f"{path.name}: status {status!r} is not Accepted, Superseded by N, ...")
    return found


def index_problems(index: str, names: list[str]) -> list[str]:
    """Records missing from the index, entries naming no record, numbers out of step."""
    entries = INDEX_ENTRY.findall(index)
    listed = [file for _, file in entries]
    found = [
        f"{name} is not listed in docs/decisions/README.md" for name in names if name not in listed
    ]
    found += [
        f"docs/decisions/README.md lists {file}, which does not exist"
        for file in listed
        if file not in names
    ]
    for number, file in entries:
        if (match := RECORD_NAME.fullmatch(file)) and int(match["number"]) != int(number):
            found.append(f"docs/decisions/README.md numbers {file} as {number}")
    return found


def test_there_are_records_numbered_from_one_without_gaps() -> None:
    names = [path.name for path in records()]
    numbers = [int(name[:4]) for name in names if RECORD_NAME.fullmatch(name)]
    assert len(numbers) == len(names), "name each record NNNN-short-title.md"
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("path", records(), ids=lambda path: path.name)
def test_each_record_has_its_sections(path: Path) -> None:
    assert record_problems(path) == []


def test_the_index_lists_exactly_the_records() -> None:
    index = INDEX.read_text(encoding="utf-8")
    assert index_problems(index, [path.name for path in records()]) == []


def test_the_checks_catch_a_forgotten_record_and_a_missing_section(tmp_path: Path) -> None:
    record = tmp_path / "0008-something-new.md"
    record.write_text(
        "# 8. Something new\n\nDate: 2026-11-26\n\n## Status\n\nAccepted\n\n## Context\n"
    )
    assert record_problems(record) == [
        "0008-something-new.md: missing ## Decision, ## Consequences"
    ]
    index = INDEX.read_text(encoding="utf-8")
    names = [path.name for path in records()]
    assert index_problems(index, [*names, record.name]) == [
        "0008-something-new.md is not listed in docs/decisions/README.md"
    ]
    assert index_problems(index + "\n9. [Gone](0009-gone.md)\n", names) == [
        "docs/decisions/README.md lists 0009-gone.md, which does not exist"
    ]


def test_the_repository_readme_points_to_the_decisions() -> None:
    assert "docs/decisions/" in (REPO / "README.md").read_text(encoding="utf-8")

"""The combination matrix itself: complete where the issue asks, pairwise everywhere else."""

from __future__ import annotations

import itertools

from combos import (
    ARCHITECTURES,
    BACKUP_MODES,
    LAYOUTS,
    LICENSES,
    MATRIX,
    MOUNT_SETS,
    MOUNTS,
    PERSISTENCE,
    PERSISTENCE_SETS,
    PYTHON_VERSIONS,
    TOOL_COMBOS,
    WRITABLE_MODES,
    Combo,
)
from conftest import questions


def features(combo: Combo) -> dict[str, object]:
    values: dict[str, object] = {
        "backup_mode": combo.backup_mode,
        "layout": combo.layout,
        "architectures": combo.architectures,
        "python_version": combo.python_version,
        "writable_mode": combo.writable_mode,
        "license": combo.license,
    }
    values |= {f"mount:{m}": m in combo.mounts for m in MOUNTS}
    values |= {f"persistence:{p}": p in combo.persistence for p in PERSISTENCE}
    return values


def test_every_mount_and_persistence_subset_is_rendered() -> None:
    assert len(MOUNT_SETS) == 64
    assert len(PERSISTENCE_SETS) == 7
    assert {(c.mounts, c.persistence) for c in MATRIX} == set(
        itertools.product(MOUNT_SETS, PERSISTENCE_SETS)
    )


def test_matrix_covers_every_pair_of_values() -> None:
    domains = (
        {
            "backup_mode": set(BACKUP_MODES),
            "layout": set(LAYOUTS),
            "architectures": set(ARCHITECTURES),
            "python_version": set(PYTHON_VERSIONS),
            "writable_mode": set(WRITABLE_MODES),
            "license": set(LICENSES),
        }
        | {f"mount:{m}": {True, False} for m in MOUNTS}
        | {f"persistence:{p}": {True, False} for p in PERSISTENCE}
    )
    seen = {(a, b): set() for a, b in itertools.combinations(sorted(domains), 2)}
    for combo in MATRIX:
        values = features(combo)
        for a, b in seen:
            seen[(a, b)].add((values[a], values[b]))
    for (a, b), pairs in seen.items():
        assert pairs == set(itertools.product(domains[a], domains[b])), (a, b)


def test_tool_combos_cover_every_mount_pattern_and_backup_mode() -> None:
    pairs = {(m, c.backup_mode) for c in TOOL_COMBOS for m in c.mounts}
    assert pairs == set(itertools.product(MOUNTS, BACKUP_MODES))
    patterns = {(p, c.backup_mode) for c in TOOL_COMBOS for p in c.persistence}
    assert patterns == set(itertools.product(PERSISTENCE, BACKUP_MODES))
    assert any(not c.mounts for c in TOOL_COMBOS)
    assert any(c.mounts == MOUNTS and c.persistence == PERSISTENCE for c in TOOL_COMBOS)


def test_combo_answers_are_questions() -> None:
    for combo in MATRIX + TOOL_COMBOS:
        assert set(combo.answers()) <= questions()

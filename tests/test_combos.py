"""The combination matrix itself: complete where the issue asks, pairwise everywhere else."""

from __future__ import annotations

import itertools
import re

import jinja2

from combos import (
    ARCHITECTURES,
    BACKUP_MODES,
    LAYOUTS,
    LICENSES,
    LONG_SLUG,
    LONG_SLUG_COMBOS,
    MATRIX,
    MOUNT_SETS,
    MOUNTS,
    PERSISTENCE,
    PERSISTENCE_SETS,
    PYTEST_COMBOS,
    PYTHON_VERSIONS,
    TOOL_COMBOS,
    WRITABLE_MODES,
    Combo,
)
from conftest import REPO, copier_config, includes_environment, questions


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
    for combo in MATRIX + TOOL_COMBOS + LONG_SLUG_COMBOS:
        assert set(combo.answers()) <= questions()


def test_long_slug_is_the_longest_the_slug_question_accepts() -> None:
    validator = includes_environment().from_string(copier_config()["slug"]["validator"])
    assert validator.render(slug=LONG_SLUG).strip() == ""
    assert validator.render(slug=LONG_SLUG + "x").strip() != ""
    assert all(combo.slug == LONG_SLUG for combo in LONG_SLUG_COMBOS)
    assert len({combo.id for combo in TOOL_COMBOS + LONG_SLUG_COMBOS}) == len(TOOL_COMBOS) + 3


ADDON = REPO / "template" / "{{ slug }}"
# The Jinja conditions of what the add-on's pytest runs: its modules, its tests, their names, and
# the includes they import that hold conditions.
PYTEST_SOURCES = ("src", "tests")
PYTEST_INCLUDES = ("options.jinja",)
TAG = re.compile(r"\{%-?\s*(if|elif|else|endif)\b(.*?)-?%\}", re.DOTALL)


def branch_conditions(text: str, path: str = "true") -> list[str]:
    """Every way through each if/elif/else of a template (rendered where `path` holds), as one
    Jinja expression each: the conditions of the enclosing blocks, this branch's test, and not the
    tests before it; an `if` without `else` also has the way that skips it."""
    found: list[str] = []
    stack: list[tuple[str, list[str], bool]] = []  # (enclosing path, tests so far, has else)
    for kind, test in TAG.findall(text):
        test = test.strip()
        if kind == "if":
            stack.append((path, [test], False))
        elif kind == "elif":
            outer, tests, _ = stack[-1]
            tests.append(test)
        elif kind == "else":
            outer, tests, _ = stack[-1]
            stack[-1] = (outer, tests, True)
        else:
            outer, tests, _ = stack.pop()
            found.append(f"({outer}) and not ({' or '.join(tests)})")
            path = outer
            continue
        outer, tests, has_else = stack[-1]
        if has_else:
            path = f"({outer}) and not ({' or '.join(tests)})"
        else:
            earlier = tests[:-1]
            path = f"({outer}) and ({tests[-1]})" + "".join(f" and not ({t})" for t in earlier)
            found.append(path)
    assert not stack, "unbalanced if/endif"
    return found


def pytest_conditions() -> set[str]:
    """The branches of every file the add-on's pytest runs; a file's own are taken where its
    name's condition holds (a module that is rendered at all)."""
    found = set()
    for folder in PYTEST_SOURCES:
        for path in sorted((ADDON / folder).rglob("*")):
            name = str(path.relative_to(ADDON))
            found |= set(branch_conditions(name))
            if path.is_file():
                tests = [f"({test.strip()})" for kind, test in TAG.findall(name) if kind == "if"]
                rendered = " and ".join(["true", *tests])
                found |= set(branch_conditions(path.read_text(encoding="utf-8"), rendered))
    for include in PYTEST_INCLUDES:
        found |= set(branch_conditions((REPO / "includes" / include).read_text(encoding="utf-8")))
    return found


def answers_in_template(combo: Combo) -> dict[str, object]:
    """The names the conditions use, as copier.yml and includes/mounts.jinja compute them."""
    return combo.answers() | {
        "writable_mounts": list(combo.writable),
        "hot_sqlite": combo.hot_sqlite,
        "chosen_mounts": list(combo.mounts),
    }


def test_pytest_combos_cover_every_condition_of_the_addon_code() -> None:
    """Every branch of the add-on's modules and tests (and every block left out) is rendered in
    at least one combination whose pytest suite runs (combos.PYTEST_COMBOS)."""
    assert all(combo in TOOL_COMBOS for combo in PYTEST_COMBOS)
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    conditions = pytest_conditions()
    assert any("hot_sqlite" in c for c in conditions)  # the scan found the add-on's conditions
    uncovered = [
        condition
        for condition in sorted(conditions)
        if not any(
            environment.compile_expression(condition)(**answers_in_template(combo))
            for combo in PYTEST_COMBOS
        )
    ]
    assert uncovered == [], "rendered in no PYTEST_COMBOS: " + "; ".join(uncovered)


def test_branch_conditions_reads_if_elif_else() -> None:
    text = "{% if a %}1{% if b %}2{% endif %}{% elif c %}3{% else %}4{% endif %}"
    assert branch_conditions(text) == [
        "(true) and (a)",
        "((true) and (a)) and (b)",
        "((true) and (a)) and not (b)",
        "(true) and (c) and not (a)",
        "(true) and not (a or c)",
    ]

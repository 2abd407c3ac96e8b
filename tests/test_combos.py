"""The combination matrix itself: complete where the issue asks, pairwise everywhere else. Built
from copier.yml's choices, and as complete for a questionnaire with one more mount and pattern."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re

import jinja2
import pytest

from combos import (
    CHOICES,
    DEFAULT_WRITABLE,
    LONG_SLUG,
    LONG_SLUG_COMBOS,
    MATRIX,
    PYTEST_COMBOS,
    TOOL_COMBOS,
    WEB_UIS,
    WRITABLE_MODES,
    Choices,
    Combo,
    build_matrix,
    build_pytest_combos,
    build_tool_combos,
    id_letters,
)
from conftest import REPO, choice_values, copier_config, includes_environment, questions
from questionnaire import default


def unused(name: str, taken: tuple[str, ...]) -> str:
    """name, or name with a number, so that it is not one of taken (the table may have grown)."""
    return next(f"{name}{n or ''}" for n in itertools.count() if f"{name}{n or ''}" not in taken)


# copier.yml's choices, and the same with one more row in the mount and the persistence table (a
# real Supervisor map type; a pattern whose first letter is taken): the builders must give both a
# complete matrix and covering sets.
GROWN = dataclasses.replace(
    CHOICES,
    mounts=(*CHOICES.mounts, unused("all_addon_configs", CHOICES.mounts)),
    persistence=(*CHOICES.persistence, unused("journal", CHOICES.persistence)),
)
QUESTIONNAIRES = {
    "copier.yml": CHOICES,
    "one-more-mount": dataclasses.replace(GROWN, persistence=CHOICES.persistence),
    "one-more-pattern": dataclasses.replace(GROWN, mounts=CHOICES.mounts),
    "one-more-of-each": GROWN,
}


@dataclasses.dataclass(frozen=True)
class Built:
    """The combinations built from one questionnaire."""

    choices: Choices
    matrix: list[Combo]
    tool_combos: list[Combo]
    pytest_combos: list[Combo]


@functools.cache
def built(name: str) -> Built:
    choices = QUESTIONNAIRES[name]
    if choices is CHOICES:
        return Built(choices, MATRIX, TOOL_COMBOS, PYTEST_COMBOS)
    tool_combos = build_tool_combos(choices)
    return Built(choices, build_matrix(choices), tool_combos, build_pytest_combos(tool_combos))


questionnaires = pytest.mark.parametrize("name", QUESTIONNAIRES)


def features(combo: Combo, choices: Choices) -> dict[str, object]:
    values: dict[str, object] = {
        "backup_mode": combo.backup_mode,
        "layout": combo.layout,
        "architectures": combo.architectures,
        "python_version": combo.python_version,
        "writable_mode": combo.writable_mode,
        "license": combo.license,
        "web_ui": combo.web_ui,
    }
    values |= {f"mount:{m}": m in combo.mounts for m in choices.mounts}
    values |= {f"persistence:{p}": p in combo.persistence for p in choices.persistence}
    return values


def test_the_combinations_are_built_from_copier_yml() -> None:
    assert CHOICES.mounts == tuple(choice_values("mounts"))
    assert CHOICES.persistence == tuple(choice_values("persistence"))
    assert CHOICES.python_versions == tuple(choice_values("python_version"))
    assert set(WEB_UIS) == set(choice_values("web_ui"))
    assert WEB_UIS[0] == copier_config()["web_ui"]["default"]
    assert {a for answer in CHOICES.architectures for a in answer} == set(
        choice_values("architectures")
    )
    assert CHOICES.architectures[0] == tuple(copier_config()["architectures"]["default"])
    assert set(DEFAULT_WRITABLE) == set(default("writable_mounts", mounts=list(CHOICES.mounts)))
    assert len(CHOICES.mounts) == len(GROWN.mounts) - 1  # GROWN grows the real questionnaire


@questionnaires
def test_every_mount_and_persistence_subset_is_rendered(name: str) -> None:
    matrix, choices = built(name).matrix, built(name).choices
    mount_sets, persistence_sets = choices.mount_sets(), choices.persistence_sets()
    assert len(set(mount_sets)) == 2 ** len(choices.mounts)
    assert len(set(persistence_sets)) == 2 ** len(choices.persistence) - 1
    assert len(matrix) == len(mount_sets) * len(persistence_sets)
    assert {(c.mounts, c.persistence) for c in matrix} == set(
        itertools.product(mount_sets, persistence_sets)
    )


@questionnaires
def test_matrix_covers_every_pair_of_values(name: str) -> None:
    choices = built(name).choices
    domains = (
        {
            "backup_mode": set(choices.backup_modes),
            "layout": set(choices.layouts),
            "architectures": set(choices.architectures),
            "python_version": set(choices.python_versions),
            "writable_mode": set(WRITABLE_MODES),
            "license": set(choices.licenses),
            "web_ui": set(choices.web_uis),
        }
        | {f"mount:{m}": {True, False} for m in choices.mounts}
        | {f"persistence:{p}": {True, False} for p in choices.persistence}
    )
    seen = {(a, b): set() for a, b in itertools.combinations(sorted(domains), 2)}
    for combo in built(name).matrix:
        values = features(combo, choices)
        for a, b in seen:
            seen[(a, b)].add((values[a], values[b]))
    for (a, b), pairs in seen.items():
        assert pairs == set(itertools.product(domains[a], domains[b])), (a, b)


@questionnaires
def test_tool_combos_cover_every_mount_pattern_and_backup_mode(name: str) -> None:
    """All off; all on; and beside them, each mount (among some, not all) and each pattern (alone)
    in every backup mode."""
    choices, tool_combos = built(name).choices, built(name).tool_combos
    assert any(not c.mounts for c in tool_combos)
    everything = (choices.mounts, choices.persistence)
    assert any((c.mounts, c.persistence) == everything for c in tool_combos)
    some = [c for c in tool_combos if 0 < len(c.mounts) < len(choices.mounts)]
    pairs = {(m, c.backup_mode) for c in some for m in c.mounts}
    assert pairs == set(itertools.product(choices.mounts, choices.backup_modes))
    alone = {(c.persistence, c.backup_mode) for c in tool_combos if len(c.persistence) == 1}
    patterns = {((p,), mode) for p in choices.persistence for mode in choices.backup_modes}
    assert patterns <= alone


@questionnaires
def test_the_web_ui_runs_its_own_checks_beside_every_store(name: str) -> None:
    """The one tool combination with a web UI has every mount writable and every pattern (layout
    app), so the add-on's ruff, mypy and pytest see its server beside every store; the others have
    none, as before the question existed."""
    choices, tool_combos = built(name).choices, built(name).tool_combos
    with_ui = [c for c in tool_combos if c.web_ui != choices.web_uis[0]]
    assert [(c.web_ui, c.mounts, c.writable, c.persistence, c.layout) for c in with_ui] == [
        (choices.web_uis[-1], choices.mounts, choices.mounts, choices.persistence, "app")
    ]
    assert with_ui[0] is tool_combos[1] and with_ui[0] in built(name).pytest_combos


@questionnaires
def test_pytest_combos_put_each_answer_both_ways(name: str) -> None:
    """What the add-on's code can depend on, each way in some PYTEST_COMBO: each mount absent,
    read-only and writable; each pattern on and off; hot SQLite or not; no mounts at all; each
    web UI.
    (test_pytest_combos_cover_every_condition_of_the_addon_code reads the real conditions.)"""
    choices, pytest_combos = built(name).choices, built(name).pytest_combos
    assert all(combo in built(name).tool_combos for combo in pytest_combos)
    seen = set()
    for combo in pytest_combos:
        seen |= {("mount", m, m in combo.writable) for m in combo.mounts}
        seen |= {("absent", m) for m in choices.mounts if m not in combo.mounts}
        seen |= {("pattern", p, p in combo.persistence) for p in choices.persistence}
        seen |= {("hot_sqlite", combo.hot_sqlite), ("no mounts", not combo.mounts)}
        seen |= {("web_ui", combo.web_ui)}
    expected = {("hot_sqlite", True), ("hot_sqlite", False), ("no mounts", True)}
    expected |= {("web_ui", web_ui) for web_ui in choices.web_uis}
    expected |= {("no mounts", False)}
    expected |= {("mount", m, w) for m in choices.mounts for w in (True, False)}
    expected |= {("absent", m) for m in choices.mounts}
    expected |= {("pattern", p, on) for p in choices.persistence for on in (True, False)}
    assert expected - seen == set()


@questionnaires
def test_every_combination_has_its_own_id(name: str) -> None:
    """Short ids name each mount and pattern by a letter of its own; a row added to a table
    changes none of the ids of copier.yml's rows (the names GROWN adds do not take their
    letters)."""
    choices = built(name).choices
    letters = choices.letters
    assert set(letters) == set(choices.mounts + choices.persistence)
    for question in (choices.mounts, choices.persistence):
        assert len({letters[choice] for choice in question}) == len(question)
    assert CHOICES.letters.items() <= letters.items()
    for combos in (built(name).matrix, built(name).tool_combos):
        ids = [choices.id_of(combo) for combo in combos]
        assert len(set(ids)) == len(ids)


def test_letters_are_unique_within_each_question() -> None:
    for question in (CHOICES.mounts, CHOICES.persistence):
        letters = [CHOICES.letters[name] for name in question]
        assert len(set(letters)) == len(letters), letters


def test_id_letters_take_a_free_letter_of_the_name_or_any_free_one() -> None:
    assert id_letters(["share", "ssl", "sqlite", "sls"]) == {
        "share": "S", "ssl": "L", "sqlite": "Q", "sls": "A",
    }  # fmt: skip
    names = [f"n{i}" for i in range(36)]
    assert len(set(id_letters(names).values())) == 36
    with pytest.raises(ValueError, match="no letter left for 'n36'"):
        id_letters([*names, "n36"])


def test_combo_answers_are_questions_and_choices() -> None:
    offered = {
        question: set(choice_values(question))
        for question in ("mounts", "persistence", "backup_mode", "layout", "architectures",
                         "python_version", "license", "web_ui")
    }  # fmt: skip
    for combo in MATRIX + TOOL_COMBOS + LONG_SLUG_COMBOS:
        answers = combo.answers()
        assert set(answers) <= questions()
        for question, values in offered.items():
            answer = answers[question]
            assert set(answer if isinstance(answer, list) else [answer]) <= values, question


def test_combos_compute_what_copier_yml_computes() -> None:
    """Combo.writable and Combo.hot_sqlite, the tests' expectations, agree with copier.yml's
    writable_mounts default and computed hot_sqlite for every combination."""
    for combo in MATRIX:
        answers = combo.answers()
        assert combo.hot_sqlite == default("hot_sqlite", **answers), combo.id
        if combo.writable_mode == "default":
            assert list(combo.writable) == default("writable_mounts", **answers), combo.id


def test_long_slug_is_the_longest_the_slug_question_accepts() -> None:
    validator = includes_environment().from_string(copier_config()["slug"]["validator"])
    assert validator.render(slug=LONG_SLUG).strip() == ""
    assert validator.render(slug=LONG_SLUG + "x").strip() != ""
    assert all(combo.slug == LONG_SLUG for combo in LONG_SLUG_COMBOS)
    assert len({combo.id for combo in TOOL_COMBOS + LONG_SLUG_COMBOS}) == len(TOOL_COMBOS) + 3


ADDON = REPO / "template" / "{{ slug }}"
# The Jinja conditions of what the add-on's pytest runs: its modules, its tests, the files
# includes/files.jinja leaves out, and the includes they import that hold conditions.
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
    """The branches of every file the add-on's pytest runs; a file's own are taken where it is
    rendered at all: where includes/files.jinja does not leave it out (`left_out`)."""
    found = set()
    for folder in PYTEST_SOURCES:
        for path in sorted((ADDON / folder).rglob("*")):
            if path.is_file():
                name = str(path.relative_to(ADDON)).removesuffix(".jinja")
                spelled = name.replace("{{ slug }}", "' ~ slug ~ '")  # a Jinja expression
                rendered = f"('{spelled}' not in left_out)"
                found |= set(branch_conditions(path.read_text(encoding="utf-8"), rendered))
    for include in PYTEST_INCLUDES:
        found |= set(branch_conditions((REPO / "includes" / include).read_text(encoding="utf-8")))
    return found


def answers_in_template(combo: Combo) -> dict[str, object]:
    """The names the conditions use, as copier.yml and includes/mounts.jinja compute them, and
    the add-on files includes/files.jinja leaves out (`left_out`)."""
    answers = combo.answers() | {"slug": combo.slug}
    answers.setdefault("writable_mounts", default("writable_mounts", **answers))
    answers |= {
        "hot_sqlite": default("hot_sqlite", **answers),
        "chosen_mounts": list(combo.mounts),
    }
    files = includes_environment().get_template("includes/files.jinja").make_module(answers)
    return answers | {"left_out": list(files.ADDON_FILES)}


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

"""The answer combinations the suite renders, built from copier.yml's choices.

Every subset of `mounts` times every non-empty subset of `persistence` is rendered once (64 x 7
today). The other questions cycle through all their value combinations across those renders,
which covers every pair of values (test_combos checks it). TOOL_COMBOS is the smaller covering
set whose add-ons also run their own ruff, mypy and pytest; PYTEST_COMBOS the part of it that runs
pytest. The builders take the choices as a parameter, so test_combos can check that a
questionnaire with more mounts or patterns still gets a complete matrix and covering sets.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from questionnaire import choice_values, default

# How writable_mounts is answered: left to its default, all mounts, or none.
WRITABLE_MODES = ("default", "all", "none")


def _default(question: str) -> Any:
    value = default(question)
    return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Combo:
    """One set of answers, with what the rendered add-on must therefore contain. What is not
    given is copier.yml's default."""

    mounts: tuple[str, ...]
    persistence: tuple[str, ...]
    backup_mode: str = _default("backup_mode")
    layout: str = _default("layout")
    architectures: tuple[str, ...] = _default("architectures")
    python_version: str = _default("python_version")
    writable_mode: str = "default"
    license: str = _default("license")
    web_ui: str = _default("web_ui")
    name: str = "Storage Demo"
    # Further answers, such as a slug; they make a different combination (and render).
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def writable(self) -> tuple[str, ...]:
        if self.writable_mode == "all":
            return self.mounts
        if self.writable_mode == "none":
            return ()
        return tuple(m for m in self.mounts if m in DEFAULT_WRITABLE)

    @property
    def hot_sqlite(self) -> bool:
        return self.backup_mode == "hot" and "sqlite" in self.persistence

    @property
    def slug(self) -> str:
        return str(self.extra.get("slug", "storage_demo"))

    def answers(self) -> dict[str, Any]:
        """The answers as passed to copier (`-d`)."""
        answers: dict[str, Any] = {
            "name": self.name,
            "mounts": list(self.mounts),
            "persistence": list(self.persistence),
            "backup_mode": self.backup_mode,
            "layout": self.layout,
            "architectures": list(self.architectures),
            "python_version": self.python_version,
            "license": self.license,
            "web_ui": self.web_ui,
        }
        if self.writable_mode != "default" and self.mounts:
            answers["writable_mounts"] = list(self.writable)
        return answers | self.extra

    @property
    def id(self) -> str:
        return CHOICES.id_of(self)


def id_letters(names: Iterable[str]) -> dict[str, str]:
    """One letter per choice of one question, unique, for short test ids: in order, the first
    letter of each name that no earlier name took (share S, then ssl L), else the first free
    letter or digit. A row added at the end of a table changes no letter of the rows before it,
    and the questions' letters are independent (ids say m<mounts>-p<patterns>)."""
    letters: dict[str, str] = {}
    for name in names:
        free = [c for c in string.ascii_uppercase + string.digits if c not in letters.values()]
        own = [c for c in name.upper() if c in free]
        if not free:
            raise ValueError(f"no letter left for {name!r}: too many choices for short ids")
        letters[name] = (own or free)[0]
    return letters


def _subsets(items: tuple[str, ...], *, empty: bool) -> list[tuple[str, ...]]:
    sizes = range(0 if empty else 1, len(items) + 1)
    return [combo for size in sizes for combo in itertools.combinations(items, size)]


@dataclass(frozen=True)
class Choices:
    """The values of each question the combinations vary, in copier.yml's order."""

    mounts: tuple[str, ...]
    persistence: tuple[str, ...]
    backup_modes: tuple[str, ...]
    layouts: tuple[str, ...]
    # Each answer of the multiple choice: copier.yml's default first, then the others.
    architectures: tuple[tuple[str, ...], ...]
    python_versions: tuple[str, ...]
    licenses: tuple[str, ...]
    # copier.yml's default first: the matrix starts with today's renders.
    web_uis: tuple[str, ...]
    # The mounts writable_mounts preselects (its default with every mount chosen).
    default_writable: tuple[str, ...]

    @classmethod
    def of_template(cls) -> Choices:
        def values(question: str) -> tuple[str, ...]:
            return tuple(choice_values(question))

        architectures = _subsets(values("architectures"), empty=False)
        preset = _default("architectures")
        no_web_ui = _default("web_ui")
        mounts = values("mounts")
        return cls(
            mounts=mounts,
            persistence=values("persistence"),
            backup_modes=values("backup_mode"),
            layouts=values("layout"),
            architectures=(preset, *(a for a in architectures if a != preset)),
            python_versions=values("python_version"),
            licenses=values("license"),
            web_uis=(no_web_ui, *(v for v in values("web_ui") if v != no_web_ui)),
            default_writable=tuple(default("writable_mounts", mounts=list(mounts))),
        )

    @functools.cached_property
    def letters(self) -> dict[str, str]:
        """The id letter of each mount and pattern, unique within its question."""
        return id_letters(self.mounts) | id_letters(self.persistence)

    def id_of(self, combo: Combo) -> str:
        letters = self.letters
        mounts = "".join(letters[m] for m in combo.mounts) or "0"
        persistence = "".join(letters[p] for p in combo.persistence)
        arch = "+".join(a[:2] for a in combo.architectures)
        extra = "".join(f"-{key}{len(str(value))}" for key, value in sorted(combo.extra.items()))
        # Only a web UI other than copier.yml's default is named: the other ids stay as they were.
        web_ui = f"-{combo.web_ui}" if combo.web_ui != self.web_uis[0] else ""
        return (
            f"m{mounts}-p{persistence}-{combo.backup_mode}-{combo.layout[:4]}-{arch}"
            f"-py{combo.python_version.replace('.', '')}-w{combo.writable_mode[:3]}"
            f"-l{combo.license[:3]}{web_ui}{extra}"
        )

    def mount_sets(self) -> list[tuple[str, ...]]:
        return _subsets(self.mounts, empty=True)

    def persistence_sets(self) -> list[tuple[str, ...]]:
        return _subsets(self.persistence, empty=False)


def build_matrix(choices: Choices) -> list[Combo]:
    """Every mount subset with every persistence subset; the other questions cycle through their
    value combinations alongside. web_ui varies slowest (the first factor): each of its values
    takes a whole cycle of the others in turn, so the other answers of each row, and its id, are
    those of a questionnaire without it."""
    others = list(
        itertools.product(
            choices.web_uis,
            choices.backup_modes,
            choices.layouts,
            choices.architectures,
            choices.python_versions,
            choices.licenses,
        )
    )
    combos = []
    sets = itertools.product(choices.mount_sets(), choices.persistence_sets())
    for index, (mounts, persistence) in enumerate(sets):
        web_ui, backup_mode, layout, architectures, python_version, license_ = others[
            index % len(others)
        ]
        combos.append(
            Combo(
                mounts=mounts,
                persistence=persistence,
                backup_mode=backup_mode,
                layout=layout,
                architectures=architectures,
                python_version=python_version,
                writable_mode=WRITABLE_MODES[(index // 5) % len(WRITABLE_MODES)],
                license=license_,
                web_ui=web_ui,
            )
        )
    return combos


def _pair(choices: Choices, i: int) -> tuple[str, ...]:
    """The i-th pair of mounts: two by two, those writable by default first (so that a pair
    answered with the default has both writable), starting over after the last."""
    mounts = choices.mounts
    ordered = [m for m in mounts if m in choices.default_writable]
    ordered += [m for m in mounts if m not in ordered]
    pair = {ordered[2 * i % len(ordered)], ordered[(2 * i + 1) % len(ordered)]} if mounts else set()
    return tuple(mount for mount in mounts if mount in pair)


def build_tool_combos(choices: Choices) -> list[Combo]:
    """Covering set for the expensive checks: all-off, all-on in both backup modes (every mount
    writable in one, read-only in the other), and each persistence pattern in both backup modes
    with a pair of mounts (patterns or pairs starting over until each has a row), so every mount
    and every pattern meets every backup mode. The all-writable row has the web UI (copier.yml's
    last choice, ingress), so the add-on's own checks run on its server code with every store
    beside it; the other rows keep copier.yml's default (none)."""
    mounts, patterns = choices.mounts, choices.persistence
    rows = max(len(patterns), (len(mounts) + 1) // 2)
    paired = [(_pair(choices, i), patterns[i % len(patterns)]) for i in range(rows)]
    return [
        Combo(mounts=(), persistence=patterns[:1]),
        Combo(
            mounts=mounts,
            persistence=patterns,
            layout="app",
            writable_mode="all",
            web_ui=choices.web_uis[-1],
        ),
        Combo(
            mounts=mounts,
            persistence=patterns,
            backup_mode="cold",
            python_version=choices.python_versions[-1],
            writable_mode="none",
        ),
        *(
            Combo(
                mounts=pair,
                persistence=(pattern,),
                backup_mode=mode,
                layout=choices.layouts[i % len(choices.layouts)],
                python_version=choices.python_versions[i % len(choices.python_versions)],
                writable_mode=WRITABLE_MODES[i % len(WRITABLE_MODES)],
            )
            for i, ((pair, pattern), mode) in enumerate(
                itertools.product(paired, choices.backup_modes)
            )
        ),
    ]


def build_pytest_combos(tool_combos: list[Combo]) -> list[Combo]:
    """The add-on's own pytest run, the slowest of the checks, needs fewer: its code differs
    between combinations only where the Jinja conditions of its modules and tests do (which
    modules exist; each pattern on or off; sqlite hot or cold; each mount writable, read-only or
    absent; no mounts at all), and those blocks are independent of one another. These four put
    each side of every such condition in at least one run (test_combos checks it against the
    template's conditions); the layout and the Python version change nothing that pytest runs.
    ruff and mypy still see every TOOL_COMBO."""
    no_mounts, all_writable, all_read_only = tool_combos[:3]
    # Every pattern is in two of those three: the pair with hot SQLite alone leaves the others out.
    hot_sqlite_alone = next(c for c in tool_combos[3:] if c.hot_sqlite)
    return [no_mounts, all_writable, all_read_only, hot_sqlite_alone]


CHOICES = Choices.of_template()
MOUNTS = CHOICES.mounts
PERSISTENCE = CHOICES.persistence
BACKUP_MODES = CHOICES.backup_modes
LAYOUTS = CHOICES.layouts
ARCHITECTURES = CHOICES.architectures
PYTHON_VERSIONS = CHOICES.python_versions
LICENSES = CHOICES.licenses
WEB_UIS = CHOICES.web_uis
DEFAULT_WRITABLE = CHOICES.default_writable
MOUNT_SETS = CHOICES.mount_sets()
PERSISTENCE_SETS = CHOICES.persistence_sets()
MATRIX = build_matrix(CHOICES)
TOOL_COMBOS = build_tool_combos(CHOICES)
PYTEST_COMBOS = build_pytest_combos(TOOL_COMBOS)

# The longest slug copier.yml accepts. The slug is in import lines, commands and strings of the
# add-on's code, so its ruff runs once more with it, where the code differs most: every
# mount writable with every pattern (hot, layout app), every mount read-only (cold), no mounts.
LONG_SLUG = "a_very_long_slug_that_is_exactly_fifty_characters_"
LONG_SLUG_COMBOS = [
    dataclasses.replace(combo, extra={"slug": LONG_SLUG}) for combo in TOOL_COMBOS[:3]
]

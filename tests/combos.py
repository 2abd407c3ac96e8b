"""The answer combinations the suite renders.

Every subset of `mounts` (64) times every non-empty subset of `persistence` (7) is rendered
once. The other questions cycle through all their value combinations across those 448 renders,
which covers every pair of values (test_matrix_covers_every_pair_of_values checks it).
TOOL_COMBOS is the smaller covering set whose add-ons also run their own ruff, mypy and pytest.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

MOUNTS = ("addon_config", "homeassistant_config", "share", "ssl", "media", "backup")
PERSISTENCE = ("json_config", "sqlite", "state")
BACKUP_MODES = ("hot", "cold")
LAYOUTS = ("repository", "app")
ARCHITECTURES = (("aarch64", "amd64"), ("aarch64",), ("amd64",))
PYTHON_VERSIONS = ("3.14", "3.13", "3.12")
LICENSES = ("MIT", "Apache-2.0", "GPL-3.0-or-later", "none")
# How writable_mounts is answered: left to its default, all mounts, or none.
WRITABLE_MODES = ("default", "all", "none")
DEFAULT_WRITABLE = ("addon_config", "share")

_SHORT = {
    "addon_config": "A",
    "homeassistant_config": "H",
    "share": "S",
    "ssl": "L",
    "media": "M",
    "backup": "B",
    "json_config": "J",
    "sqlite": "Q",
    "state": "T",
}


@dataclass(frozen=True)
class Combo:
    """One set of answers, with what the rendered add-on must therefore contain."""

    mounts: tuple[str, ...]
    persistence: tuple[str, ...]
    backup_mode: str = "hot"
    layout: str = "repository"
    architectures: tuple[str, ...] = ("aarch64", "amd64")
    python_version: str = "3.14"
    writable_mode: str = "default"
    license: str = "MIT"
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
        }
        if self.writable_mode != "default" and self.mounts:
            answers["writable_mounts"] = list(self.writable)
        return answers | self.extra

    @property
    def id(self) -> str:
        mounts = "".join(_SHORT[m] for m in self.mounts) or "0"
        persistence = "".join(_SHORT[p] for p in self.persistence)
        arch = "+".join(a[:2] for a in self.architectures)
        extra = "".join(f"-{key}{len(str(value))}" for key, value in sorted(self.extra.items()))
        return (
            f"m{mounts}-p{persistence}-{self.backup_mode}-{self.layout[:4]}-{arch}"
            f"-py{self.python_version.replace('.', '')}-w{self.writable_mode[:3]}"
            f"-l{self.license[:3]}{extra}"
        )


def _subsets(items: tuple[str, ...], *, empty: bool) -> list[tuple[str, ...]]:
    sizes = range(0 if empty else 1, len(items) + 1)
    return [combo for size in sizes for combo in itertools.combinations(items, size)]


MOUNT_SETS = _subsets(MOUNTS, empty=True)
PERSISTENCE_SETS = _subsets(PERSISTENCE, empty=False)
_OTHERS = list(itertools.product(BACKUP_MODES, LAYOUTS, ARCHITECTURES, PYTHON_VERSIONS, LICENSES))


def _matrix() -> list[Combo]:
    combos = []
    for index, (mounts, persistence) in enumerate(itertools.product(MOUNT_SETS, PERSISTENCE_SETS)):
        backup_mode, layout, architectures, python_version, license_ = _OTHERS[index % len(_OTHERS)]
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
            )
        )
    return combos


MATRIX = _matrix()

# Covering set for the expensive checks: all-off, all-on in both backup modes (every mount writable
# in one, read-only in the other), and each persistence pattern in both backup modes with a pair of
# mounts, so every mount meets every backup mode.
_PAIRS = (("addon_config", "share"), ("homeassistant_config", "ssl"), ("media", "backup"))
TOOL_COMBOS = [
    Combo(mounts=(), persistence=("json_config",)),
    Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app", writable_mode="all"),
    Combo(
        mounts=MOUNTS,
        persistence=PERSISTENCE,
        backup_mode="cold",
        python_version="3.12",
        writable_mode="none",
    ),
    *(
        Combo(
            mounts=pair,
            persistence=(pattern,),
            backup_mode=mode,
            layout=LAYOUTS[i % 2],
            python_version=PYTHON_VERSIONS[i % 3],
            writable_mode=WRITABLE_MODES[i % 3],
        )
        for i, (pair, pattern, mode) in enumerate(
            (pair, pattern, mode)
            for (pair, pattern) in zip(_PAIRS, PERSISTENCE, strict=True)
            for mode in BACKUP_MODES
        )
    ),
]

# The add-on's own pytest run, the slowest of the checks, needs fewer: its code differs between
# combinations only where the Jinja conditions of its modules and tests do (which modules exist;
# json_config, state and sqlite each on or off; sqlite hot or cold; addon_config and share
# writable, read-only or absent; no mounts at all), and those blocks are independent of one
# another. These four put each side of every such condition in at least one run
# (test_combos.test_pytest_combos_cover_every_condition_of_the_addon_code checks it); the layout
# and the Python version change nothing that pytest runs. ruff and mypy still see every TOOL_COMBO.
PYTEST_COMBOS = [
    TOOL_COMBOS[0],  # no mounts; json_config alone
    TOOL_COMBOS[1],  # every mount writable; every persistence pattern, sqlite hot
    TOOL_COMBOS[2],  # every mount read-only; every persistence pattern, sqlite cold
    TOOL_COMBOS[5],  # sqlite hot alone: json_config and state off
]

# The longest slug copier.yml accepts. The slug is in import lines, commands and strings of the
# add-on's code, so its ruff and mypy run once more with it, where the code differs most: every
# mount writable with every pattern (hot, layout app), every mount read-only (cold), no mounts.
LONG_SLUG = "a_very_long_slug_that_is_exactly_fifty_characters_"
LONG_SLUG_COMBOS = [
    dataclasses.replace(combo, extra={"slug": LONG_SLUG}) for combo in TOOL_COMBOS[:3]
]

"""includes/files.jinja decides which answers govern which files: copier.yml's `_exclude` leaves
out exactly the files it names, in either layout, and can match no other file."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import copier._main
import pathspec
import pytest

from conftest import REPO, choice_values, copier_config, includes_environment

SLUG = "demo"
LAYOUTS = ("repository", "app")
# What copier names a file after rendering its path (the answers file's name included).
PATH_CONTEXT = {"slug": SLUG, "_copier_conf": {"answers_file": ".copier-answers.yml"}}
NOTHING = {
    "mounts": [], "persistence": [], "hot_sqlite": False, "license": "none", "web_ui": "none"
}  # fmt: skip
EVERYTHING = {"hot_sqlite": True, "license": "MIT", "web_ui": "ingress"}


def answers(layout: str, chosen: dict[str, Any]) -> dict[str, Any]:
    """What files.jinja sees: every mount and pattern unless chosen says otherwise."""
    everything = {"mounts": choice_values("mounts"), "persistence": choice_values("persistence")}
    base = {"slug": SLUG, "layout": layout, "license": "MIT", "hot_sqlite": False, "web_ui": "none"}
    return base | everything | chosen


def files_module(values: dict[str, Any]) -> Any:
    return includes_environment().get_template("includes/files.jinja").make_module(values)


def exclude_patterns(values: dict[str, Any]) -> list[str]:
    """copier.yml's `_exclude` entry that uses files.jinja, rendered and split at line breaks as
    copier 9.18+ does (copier/_main.py, Worker.match_exclude)."""
    (entry,) = [e for e in copier_config()["_exclude"] if "includes/files.jinja" in e]
    return includes_environment().from_string(entry).render(values).splitlines()


def destinations(layout: str) -> set[str]:
    """Every file the template can write in a layout, by its path in the destination."""
    root = REPO / "template"
    if layout == "app":
        root = root / "{{ slug }}"
    found = set()
    for path in root.rglob("*"):
        if path.is_file():
            parts = [
                includes_environment().from_string(part).render(PATH_CONTEXT, layout=layout)
                for part in path.relative_to(root).parts
            ]
            if all(parts):  # copier writes no file whose path renders empty
                found.add(PurePosixPath(*parts).as_posix().removesuffix(".jinja"))
    return found


def matched(patterns: list[str], paths: set[str]) -> set[str]:
    # The pattern syntax copier uses for _exclude (copier/_main.py, Worker._path_matcher).
    spec = pathspec.PathSpec.from_lines(copier._main._pathspec_pattern, patterns)
    return {path for path in paths if spec.match_file(path)}


def left_out(layout: str, values: dict[str, Any]) -> set[str]:
    """The destination paths of what files.jinja says to leave out (a folder: its files)."""
    module = files_module(values)
    addon = f"{SLUG}/" if layout == "repository" else ""
    named = {addon + path for path in module.ADDON_FILES}
    if layout == "repository":
        named |= set(module.REPOSITORY_FILES)
    everywhere = destinations(layout)
    found = named & everywhere
    for folder in named - everywhere:
        inside = {path for path in everywhere if path.startswith(f"{folder}/")}
        assert inside, f"files.jinja names {folder}, which the template does not have"
        found |= inside
    return found


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "chosen", [NOTHING, EVERYTHING, {"mounts": ["ssl"]}], ids=["nothing", "everything", "ssl"]
)
def test_exclude_leaves_out_exactly_the_files_named(layout: str, chosen: dict[str, Any]) -> None:
    values = answers(layout, chosen)
    expected = left_out(layout, values)
    patterns = exclude_patterns(values)
    assert all(pattern.startswith("/") for pattern in patterns), patterns  # anchored at the root
    everywhere = destinations(layout)
    assert matched(patterns, everywhere) == expected
    # A file of the same name elsewhere is never left out.
    decoys = {PurePosixPath(path).name for path in expected} | {f"x/{path}" for path in expected}
    assert matched(patterns, decoys - expected) == set()


def test_nothing_chosen_leaves_out_every_optional_module_and_test() -> None:
    module = files_module(answers("app", NOTHING))
    for name in ("archives", "beneath", "hotbackup", "database", "settings", "state"):
        assert f"src/{SLUG}/{name}.py" in module.ADDON_FILES, name
    for name in ("swapper", "test_share", "test_hotbackup", "test_database"):
        assert f"tests/{name}.py" in module.ADDON_FILES, name
    assert "LICENSE" in module.ADDON_FILES
    assert f"src/{SLUG}/webui.py" in module.ADDON_FILES
    assert f"src/{SLUG}/static" in module.ADDON_FILES
    assert "tests/test_webui.py" in module.ADDON_FILES


def test_a_file_that_serves_several_rows_stays_while_one_is_chosen() -> None:
    ssl = files_module(answers("app", {"mounts": ["ssl"]})).ADDON_FILES
    assert f"src/{SLUG}/beneath.py" not in ssl
    assert f"src/{SLUG}/share.py" in ssl
    assert "tests/swapper.py" in ssl
    backup = files_module(answers("app", {"mounts": ["backup"]})).ADDON_FILES
    assert "tests/swapper.py" not in backup
    assert f"src/{SLUG}/beneath.py" in backup


def test_everything_chosen_leaves_out_only_the_other_layouts_license() -> None:
    assert left_out("repository", answers("repository", EVERYTHING)) == {f"{SLUG}/LICENSE"}
    assert left_out("app", answers("app", EVERYTHING)) == set()


def test_no_file_name_holds_a_condition() -> None:
    """Only files.jinja decides which files exist; a name may hold values (`{{ slug }}`). The one
    exception needs a value in its name: layout app's answers file."""
    conditional = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "template").rglob("*")
        if "{%" in path.name
    ]
    answers_file = "{% if layout == 'app' %}{{ _copier_conf.answers_file }}{% endif %}.jinja"
    assert conditional == ["template/{{ slug }}/" + answers_file]

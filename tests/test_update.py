"""copier update: releases as git tags, user edits kept, answers changed, never --trust.

Every test works on a temporary git repository of this template with two PEP 440 tags: 1.0.0 is
the template as it is in the working tree, 1.1.0 a synthetic next release that changes files the
user also edits and adds one. The license tests release the template as it is after a 1.0.0 made
without the `license` question. Nothing depends on this repository's own tags or state.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest
from copier.errors import UnsafeTemplateError

from combos import MOUNTS
from conftest import copier_config, copy, git
from rendered import load_yaml

pytestmark = pytest.mark.xdist_group("update")

ADDON = "{{ slug }}"
SLUG = "update_demo"
NEW_HEARTBEAT = "HEARTBEAT_SECONDS = 30.0"


def released_twice(repo: Path, template_snapshot: Path, change: Callable[[Path], None]) -> Path:
    """A git repository of the template: 1.0.0 as it is, 1.1.0 after change(add-on folder)."""
    shutil.copytree(template_snapshot, repo, dirs_exist_ok=True)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "release 1.0.0")
    git(repo, "tag", "1.0.0")
    change(repo / "template" / ADDON)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "release 1.1.0")
    git(repo, "tag", "1.1.0")
    return repo


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, path.name
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory, template_snapshot: Path) -> Path:
    def change(addon: Path) -> None:
        docs = addon / "DOCS.md.jinja"
        docs.write_text(docs.read_text() + "\n## Support\n\nOpen an issue in the repository.\n")
        replace_in(addon / "src" / "{{ slug }}" / "app.py.jinja", "HEARTBEAT_SECONDS = 60.0",
                   NEW_HEARTBEAT)  # fmt: skip
        (addon / "SECURITY.md").write_text("# Security\n\nReport vulnerabilities privately.\n")

    return released_twice(tmp_path_factory.mktemp("template-repo"), template_snapshot, change)


def generate(template: Path, destination: Path, ref: str = "1.0.0", **answers: Any) -> Path:
    """`copier copy` at a release, then commit the result as a user would."""
    copy(template, destination, vcs_ref=ref, **{"name": "Update Demo", **answers})
    if not (destination / ".git").exists() and not _inside_repo(destination):
        git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "generated")
    return destination


def _inside_repo(path: Path) -> bool:
    result = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"],
        cwd=path,
        capture_output=True,
        timeout=300,
        check=False,
    )
    return result.returncode == 0


def update(project: Path, ref: str = "1.1.0", **data: Any) -> None:
    """`copier update --skip-answered --defaults [-d ...]`, without --trust."""
    copier.run_update(
        project,
        data=data,
        defaults=True,
        overwrite=True,
        skip_answered=True,
        unsafe=False,
        vcs_ref=ref,
        quiet=True,
    )


def conflicts(project: Path) -> list[str]:
    status = git(project, "status", "--porcelain")
    return [line[3:] for line in status.splitlines() if line[:2] in ("UU", "AA", "DU", "UD")]


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def test_unmodified_project_updates_to_exactly_a_fresh_copy(
    template_repo: Path, tmp_path: Path
) -> None:
    answers = {"mounts": ["share", "ssl"], "persistence": ["sqlite", "state"]}
    project = generate(template_repo, tmp_path / "project", **answers)
    update(project)
    assert conflicts(project) == []
    fresh = generate(template_repo, tmp_path / "fresh", ref="1.1.0", **answers)
    assert tree(project) == tree(fresh)
    assert load_yaml(project / ".copier-answers.yml")["_commit"] == "1.1.0"


def test_user_edits_survive_the_update(template_repo: Path, tmp_path: Path) -> None:
    project = generate(template_repo, tmp_path / "project")
    addon = project / SLUG
    app = addon / "src" / SLUG / "app.py"
    app.write_text(app.read_text().replace('LOG.info("Started")', 'LOG.info("Started, my way")'))
    config = addon / "config.yaml"
    text = config.read_text()
    text = text.replace("options:\n", "options:\n  my_option: 1\n")
    config.write_text(text.replace("schema:\n", "schema:\n  my_option: int\n"))
    docs = addon / "DOCS.md"
    docs.write_text(docs.read_text().replace("## Configuration\n", "## Configuration (mine)\n"))
    changelog = addon / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "- My own change.\n")
    (addon / "README.md").unlink()
    git(project, "commit", "-q", "-am", "my edits")

    update(project)

    assert conflicts(project) == []
    assert 'LOG.info("Started, my way")' in app.read_text()
    assert NEW_HEARTBEAT in app.read_text()  # and the template's change to the same file
    loaded = load_yaml(config)
    assert loaded["options"]["my_option"] == 1
    assert loaded["schema"]["my_option"] == "int"
    assert "## Configuration (mine)" in docs.read_text()
    assert "## Support" in docs.read_text()
    assert changelog.read_text().endswith("- My own change.\n")
    assert not (addon / "README.md").exists()  # deleted stays deleted
    assert (addon / "SECURITY.md").is_file()  # new template files arrive


def test_a_true_conflict_is_an_ordinary_git_conflict(template_repo: Path, tmp_path: Path) -> None:
    project = generate(template_repo, tmp_path / "project")
    app = project / SLUG / "src" / SLUG / "app.py"
    app.write_text(app.read_text().replace("HEARTBEAT_SECONDS = 60.0", "HEARTBEAT_SECONDS = 15.0"))
    git(project, "commit", "-q", "-am", "faster heartbeat")
    update(project)
    assert conflicts(project) == [f"{SLUG}/src/{SLUG}/app.py"]
    text = app.read_text()
    assert "<<<<<<<" in text
    assert "HEARTBEAT_SECONDS = 15.0" in text
    assert NEW_HEARTBEAT in text
    assert ">>>>>>>" in text


def test_the_undo_that_the_message_gives_restores_the_last_commit(
    template_repo: Path, tmp_path: Path
) -> None:
    """The after-update message's undo, run verbatim after an update with a conflict."""
    message = copier_config()["_message_after_update"]
    match = re.search(r"To undo the whole update: `([^`]+)`", " ".join(message.split()))
    assert match, message
    project = generate(template_repo, tmp_path / "project", mounts=["share"])
    app = project / SLUG / "src" / SLUG / "app.py"
    app.write_text(app.read_text().replace("HEARTBEAT_SECONDS = 60.0", "HEARTBEAT_SECONDS = 15.0"))
    (project / "mine.txt").write_text("ignored by git, kept by the undo\n")
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + "mine.txt\n")
    git(project, "commit", "-q", "-am", "faster heartbeat")
    before = tree(project)
    update(project)
    assert conflicts(project) and (project / SLUG / "SECURITY.md").is_file()
    subprocess.run(["bash", "-ec", match[1]], cwd=project, check=True, capture_output=True,
                   timeout=300)  # fmt: skip
    assert tree(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_changing_answers_adds_and_removes_exactly_what_they_govern(
    template_repo: Path, tmp_path: Path
) -> None:
    project = generate(template_repo, tmp_path / "project", persistence=["json_config"])
    addon = project / SLUG
    package = addon / "src" / SLUG

    update(
        project,
        mounts=["share", "ssl"],
        writable_mounts=["share"],
        persistence=["sqlite", "state"],
    )
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "more storage")
    config = load_yaml(addon / "config.yaml")
    assert [entry["type"] for entry in config["map"]] == ["share", "ssl"]
    assert config["backup_pre"] == f"python3 -m {SLUG} backup-pre"
    apparmor = (addon / "apparmor.txt").read_text()
    assert "/share/** rwk," in apparmor
    assert "/ssl/** r," in apparmor
    for module in ("share.py", "tls.py", "database.py", "hotbackup.py", "state.py"):
        assert (package / module).is_file(), module
    assert not (package / "settings.py").exists()

    update(project, ref="1.1.0", mounts=["ssl"], persistence=["json_config"], backup_mode="cold")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "less storage")
    config = load_yaml(addon / "config.yaml")
    assert [entry["type"] for entry in config["map"]] == ["ssl"]
    assert config["backup"] == "cold"
    assert "backup_pre" not in config
    assert "/share" not in (addon / "apparmor.txt").read_text()
    for module in ("share.py", "database.py", "hotbackup.py", "state.py"):
        assert not (package / module).exists(), module
    assert (package / "settings.py").is_file()
    assert "SHARE_DIR" not in (package / "paths.py").read_text()

    # Nothing of the earlier answers is left: the project is exactly a fresh copy of the answers
    # it records (whose add-on's checks, test_generated_checks.py's, pass for every branch).
    recorded = load_yaml(project / ".copier-answers.yml")
    answers = {key: value for key, value in recorded.items() if not key.startswith("_")}
    fresh = generate(template_repo, tmp_path / "fresh", ref="1.1.0", **answers)
    assert tree(project) == tree(fresh)


def test_addons_in_one_repository_update_independently(template_repo: Path, tmp_path: Path) -> None:
    host = tmp_path / "addons"
    host.mkdir()
    git(host, "init", "-q")
    (host / "README.md").write_text("# My add-ons\n")
    git(host, "add", "-A")
    git(host, "commit", "-q", "-m", "host")
    one = generate(template_repo, host / "one", layout="app", name="One", slug="one")
    two = generate(template_repo, host / "two", layout="app", name="Two", slug="two")

    update(one)  # the same as `cd one && copier update --skip-answered`
    git(host, "add", "-A")
    git(host, "commit", "-q", "-m", "update one")

    assert (one / "SECURITY.md").is_file()
    assert not (two / "SECURITY.md").exists()
    assert load_yaml(one / ".copier-answers.yml")["_commit"] == "1.1.0"
    assert load_yaml(two / ".copier-answers.yml")["_commit"] == "1.0.0"
    update(two)
    assert (two / "SECURITY.md").is_file()


def test_check_update_reports_the_newer_release(template_repo: Path, tmp_path: Path) -> None:
    project = generate(template_repo, tmp_path / "project")
    copier_cli = Path(sys.executable).with_name("copier")
    result = subprocess.run(
        [copier_cli, "check-update", "--output-format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["update_available"] is True
    assert report["latest_version"] == "1.1.0"


def test_recopy_repairs_a_broken_project(template_repo: Path, tmp_path: Path) -> None:
    project = generate(template_repo, tmp_path / "project", mounts=["media"])
    fresh = tree(project)
    (project / SLUG / "config.yaml").write_text("broken: [")
    shutil.rmtree(project / SLUG / "src")
    git(project, "commit", "-q", "-am", "oops")
    copier.run_recopy(
        project, overwrite=True, skip_answered=True, unsafe=False, vcs_ref="1.0.0", quiet=True
    )
    assert tree(project) == fresh


def test_the_answers_file_is_never_ignored(template_repo: Path, tmp_path: Path) -> None:
    project = generate(template_repo, tmp_path / "project")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".copier-answers.yml"], cwd=project, timeout=300, check=False
    )
    assert ignored.returncode == 1
    assert ".copier-answers.yml" in git(project, "ls-files")


def test_files_the_user_owns_are_never_touched_by_updates(
    template_repo: Path, tmp_path: Path
) -> None:
    project = generate(template_repo, tmp_path / "project")
    icon = project / SLUG / "icon.png"
    icon.write_bytes(b"my own icon")
    git(project, "commit", "-q", "-am", "my icon")
    update(project)
    assert icon.read_bytes() == b"my own icon"
    assert {"CHANGELOG.md", "icon.png", "logo.png"} <= set(copier_config()["_skip_if_exists"])


CONFLICT_MARKER = re.compile(rb"^(<{7}|>{7})(\s|$)", re.MULTILINE)  # as git writes them
OLD_SAMPLE = 'LOG.debug("Heartbeat at %s", now)'
NEW_SAMPLE = 'LOG.info("Alive at %s", now)'


@pytest.fixture(scope="module")
def workload_repo(tmp_path_factory: pytest.TempPathFactory, template_snapshot: Path) -> Path:
    """1.0.0 is the template as it is; 1.1.0 changes app.py and the sample in workload.py."""

    def change(addon: Path) -> None:
        package = addon / "src" / "{{ slug }}"
        replace_in(package / "app.py.jinja", "HEARTBEAT_SECONDS = 60.0", NEW_HEARTBEAT)
        replace_in(package / "workload.py.jinja", OLD_SAMPLE, NEW_SAMPLE)

    return released_twice(tmp_path_factory.mktemp("workload-repo"), template_snapshot, change)


@pytest.mark.parametrize("layout", ["repository", "app"])
def test_the_authors_workload_is_theirs_and_the_rest_still_updates(
    workload_repo: Path, tmp_path: Path, layout: str
) -> None:
    """workload.py is written once: the author's edits survive every update byte for byte, even
    where the template changed the same sample lines, while app.py, which calls it, takes the
    template's changes without a conflict. Deleted, it is written again (_skip_if_exists)."""
    project = generate(workload_repo, tmp_path / "project", layout=layout,
                       persistence=["sqlite", "state"])  # fmt: skip
    addon = project / SLUG if layout == "repository" else project
    workload = addon / "src" / SLUG / "workload.py"
    app = workload.with_name("app.py")
    text = workload.read_text()
    assert OLD_SAMPLE in text
    assert "workload.beat(stores)" in app.read_text()
    mine = text.replace(OLD_SAMPLE, 'LOG.info("My own work at %s", now)') + "\n\nMINE = 1\n"
    workload.write_bytes(mine.encode())
    git(project, "commit", "-q", "-am", "my work")

    update(project)

    assert conflicts(project) == []
    assert workload.read_bytes() == mine.encode()
    assert NEW_HEARTBEAT in app.read_text()
    assert "workload.beat(stores)" in app.read_text()
    for name, content in tree(project).items():
        assert not CONFLICT_MARKER.search(content), name
        assert not name.endswith(".rej"), name

    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "update")
    workload.unlink()
    git(project, "commit", "-q", "-am", "start my work again")
    update(project)
    assert conflicts(project) == []
    text = workload.read_text()
    assert NEW_SAMPLE in text
    assert "MINE" not in text


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_anything_that_needs_trust_fails_these_tests(template_repo: Path, tmp_path: Path) -> None:
    """The pin: every copy and update here runs with unsafe=False, so a task would fail them."""
    unsafe = tmp_path / "unsafe-template"
    shutil.copytree(template_repo, unsafe)
    with (unsafe / "copier.yml").open("a") as handle:
        handle.write("\n_tasks:\n  - echo hello\n")
    git(unsafe, "commit", "-q", "-am", "add a task")
    git(unsafe, "tag", "2.0.0")
    with pytest.raises(UnsafeTemplateError):
        copy(unsafe, tmp_path / "out", name="X")


def test_every_mount_survives_a_round_trip_through_update(
    template_repo: Path, tmp_path: Path
) -> None:
    project = generate(template_repo, tmp_path / "project", mounts=list(MOUNTS))
    update(project)
    assert conflicts(project) == []
    mapped = [entry["type"] for entry in load_yaml(project / SLUG / "config.yaml")["map"]]
    assert mapped == list(MOUNTS)


# ---------------------------------------------------------------------------------------------
# The license question, added after projects existed, and changed on update.

LICENSE_QUESTION = re.compile(r"^license:\n(?:  .*\n)+", re.MULTILINE)


@pytest.fixture(scope="module")
def before_license_repo(tmp_path_factory: pytest.TempPathFactory, template_snapshot: Path) -> Path:
    """1.0.0 is the template as it was before the `license` question (no question, so no answer
    recorded; no LICENSE, image label or License section); 1.1.0 is the template as it is."""
    repo = tmp_path_factory.mktemp("before-license")
    shutil.copytree(template_snapshot, repo, dirs_exist_ok=True)
    config = repo / "copier.yml"
    text = config.read_text(encoding="utf-8")
    assert LICENSE_QUESTION.search(text), "copier.yml has no license question to take out"
    computed = 'license:\n  type: str\n  when: false\n  default: "none"\n'
    config.write_text(LICENSE_QUESTION.sub(computed, text), encoding="utf-8")
    (repo / "includes" / "licenses.jinja").write_text(
        "{%- macro license_file() -%}{%- endmacro -%}\n"
        "{%- macro license_section(path) -%}{%- endmacro -%}\n",
        encoding="utf-8",
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "release 1.0.0, before the license question")
    git(repo, "tag", "1.0.0")
    shutil.copytree(template_snapshot, repo, dirs_exist_ok=True)
    git(repo, "commit", "-q", "-am", "release 1.1.0: the license question")
    git(repo, "tag", "1.1.0")
    return repo


@pytest.mark.parametrize("layout", ["repository", "app"])
def test_a_project_from_before_the_license_question_gets_the_default(
    before_license_repo: Path, tmp_path: Path, layout: str
) -> None:
    project = generate(before_license_repo, tmp_path / "project", layout=layout)
    assert "license" not in load_yaml(project / ".copier-answers.yml")
    assert not list(project.rglob("LICENSE"))

    update(project)  # README's `copier update --skip-answered`, the new question at its default

    assert conflicts(project) == []
    assert load_yaml(project / ".copier-answers.yml")["license"] == "MIT"
    license_text = (project / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n\nCopyright (c) Update Demo maintainers\n\n")
    fresh = generate(before_license_repo, tmp_path / "fresh", ref="1.1.0", layout=layout)
    assert tree(project) == tree(fresh)


def test_changing_the_license_replaces_what_it_governs(template_repo: Path, tmp_path: Path) -> None:
    """LICENSE, the image label and the READMEs follow the answer; `none` removes LICENSE, and the
    command its README gives brings one back."""
    project = generate(template_repo, tmp_path / "project", ref="1.1.0")
    fresh = {
        license_id: tree(
            generate(template_repo, tmp_path / license_id, ref="1.1.0", license=license_id)
        )
        for license_id in ("MIT", "Apache-2.0", "none")
    }
    assert tree(project) == fresh["MIT"]

    for license_id in ("Apache-2.0", "none"):
        update(project, license=license_id)
        assert conflicts(project) == []
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", f"license {license_id}")
        assert tree(project) == fresh[license_id], license_id
    assert not (project / "LICENSE").exists()
    assert "licenses=" not in (project / SLUG / "Dockerfile").read_text()

    readme = " ".join((project / "README.md").read_text(encoding="utf-8").split())
    command = re.search(r"`(copier update [^`]*-d license=MIT)`", readme)
    assert command, readme
    copier_cli = Path(sys.executable).with_name("copier")
    result = subprocess.run(
        [copier_cli, *command[1].split()[1:]], cwd=project, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert conflicts(project) == []
    assert tree(project) == fresh["MIT"]

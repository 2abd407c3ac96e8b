"""The generated repository publishes what the Supervisor pulls: builder.yaml, walked as on GitHub.

A repository render holds a second add-on rendered into it with layout `app`, as README says. Each
test pushes (or opens a pull request with) a change and walks builder.yaml and the build-app.yaml
it calls: `run:` steps in bash, actions through stand-ins that give their pinned action.yml's
outputs (tests/gha_actions.py), and a registry that refuses what docker refuses. Then every
add-on's config.yaml must be pullable as the Supervisor pulls it, `image:version` (image without
{arch}: one multi-arch manifest), with a per-architecture image for each of its `arch`.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import copy, git, include
from gha_actions import Registry, install_docker, stand_ins
from gha_runner import Run, Walk
from test_workflow_steps import run_step, step
from tools import require

pytestmark = pytest.mark.xdist_group("publish_walk")

ZERO = "0" * 40
OWNER_URL = "https://github.com/Garden-Crew/garden-addons"
# Answer sets for the repository render and for the add-on added to it with layout `app`.
ANSWER_SETS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "plain": (
        {"name": "Garden Logger", "repository_url": OWNER_URL},
        {"name": "Weather Station", "repository_url": OWNER_URL, "architectures": ["amd64"]},
    ),
    "awkward text": (
        {
            "name": 'Müller\'s "Log" & $HOME',
            "description": 'Logs `id` and "$(uname)" for <you>; 100% safe',
            "repository_url": OWNER_URL,
            "architectures": ["aarch64"],
            "version": "2.0.0-beta.1",
        },
        {
            "name": "Ünïcode Ström",
            "repository_url": OWNER_URL,
            "mounts": ["share"],
            "persistence": ["sqlite"],
        },
    ),
}


class Repository:
    """A generated add-on repository with its history, and the registry its workflows push to."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = root
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self.registry = Registry(scratch / "registry.json")
        self._runs = itertools.count()

    def commit(self, message: str) -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)
        return git(self.root, "rev-parse", "HEAD").strip()

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()

    def addons(self) -> dict[str, dict[str, Any]]:
        """Each add-on folder's config.yaml, as the Supervisor reads it."""
        return {
            path.parent.name: yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in sorted(self.root.glob("*/config.yaml"))
        }

    def edit(self, relative: str, change: Callable[[str], str]) -> None:
        path = self.root / relative
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")

    def change_code(self, slug: str) -> None:
        """A change to what goes into the add-on's image."""
        self.edit(f"{slug}/src/{slug}/__init__.py", lambda t: t + "# a change\n")

    def bump(self, slug: str, version: str) -> None:
        old = self.addons()[slug]["version"]
        self.edit(
            f"{slug}/config.yaml", lambda t: t.replace(f'version: "{old}"', f'version: "{version}"')
        )
        assert self.addons()[slug]["version"] == version

    def walk(
        self,
        event_name: str,
        *,
        before: str | None = None,
        base: str | None = None,
        ref: str = "refs/heads/main",
        registry_failure: str = "",
    ) -> Run:
        number = next(self._runs)
        scratch = self.scratch / f"run-{number}"
        bin_folder = scratch / "bin"
        install_docker(bin_folder, self.registry, failure=registry_failure)
        event: dict[str, Any] = {}
        if before is not None:
            event["before"] = before
        if base is not None:
            event["pull_request"] = {"base": {"sha": base}}
        walk = Walk(
            self.root, stand_ins(self.registry), event_name=event_name, ref=ref, event=event,
            repository="Garden-Crew/garden-addons", path=f"{bin_folder}:/usr/bin:/bin",
            scratch=scratch,
        )  # fmt: skip
        return walk.workflow(".github/workflows/builder.yaml")


def pull_request(repository: Repository, stale_base: str | None = None) -> Run:
    """Open a pull request of the current branch into main and walk it: like GitHub, check out
    the merge commit (refs/pull/N/merge, first parent main). `stale_base` is the payload's base
    sha when main moved on after the pull request was opened."""
    head = repository.head()
    main = git(repository.root, "rev-parse", "main").strip()
    git(repository.root, "switch", "-q", "--detach", "main")
    git(repository.root, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", head)
    return repository.walk("pull_request", base=stale_base or main, ref="refs/pull/1/merge")


def built(run: Run) -> set[str]:
    """The add-ons whose per-architecture build job ran."""
    return {
        label.split("[", 1)[1].split("]", 1)[0].split('"app": "')[1].split('"')[0]
        for label, result in run.jobs.items()
        if label.endswith("build-app.yaml:build") and result != "skipped"
    }


def assert_pullable(repository: Repository) -> None:
    """What the Supervisor pulls for each add-on is published, with the labels it reads."""
    images = repository.registry.load()
    for slug, config in repository.addons().items():
        image, version = config["image"], config["version"]
        assert "{arch}" not in image
        manifest = images.get(f"{image}:{version}")
        assert manifest is not None, f"{slug}: {image}:{version} is not published: {sorted(images)}"
        assert images[f"{image}:latest"] == manifest
        prefix, name = image.rsplit("/", 1)
        assert manifest["manifests"] == [
            f"{prefix}/{arch}-{name}:{version}" for arch in config["arch"]
        ]
        for arch, source in zip(config["arch"], manifest["manifests"], strict=True):
            labels = images[source]["labels"]
            assert images[source]["arch"] == arch
            assert labels["io.hass.type"] == "app"
            assert labels["io.hass.name"] == config["name"]
            assert labels["io.hass.description"] == config["description"]
            assert labels["io.hass.url"] == config["url"]
            assert labels["io.hass.arch"] == arch
            assert labels["io.hass.version"] == version


@pytest.fixture(scope="session")
def built_repositories(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each answer set's repository, rendered and committed once: a repository render plus a second
    add-on rendered into it with layout `app`. Tests walk copies of them."""
    require("jq")  # the workflows' steps use it, as GitHub's runners have it
    built = {}
    for name, (first, second) in ANSWER_SETS.items():
        root = copy(template_snapshot, tmp_path_factory.mktemp("publish") / "addons", **first)
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.email", "walk@example.com")
        git(root, "config", "user.name", "Walk")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Add the first add-on")
        # As README says for layout app: render into the repository, in a folder named as the slug.
        slug = str(include("slug.jinja").slugify(second["name"])).strip()
        copy(template_snapshot, root / slug, layout="app", **second)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Add the second add-on")
        built[name] = root
    return built


@pytest.fixture(params=sorted(ANSWER_SETS))
def repository(
    request: pytest.FixtureRequest, built_repositories: dict[str, Path], tmp_path: Path
) -> Repository:
    """A fresh copy of one answer set's repository, history included."""
    root = tmp_path / "addons"
    shutil.copytree(built_repositories[request.param], root, symlinks=True)
    repository = Repository(root, tmp_path / "scratch")
    assert len(repository.addons()) == 2
    assert git(root, "status", "--porcelain") == ""
    return repository


def first_slug(repository: Repository) -> str:
    """The add-on of the repository render (the second one is named from its own answers)."""
    answers = yaml.safe_load((repository.root / ".copier-answers.yml").read_text(encoding="utf-8"))
    slug: str = answers["slug"]
    return slug


def test_the_first_push_publishes_every_addon_as_the_supervisor_pulls_it(
    repository: Repository,
) -> None:
    run = repository.walk("push", before=ZERO)
    assert run.succeeded, run.logs
    assert built(run) == set(repository.addons())
    assert_pullable(repository)


def test_a_push_builds_and_publishes_only_the_addon_whose_image_changed(
    repository: Repository,
) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    slug = first_slug(repository)
    published = repository.registry.load()
    before = repository.head()
    repository.change_code(slug)
    repository.bump(slug, "3.0.0")
    repository.commit("Change the first add-on")
    run = repository.walk("push", before=before)
    assert run.succeeded, run.logs
    assert built(run) == {slug}
    assert_pullable(repository)
    now = repository.registry.load()
    assert {ref for ref in now if ref not in published} == {ref for ref in now if ":3.0.0" in ref}
    assert all(now[ref] == published[ref] for ref in published if not ref.endswith(":latest"))


def test_a_changed_image_under_a_published_version_fails_with_one_line(
    repository: Repository,
) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    slug = first_slug(repository)
    published = repository.registry.load()
    before = repository.head()
    repository.edit(f"{slug}/Dockerfile", lambda t: t + "# a change\n")
    repository.commit("Change the image, not the version")
    run = repository.walk("push", before=before)
    assert not run.succeeded
    (error,) = run.errors
    version = repository.addons()[slug]["version"]
    assert f":{version} is already published" in error
    assert f"raise version in {slug}/config.yaml" in error
    assert repository.registry.load() == published


def test_a_pull_request_builds_without_pushing(repository: Repository) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    published = repository.registry.load()
    slug = first_slug(repository)
    git(repository.root, "switch", "-q", "-c", "feature")
    repository.change_code(slug)
    repository.bump(slug, "3.0.0")
    repository.commit("Change the first add-on")
    run = pull_request(repository)
    assert run.succeeded, run.logs
    assert built(run) == {slug}
    assert repository.registry.load() == published
    assert not any(r == "success" for label, r in run.jobs.items() if label.endswith(":manifest"))


def test_a_pull_request_that_forgets_the_version_fails_before_the_merge(
    repository: Repository,
) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    slug = first_slug(repository)
    git(repository.root, "switch", "-q", "-c", "feature")
    repository.change_code(slug)
    repository.commit("Change the code, not the version")
    run = pull_request(repository)
    assert not run.succeeded
    (error,) = run.errors
    assert f"raise version in {slug}/config.yaml" in error


def test_documentation_changes_build_nothing(repository: Repository) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    published = repository.registry.load()
    before = repository.head()
    for slug in repository.addons():
        repository.edit(f"{slug}/DOCS.md", lambda t: t + "\nMore words.\n")
        repository.edit(
            f"{slug}/config.yaml", lambda t: t.replace("description:", "description: ", 1)
        )
    repository.commit("Docs only")
    run = repository.walk("push", before=before)
    assert run.succeeded, run.logs
    assert built(run) == set()
    assert repository.registry.load() == published


@pytest.mark.parametrize("event", ["workflow change", "manual run", "rewritten history"])
def test_rebuilding_everything_publishes_only_new_versions(
    repository: Repository, event: str
) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    published = repository.registry.load()
    before = repository.head()
    if event == "workflow change":
        repository.edit(".github/workflows/build-app.yaml", lambda t: t + "# a change\n")
        repository.commit("Change the workflow")
        run = repository.walk("push", before=before)
    elif event == "manual run":
        run = repository.walk("workflow_dispatch")
    else:
        run = repository.walk("push", before="1" * 40)
    assert run.succeeded, run.logs
    assert built(run) == set(repository.addons())
    assert repository.registry.load() == published


def test_a_registry_that_cannot_answer_stops_the_publish(repository: Repository) -> None:
    run = repository.walk("push", before=ZERO, registry_failure="toomanyrequests: retry later")
    assert not run.succeeded
    assert run.errors
    assert all("Cannot tell whether" in e and "toomanyrequests" in e for e in run.errors)
    assert repository.registry.load() == {}


def test_an_addon_without_image_is_built_by_each_home_assistant(repository: Repository) -> None:
    slug = first_slug(repository)
    repository.edit(f"{slug}/config.yaml", lambda t: t.replace("\nimage:", "\n# image:"))
    repository.commit("Build locally while developing")
    run = repository.walk("push", before=ZERO)
    assert run.succeeded, run.logs
    assert slug not in built(run)
    assert not any(ref.split(":")[0].endswith(f"/{slug}") for ref in repository.registry.load())
    notices = [m for kind, _, m in run.annotations if kind == "notice"]
    assert any(f"builds {slug} itself" in m for m in notices)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("image", "ghcr.io/garden-crew/{arch}-garden", "without {arch}"),
        ("image", "docker.io/garden/logger", "ghcr.io/<owner>/<name>"),
        ("image", "ghcr.io/Garden-Crew/logger", "in lowercase"),
        ("version", "1.0.0+build.5", "valid image tag"),
        ("image", "ghcr.io/someone-else/logger", "under ghcr.io/garden-crew/"),
    ],
)
def test_a_config_that_cannot_be_published_says_what_to_fix(
    repository: Repository, key: str, value: str, message: str
) -> None:
    slug = first_slug(repository)
    config = repository.root / slug / "config.yaml"
    lines = [
        f'{key}: "{value}"' if line.startswith(f"{key}:") else line
        for line in config.read_text(encoding="utf-8").splitlines()
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    repository.commit("A config the registry refuses")
    run = repository.walk("push", before=ZERO)
    assert not run.succeeded
    (error,) = run.errors
    assert message in error
    assert not any(ref.split(":")[0].endswith(f"-{slug}") for ref in repository.registry.load())


def test_a_release_whose_run_never_happened_is_published_by_the_next_push(
    repository: Repository,
) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    slug = first_slug(repository)
    repository.change_code(slug)
    repository.bump(slug, "3.0.0")
    lost = repository.commit("A release whose run was cancelled")
    other = next(s for s in repository.addons() if s != slug)
    repository.edit(f"{other}/DOCS.md", lambda t: t + "\nMore words.\n")
    repository.commit("Docs only")
    run = repository.walk("push", before=lost)
    assert run.succeeded, run.logs
    assert built(run) == {slug}
    assert_pullable(repository)


def test_a_new_image_name_is_published_under_it(repository: Repository) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    slug = first_slug(repository)
    before = repository.head()
    repository.edit(f"{slug}/config.yaml", lambda t: t.replace(f"/{slug}\n", f"/{slug}-renamed\n"))
    assert repository.addons()[slug]["image"].endswith("-renamed")
    repository.commit("Rename the image")
    run = repository.walk("push", before=before)
    assert run.succeeded, run.logs
    assert built(run) == {slug}
    assert_pullable(repository)


def test_a_new_architecture_under_a_published_version_fails_with_one_line(
    repository: Repository,
) -> None:
    slug = next(s for s, c in repository.addons().items() if len(c["arch"]) == 1)
    assert repository.walk("push", before=ZERO).succeeded
    before = repository.head()
    (arch,) = repository.addons()[slug]["arch"]
    repository.edit(
        f"{slug}/config.yaml",
        lambda t: t.replace(f"arch:\n  - {arch}\n", "arch:\n  - aarch64\n  - amd64\n"),
    )
    assert sorted(repository.addons()[slug]["arch"]) == ["aarch64", "amd64"]
    repository.commit("Build for both architectures")
    run = repository.walk("push", before=before)
    assert not run.succeeded
    (error,) = run.errors
    assert f"raise version in {slug}/config.yaml" in error


def test_a_pull_request_compares_with_main_as_it_is_now(repository: Repository) -> None:
    assert repository.walk("push", before=ZERO).succeeded
    slug = first_slug(repository)
    opened_on = repository.head()
    git(repository.root, "switch", "-q", "-c", "feature")
    other = next(s for s in repository.addons() if s != slug)
    repository.edit(f"{other}/DOCS.md", lambda t: t + "\nMore words.\n")
    repository.commit("Docs only")
    # Meanwhile main releases the first add-on.
    git(repository.root, "switch", "-q", "main")
    repository.change_code(slug)
    repository.bump(slug, "3.0.0")
    released = repository.commit("Release")
    assert repository.walk("push", before=opened_on).succeeded
    git(repository.root, "switch", "-q", "feature")
    run = pull_request(repository, stale_base=opened_on)
    assert git(repository.root, "rev-parse", "HEAD^1").strip() == released
    assert run.succeeded, run.logs
    assert built(run) == set()


def test_a_package_the_token_cannot_read_yet_is_published(repository: Repository) -> None:
    """ghcr.io may refuse to read a package that does not exist yet; the token that could
    overwrite a published one could also read it, so "denied" means "not published"."""
    denied = "denied: requested access to the resource is denied"
    run = repository.walk("push", before=ZERO, registry_failure=denied)
    assert run.succeeded, run.logs
    assert_pullable(repository)


def test_ci_checks_every_addon_that_builder_knows(repository: Repository, tmp_path: Path) -> None:
    """ci.yaml's find step and builder.yaml read the same list (.github/addons.sh)."""
    script = step(repository.root / ".github" / "workflows" / "ci.yaml", "find", "find")
    status, outputs, stderr = run_step(script, repository.root, tmp_path)
    assert status == 0, stderr
    assert outputs == f"apps={json.dumps(sorted(repository.addons()), separators=(',', ':'))}\n"

"""Shared fixtures: a hermetic copier, a git-free snapshot of the template, cached renders."""

from __future__ import annotations

import copy as copy_module
import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import copier
import copier._main
import copier._template
import copier._vcs
import jinja2
import pytest
from _pytest.nodeid import NodeId

from combos import Combo
from questionnaire import (  # noqa: F401 - the test modules import these from conftest
    REPO,
    choice_values,
    choices,
    copier_config,
    include,
    includes_environment,
    questions,
    reserved_slugs,
)
from rendered import Rendered

TEMPLATE_PARTS = ("copier.yml", "template", "includes")
CACHE_PATTERNS = ("__pycache__", "*.py[co]", ".mypy_cache", ".ruff_cache", ".pytest_cache")

_compile = jinja2.Environment.compile


def _compile_once(
    self: jinja2.Environment,
    source: Any,
    name: str | None = None,
    filename: str | None = None,
    raw: bool = False,
    defer_init: bool = False,
) -> Any:
    """Jinja's compile, remembered per source and environment settings.

    Copier builds a fresh Jinja environment for every render and compiles every template, path,
    default and validator again; half of a render's time. The compiled code depends only on the
    source and the settings keyed here, so reusing it changes no output. Tests only.
    The file name is left out of the key: copier reads the template from a fresh temporary copy
    for each render, so the same file has another path each time; only a traceback would name
    the first copy's path.
    """
    if raw or not isinstance(source, str):
        return _compile(self, source, name, filename, raw, defer_init)
    key = (
        type(self), source, name, defer_init, self.trim_blocks, self.lstrip_blocks,
        self.keep_trailing_newline, self.newline_sequence, self.undefined, self.optimized,
        self.block_start_string, self.variable_start_string, self.comment_start_string,
        self.line_statement_prefix, self.line_comment_prefix, tuple(sorted(self.extensions)),
    )  # fmt: skip
    if key not in _COMPILED:
        _COMPILED[key] = _compile(self, source, name, filename, raw, defer_init)
    return _COMPILED[key]


_COMPILED: dict[tuple[Any, ...], Any] = {}


def git(cwd: Path, *args: str) -> str:
    """Run git in cwd and return its output; a hang fails after two minutes."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120
    ).stdout


def copy(template: Path, destination: Path, *, vcs_ref: str | None = None, **answers: Any) -> Path:
    """Render as a user does: `copier copy --defaults -d ...`, never with --trust."""
    copier.run_copy(
        str(template), destination, data=answers, defaults=True, unsafe=False, vcs_ref=vcs_ref,
        quiet=True,
    )  # fmt: skip
    return destination


_sync_executable_bit = copier._main.Worker._sync_git_index_executable_bit


def _sync_executable_bit_where_it_can_act(self: Any, dst_relpath: Path, src_mode: int) -> None:
    """Copier's executable-bit sync, skipped where it cannot do anything.

    For every file it writes, copier asks `git config core.fileMode` in a subprocess, and does
    nothing more unless the destination is a git repository with fileMode off. Outside a git work
    tree (most test renders) the answer is known; inside one, it is asked once per render (no
    task can change it midway; this template has none) instead of once per file. Tests only.
    """
    root = Path(self.subproject.local_abspath)
    if not any((folder / ".git").exists() for folder in (root, *root.parents)):
        return
    if "_file_mode_off" not in self.__dict__:
        setting = subprocess.run(
            ["git", "config", "--type=bool", "--get", "core.fileMode"],
            cwd=root, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        self.__dict__["_file_mode_off"] = setting.stdout.strip() == "false"
    if self.__dict__["_file_mode_off"]:
        _sync_executable_bit(self, dst_relpath, src_mode)


_is_git_bundle = copier._vcs.is_git_bundle


def _is_git_bundle_file(path: Path) -> bool:
    """Copier's bundle check, which runs `git init` and `git bundle verify` in subprocesses for
    every local template; a folder is never a bundle, so only files are asked. Tests only."""
    return Path(path).is_file() and _is_git_bundle(path)


_load_template_config = copier._template.load_template_config


def _load_template_config_once(conf_path: Path, quiet: bool = False) -> Any:
    """Copier's read of copier.yml (pure-Python YAML, a fifth of a render), remembered per path
    and content; each render gets its own copy. A file with `!include` is read as usual, since
    what it includes can change. Tests only."""
    content = conf_path.read_bytes()
    if b"!include" in content:
        return _load_template_config(conf_path, quiet)
    key = (str(Path(conf_path).resolve()), content, quiet)
    if key not in _CONFIGS:
        _CONFIGS[key] = _load_template_config(conf_path, quiet)
    return copy_module.deepcopy(_CONFIGS[key])


_CONFIGS: dict[tuple[str, bytes, bool], Any] = {}


@pytest.fixture(scope="session", autouse=True)
def fast_copier() -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    patch.setattr(jinja2.Environment, "compile", _compile_once)
    patch.setattr(
        copier._main.Worker,
        "_sync_git_index_executable_bit",
        _sync_executable_bit_where_it_can_act,
    )
    patch.setattr(copier._vcs, "is_git_bundle", _is_git_bundle_file)
    patch.setattr(copier._template, "load_template_config", _load_template_config_once)
    yield
    patch.undo()


def hermetic_environment(home: Path) -> dict[str, str]:
    """Settings files in home, and the variables that make copier and git read only them."""
    (home / "copier-settings.yml").write_text("{}\n", encoding="utf-8")
    (home / "gitconfig").write_text(
        "[user]\n\tname = Template Tests\n\temail = tests@example.com\n"
        "[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    return {
        "COPIER_SETTINGS_PATH": str(home / "copier-settings.yml"),
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


@pytest.fixture(scope="session", autouse=True)
def hermetic_copier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the developer's copier settings and git config out of every render."""
    patch = pytest.MonkeyPatch()
    for key, value in hermetic_environment(tmp_path_factory.mktemp("home")).items():
        patch.setenv(key, value)
    patch.delenv("HA_APP_ROOT", raising=False)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as it is in the working tree, without git: fast, and blind to dirty state."""
    return snapshot_template(tmp_path_factory.mktemp("template"))


def snapshot_template(snapshot: Path) -> Path:
    """Copy the template's parts into the folder snapshot, without git or caches."""
    for part in TEMPLATE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, snapshot / part, ignore=shutil.ignore_patterns(*CACHE_PATTERNS))
        else:
            shutil.copy2(source, snapshot / part)
    return snapshot


class Renderer:
    """Render each set of answers once per session, as a user would (`copier copy --defaults -d`,
    never --trust), and reuse the result."""

    def __init__(self, template: Path, destinations: Path) -> None:
        self.template = template
        self.destinations = destinations
        self.known = questions()
        self.cache: dict[str, Path] = {}
        self.projects: dict[Combo, Rendered] = {}

    def __call__(self, answers: Mapping[str, Any]) -> Path:
        unknown = set(answers) - self.known
        assert not unknown, f"not questions of copier.yml: {sorted(unknown)}"
        key = json.dumps(answers, sort_keys=True)
        if key not in self.cache:
            destination = self.destinations / f"render{len(self.cache):04d}"
            self.cache[key] = copy(self.template, destination, **answers)
        return self.cache[key]

    def project(self, combo: Combo) -> Rendered:
        """The rendered project of a combination, read once per session."""
        if combo not in self.projects:
            self.projects[combo] = Rendered(self(combo.answers()), combo)
        return self.projects[combo]


@pytest.fixture(scope="session")
def render(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    return Renderer(template_snapshot, tmp_path_factory.mktemp("renders"))


def _group_suffix(item: pytest.Item) -> str:
    """The `@group` that `--dist loadgroup` appends to a grouped test's id, as xdist names it."""
    names = {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
             for mark in item.iter_markers("xdist_group")}  # fmt: skip
    return f"@{'_'.join(sorted(names))}" if names else ""


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Iterator[None]:
    """Keep all tests of one combination on one xdist worker, so it is rendered once; and make
    `--dist loadgroup` group at all under pytest 9.2.

    xdist 3.8 tells its scheduler a test's group by appending `@group` to the test's id in each
    worker; it writes `item._nodeid`, which pytest 9.2 no longer reads (the id is `item._id`, a
    structured NodeId), so every test was scheduled alone: combinations rendered on both workers,
    and groups that must stay on one worker split (pytest-dev/pytest-xdist#1386). After xdist's
    hook, this appends the suffix where xdist's did not take, and stops the run where it cannot.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        combo = callspec.params.get("combo") if callspec else None
        if combo is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(combo.id))
    yield
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        suffix = _group_suffix(item)
        if suffix and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)
            if not item.nodeid.endswith(suffix):
                raise pytest.UsageError(f"xdist_group cannot be applied to {item.nodeid}")

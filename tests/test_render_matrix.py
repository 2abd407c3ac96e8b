"""Every combination of mounts x persistence, checked against the answers and the Supervisor."""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
from pathlib import PurePosixPath

import pytest
import yaml

import supervisor_rules
from combos import MATRIX, MOUNTS, Combo
from conftest import REPO, Renderer, include
from rendered import Rendered, SafeLoader, apparmor_rules, load_yaml, png_size

# Facts from the Supervisor (supervisor/docker/app.py, supervisor/apps/app.py `backup`), kept
# apart from the template's own table so that a wrong entry there fails here.
CONTAINER_PATH = supervisor_rules.MAP_CONTAINER_PATHS
IN_ADDON_BACKUP = {"addon_config"}
# The template's own names for them: each mount's Path constant in paths.py (includes/mounts.jinja).
CONSTANT = {key: row["constant"] for key, row in include("mounts.jinja", mounts=[]).MOUNTS.items()}
SUPERVISOR_DATA = PurePosixPath("/data/apps/data/local_storage_demo")

pytestmark = pytest.mark.parametrize("combo", MATRIX, ids=lambda combo: combo.id)


@pytest.fixture
def project(render: Renderer, combo: Combo) -> Rendered:
    return render.project(combo)


def test_every_yaml_and_json_file_parses(project: Rendered) -> None:
    for path in project.files():
        if path.suffix in (".yaml", ".yml"):
            list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=SafeLoader))
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


def test_config_is_accepted_and_rated_by_the_supervisor_and_the_linter(project: Rendered) -> None:
    assert supervisor_rules.problems(project.config) == []
    allowed = {"legacy map type 'addon_config' (Supervisor 2026.07+)"}
    assert set(supervisor_rules.warnings(project.config)) <= allowed
    translations = load_yaml(project.addon / "translations" / "en.yaml")
    assert supervisor_rules.translation_problems(project.config, translations) == []
    # The Supervisor's security rating: 5, +1 for the add-on's own AppArmor profile, +2 for
    # ingress. With the web UI that is 8, the most it gives (signing, +1, is never granted today
    # and would be capped); without it 6, as before the web UI existed.
    profile = (project.addon / "apparmor.txt").is_file()
    rating = supervisor_rules.rating_security(project.config, apparmor_profile=profile)
    assert rating == (supervisor_rules.RATING_MAX if project.combo.web_ui == "ingress" else 6)
    assert supervisor_rules.RATING_MAX == 8


def test_config_matches_the_answers(project: Rendered) -> None:
    config, combo = project.config, project.combo
    assert config["slug"] == combo.slug
    assert config["name"] == combo.name
    assert config["arch"] == list(combo.architectures)
    assert config["init"] is False
    assert config["image"] == f"ghcr.io/example/{combo.slug}"
    assert re.search(r'^version: "0\.1\.0"$', project.config_text, re.MULTILINE)
    expected = {"log_level", "log_to_file", "retention_days", "min_free_mb"}
    expected |= {"certfile", "keyfile"} if "ssl" in combo.mounts else set()
    expected |= {"durable_commits"} if "sqlite" in combo.persistence else set()
    assert set(config["options"]) == expected
    # The web UI: ingress on its default port (no ingress_port), the panel named after the add-on
    # with an icon of its own; no webui, no ports. Without it, none of these keys.
    web = {key: value for key, value in config.items()
           if key.startswith(("ingress", "panel_", "webui", "ports"))}  # fmt: skip
    if combo.web_ui == "ingress":
        assert web == {"ingress": True, "panel_icon": web["panel_icon"], "panel_title": combo.name}
        assert re.fullmatch(r"mdi:[a-z0-9]+(-[a-z0-9]+)*", web["panel_icon"])
    else:
        assert web == {}


def test_map_has_one_entry_per_mount_writable_exactly_as_answered(project: Rendered) -> None:
    combo = project.combo
    entries = project.config.get("map", [])
    assert [entry["type"] for entry in entries] == [m for m in MOUNTS if m in combo.mounts]
    writable = {entry["type"] for entry in entries if entry.get("read_only", True) is False}
    assert writable == set(combo.writable)
    if not combo.mounts:
        assert "map" not in project.config


def test_backup_keys_follow_the_backup_mode(project: Rendered) -> None:
    config, combo = project.config, project.combo
    assert config.get("backup", "hot") == combo.backup_mode
    patterns = config["backup_exclude"]
    # Cache, temporary files and logs are never backed up; the add-on's data always is.
    for folder in ("cache", "tmp", "logs"):
        assert any((SUPERVISOR_DATA / folder).match(p) for p in patterns), folder
    for kept in ("data-version.json", "settings.json", "state.json"):
        assert not any((SUPERVISOR_DATA / kept).match(p) for p in patterns), kept
    if "sqlite" in combo.persistence:
        # The database and its WAL are backed up (what SQLite opens after a crash); the -shm
        # index, which SQLite rebuilds from them, is not.
        paths_py = (project.addon / "src" / combo.slug / "paths.py").read_text(encoding="utf-8")
        database = re.search(r'DATABASE_FILE: Final = DATA_DIR / "([^"]+)"', paths_py)
        assert database
        live = SUPERVISOR_DATA / database[1]
        for suffix, excluded in (("", False), ("-wal", False), ("-shm", True)):
            path = live.with_name(live.name + suffix)
            assert any(path.match(p) for p in patterns) == excluded, suffix
    if not combo.hot_sqlite:
        assert not {"backup_pre", "backup_post"} & set(config)
        return
    # Hooks are exec'd inside the container, split like a shell would but without one.
    assert shlex.split(config["backup_pre"]) == ["python3", "-m", combo.slug, "backup-pre"]
    assert shlex.split(config["backup_post"]) == ["python3", "-m", combo.slug, "backup-post"]


def test_backup_leaves_out_what_interrupted_writes_left(project: Rendered) -> None:
    """A crash can leave a staged write's temporary file in any folder the add-on writes (named
    as atomicfile.py names them); no backup holds one, and a user's own file whose name merely
    starts the same way is still backed up."""
    patterns = project.config["backup_exclude"]
    code = (project.addon / "src" / project.combo.slug / "atomicfile.py").read_text("utf-8")
    prefix = re.search(r'^TEMP_PREFIX = "([^"]+)"$', code, re.MULTILINE)
    token = re.search(r"^_TOKEN_BYTES = (\d+)$", code, re.MULTILINE)
    assert prefix and token
    left = f"{prefix[1]}settings.json.{'a0' * int(token[1])}"
    config = PurePosixPath("/data/addon_configs/local_storage_demo")
    for folder in (SUPERVISOR_DATA, SUPERVISOR_DATA / "exports", SUPERVISOR_DATA / "a/b", config):
        assert any((folder / left).match(p) for p in patterns), folder / left
    for kept in (config / f"{prefix[1]}notes.txt", SUPERVISOR_DATA / "settings.json"):
        assert not any(kept.match(p) for p in patterns), kept


def test_apparmor_allows_exactly_the_mapped_folders(project: Rendered) -> None:
    text = (project.addon / "apparmor.txt").read_text(encoding="utf-8")
    assert len(re.findall(r"^profile ", text, re.MULTILINE)) == 1
    assert not re.search(r"^\s*file,", text, re.MULTILINE)
    rules = apparmor_rules(text)
    assert rules["/data/**"] == "rwk"
    for mount, path in CONTAINER_PATH.items():
        if mount not in project.combo.mounts:
            assert path not in text, f"{path} is allowed but not mounted"
            continue
        expected = "rwk" if mount in project.combo.writable else "r"
        assert rules[f"{path}/**"] == expected
        assert rules[f"{path}/"] == "r"


_COMPILED: set[str] = set()


def test_python_code_names_exactly_the_chosen_mounts(project: Rendered) -> None:
    code = ""
    for path in project.python_files():
        source = path.read_text(encoding="utf-8")
        if source not in _COMPILED:  # most modules render alike for many answers
            compile(source, str(path), "exec")
            _COMPILED.add(source)
        code += source
    for mount, path in CONTAINER_PATH.items():
        chosen = mount in project.combo.mounts
        assert (f'container_path("{path}")' in code) == chosen, path
        assert (CONSTANT[mount] in code) == chosen, CONSTANT[mount]
        assert (f'"{mount}"' in code) == chosen, mount
        if not chosen:
            assert not re.search(rf"(?<![\w/.]){re.escape(path)}\b", code), path


def test_docs_say_where_data_lives_and_what_is_backed_up(project: Rendered) -> None:
    docs = (project.addon / "DOCS.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(/[a-z]+)` \| (.*) \|$", docs, re.MULTILINE))
    assert set(rows) == {"/data"} | {CONTAINER_PATH[m] for m in project.combo.mounts}
    for mount in project.combo.mounts:
        row = rows[CONTAINER_PATH[mount]]
        assert ("| read-write |" in row) == (mount in project.combo.writable)
        assert ("not in this add-on's backup" in row) == (mount not in IN_ADDON_BACKUP)
    for mount, path in CONTAINER_PATH.items():
        if mount not in project.combo.mounts:
            assert f"`{path}`" not in docs
    assert ("`backup-pre`" in docs) == project.combo.hot_sqlite
    # The network it has, and the page, per answer (the AppArmor profile grants exactly that:
    # tests/test_apparmor.py).
    ingress = project.combo.web_ui == "ingress"
    assert ("It has no network access" in docs) == (not ingress)
    assert ("\n## Web UI\n" in docs) == ingress
    assert ("`api/status`" in docs) == ingress
    readme = (project.addon / "README.md").read_text(encoding="utf-8")
    assert ("HA_APP_INGRESS_PORT=" in readme) == ingress


def test_layout(project: Rendered) -> None:
    root, combo = project.root, project.combo
    answers = load_yaml(root / ".copier-answers.yml")
    assert answers["mounts"] == list(combo.mounts)
    assert answers["layout"] == combo.layout
    if combo.layout == "repository":
        repository = load_yaml(root / "repository.yaml")
        assert repository["url"] == "https://github.com/example/storage-demo"
        assert set(repository) == {"name", "url", "maintainer"}
        workflows = {p.name for p in (root / ".github" / "workflows").iterdir()}
        assert {"ci.yaml", "builder.yaml", "build-app.yaml", "template-update.yaml"} <= workflows
        # Local hooks only (nothing to download at commit time); test_journey runs the hook.
        (hooks_repo,) = load_yaml(root / ".pre-commit-config.yaml")["repos"]
        assert hooks_repo["repo"] == "local"
        assert [hook["id"] for hook in hooks_repo["hooks"]] == ["conflict-markers"]
        assert (root / combo.slug / "config.yaml").is_file()
        assert not (root / combo.slug / ".copier-answers.yml").exists()
    else:
        assert (root / "config.yaml").is_file()
        for repository_file in (
            "repository.yaml",
            ".github",
            ".pre-commit-config.yaml",
            ".yamllint.yaml",
        ):
            assert not (root / repository_file).exists(), repository_file


def test_no_template_syntax_is_left(project: Rendered) -> None:
    leftover = re.compile(r"(?<!\$)\{\{|\{%|\{#|\bjinja\b")
    for path in project.text_files():
        assert not leftover.search(path.read_text(encoding="utf-8")), path
    assert not [p for p in project.files() if p.suffix == ".jinja"]


def test_comments_and_docs_follow_the_answers(project: Rendered) -> None:
    """An add-on without hot SQLite backups has no backup hooks: nothing in it may name them."""
    if project.combo.hot_sqlite:
        return
    hooks = re.compile(r"backup[-_](pre|post)|hotbackup")
    named = [p for p in project.text_files() if hooks.search(p.read_text(encoding="utf-8"))]
    allowed = {project.root / ".copier-answers.yml", project.addon / ".copier-answers.yml"}
    assert [p for p in named if p not in allowed] == []


def test_no_other_file_the_supervisor_store_would_parse(project: Rendered) -> None:
    # supervisor/store/data.py globs **/config.{json,yaml,yml} for add-ons.
    configs = [p for p in project.files() if re.fullmatch(r"config\.(json|ya?ml)", p.name)]
    assert configs == [project.addon / "config.yaml"]


def test_scripts_are_executable(project: Rendered) -> None:
    for path in project.files():
        with path.open("rb") as handle:
            if handle.read(2) == b"#!":
                assert os.access(path, os.X_OK), f"{path} has a shebang but is not executable"


IMAGES = {"icon.png": (128, 128), "logo.png": (250, 100)}


@functools.cache
def template_image(name: str) -> bytes:
    """The template's image, parsed completely once: the size the add-on store expects."""
    path = REPO / "template" / "{{ slug }}" / name
    assert png_size(path) == IMAGES[name]
    return path.read_bytes()


def test_images_are_the_templates_valid_pngs(project: Rendered) -> None:
    for name in IMAGES:
        assert (project.addon / name).read_bytes() == template_image(name), name


def test_dockerfile_pins_the_base_image_and_starts_the_addon(project: Rendered) -> None:
    text = (project.addon / "Dockerfile").read_text(encoding="utf-8")
    version = project.combo.python_version
    base = f"ARG BASE_IMAGE=ghcr.io/home-assistant/base-python:{version}-alpine3.24"
    assert base in text.splitlines()
    assert "FROM ${BASE_IMAGE}" in text
    instructions = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    # Older Supervisors pass BUILD_FROM with a Python-less image; the base image's /init stays.
    assert "BUILD_FROM" not in instructions
    assert "ENTRYPOINT" not in instructions
    assert f'CMD ["python3", "-m", "{project.combo.slug}", "run"]' in text
    assert f'CMD ["python3", "-m", "{project.combo.slug}", "doctor", "--quick"]' in text
    assert "org.opencontainers.image.source=" in text
    # No .python-version: pyenv fails in a folder whose exact version is not installed.
    assert not (project.addon / ".python-version").exists()


# The Python this repository's CI runs on, and so the add-ons' own checks.
CI_PYTHON = next(
    step["with"]["python-version"]
    for step in load_yaml(REPO / ".github" / "workflows" / "ci.yml")["jobs"]["test"]["steps"]
    if "setup-python" in step.get("uses", "")
)


def test_the_checks_minimum_python_is_the_one_readme_states(project: Rendered) -> None:
    """README's minimum for the checks is ruff's target (so ruff never rewrites code into newer
    syntax) and the Python this repository's CI runs the add-on's own checks on."""
    readme = (project.addon / "README.md").read_text(encoding="utf-8")
    (minimum,) = re.findall(r"need Python (3\.\d+) or newer", " ".join(readme.split()))
    pyproject = (project.addon / "pyproject.toml").read_text(encoding="utf-8")
    assert f'target-version = "py{minimum.replace(".", "")}"' in pyproject
    assert minimum == CI_PYTHON


# The first line of each license's canonical text (tests/test_license.py checks the whole text).
LICENSE_HEADINGS = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "GPL-3.0-or-later": "GNU GENERAL PUBLIC LICENSE",
}
LICENSE_LABEL = re.compile(r"^\s*org\.opencontainers\.image\.licenses=(.*?) \\$", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_license_follows_the_answer(project: Rendered) -> None:
    """LICENSE where GitHub finds it (the repository's top, or the add-on folder with layout app),
    the image's licenses label, and a License section in every README that leads to it."""
    combo = project.combo
    licenses = [path for path in project.files() if path.name == "LICENSE"]
    dockerfile = (project.addon / "Dockerfile").read_text(encoding="utf-8")
    readmes = [project.addon / "README.md"]
    readmes += [project.root / "README.md"] if combo.layout == "repository" else []
    sections = {
        readme: " ".join(readme.read_text(encoding="utf-8").split("\n## License\n", 1)[1].split())
        for readme in readmes
    }
    if combo.license == "none":
        assert licenses == []
        assert not LICENSE_LABEL.search(dockerfile)
        for section in sections.values():
            assert "all rights are reserved by Storage Demo maintainers" in section
            assert not LINK.search(section)
        return
    assert licenses == [project.root / "LICENSE"]
    text = licenses[0].read_text(encoding="utf-8")
    assert text.strip().splitlines()[0].strip() == LICENSE_HEADINGS[combo.license]
    assert LICENSE_LABEL.findall(dockerfile) == [f'"{combo.license}"']
    for readme, section in sections.items():
        (link,) = LINK.findall(section)
        assert (readme.parent / link).resolve() == licenses[0].resolve(), readme
        assert "Storage Demo maintainers" in section
        later = "either version 3 of the License, or (at your option) any later version"
        assert (later in section) == (combo.license == "GPL-3.0-or-later")

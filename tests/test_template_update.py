"""The weekly template update (template-update.yaml), its script run with bash as GitHub runs it.

The script is read from the rendered workflow, not copied. It runs in a clone of a bare "origin"
repository, against test_update's git repository of this template (releases 1.0.0 and 1.1.0),
which the project reaches through an https URL as it would a published template: git's
`url.<base>.insteadOf` maps that URL to the local repository. `gh` is a stand-in that records its
calls and keeps pull requests in a JSON file; `gh pr list --json` answers as the GitHub CLI does,
with an array of objects holding the requested fields (cli.github.com/manual/gh_pr_list).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import pytest
from plumbum import local

import test_update
from combos import Combo
from conftest import Renderer, git
from rendered import load_yaml
from test_update import NEW_HEARTBEAT, SLUG
from test_workflow_steps import step

template_repo = test_update.template_repo  # the same two releases as the update tests

URL = "https://example.invalid/addon-template.git"
BRANCH = "template-update"
BOT = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
MAINTAINER = "Maintainer <maintainer@example.com>"
TITLE = "Update from the add-on template"
Edit = Callable[[Path], object]  # changes files in a work tree
SLUG_OF_RENDER = Combo(mounts=(), persistence=()).slug

FAKE_GH = '''\
"""A stand-in for the GitHub CLI: logs each call, keeps pull requests in a JSON file."""
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
state = Path(os.environ["FAKE_GH_STATE"])
prs = json.loads(state.read_text(encoding="utf-8"))


def option(name):
    return args[args.index(name) + 1]


def url(number):
    return f"https://github.com/{os.environ['GH_REPO']}/pull/{number}"


if args[:2] == ["auth", "setup-git"]:
    sys.exit(0)
if args[:2] == ["pr", "list"]:
    wanted = option("--state").upper()
    fields = option("--json").split(",")
    found = [p for p in prs if p["headRefName"] == option("--head") and p["state"] == wanted]
    print(json.dumps([{field: p[field] for field in fields} for p in found]))
    sys.exit(0)
if args[:2] == ["pr", "create"]:
    number = max((p["number"] for p in prs), default=0) + 1
    prs.append({"number": number, "state": "OPEN", "isCrossRepository": False,
                "headRefName": option("--head"), "baseRefName": option("--base"),
                "title": option("--title"),
                "body": Path(option("--body-file")).read_text(encoding="utf-8")})
elif args[:2] == ["pr", "edit"]:
    (pr,) = [p for p in prs if p["number"] == int(args[2])]
    pr["title"] = option("--title")
    pr["body"] = Path(option("--body-file")).read_text(encoding="utf-8")
    number = pr["number"]
else:
    print(f"fake gh: not supported: {args}", file=sys.stderr)
    sys.exit(2)
state.write_text(json.dumps(prs), encoding="utf-8")
print(url(number))
'''


@dataclass
class GitHub:
    """The repository as the workflow sees it: a bare origin, a checkout, pull requests, `gh`."""

    origin: Path
    checkout: Path
    state: Path
    log: Path
    bin: Path

    def calls(self) -> list[list[str]]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    def writes(self) -> list[list[str]]:
        """The calls that create or change a pull request."""
        return [call for call in self.calls() if call[:2] in (["pr", "create"], ["pr", "edit"])]

    def prs(self) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads(self.state.read_text(encoding="utf-8"))
        return loaded

    def add_pr(self, state: str, head: str | None = None) -> None:
        prs = self.prs()
        prs.append({"number": 7, "state": state, "isCrossRepository": False,
                    "headRefName": BRANCH, "headRefOid": head or self.branch(),
                    "title": TITLE, "body": ""})  # fmt: skip
        self.state.write_text(json.dumps(prs), encoding="utf-8")

    def branch(self) -> str | None:
        """The commit of `template-update` on origin, if it exists."""
        heads = git(self.origin, "for-each-ref", "--format=%(objectname)", f"refs/heads/{BRANCH}")
        return heads.strip() or None

    def main(self) -> str:
        return git(self.origin, "rev-parse", "refs/heads/main").strip()


@pytest.fixture
def published(
    template_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The template's URL, as a user who rendered the published template has in `_src_path`."""
    rewrite = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{template_repo}.insteadOf",
        "GIT_CONFIG_VALUE_0": URL,
    }
    for key, value in rewrite.items():
        monkeypatch.setenv(key, value)  # for the script
    monkeypatch.setenv("COPIER_CACHE_DIR", str(tmp_path / "copier-cache"))
    with local.env(**rewrite):  # for copier's git, which runs in plumbum's copy of the environment
        yield URL


def copy_release(source: str, destination: Path, ref: str = "1.0.0", **answers: Any) -> Path:
    """`copier copy` of a release, never with --trust."""
    copier.run_copy(
        source, destination, data={"name": "Update Demo", **answers}, defaults=True,
        unsafe=False, vcs_ref=ref, quiet=True,
    )  # fmt: skip
    return destination


def commit_all(
    repo: Path, message: str, author: str | None = None, committer: str | None = None
) -> None:
    """Commit everything, by `author` and committed by `committer` (the author by default)."""
    git(repo, "add", "-A")
    committer = committer or author
    identity = []
    if committer:
        name, email = committer.rstrip(">").split(" <")
        identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    git(repo, *identity, "commit", "-q", "-m", message, *([f"--author={author}"] if author else []))


def on_github(project: Path, tmp_path: Path) -> GitHub:
    """Push the project's history to a bare origin and check it out as actions/checkout would."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(origin))
    git(origin, "config", "receive.denyNonFastForwards", "true")  # no force push gets through
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(origin), str(checkout))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
    gh.chmod(0o755)
    state = tmp_path / "pull-requests.json"
    state.write_text("[]", encoding="utf-8")
    log = tmp_path / "gh-calls.jsonl"
    log.write_text("", encoding="utf-8")
    return GitHub(origin, checkout, state, log, bin_dir)


def new_project(source: str, tmp_path: Path, edit: Edit | None = None, **answers: Any) -> GitHub:
    """A repository rendered from release 1.0.0 and committed on main (after `edit`, if any)."""
    root = copy_release(source, tmp_path / "project", **answers)
    git(root, "init", "-q")
    commit_all(root, "generated")
    if edit:
        edit(root)
        commit_all(root, "my edits", MAINTAINER)
    return on_github(root, tmp_path)


def push_to_branch(
    github: GitHub, tmp_path: Path, author: str, edit: Edit, committer: str | None = None
) -> str:
    """A commit on `template-update` on origin, as someone who pushed it there."""
    work = tmp_path / "elsewhere"
    git(tmp_path, "clone", "-q", str(github.origin), str(work))
    git(work, "switch", "-q", "-c", BRANCH)
    edit(work)
    commit_all(work, "on the branch", author, committer)
    git(work, "push", "-q", "origin", BRANCH)
    return git(work, "rev-parse", "HEAD").strip()


def run_update(github: GitHub, token: str = "test-token") -> subprocess.CompletedProcess[str]:
    """The workflow's update step, with bash, in the checkout, as the weekly run does."""
    script = step(github.checkout / ".github" / "workflows" / "template-update.yaml", "update",
                  "update")  # fmt: skip
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("GITHUB_", "GH_", "RUNNER_"))}  # fmt: skip
    path = [str(github.bin), str(Path(sys.executable).parent), "/usr/bin", "/bin"]
    # The script writes git's global config (url rewrites): give each run its own copy.
    gitconfig = github.checkout.parent / "gitconfig"
    if not gitconfig.exists():
        shutil.copy(os.environ["GIT_CONFIG_GLOBAL"], gitconfig)
    environment |= {
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "PATH": os.pathsep.join(path),
        "GH_TOKEN": token,
        "GH_REPO": "example/update-demo",
        "GITHUB_REF_NAME": "main",
        "FAKE_GH_STATE": str(github.state),
        "FAKE_GH_LOG": str(github.log),
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=github.checkout, env=environment, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip


def marker_check(repo: Path) -> subprocess.CompletedProcess[str]:
    """ci.yaml's conflict-marker step, as GitHub runs it (`bash -e`), at the top of `repo`."""
    script = step(repo / ".github" / "workflows" / "ci.yaml", "conflict-markers", "markers")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-c", script], cwd=repo, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def branch_file(github: GitHub, path: str) -> str:
    return git(github.origin, "show", f"refs/heads/{BRANCH}:{path}")


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("::error")]


def test_an_update_without_conflicts_is_one_commit_and_a_plain_pull_request(
    published: str, tmp_path: Path
) -> None:
    github = new_project(published, tmp_path)
    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(github.origin, "rev-parse", f"{BRANCH}~1").strip() == github.main()
    assert load_yaml(tmp_path / "project" / ".copier-answers.yml")["_src_path"] == URL
    assert "_commit: 1.1.0" in branch_file(github, ".copier-answers.yml")
    assert NEW_HEARTBEAT in branch_file(github, f"{SLUG}/src/{SLUG}/app.py")
    (pr,) = github.prs()
    assert (pr["title"], pr["headRefName"], pr["baseRefName"]) == (TITLE, BRANCH, "main")
    assert "- `.copier-answers.yml`: 1.0.0 → 1.1.0" in pr["body"]
    assert "No conflicts" in pr["body"]
    assert "<<<<<<<" not in pr["body"]
    # 1.1.0 changes app.py, so the add-on's image changes: Builder wants a new version.
    assert f"raise `version` in `{SLUG}/config.yaml`" in pr["body"]


def _conflicting_edits(root: Path) -> None:
    app = root / SLUG / "src" / SLUG / "app.py"
    app.write_text(app.read_text().replace("HEARTBEAT_SECONDS = 60.0", "HEARTBEAT_SECONDS = 15.0"))
    docs = root / SLUG / "DOCS.md"
    docs.write_text(docs.read_text() + "\n## Help\n\nAsk in the forum.\n")


def test_conflicts_are_named_in_the_pull_request_and_fail_the_marker_check(
    published: str, tmp_path: Path
) -> None:
    github = new_project(published, tmp_path, edit=_conflicting_edits)
    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr

    conflicted = [f"{SLUG}/DOCS.md", f"{SLUG}/src/{SLUG}/app.py"]
    for path in conflicted:
        assert "<<<<<<< before updating" in branch_file(github, path), path
    (pr,) = github.prs()
    assert pr["title"] == f"{TITLE}: conflicts in 2 files"
    assert "**Conflicts in 2 files.**" in pr["body"]
    assert [line for line in pr["body"].splitlines() if line.startswith("- `")] == [
        "- `.copier-answers.yml`: 1.0.0 → 1.1.0",
        *(f"- `{path}`" for path in conflicted),
    ]

    branch = tmp_path / "branch"
    git(tmp_path, "clone", "-q", "--branch", BRANCH, str(github.origin), str(branch))
    ci = load_yaml(branch / ".github" / "workflows" / "ci.yaml")
    assert f'CI\'s "{ci["jobs"]["conflict-markers"]["name"]}" check fails' in pr["body"]
    check = marker_check(branch)
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        f"::error file={path}::Conflict markers in {path}: resolve them, then commit."
        for path in conflicted
    ]


def test_a_maintainers_commits_on_the_branch_are_kept(published: str, tmp_path: Path) -> None:
    github = new_project(published, tmp_path)

    def resolve(work: Path) -> None:
        (work / "README.md").write_text((work / "README.md").read_text() + "\nResolved.\n")

    mine = push_to_branch(github, tmp_path, MAINTAINER, resolve)
    github.add_pr("OPEN")
    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr

    tip = github.branch()
    assert tip and tip != mine
    assert git(github.origin, "rev-parse", f"{BRANCH}~1").strip() == mine  # on top, not instead
    assert branch_file(github, "README.md").endswith("\nResolved.\n")
    assert "_commit: 1.1.0" in branch_file(github, ".copier-answers.yml")
    assert [call[:3] for call in github.writes()] == [["pr", "edit", "7"]]
    assert github.prs()[0]["title"] == TITLE


def test_a_branch_with_a_persons_commits_and_no_pull_request_is_left_alone(
    published: str, tmp_path: Path
) -> None:
    github = new_project(published, tmp_path)
    mine = push_to_branch(github, tmp_path, MAINTAINER, lambda work: (work / "mine.txt").touch())
    github.add_pr("CLOSED")
    result = run_update(github)
    assert result.returncode == 1
    (error,) = errors(result)
    assert f"Branch {BRANCH} has commits by people" in error
    assert github.branch() == mine
    assert github.writes() == []


@pytest.mark.parametrize(("author", "pr_state"), [(MAINTAINER, "MERGED"), (BOT, "CLOSED")])
def test_a_merged_or_unattended_branch_starts_again_from_the_base(
    published: str, tmp_path: Path, author: str, pr_state: str
) -> None:
    github = new_project(published, tmp_path)
    old = push_to_branch(github, tmp_path, author, lambda work: (work / "old.txt").touch())
    github.add_pr(pr_state, head=old)
    git(github.origin, "config", "receive.denyNonFastForwards", "false")
    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(github.origin, "rev-parse", f"{BRANCH}~1").strip() == github.main()
    assert [call[:2] for call in github.writes()] == [["pr", "create"]]


def test_every_project_in_the_repository_is_updated(published: str, tmp_path: Path) -> None:
    def add_an_addon(root: Path) -> None:
        copy_release(published, root / "two", layout="app", name="Two", slug="two")

    github = new_project(published, tmp_path, edit=add_an_addon)
    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr
    log = git(github.origin, "log", "--format=%s", f"main..{BRANCH}").splitlines()
    assert log == [
        "Update two/ from the add-on template to 1.1.0",
        "Update from the add-on template to 1.1.0",
    ]
    assert "_commit: 1.1.0" in branch_file(github, "two/.copier-answers.yml")
    assert "SECURITY.md" in git(github.origin, "ls-tree", "--name-only", BRANCH, "two/")
    (pr,) = github.prs()
    assert "- `two/.copier-answers.yml`: 1.0.0 → 1.1.0" in pr["body"]


def test_a_missing_token_is_one_line_naming_the_secret(published: str, tmp_path: Path) -> None:
    github = new_project(published, tmp_path)
    result = run_update(github, token="")
    assert result.returncode == 1
    assert result.stdout.splitlines() == errors(result)
    (error,) = errors(result)
    assert "TEMPLATE_UPDATE_TOKEN" in error
    assert github.calls() == []
    assert github.branch() is None


def test_a_template_path_on_the_users_machine_is_one_line_naming_src_path(
    template_repo: Path, tmp_path: Path
) -> None:
    github = new_project(str(template_repo), tmp_path)
    result = run_update(github)
    assert result.returncode == 1
    (error,) = errors(result)
    assert error.startswith("::error file=.copier-answers.yml::_src_path in .copier-answers.yml")
    assert "public git URL" in error
    assert "Traceback" not in result.stderr
    assert github.branch() is None
    assert github.writes() == []


def test_nothing_newer_pushes_nothing(published: str, tmp_path: Path) -> None:
    root = copy_release(published, tmp_path / "project", ref="1.1.0")
    git(root, "init", "-q")
    commit_all(root, "generated")
    github = on_github(root, tmp_path)
    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No newer template release." in result.stdout
    assert github.branch() is None
    assert github.writes() == []


def test_the_marker_check_reads_every_text_file_and_skips_binary_ones(
    render: Renderer, tmp_path: Path
) -> None:
    rendered = render.project(Combo(mounts=("share",), persistence=("state",)))
    repo = tmp_path / "repo"
    shutil.copytree(rendered.root, repo)
    git(repo, "init", "-q")
    commit_all(repo, "rendered")
    assert (marker_check(repo).returncode, marker_check(repo).stdout) == (0, "")

    conflict = "<<<<<<< before updating\nmine\n=======\ntheirs\n>>>>>>> after updating\n"
    text_files = [".gitignore", f"{SLUG_OF_RENDER}/DOCS.md", f"{SLUG_OF_RENDER}/apparmor.txt"]
    for path in text_files:
        with (repo / path).open("a", encoding="utf-8") as handle:
            handle.write(conflict)
    with (repo / SLUG_OF_RENDER / "icon.png").open("ab") as binary:
        binary.write(b"\n" + conflict.encode())
    (repo / "NOTES.md").write_text("Notes\n=======\n\nA heading, not a conflict.\n")
    commit_all(repo, "unresolved")
    check = marker_check(repo)
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        f"::error file={path}::Conflict markers in {path}: resolve them, then commit."
        for path in text_files
    ]


def test_the_readme_sets_up_the_secret_the_workflow_reads(render: Renderer) -> None:
    root = render.project(Combo(mounts=(), persistence=("state",))).root
    workflow = load_yaml(root / ".github" / "workflows" / "template-update.yaml")
    (update,) = [s for s in workflow["jobs"]["update"]["steps"] if s.get("id") == "update"]
    assert update["env"]["GH_TOKEN"] == "${{ secrets.TEMPLATE_UPDATE_TOKEN }}"
    assert "TEMPLATE_UPDATE_TOKEN" in update["run"]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "secret `TEMPLATE_UPDATE_TOKEN`" in readme
    for permission in ("**Contents**", "**Pull requests**", "**Workflows**"):
        assert permission in readme


def test_new_questions_answered_by_default_are_named_in_the_pull_request(
    published: str, tmp_path: Path
) -> None:
    def made_before_the_license_question(root: Path) -> None:
        answers = root / ".copier-answers.yml"
        text = answers.read_text(encoding="utf-8")
        assert "license: MIT\n" in text
        answers.write_text(text.replace("license: MIT\n", ""), encoding="utf-8")

    github = new_project(published, tmp_path, made_before_the_license_question)
    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "license: MIT" in branch_file(github, ".copier-answers.yml")
    (pr,) = github.prs()
    assert "New questions, answered with their defaults: `license: MIT`." in pr["body"]
    assert "copier update --skip-answered -d <question>=<answer> ." in pr["body"]


def test_resolved_conflicts_leave_the_title_at_the_next_run(published: str, tmp_path: Path) -> None:
    github = new_project(published, tmp_path, edit=_conflicting_edits)
    assert run_update(github).returncode == 0
    assert github.prs()[0]["title"] == f"{TITLE}: conflicts in 2 files"

    def resolve(work: Path) -> None:
        for path in (f"{SLUG}/DOCS.md", f"{SLUG}/src/{SLUG}/app.py"):
            file = work / path
            kept = [
                line
                for line in file.read_text(encoding="utf-8").splitlines(keepends=True)
                if not line.startswith(("<<<<<<< ", "=======", ">>>>>>> "))
            ]
            file.write_text("".join(kept), encoding="utf-8")

    work = tmp_path / "maintainer"
    git(tmp_path, "clone", "-q", "--branch", BRANCH, str(github.origin), str(work))
    resolve(work)
    commit_all(work, "Resolve the conflicts", MAINTAINER)
    git(work, "push", "-q", "origin", BRANCH)
    resolved = github.branch()

    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr
    assert github.branch() == resolved  # nothing newer: nothing pushed
    (pr,) = github.prs()
    assert pr["title"] == TITLE
    assert "No conflicts" in pr["body"]


def test_a_maintainers_amend_of_the_workflows_commit_is_kept(
    published: str, tmp_path: Path
) -> None:
    github = new_project(published, tmp_path)
    amended = push_to_branch(
        github, tmp_path, BOT, lambda work: (work / "resolved.txt").touch(), committer=MAINTAINER
    )
    github.add_pr("CLOSED", head=amended)
    result = run_update(github)
    assert result.returncode == 1
    (error,) = errors(result)
    assert "has commits by people" in error
    assert github.branch() == amended


def test_ssh_sources_off_github_are_one_line_naming_src_path(
    template_repo: Path, tmp_path: Path
) -> None:
    github = new_project(str(template_repo), tmp_path)
    answers = github.checkout / ".copier-answers.yml"
    text = answers.read_text(encoding="utf-8")
    answers.write_text(
        text.replace(f"_src_path: {template_repo}", "_src_path: git@gitlab.example:me/t.git"),
        encoding="utf-8",
    )
    commit_all(github.checkout, "an ssh source")
    result = run_update(github)
    assert result.returncode == 1
    (error,) = errors(result)
    assert "git@gitlab.example:me/t.git" in error and "public git URL" in error


def test_the_conflict_check_runs_as_on_main_and_without_the_token(
    published: str, tmp_path: Path
) -> None:
    seen = tmp_path / "token-seen"

    def spy(root: Path) -> None:
        script = root / ".github" / "conflict-markers.sh"
        text = script.read_text(encoding="utf-8")
        script.write_text(
            text.replace(
                "set -euo pipefail\n", f'set -euo pipefail\necho "${{GH_TOKEN:-none}}" >{seen}\n'
            ),
            encoding="utf-8",
        )

    github = new_project(published, tmp_path, spy)
    result = run_update(github)
    assert result.returncode == 0, result.stdout + result.stderr
    assert seen.read_text(encoding="utf-8") == "none\n"

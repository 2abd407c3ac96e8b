"""Every file access the add-on really makes is one its AppArmor profile allows.

AppArmor cannot be enforced here (no AppArmor in the kernel, and the container tests run on a
stand-in image without s6-overlay), so this is the profile's "complain mode": the rendered
add-on runs under strace as the Supervisor drives it (start, backup-pre, doctor and its quick
health check, backup-post, SIGTERM), with the file log on, and each successful
open, create, rename, delete and lock is checked against the profile with the access it needs.
Paths under HA_APP_ROOT are the container's (/data, /share, /run/<slug>, ...); the add-on's
package is /app; Python's own files are the image's and are only read. Anything else (/tmp, /proc,
/etc, /dev) is checked as it is. The add-on must run no program and open no socket but its web
UI's TCP ones (the page is loaded while it is traced).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

import apparmor
from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer
from rendered import load_yaml
from supervisor_rules import MAP_CONTAINER_PATHS
from tools import require

pytestmark = [pytest.mark.tools]

COMBOS = [
    # The web UI too: its server's files and sockets are checked as the page is loaded.
    Combo(
        mounts=MOUNTS, persistence=PERSISTENCE, layout="app", writable_mode="all", web_ui="ingress"
    ),
    Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app"),  # some mounts read-only
]
WEB_PAGES = ("", "static/status.css", "static/status.js", "api/status")
LISTENING = re.compile(r"Web UI listening on port (\d+)")
# The only sockets the web UI may open: TCP over IPv4 (and IPv6), as its profile allows.
WEB_SOCKET = re.compile(r"^AF_INET6?, SOCK_STREAM\b")
WAIT = 60.0  # seconds: the bound on every wait, so that a hang fails instead of stalling
TRACED = (
    "open,openat,openat2,creat,mkdir,mkdirat,rmdir,unlink,unlinkat,rename,renameat,renameat2,"
    "link,linkat,symlink,symlinkat,truncate,chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown,"
    "utimensat,fcntl,flock,execve,execveat,socket,socketpair"
)
# strace pads the pid to five columns: "1297  openat(..." as well as "21297 openat(...".
LINE = re.compile(
    r"^\d+ +(?P<call>\w+)\((?P<args>.*)\) += (?P<result>-?\d+)(?:<(?P<opened>[^>]*)>)?"
)
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
FD_PATH = re.compile(r"(?:AT_FDCWD|\d+)<([^>]*)>")
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
LOCKS = ("F_SETLK", "F_SETLKW", "F_OFD_SETLK", "F_OFD_SETLKW")
CHANGES = {
    "unlink", "unlinkat", "truncate", "chmod", "fchmodat", "chown", "fchownat", "lchown",
    "utimensat", "symlink", "symlinkat",
}  # fmt: skip
PAIRS = {"rename", "renameat", "renameat2", "link", "linkat"}  # both names need write access


@dataclass(frozen=True)
class Access:
    """One access the kernel checks: the path (resolved) and the permission letters it needs."""

    path: str
    needs: str
    call: str


@dataclass(frozen=True)
class Call:
    """One successful system call of the trace."""

    name: str
    args: str
    opened: str  # the path of a returned descriptor (strace -y), or ""

    @property
    def names(self) -> list[str]:
        """Its path arguments, made absolute against the directory descriptor before them."""
        base = FD_PATH.match(self.args)
        folder = base[1] if base else ""
        texts = [text.encode().decode("unicode_escape") for text in STRING.findall(self.args)]
        return [name if name.startswith("/") else f"{folder}/{name}" for name in texts]

    @property
    def descriptor(self) -> str:
        """The path of the descriptor it acts on (first argument), or ""."""
        base = FD_PATH.match(self.args)
        return base[1] if base else ""


def calls(trace: str) -> list[Call]:
    """The successful calls of an strace -f -y log: failed ones reach no check that matters."""
    found = []
    for line in trace.splitlines():
        match = LINE.match(line)
        if match and int(match["result"]) >= 0:
            found.append(Call(match["call"], match["args"], match["opened"] or ""))
    return found


def file_access(call: Call) -> list[Access]:
    """What AppArmor checks for one call (nothing for calls it does not mediate)."""
    if call.name in ("open", "openat", "openat2", "creat") and "O_PATH" not in call.args:
        path = call.opened or call.names[0]
        writes = call.name == "creat" or any(flag in call.args for flag in WRITE_FLAGS)
        reads = call.name != "creat" and ("O_RDONLY" in call.args or "O_RDWR" in call.args)
        folder = "O_DIRECTORY" in call.args or os.path.isdir(path)
        needs = ("r" if reads else "") + ("w" if writes else "")
        return [Access(path + ("/" if folder else ""), needs, call.name)]
    if call.name in ("mkdir", "mkdirat", "rmdir"):
        return [Access(call.names[0].rstrip("/") + "/", "w", call.name)]
    if call.name in CHANGES or call.name in PAIRS:
        names = call.names[-2:] if call.name in PAIRS else call.names[-1:]
        return [Access(as_named(name), "w", call.name) for name in names]
    if call.name in ("fchmod", "fchown") and call.descriptor:
        return [Access(as_named(call.descriptor), "w", call.name)]
    locks = call.name == "flock" or any(lock in call.args for lock in LOCKS)
    if call.name in ("fcntl", "flock") and locks and call.descriptor:
        return [Access(as_named(call.descriptor), "k", call.name)]
    return []


def as_named(path: str) -> str:
    """A path as AppArmor matches it: a folder's with a trailing slash."""
    return path.rstrip("/") + "/" if os.path.isdir(path) else path


def programs_and_sockets(found: list[Call], *, web: bool) -> list[str]:
    """Programs run (past strace starting Python itself) and sockets opened (but the web UI's
    TCP sockets when it has one)."""
    execs = [call for call in found if call.name in ("execve", "execveat")][1:]
    sockets = [
        call
        for call in found
        if call.name in ("socket", "socketpair")
        and not (web and call.name == "socket" and WEB_SOCKET.match(call.args))
    ]
    return [f"{call.name}({call.args})" for call in execs + sockets]


def load_the_page(log: Path, process: subprocess.Popen[bytes]) -> None:
    """Every file of the web UI, as a browser loads it, once the add-on says where it listens."""
    found: list[str] = []

    def listening() -> bool:
        found[:] = LISTENING.findall(log.read_text(errors="replace")) if log.exists() else []
        return bool(found)

    wait_for("web UI", listening, process)
    for page in WEB_PAGES:
        with urllib.request.urlopen(f"http://127.0.0.1:{found[0]}/{page}", timeout=WAIT) as answer:
            assert answer.status == 200, page


class Mapper:
    """Where each host path is in the image: HA_APP_ROOT is the container's root, the package
    source is /app, and Python's own files are the image's (read-only)."""

    def __init__(self, root: Path, source: Path) -> None:
        self.root = str(root.resolve())
        self.source = str(source.resolve())
        self.runtime = {
            str(Path(p).resolve())
            for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_path("stdlib"))
        } | {"/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/share/zoneinfo", "/etc/ld.so.cache"}

    def image_path(self, path: str) -> str | None:
        """The path in the image, or None for Python's own files."""
        for prefix, image in ((self.root, ""), (self.source, "/app")):
            if path == prefix or path.startswith(prefix + "/"):
                return image + path[len(prefix) :] or "/"
        if any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.runtime):
            return None
        return path


def run_traced(
    command: list[str], log: Path, environment: dict[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    strace = require("strace")
    with log.with_suffix(".out").open("ab") as output:
        return subprocess.Popen(
            [strace, "-f", "-y", "-qq", "-e", f"trace={TRACED}", "-o", str(log), *command],
            env=environment, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_for(condition: str, check: object, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while not check():  # type: ignore[operator]
        assert process.poll() is None, f"the add-on exited before {condition}"
        assert time.monotonic() < deadline, f"no {condition} within {WAIT:.0f} s"
        time.sleep(0.05)


@pytest.mark.parametrize("combo", COMBOS, ids=lambda combo: combo.id)
def test_the_addon_uses_only_what_its_profile_allows(
    render: Renderer, tmp_path: Path, combo: Combo
) -> None:
    require("apparmor_parser")
    addon = render.project(combo).addon
    slug = combo.slug
    config = load_yaml(addon / "config.yaml")
    root, traces = tmp_path / "root", tmp_path / "traces"
    # The container as the Supervisor starts it: /run and every mapped folder exist.
    folders = [root / "data", root / "run", traces]
    for mount in combo.mounts:
        folders.append(root / MAP_CONTAINER_PATHS[mount].lstrip("/"))
    for folder in folders:
        folder.mkdir(parents=True)
    options = dict(config["options"], log_to_file=True)
    (root / "data" / "options.json").write_text(json.dumps(options))
    environment = os.environ | {
        "HA_APP_ROOT": str(root), "PYTHONPATH": str(addon / "src"), "PYTHONUNBUFFERED": "1",
        "HA_APP_INGRESS_PORT": "0",  # any free port: other tests run add-ons beside this one
    }  # fmt: skip
    web = combo.web_ui == "ingress"
    python = [sys.executable, "-m", slug]

    work = addon / "src"  # the image's WORKDIR, /app
    main = run_traced([*python, "run"], traces / "run", environment, work)
    try:
        pid_file = root / "run" / slug / "main.pid"
        wait_for("pid file", pid_file.exists, main)
        if web:
            load_the_page(traces / "run.out", main)
        for step in (["backup-pre"], ["doctor"], ["doctor", "--quick"], ["backup-post"]):
            if step[0].startswith("backup") and "backup_pre" not in config:
                continue
            name = step[-1].lstrip("-")
            hook = run_traced([*python, *step], traces / name, environment, work)
            assert hook.wait(timeout=WAIT) == 0, (traces / f"{name}.out").read_text()
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGTERM)
        assert main.wait(timeout=WAIT) == 0, (traces / "run.out").read_text()
    finally:
        if main.poll() is None:
            main.kill()
            main.wait(timeout=WAIT)

    profile_text = (addon / "apparmor.txt").read_text(encoding="utf-8")
    source = tmp_path / "apparmor.txt"
    source.write_text(profile_text, encoding="utf-8")
    flat = apparmor.preprocessed(source)
    (profile,) = apparmor.profiles(flat, apparmor.variables(flat)).values()
    mapper = Mapper(root, addon / "src")
    refused: set[str] = set()
    checked = 0
    for trace in sorted(traces.glob("*")):
        if trace.suffix == ".out":
            continue
        found = calls(trace.read_text(errors="replace"))
        unexpected = programs_and_sockets(found, web=web)
        assert unexpected == [], f"{trace.name}: ran a program or opened a socket: {unexpected}"
        for access in (access for call in found for access in file_access(call)):
            path = mapper.image_path(re.sub(r"^/proc/self/", f"/proc/{pid}/", access.path))
            if path is None:
                assert set(access.needs) <= {"r"}, f"{trace.name}: {access} changes Python"
                continue
            checked += 1
            if access.needs and not profile.allows(path, access.needs):
                refused.add(f"{trace.name}: {access.call} {path} needs {access.needs}")
    assert checked > 50, "the trace saw too little: is strace working?"
    assert not refused, "not allowed by apparmor.txt:\n" + "\n".join(sorted(refused))

"""The add-on's AppArmor profile allows what the add-on and s6-overlay use, and nothing more.

Every rule is read as the kernel gets it: `apparmor_parser -p` flattens the includes
(abstractions/base) and the tunables' variables are expanded (apparmor.py). The checks:
- no network but the Unix stream socket s6-rc needs, and TCP over IPv4 and IPv6 for the web UI's
  server when the add-on has one (`web_ui: ingress`);
- nothing writable is executable, over every pair of rules, with two exceptions that are named:
  the scripts s6-overlay writes into its own folders of /run at every start and then runs, and
  abstractions/base's ecryptfs rule for home folders (the host's file, nothing of it in the image);
- /proc only for the add-on's own process, no /tmp, no /dev/shm;
- every path s6-overlay's start-up and stop touch, read from its sources, and every path of the
  add-on is allowed (AppArmor cannot be enforced in a container here, so this is the check that
  the narrowing broke nothing; test_apparmor_trace.py checks the add-on's real file accesses).
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from pathlib import Path

import pytest

import apparmor
from combos import MATRIX, MOUNTS, Combo
from conftest import Renderer
from supervisor_rules import MAP_CONTAINER_PATHS
from tools import require

pytestmark = pytest.mark.parametrize("combo", MATRIX, ids=lambda combo: combo.id)

# Executable rules for what s6-overlay writes at every start and then runs (see apparmor.txt):
# the only places where a writable rule may meet an executable one.
S6_SCRIPTS = ("/run/s6/basedir/", "/run/service/", "/run/s6-rc:")
# abstractions/base grants read, write and execute on ecryptfs's private home folders. It is the
# host's file, not the template's; the image has no such folder.
BASE_ECRYPTFS = ("/.Private/", "/.ecryptfs/")

# What s6-overlay v3 touches to start and stop the container, with the source that says so.
# just-containers/s6-overlay v3.2.3.0 (layout/rootfs-overlay/...), skarnet/s6-linux-init v1.2.0.1
# (s6-linux-init.c, s6-linux-init-maker.c, s6-linux-init-shutdownd.c), skarnet/s6-rc v0.6.1.0
# (s6-rc-init.c, s6rc_livedir_create.c, s6-rc-oneshot-run.c), skarnet/s6 v2.15.0.0
# (s6-supervise.c), skarnet/skalibs v2.15.0.0 (atomic_symlink4.c).
S6_NEEDS = [
    ("/init", "rx"),  # the image's ENTRYPOINT, a shell script
    ("/bin/busybox", "rx"),  # /bin/sh of the Alpine base image, and the tools the scripts call
    ("/command/s6-overlay-suexec", "rx"),  # init: exec s6-overlay-suexec (a link into /package)
    ("/package/admin/s6-overlay-3.2.3.0/libexec/preinit", "rx"),
    ("/package/admin/s6-overlay-3.2.3.0/libexec/stage0", "rx"),
    ("/package/admin/s6-linux-init-1.2.0.1/command/s6-linux-init-maker", "rx"),
    ("/package/admin/s6-overlay-3.2.3.0/etc/s6-linux-init/skel/rc.init", "r"),
    ("/run/", "r"),
    ("/run/s6/", "rw"),  # preinit: s6-rmrf, then s6-mkdir /run/s6 /run/service
    ("/run/service/", "rw"),
    ("/run/s6/workdir", "w"),  # stage0: pwd > /run/s6/workdir
    ("/run/s6/basedir/", "w"),  # stage0: s6-linux-init-maker ... /run/s6/basedir
    ("/run/s6/basedir/bin/init", "rwx"),  # stage0: exec "$basedir/bin/init"
    ("/run/s6/basedir/bin/halt", "rx"),  # rc.init: haltwith
    ("/run/s6/basedir/scripts/rc.init", "rx"),  # s6-linux-init: stage 2
    ("/run/s6/basedir/scripts/rc.shutdown", "rx"),  # s6-linux-init-shutdownd
    ("/run/s6/container_environment/PATH", "w"),  # stage0: -s /run/s6/container_environment
    ("/run/service/.s6-svscan/SIGTERM", "rwx"),  # s6-linux-init copies run-image into /run
    ("/run/service/.s6-svscan/finish", "rwx"),
    ("/run/service/.s6-svscan/control", "rw"),  # s6-svscan's control fifo and lock
    ("/run/service/.s6-svscan/lock", "rwk"),
    ("/run/service/s6-linux-init-shutdownd/run", "rwx"),
    ("/run/service/s6-linux-init-shutdownd/fifo", "rw"),
    ("/run/service/s6-linux-init-shutdownd/supervise/control", "rw"),  # s6-supervise
    ("/run/service/s6-linux-init-shutdownd/stage 4.new", "rw"),  # shutdownd: prepare_stage4
    ("/run/service/s6-linux-init-shutdownd/stage 4", "rwx"),  # then renamed and run
    ("/run/service/.s6-linux-init-shutdownd:s6rc-fdholder:Ab12Cd/", "rw"),  # unsupervise_tree
    ("/run/s6-linux-init-container-results/haltcode", "rw"),  # prepare_stage4, container mode
    ("/run/s6/db/lock", "rwk"),  # s6-rc-oneshot-run: s6rc_lock on livedir/compiled
    ("/run/service/s6-linux-init-shutdownd/event/", "rw"),
    ("/run/s6-linux-init-container-results/exitcode", "rw"),  # rc.init: haltwith
    ("/run/s6/db/servicedirs/s6rc-oneshot-runner/run", "rw"),  # rc.init: s6-rc-compile
    ("/run/s6-rc", "rw"),  # s6-rc-init: the link to the live folder, atomic_symlink4
    ("/run/s6-rc:skalibs-atomic_symlink4:Ab12Cd", "rw"),
    ("/run/s6-rc:s6-rc-init:Ab12Cd/", "rw"),  # s6rc_livedir_create: mkdtemp
    ("/run/s6-rc:s6-rc-init:Ab12Cd/state", "rw"),
    ("/run/s6-rc:s6-rc-init:Ab12Cd/servicedirs/s6rc-oneshot-runner/run", "rwx"),
    ("/run/s6-rc:s6-rc-init:Ab12Cd/servicedirs/s6rc-oneshot-runner/s", "rw"),  # its socket
    ("/run/s6-rc:s6-rc-init:Ab12Cd/servicedirs/s6rc-fdholder/run", "rwx"),
    ("/run/s6-rc:s6-rc-init:Ab12Cd/servicedirs/s6rc-fdholder/supervise/lock", "rwk"),
    ("/run/s6/legacy-services/", "rw"),  # services-up: s6-rmrf, s6-mkdir
    ("/etc/s6-overlay/s6-rc.d/user/type", "r"),  # rc.init: s6-rc-compile's sources
    ("/usr/local/bin/python3.13", "rx"),  # rc.init runs the CMD, python3 on base-python
    ("/dev/tty", "rw"),
]
# What the add-on itself opens (paths.py; hotbackup.py's requests and answers in /run/<slug>).
ADDON_NEEDS = [
    ("/app/", "r"),
    ("/app/storage_demo/__main__.py", "r"),
    ("/usr/local/lib/python3.13/json/__init__.py", "r"),
    ("/usr/local/lib/python3.13/lib-dynload/_sqlite3.cpython-313-x86_64-linux-musl.so", "mr"),
    ("/data/", "r"),
    ("/data/options.json", "r"),
    ("/data/.tmp-settings.json.abc", "rwk"),
    ("/data/database.sqlite3-wal", "rwk"),
    ("/run/storage_demo/backup-requests/.tmp-1-2.request.abc", "rwk"),
    ("/run/storage_demo/", "rw"),
    ("/run/storage_demo/main.pid", "rw"),
    ("/data/.instance.lock", "rk"),
]
# What the add-on never needs; each was allowed before.
NEVER = [
    ("/tmp/x", "r"), ("/tmp/x", "w"), ("/var/tmp/x", "w"), ("/dev/shm/x", "w"),
    ("/proc/4242/environ", "r"), ("/proc/4242/mem", "r"), ("/proc/sys/kernel/hostname", "r"),
    ("/proc/4242/cmdline", "r"),
    ("/proc/4242/fd/3", "r"), ("/proc/mounts", "r"), ("/sys/fs/cgroup/memory.max", "r"),
    ("/run/storage_demo/main.pid", "x"), ("/run/other/x", "w"), ("/run/s6/db/x", "x"),
    ("/usr/bin/python3.13", "w"), ("/etc/passwd", "w"), ("/app/storage_demo/app.py", "w"),
]  # fmt: skip


@functools.cache
def analysed(text: str) -> tuple[apparmor.Profile, apparmor.Profile]:
    """The profile as the kernel gets it (base included) and the template's own rules alone."""
    require("apparmor_parser")
    folder = Path(tempfile.mkdtemp(prefix="apparmor-"))
    source = folder / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.txt"
    source.write_text(text, encoding="utf-8")
    flat = apparmor.preprocessed(source)
    definitions = apparmor.variables(flat)
    (whole,) = apparmor.profiles(flat, definitions).values()
    (own,) = apparmor.profiles(text, definitions).values()
    return whole, own


@pytest.fixture
def profiles(render: Renderer, combo: Combo) -> tuple[apparmor.Profile, apparmor.Profile]:
    text = (render.project(combo).addon / "apparmor.txt").read_text(encoding="utf-8")
    return analysed(text.replace(combo.slug, "storage_demo"))


# The network the web UI's server needs: TCP (stream sockets of the inet families, protocol tcp)
# over IPv4 and IPv6, to listen for the ingress gateway. No UDP, no raw sockets, no other family.
WEB_UI_NETWORK = ["network inet tcp,", "network inet6 tcp,"]


def test_no_network_but_the_unix_socket_of_s6_rc_and_the_web_ui(
    profiles: tuple[apparmor.Profile, apparmor.Profile], combo: Combo
) -> None:
    whole, own = profiles
    network = [line for line in whole.other if line.startswith("network")]
    expected = WEB_UI_NETWORK if combo.web_ui == "ingress" else []
    assert sorted(network) == sorted([*expected, "network unix stream,"])
    assert [line for line in own.other if line.startswith("network")] == network


def test_nothing_writable_is_executable(
    profiles: tuple[apparmor.Profile, apparmor.Profile], combo: Combo
) -> None:
    whole, _ = profiles
    rules = [rule for rule in whole.rules if not any(p in rule.glob for p in BASE_ECRYPTFS)]
    assert not [rule.line for rule in rules if rule.writable and rule.executable]
    writable = [rule for rule in rules if rule.writable]
    executable = [rule for rule in rules if rule.executable]
    met = [
        (w.line, x.line)
        for w in writable
        for x in executable
        if apparmor.overlap(w.glob, x.glob) and not x.glob.startswith(S6_SCRIPTS)
    ]
    assert met == [], "writable and executable: " + "; ".join(f"{w} + {x}" for w, x in met)
    # And the add-on's own folders never meet one, s6's scripts included.
    folders = ["/data/**", "/run/storage_demo/{,**}"]
    folders += [f"{MAP_CONTAINER_PATHS[mount]}/**" for mount in combo.mounts]
    for folder in folders:
        assert not [x.line for x in executable if apparmor.overlap(folder, x.glob)], folder


def test_no_proc_at_all(profiles: tuple[apparmor.Profile, apparmor.Profile], combo: Combo) -> None:
    """The add-on reads nothing in /proc: the backup hooks find it through its instance lock."""
    _, own = profiles
    assert not [rule.line for rule in own.rules if rule.glob.startswith("/proc")]


def test_s6_overlay_and_the_addon_have_what_they_use(
    profiles: tuple[apparmor.Profile, apparmor.Profile], combo: Combo
) -> None:
    whole, _ = profiles
    missing = [(path, access) for path, access in S6_NEEDS + ADDON_NEEDS
               if not whole.allows(path, access)]  # fmt: skip
    assert missing == []
    for mount in MOUNTS:
        path = MAP_CONTAINER_PATHS[mount]
        assert whole.allows(f"{path}/x", "r") == (mount in combo.mounts), path
        assert whole.allows(f"{path}/x", "w") == (mount in combo.writable), path


def test_nothing_else(profiles: tuple[apparmor.Profile, apparmor.Profile], combo: Combo) -> None:
    whole, _ = profiles
    assert [(path, access) for path, access in NEVER if whole.allows(path, access)] == []

"""The rendered add-on in a real container, with its folders mounted the way the Supervisor does.

podman (with runc) builds the add-on's Dockerfile unchanged but for the BASE_IMAGE argument: no
registry is reachable, so the base is a stand-in made with debootstrap (Debian with python3),
cached between runs. The checks: the image builds and starts, doctor and the HEALTHCHECK pass,
read-only folders refuse writes, the backup hooks run through exec without a shell, SIGTERM stops
the add-on within its timeout, and its data survives an update to a rebuilt, newer image whose
data migration runs once. With a web UI (ingress), the add-on also runs on a network like the
Supervisor's, where the ingress gateway's address gets the page and its JSON and any other address
a 403. Nothing is timed: waits are bounded generously (a loaded machine is only
slower), and "within its timeout" is the exit status, which podman makes 137 when it has to kill.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import supervisor_rules
from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer
from rendered import load_yaml

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("container")]

COMBO = Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app")
INGRESS = Combo(mounts=MOUNTS, persistence=PERSISTENCE, layout="app", web_ui="ingress")
# A few representative answer sets: everything with hot backups of a database, and a web UI;
# settings only with cold backups and no mount; one read-only mount with a state file.
RUN_COMBOS = [
    INGRESS,
    Combo(mounts=(), persistence=("json_config",), backup_mode="cold"),
    Combo(mounts=("media",), persistence=("state",), python_version="3.12"),
]
SLUG = COMBO.slug
BASE_IMAGE = "localhost/ha-standin-python:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
WAIT = 120  # seconds the add-on may take to log "Started": generous, for a loaded machine
# The Supervisor's network (home-assistant/supervisor 090ef31, supervisor/const.py
# DOCKER_IPV4_NETWORK_MASK and _RANGE; supervisor/docker/network.py): the gateway is the first
# address, the Supervisor, which proxies ingress, the second; add-ons get addresses from the range.
SUPERVISOR_SUBNET = "172.30.32.0/23"
SUPERVISOR_GATEWAY = "172.30.32.1"
INGRESS_GATEWAY = "172.30.32.2"
ADDON_RANGE = "172.30.33.0/24"
ADDON_ADDRESS = "172.30.33.2"
OTHER_ADDON_ADDRESS = "172.30.33.3"  # another add-on on the same network: refused
INGRESS_PORT = 8099  # the Supervisor's default ingress_port, which config.yaml leaves out
# Only one network can have the subnet: runs on the same machine (other worktrees) take turns.
NETWORK_LOCK = Path(tempfile.gettempdir()) / "ha-supervisor-network.lock"


def podman(
    *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=check, timeout=timeout
    )


@pytest.fixture(scope="module")
def containers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """podman with the settings these machines need, kept out of /etc."""
    if shutil.which("podman") is None:
        message = "podman is not installed (apt-get install podman runc debootstrap)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(f"SKIPPED CONTAINER TESTS: {message}")
    hard_nofile = subprocess.run(
        ["sh", "-c", "ulimit -Hn"], capture_output=True, text=True, check=True
    ).stdout.strip()
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={hard_nofile}:{hard_nofile}", "nproc=32768:32768"]\n'
        '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
    )
    patch = pytest.MonkeyPatch()
    patch.setenv("CONTAINERS_CONF", str(conf))
    yield
    patch.undo()


@pytest.fixture(scope="module")
def base_image(containers: None) -> str:
    """A Debian image with python3, standing in for ghcr.io/home-assistant/base-python."""
    if podman("image", "exists", BASE_IMAGE, check=False).returncode == 0:
        return BASE_IMAGE
    with tempfile.TemporaryDirectory() as rootfs:
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3", "bookworm", rootfs,
             DEBIAN_MIRROR],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        # The context closes tar's pipe: an unclosed one is a ResourceWarning, an error here.
        with subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE) as tar:
            subprocess.run(
                ["podman", "import", "-", BASE_IMAGE], stdin=tar.stdout, check=True,
                capture_output=True, timeout=900,
            )  # fmt: skip
        assert tar.returncode == 0, "tar of the stand-in base image failed"
    return BASE_IMAGE


def build(addon: Path, base: str, version: str, name: str) -> str:
    """Build the add-on's image as localhost/<name>:<version>; name is unique per test."""
    tag = f"localhost/{name}:{version}"
    podman(
        "build", "--format", "docker", "--build-arg", f"BASE_IMAGE={base}",
        "--build-arg", f"BUILD_VERSION={version}", "-t", tag, str(addon),
    )  # fmt: skip
    return tag


class Container:
    """One add-on container with its folders bind-mounted as the Supervisor mounts them."""

    def __init__(
        self,
        name: str,
        image: str,
        host: Path,
        config: dict[str, object],
        network: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        volumes = ["-v", f"{host / 'data'}:/data"]
        for entry in config.get("map", []):  # type: ignore[attr-defined]
            path = supervisor_rules.MAP_CONTAINER_PATHS[entry["type"]]
            (host / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
            mode = ":ro" if entry.get("read_only", True) else ""
            volumes += ["-v", f"{host / path.lstrip('/')}:{path}{mode}"]
        podman("rm", "-f", name, check=False)
        podman("run", "-d", "--name", name, *network, *volumes, image)
        self.wait_for("Started")

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def wait_for(self, text: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.logs():
                return
            time.sleep(0.2)
        pytest.fail(f"{text!r} not in the logs of {self.name}:\n{self.logs()}")

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return podman("exec", self.name, *command, check=False)

    def stop(self, timeout: int) -> None:
        """SIGTERM, then SIGKILL after timeout seconds (exit status 137), as the Supervisor does."""
        podman("stop", "-t", str(timeout), self.name)

    def exit_code(self) -> int:
        return int(podman("inspect", self.name, "--format", "{{.State.ExitCode}}").stdout)


def options_json(host: Path, config: dict[str, object]) -> None:
    """What the Supervisor writes before it starts the add-on: the defaults of config.yaml."""
    (host / "data").mkdir(parents=True, exist_ok=True)
    (host / "data" / "options.json").write_text(json.dumps(config["options"]))


@pytest.mark.parametrize("combo", RUN_COMBOS, ids=lambda combo: combo.id)
def test_the_addon_runs_in_its_image_as_under_the_supervisor(
    render: Renderer, base_image: str, tmp_path: Path, combo: Combo
) -> None:
    addon = render.project(combo).addon
    config = load_yaml(addon / "config.yaml")
    name = f"{SLUG}-run-{combo.id.lower().replace('+', '-')}"
    image = build(addon, base_image, "0.1.0", name)
    options_json(tmp_path, config)
    container = Container(name, image, tmp_path, config)
    try:
        doctor = container.exec("python3", "-m", SLUG, "doctor")
        assert doctor.returncode == 0, doctor.stdout
        health = podman("healthcheck", "run", container.name, check=False)
        assert health.returncode == 0, health.stdout + health.stderr
        for entry in config.get("map", []):
            if entry.get("read_only", True):
                path = supervisor_rules.MAP_CONTAINER_PATHS[entry["type"]]
                refused = container.exec("python3", "-c", f"open('{path}/new.txt', 'w')")
                assert refused.returncode != 0
                assert "Read-only file system" in refused.stderr
        if combo.hot_sqlite:
            answers = {
                "backup_pre": ("pre", "hold", "held"),
                "backup_post": ("post", "release", "released"),
            }
            for hook, (name, action, answer) in answers.items():
                # Exec'd like the Supervisor does: split like a shell, run without one.
                result = container.exec(*shlex.split(str(config[hook])))
                assert result.returncode == 0, result.stdout + result.stderr
                assert f"backup-{name}: {answer}" in result.stdout + result.stderr
                container.wait_for(f"Backup {action} request: {answer}")
        else:
            assert "backup_pre" not in config
        # Stopped by SIGTERM within the timeout: exit status 0, not podman's SIGKILL (137).
        container.stop(int(str(config.get("timeout", 10))))
        assert container.exit_code() == 0, container.logs()
        assert "Stopped cleanly" in container.logs()
        if "state" in combo.persistence:
            state = json.loads((tmp_path / "data" / "state.json").read_text())
            assert state["status"] == "stopped"
    finally:
        podman("rm", "-f", container.name, check=False)


def test_data_survives_an_update_and_its_migration_runs_once(
    render: Renderer, base_image: str, tmp_path: Path
) -> None:
    addon = render.project(COMBO).addon
    config = load_yaml(addon / "config.yaml")
    host = tmp_path / "host"
    options_json(host, config)
    first = Container(
        f"{SLUG}-v1", build(addon, base_image, "0.1.0", f"{SLUG}-update"), host, config
    )
    first.stop(10)
    podman("rm", "-f", first.name)

    newer = tmp_path / "newer"
    shutil.copytree(addon, newer)
    migrations = newer / "src" / SLUG / "migrations.py"
    text = migrations.read_text().replace(
        "STEPS: tuple[Step, ...] = (_create_folders, _rename_legacy_settings)",
        "def _mark(data: Path) -> None:\n"
        '    with (data / "migrated.log").open("a") as log:\n'
        '        log.write("ran\\n")\n\n\n'
        "STEPS: tuple[Step, ...] = (_create_folders, _rename_legacy_settings, _mark)",
    )
    migrations.write_text(text)
    image = build(newer, base_image, "0.2.0", f"{SLUG}-update")
    for run in range(2):
        container = Container(f"{SLUG}-v2-{run}", image, host, config)
        container.stop(10)
        podman("rm", "-f", container.name)
    settings = json.loads((host / "data" / "settings.json").read_text())
    assert settings["starts"] == 3
    assert json.loads((host / "data" / "data-version.json").read_text()) == {"version": 3}
    assert (host / "data" / "migrated.log").read_text() == "ran\n"


# Run inside a container on the Supervisor's network: GET each path from http://<argv[1]> (the
# add-on's ingress port) as the Supervisor's proxy does; print each answer's status, media type and
# text as JSON.
CLIENT = """
import json, sys, urllib.error, urllib.request
answers = {}
for path in sys.argv[2:]:
    request = urllib.request.Request(
        f"http://{sys.argv[1]}{path}",
        headers={"X-Ingress-Path": "/api/hassio_ingress/token", "X-Hass-Source": "core.ingress"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, media, text = answer.status, answer.headers.get_content_type(), answer.read()
    except urllib.error.HTTPError as error:
        status, media, text = error.code, error.headers.get_content_type(), error.read()
    answers[path] = [status, media, text.decode()]
print(json.dumps(answers))
"""


@contextlib.contextmanager
def supervisor_network() -> Iterator[str]:
    """A podman network laid out as the Supervisor's, internal (nothing leaves it), for the time
    of the block; runs on this machine that want one take turns (only one can have the subnet)."""
    NETWORK_LOCK.touch(exist_ok=True)
    with NETWORK_LOCK.open() as lock:
        deadline = time.monotonic() + 10 * WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{NETWORK_LOCK} stayed locked for {10 * WAIT} s")
                time.sleep(0.5)
        # Left by a run that was killed: the lock is ours, so no live run uses it.
        listed = podman("network", "ls", "--format", "{{.Name}}").stdout.split()
        for stale in (name for name in listed if name.startswith("ha-supervisor-")):
            podman("network", "rm", "-f", stale, check=False)
        network = f"ha-supervisor-{os.getpid()}"
        podman(
            "network", "create", "--internal", "--subnet", SUPERVISOR_SUBNET,
            "--gateway", SUPERVISOR_GATEWAY, "--ip-range", ADDON_RANGE, network,
        )  # fmt: skip
        try:
            yield network
        finally:
            podman("network", "rm", "-f", network, check=False)


def ask(image: str, network: str, address: str, *paths: str) -> dict[str, list[Any]]:
    """GET paths from the add-on's ingress port, from a container at address on network."""
    result = podman(
        "run", "--rm", "--network", network, "--ip", address, image,
        "python3", "-c", CLIENT, f"{ADDON_ADDRESS}:{INGRESS_PORT}", *paths,
    )  # fmt: skip
    return dict(json.loads(result.stdout))


def test_the_web_ui_answers_the_ingress_gateway_and_no_one_else(
    render: Renderer, base_image: str, tmp_path: Path
) -> None:
    addon = render.project(INGRESS).addon
    config = load_yaml(addon / "config.yaml")
    assert config["ingress"] is True and "ingress_port" not in config  # the default: 8099
    # The image the run test built for INGRESS: podman's layer cache makes this build a lookup.
    name = f"{SLUG}-run-{INGRESS.id.lower().replace('+', '-')}"
    image = build(addon, base_image, "0.1.0", name)
    options_json(tmp_path, config)
    with supervisor_network() as network:
        container = Container(
            f"{SLUG}-web-ui", image, tmp_path, config, ("--network", network, "--ip", ADDON_ADDRESS)
        )
        try:
            container.wait_for(f"Web UI listening on port {INGRESS_PORT}")
            pages = ("/", "/static/status.css", "/static/status.js", "/api/status")
            answers = ask(image, network, INGRESS_GATEWAY, *pages)
            refused = ask(image, network, OTHER_ADDON_ADDRESS, "/", "/api/status")
        finally:
            podman("rm", "-f", container.name, check=False)
    media = {path: answer[1] for path, answer in answers.items()}
    assert {path: answer[0] for path, answer in answers.items()} == dict.fromkeys(pages, 200)
    assert media["/"] == "text/html" and media["/api/status"] == "application/json"
    assert 'href="static/status.css"' in answers["/"][2]
    status = json.loads(answers["/api/status"][2])
    assert status["healthy"] is True, status["checks"]
    # The folders as the Supervisor mounted them, each with the access config.yaml gives it.
    expected = {"/data": "read-write"} | {
        supervisor_rules.MAP_CONTAINER_PATHS[entry["type"]]: (
            "read-only" if entry.get("read_only", True) else "read-write"
        )
        for entry in config.get("map", [])
    }
    assert {folder["path"]: folder["access"] for folder in status["folders"]} == expected
    assert all(folder["writable_ok"] for folder in status["folders"]), status["folders"]
    assert {path: answer[0] for path, answer in refused.items()} == {"/": 403, "/api/status": 403}

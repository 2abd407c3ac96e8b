"""The add-on's web UI in a real browser, reached the way Home Assistant's ingress reaches it.

The rendered add-on (web_ui: ingress) runs as a process under HA_APP_ROOT, its web server on a
free port (HA_APP_INGRESS_PORT). tests/ingress_proxy.py serves it under
/api/hassio_ingress/<token>/ with the headers Core and the Supervisor add, and records every
request. Headless Chromium (Debian's, driven by Playwright: tests/browser.py) opens the page there
at a phone and a desktop size, in the light and the dark colour scheme, and the checks are those
of a person looking at it: it shows what api/status says and what is on disk, doctor's findings
included; it follows a change on disk without being reloaded; no request fails, no console error;
nothing scrolls sideways on a phone; every text is readable against its background. Screenshots
go to .artifacts/webui/ ($TEST_ARTIFACTS/webui/ when set). Every wait is bounded; none is a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import browser
from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer
from ingress_proxy import IngressProxy

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("webui-browser")]

# Every folder and store, so the page has the most to show. Cold backups: the add-on's main loop
# then runs a heartbeat (workload.beat, which writes the state file) on every wake-up, and a
# SIGUSR1 wakes it (app.HANDLED_SIGNALS); with hot backups that signal answers the hooks instead.
COMBO = Combo(
    mounts=MOUNTS,
    persistence=PERSISTENCE,
    layout="app",
    backup_mode="cold",
    extra={"web_ui": "ingress"},
)
SLUG = COMBO.slug
WAIT = 60.0  # seconds: the bound on every wait, so a hang fails instead of stalling the suite
READY = "Web UI listening on port"


@dataclass
class Addon:
    """The add-on running under root, its web UI on port."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    environment: dict[str, str]

    def host_path(self, path: str) -> Path:
        """Where a path that the JSON names is on this machine (it is already re-rooted)."""
        return Path(path)

    def doctor(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", SLUG, "doctor"], env=self.environment, capture_output=True,
            text=True, check=False, timeout=WAIT,
        )  # fmt: skip


def free_port() -> int:
    """A TCP port nobody listens on now (the add-on takes it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def addon(render: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Addon]:
    """Start the add-on and wait until it logs that its web UI listens; stop it with SIGTERM."""
    project = render.project(COMBO).addon
    root = tmp_path_factory.mktemp("webui-root")
    log = root.with_name(f"{root.name}.log")
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment |= {
        "HA_APP_ROOT": str(root),
        "HA_APP_INGRESS_PORT": str(port),
        "PYTHONPATH": str(project / "src"),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", SLUG], env=environment, stdout=out, stderr=out
        )
    deadline = time.monotonic() + WAIT
    while READY not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"the web UI did not start (waited up to {WAIT} s):\n{log.read_text()}")
        time.sleep(0.05)
    yield Addon(root, port, process, log, environment)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    assert process.returncode == 0, log.read_text()


@pytest.fixture(scope="module")
def proxy(addon: Addon) -> Iterator[IngressProxy]:
    with IngressProxy(addon.port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with browser.launch() as launched:
        yield launched


def api_status(proxy: IngressProxy) -> dict[str, Any]:
    """api/status as the page fetches it: through the ingress, with a relative URL."""
    with urllib.request.urlopen(proxy.url + "api/status", timeout=WAIT) as answer:
        assert answer.headers.get_content_type() == "application/json"
        return dict(json.load(answer))

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
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import browser
import supervisor_rules
from combos import MOUNTS, PERSISTENCE, Combo
from conftest import Renderer
from ingress_proxy import IngressProxy
from rendered import load_yaml
from tools import namespace_command

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("webui-browser")]

# Every folder and store, so the page has the most to show. Cold backups: the add-on's main loop
# then runs a heartbeat (workload.beat, which writes the state file) on every wake-up, and a
# SIGUSR1 wakes it (app.HANDLED_SIGNALS); with hot backups that signal answers the hooks instead.
COMBO = Combo(
    mounts=MOUNTS, persistence=PERSISTENCE, layout="app", backup_mode="cold", web_ui="ingress"
)
SLUG = COMBO.slug
WAIT = 60.0  # seconds: the bound on every wait, so a hang fails instead of stalling the suite
FINDING = re.compile(r"^(OK|WARN|FAIL) +(.*)$", re.MULTILINE)
FREE_MB = re.compile(r"\d+ MB free")
READY = re.compile(r"Web UI listening on port (\d+)")
# Bind each folder before `--` onto itself read-only, then run the command after it (as itself:
# signals reach the add-on). Exit status CANNOT_MOUNT when a mount fails.
CANNOT_MOUNT = 111
MOUNT_READ_ONLY = f"""
while [ "$1" != -- ]; do
  mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" || exit {CANNOT_MOUNT}
  shift
done
shift
exec "$@"
"""
SIZES = {"phone": browser.PHONE, "desktop": browser.DESKTOP}
UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5}

# What the page shows, read from its DOM: each table's rows as {field: cell}, where a cell is its
# visible text, its data-value (a size's bytes) and its <time>'s datetime (ISO 8601).
PAGE_SCRIPT = """
() => {
  const cell = (td) => ({
    text: td.innerText.trim(),
    value: td.dataset.value ?? null,
    time: td.querySelector("time")?.getAttribute("datetime") ?? null,
    level: td.querySelector("[data-level]")?.dataset.level ?? null,
  });
  const rows = (id) => [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) =>
    Object.fromEntries([...tr.cells].map((td) => [td.dataset.field, cell(td)])));
  const backup = Object.fromEntries([...document.querySelectorAll("#backup dd")].map(
    (dd) => [dd.dataset.field, dd.innerText.trim()]));
  return {
    generated: document.querySelector("#updated time")?.getAttribute("datetime") ?? null,
    summary: document.getElementById("summary").innerText.trim(),
    folders: rows("folders"),
    stores: rows("stores"),
    checks: rows("checks"),
    backup,
  };
}
"""


def read_only_mounts(folders: list[str], *command: str) -> list[str]:
    """command, in a private mount namespace where each of folders is bound read-only."""
    return [*namespace_command(), "sh", "-c", MOUNT_READ_ONLY, "sh", *folders, "--", *command]


@dataclass
class Addon:
    """The add-on running as a process under root, its web UI on port."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    environment: dict[str, str]
    read_only: list[str]

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run command as the add-on runs: where the folders mapped read-only are read-only."""
        return subprocess.run(
            read_only_mounts(self.read_only, *command), env=self.environment,
            capture_output=True, text=True, check=False, timeout=WAIT,
        )  # fmt: skip

    def writable(self, path: str) -> bool:
        """Whether the add-on may write in the folder path (access(2): a read-only mount is not)."""
        code = "import os, sys; print(os.access(sys.argv[1], os.W_OK))"
        result = self.run(sys.executable, "-c", code, path)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip() == "True"

    def doctor(self) -> list[tuple[str, str]]:
        """doctor's findings, as (level, text), from its report's lines."""
        result = self.run(sys.executable, "-m", SLUG, "doctor")
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.splitlines()[-1] == "healthy"
        # Its report's lines (log lines go to stdout too): "<level, padded to 4> <text>".
        return [(m[1], m[2]) for m in FINDING.finditer(result.stdout)]


def config(render: Renderer) -> dict[str, Any]:
    return load_yaml(render.project(COMBO).addon / "config.yaml")


def folder_access(config: dict[str, Any]) -> dict[str, str]:
    """Each folder the add-on sees and its access, as config.yaml maps them."""
    return {"/data": "read-write"} | {
        supervisor_rules.MAP_CONTAINER_PATHS[entry["type"]]: (
            "read-only" if entry.get("read_only", True) else "read-write"
        )
        for entry in config.get("map", [])
    }


@pytest.fixture(scope="module")
def addon(render: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Addon]:
    """Start the add-on on any free port and wait until it logs which; stop it with SIGTERM.

    It runs in a private mount namespace where the folders config.yaml maps read-only are
    read-only bind mounts, as the Supervisor mounts them: so what the page shows of each folder's
    access is what the disk really allows.
    """
    project = render.project(COMBO).addon
    root = tmp_path_factory.mktemp("webui-root")
    read_only = []
    for path, access in folder_access(config(render)).items():
        (root / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
        if access == "read-only":
            read_only.append(str(root / path.lstrip("/")))
    log = root.with_name(f"{root.name}.log")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment |= {
        "HA_APP_ROOT": str(root),
        "HA_APP_INGRESS_PORT": "0",
        "PYTHONPATH": str(project / "src"),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            read_only_mounts(read_only, sys.executable, "-m", SLUG),
            env=environment, stdout=out, stderr=out,
        )  # fmt: skip
    deadline = time.monotonic() + WAIT
    while not (ready := READY.search(text := log.read_text())) or "Started" not in text:
        if process.poll() == CANNOT_MOUNT and not os.environ.get("CI"):
            pytest.skip(f"SKIPPED CHECK: no read-only bind mounts here: {log.read_text()}")
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"the web UI did not start (waited up to {WAIT} s):\n{log.read_text()}")
        time.sleep(0.05)
    yield Addon(root, int(ready[1]), process, log, environment, read_only)
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


@pytest.fixture
def page(chromium: Browser, proxy: IngressProxy, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The add-on's page, opened through the ingress in a fresh browser context (desktop and light
    unless the test's `size` and `scheme` parameters say otherwise), once it shows the status.
    Afterwards: no console error, no failed request, and no request answered 4xx or 5xx."""
    params = getattr(request.node, "callspec", None)
    size = params.params.get("size", "desktop") if params else "desktop"
    scheme = params.params.get("scheme", "light") if params else "light"
    context = chromium.new_context(viewport=SIZES[size], color_scheme=scheme)
    context.set_default_timeout(WAIT * 1000)
    opened = context.new_page()
    watched = browser.watch(opened)
    before = len(proxy.exchanges)
    answer = opened.goto(proxy.url)
    assert answer is not None and answer.ok
    opened.wait_for_selector("#stores tbody tr")
    yield opened
    context.close()
    assert not watched.problems()
    assert [e for e in proxy.exchanges[before:] if e.status >= 400] == []


def api_status(proxy: IngressProxy) -> dict[str, Any]:
    """api/status as the page fetches it: through the ingress, with a relative URL."""
    with urllib.request.urlopen(proxy.url + "api/status", timeout=WAIT) as answer:
        assert answer.headers.get_content_type() == "application/json"
        return dict(json.load(answer))


def on_disk(store: dict[str, Any]) -> tuple[int | None, str | None]:
    """A store file's size and last write (ISO 8601, UTC, in seconds) as the disk has them now."""
    try:
        info = Path(store["file"]).stat()
    except FileNotFoundError:
        return None, None
    return info.st_size, datetime.fromtimestamp(info.st_mtime, UTC).isoformat(timespec="seconds")


def normal(findings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Findings without the number of free megabytes, which moves with whatever else writes."""
    return [(level, FREE_MB.sub("… MB free", text)) for level, text in findings]


def shown(page: Page, proxy: IngressProxy, addon: Addon) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the page shows and the api/status answer it shows, once that answer agrees with the
    disk and with doctor. The add-on serves one answer for a few seconds (which may predate its
    last write) and the page asks every few seconds: looked at until all agree, within WAIT."""
    deadline = time.monotonic() + WAIT
    while True:
        doctor = normal(addon.doctor())
        on_page = page.evaluate(PAGE_SCRIPT)
        status = api_status(proxy)
        stale = [s for s in status["stores"] if (s["size_bytes"], s["modified"]) != on_disk(s)]
        checks = normal([(check["level"], check["text"]) for check in status["checks"]])
        if not stale and checks == doctor and on_page["generated"] == status["generated"]:
            return on_page, status
        assert time.monotonic() < deadline, (
            f"api/status, the page, the disk and doctor did not agree within {WAIT} s: "
            f"{stale}, {checks} != {doctor}, {on_page['generated']} != {status['generated']}"
        )
        time.sleep(0.2)


def as_bytes(text: str) -> float:
    """The number of bytes a size as shown ("12.5 KB") stands for."""
    number, unit = text.split()
    return float(number) * UNITS[unit]


def test_the_page_shows_what_api_status_doctor_and_the_disk_say(
    page: Page, proxy: IngressProxy, addon: Addon, render: Renderer
) -> None:
    on_page, status = shown(page, proxy, addon)
    assert on_page["summary"] == "Healthy" and status["healthy"] is True
    # The page's files came through the ingress prefix (relative links), each with a 200.
    loaded = {e.path.removeprefix(proxy.entry) for e in proxy.exchanges if e.status == 200}
    assert {"/", "/static/status.css", "/static/status.js", "/api/status"} <= loaded
    # Folders: each one config.yaml maps, and /data, with its access; on disk, the folder is there
    # and its disk's sizes are the page's (free space moves with whatever else writes to it).
    expected = folder_access(config(render))
    in_container = {
        "/" + str(Path(f["path"]).relative_to(addon.root)): f for f in status["folders"]
    }
    assert {path: f["access"] for path, f in in_container.items()} == expected
    assert len(on_page["folders"]) == len(status["folders"])
    for row, folder in zip(on_page["folders"], status["folders"], strict=True):
        assert row["path"]["text"] == folder["path"]
        assert row["access"]["text"].startswith(folder["access"])
        assert row["level"]["level"] == folder["level"] == "OK", row
        assert addon.writable(folder["path"]) == (folder["access"] == "read-write"), folder
        for field in ("used_bytes", "free_bytes", "reserve_bytes"):
            assert row[field]["value"] == ("" if folder[field] is None else str(folder[field]))
        assert as_bytes(row["used_bytes"]["text"]) == pytest.approx(folder["used_bytes"], rel=0.05)
        disk = shutil.disk_usage(folder["path"])
        assert folder["free_bytes"] == pytest.approx(disk.free, abs=0.01 * disk.total)
    # Stores: the file, its size and last write as on disk, its schema version and check.
    assert [row["name"]["text"] for row in on_page["stores"]] == [
        store["name"] for store in status["stores"]
    ]
    for row, store in zip(on_page["stores"], status["stores"], strict=True):
        assert row["file"]["text"] == store["file"]
        size = store["size_bytes"]
        if size is None:  # no file yet
            assert (row["size_bytes"]["value"], row["size_bytes"]["text"]) == ("", "no file")
        else:
            assert row["size_bytes"]["value"] == str(size)
            assert as_bytes(row["size_bytes"]["text"]) == pytest.approx(size, rel=0.05)
        assert row["modified"]["time"] == store["modified"]
        assert row["modified"]["text"], row  # a time is shown, in the browser's locale
        version = store["schema_version"]
        assert row["schema_version"]["text"] == ("none" if version is None else str(version))
        assert row["level"]["level"] == store["level"] == "OK", row
    # Checks: doctor's findings, in its order (shown() waited for them to agree), and the page's.
    checks = [(check["level"], check["text"]) for check in status["checks"]]
    assert [(row["level"]["level"], row["text"]["text"]) for row in on_page["checks"]] == checks
    assert on_page["backup"]["mode"] == status["backup"]["mode"] == "cold"
    assert on_page["backup"]["data_version"] == str(status["data_version"])


def test_the_page_follows_a_change_without_reloading(
    page: Page, proxy: IngressProxy, addon: Addon
) -> None:
    _, status = shown(page, proxy, addon)
    state = next(store for store in status["stores"] if store["name"] == "state")
    before = state["modified"]
    assert before is not None
    page.evaluate("window.notReloaded = true")
    # A later second than the last write, so that the next write shows as a different time.
    deadline = time.monotonic() + WAIT
    while datetime.now(UTC).isoformat(timespec="seconds") <= before:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    addon.process.send_signal(signal.SIGUSR1)  # a heartbeat: the add-on writes its state file
    shows = "document.querySelector('tr[data-name=state] time').getAttribute('datetime')"
    page.wait_for_function(f"(before) => {shows} !== before", arg=before)
    after = page.evaluate(shows)
    assert after == on_disk(state)[1]
    assert after > before
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_phone_and_desktop_in_light_and_dark_are_readable(
    page: Page, size: str, scheme: str
) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"], f"the page scrolls sideways: {width} px"
    contrast = page.evaluate(browser.CONTRAST_SCRIPT)
    # The scheme is followed: a light page with dark text, or a dark one with light text.
    texts = contrast["texts"]
    assert texts
    if scheme == "dark":
        assert contrast["page"] < 0.05
        assert all(t["textLuminance"] > t["backgroundLuminance"] for t in texts), texts
    else:
        assert contrast["page"] > 0.8
        assert all(t["textLuminance"] < t["backgroundLuminance"] for t in texts), texts
    unreadable = [t for t in texts if t["ratio"] < t["needed"]]
    assert unreadable == [], unreadable
    browser.screenshot(page, f"{size}-{scheme}")

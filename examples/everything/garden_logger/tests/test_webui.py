"""The web UI (webui.py): what it serves, to whom, and that bad requests neither crash it nor
keep anyone else waiting.

Each test runs a server in this process on a free port, answering loopback. Nothing waits for a
time to pass: a test waits for what the server does (an answer, a closed connection, its
connections ending), each wait bounded by WAIT so that a hang fails instead of stalling.
"""

import json
import logging
import re
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from garden_logger import (
    app,
    diskspace,
    doctor,
    migrations,
    paths,
    status,
    webui,
)
from garden_logger.health import Level
from garden_logger.options import DEFAULTS, Options

LOOPBACK = "127.0.0.1"
WAIT = 60.0  # seconds: the bound on every wait
STATIC = Path(webui.__file__).parent / "static"
LIMIT = 65536  # http.server's longest request line or header line (http.client._MAXLINE)
Serve = Callable[..., webui.WebUI]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    """Start a web UI on a free port (allowed: loopback unless given); all stop after the test."""
    monkeypatch.setattr(webui, "POLL_SECONDS", 0.01)  # each stop waits for one such poll
    started: list[webui.WebUI] = []

    def make(**settings: Any) -> webui.WebUI:
        settings.setdefault("allowed", {LOOPBACK})
        web = webui.WebUI(0, **settings)
        started.append(web)
        web.start()
        return web

    yield make
    for web in started:
        web.stop()


def connect(web: webui.WebUI) -> socket.socket:
    return socket.create_connection((LOOPBACK, web.port), timeout=WAIT)


def exchange(web: webui.WebUI, request: bytes) -> bytes:
    """Send request bytes as they are; return everything the server answers until it closes."""
    with connect(web) as client:
        client.sendall(request)
        return read_to_end(client)


def read_to_end(client: socket.socket) -> bytes:
    answer = b""
    while chunk := client.recv(65536):
        answer += chunk
    return answer


def get(web: webui.WebUI, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """The status code, headers (lower-case names) and body of one request."""
    answer = exchange(web, f"{method} {path} HTTP/1.0\r\nHost: addon\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize("route", list(webui.PAGES))
def test_the_page_and_its_files_are_served_with_get_and_head(serve: Serve, route: str) -> None:
    web = serve()
    name, content_type = webui.PAGES[route]
    code, headers, body = get(web, route)
    assert code == 200
    assert headers["content-type"] == content_type
    assert body == (STATIC / name).read_bytes()
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert headers["x-content-type-options"] == "nosniff"
    code, head_headers, head_body = get(web, route, method="HEAD")
    assert code == 200
    assert head_body == b""
    assert head_headers["content-length"] == str(len(body))


class Links(HTMLParser):
    """Every URL the page refers to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("href", "src", "action")]


def test_the_page_links_only_relatively_to_what_is_served() -> None:
    """Under ingress the page lives at /api/hassio_ingress/<token>/: a link that starts with /
    or names a host would miss the add-on (and the add-on has no internet)."""
    links = Links()
    links.feed((STATIC / "status.html").read_text(encoding="utf-8"))
    script = (STATIC / "status.js").read_text(encoding="utf-8")
    fetched = re.findall(r'"(api/[^"]*)"', script)
    assert links.urls
    assert fetched == [webui.API_STATUS.lstrip("/")]
    for url in links.urls:
        assert url == "data:," or "/" + url in webui.PAGES, url
    for name in ("status.html", "status.css", "status.js"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?:|[\"'(=]\s*//|url\(|@import", text, re.IGNORECASE), name
    assert "innerHTML" not in script  # file names are user data: text only, never markup


def test_the_status_is_what_doctor_reports_and_what_is_on_disk(
    serve: Serve, full_disk: Callable[..., None]
) -> None:
    full_disk(free=2**29, inodes=10**4)  # a disk whose numbers hold still between two looks
    options = Options.from_values(DEFAULTS)
    stores = app.start(options)
    assert app.close(stores)
    code, headers, body = get(serve(), webui.API_STATUS + "?refresh=1")  # the proxy keeps queries
    assert code == 200
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    shown = json.loads(body)

    report = doctor.check(quick=True)
    assert [doctor.line((Level(c["level"]), c["text"])) for c in shown["checks"]] == report.lines
    assert shown["healthy"] is (report.failures == 0)
    assert shown["data_version"] == len(migrations.STEPS)
    assert [folder["path"] for folder in shown["folders"]] == [str(m.path) for m in paths.MOUNTS]
    for folder, mount in zip(shown["folders"], paths.MOUNTS, strict=True):
        disk = shutil.disk_usage(mount.path)
        assert folder["access"] == ("read-write" if mount.writable else "read-only")
        assert (folder["used_bytes"], folder["free_bytes"]) == (disk.used, disk.free)
        reserve = options.min_free_mb * diskspace.MB if mount.writable else None
        assert folder["reserve_bytes"] == reserve
    assert shown["stores"]
    for store in shown["stores"]:
        file = Path(store["file"])
        if not file.exists():
            assert store["size_bytes"] is None
            continue
        info = file.stat()
        assert store["size_bytes"] == info.st_size
        modified = datetime.fromtimestamp(info.st_mtime, UTC).isoformat(timespec="seconds")
        assert store["modified"] == modified


def test_a_peer_outside_the_allowed_set_gets_403(serve: Serve) -> None:
    web = serve(allowed={webui.INGRESS_GATEWAY})
    for method in ("GET", "POST"):
        code, _, body = get(web, "/", method=method)
        assert code == 403
        assert b"status.js" not in body


def test_only_the_ingress_gateway_is_allowed_under_the_supervisor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert webui.allowed_peers() == {webui.INGRESS_GATEWAY, "127.0.0.1", "::1"}  # a local run
    monkeypatch.delenv(paths.ROOT_VARIABLE)
    assert webui.allowed_peers() == {webui.INGRESS_GATEWAY}


@pytest.mark.parametrize(
    "path",
    [
        "/index.html",
        "/favicon.ico",
        "/static",
        "/static/",
        "/static/status.html",
        "/status.css",
        "/api",
        "/api/status/",
        "/STATIC/status.css",
        "/../etc/passwd",
        "/static/../../etc/passwd",
        "/static/../status.html",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2fetc/passwd",
        "//etc/passwd",
        "/static//status.css",
        "/static/status.css%00",
        "http://addon/etc/passwd",
    ],
)
def test_unknown_paths_and_traversal_get_404(serve: Serve, path: str) -> None:
    code, _, body = get(serve(), path)
    assert code == 404
    assert b"root:" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods_get_405(serve: Serve, method: str) -> None:
    code, headers, _ = get(serve(), "/", method=method)
    assert code == 405
    assert headers["allow"] == "GET, HEAD"


# Each request ends exactly where the server stops reading it, so that it answers before it closes
# and the answer is never lost to a reset for unread data.
HUGE = {
    "request line": (b"GET /" + b"a" * (LIMIT + 1 - 5), 414),
    "header": (b"GET / HTTP/1.0\r\nX-Big: " + b"a" * (LIMIT + 1 - 7), 431),
    "headers": (b"GET / HTTP/1.0\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(101)), 431),
}


@pytest.mark.parametrize("what", list(HUGE))
def test_huge_requests_are_refused_and_the_server_goes_on(serve: Serve, what: str) -> None:
    web = serve()
    request, code = HUGE[what]
    assert exchange(web, request).startswith(b"HTTP/1.0 %d " % code)
    assert get(web, "/")[0] == 200


def test_a_slow_client_keeps_no_one_waiting_and_is_cut_off(serve: Serve) -> None:
    web = serve(client_timeout=0.2)
    with connect(web) as slow:
        slow.sendall(b"GET / HT")  # and nothing more
        assert get(web, "/")[0] == 200
        assert read_to_end(slow) == b""  # the server closed it: its time to send ran out


def test_connections_over_the_cap_get_503_and_the_add_on_goes_on(serve: Serve) -> None:
    """Connections are accepted in turn: the cap's worth of silent clients each hold a place, so
    the next one is refused at once, however long they wait; once they go, it is served again."""
    web = serve(max_connections=3, client_timeout=WAIT)
    silent = [connect(web) for _ in range(3)]
    try:
        refused = [connect(web) for _ in range(5)]
        for client in refused:
            with client:
                assert read_to_end(client).startswith(b"HTTP/1.0 503 ")
        assert doctor.check(quick=True).lines  # the add-on's own work is not held up
    finally:
        for client in silent:
            client.close()
    assert web.server.idle(WAIT)
    assert get(web, "/")[0] == 200


def test_stop_ends_waiting_connections_at_once(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    web = serve(client_timeout=WAIT)
    with connect(web) as waiting:
        waiting.sendall(b"GET / HT")
        assert get(web, "/")[0] == 200  # the waiting one is served by now, in its thread
        web.stop()
        assert web.server.idle(0)  # its thread has ended: stop() cut the connection
        assert read_to_end(waiting) == b""
    assert "still runs" not in caplog.text
    with pytest.raises(ConnectionRefusedError):
        connect(web).close()  # the port is closed


def test_the_status_is_computed_at_most_once_per_min_age() -> None:
    now = [100.0]
    computed: list[float] = []

    def compute() -> bytes:
        computed.append(now[0])
        return b"{}"

    cache = webui.StatusCache(compute, min_age=5.0, clock=lambda: now[0])
    for _ in range(3):
        assert cache.get() == b"{}"
    now[0] += 4.9
    cache.get()
    assert computed == [100.0]
    now[0] += 0.1
    cache.get()
    assert computed == [100.0, 105.0]


def test_a_slow_status_is_computed_less_often() -> None:
    """A look that took 1 s is not taken again for STATUS_COST_FACTOR seconds."""
    now = [0.0]
    computed: list[float] = []

    def slow() -> bytes:
        computed.append(now[0])
        now[0] += 1.0
        return b"{}"

    cache = webui.StatusCache(slow, min_age=5.0, clock=lambda: now[0])
    cache.get()
    now[0] = webui.STATUS_COST_FACTOR - 0.1
    cache.get()
    assert computed == [0.0]
    now[0] = webui.STATUS_COST_FACTOR
    cache.get()
    assert computed == [0.0, webui.STATUS_COST_FACTOR]


def test_polling_clients_share_one_status(serve: Serve) -> None:
    cache = webui.StatusCache(clock=lambda: 0.0)  # however slow the machine, no time passes
    web = serve(cache=cache)
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(get(web, webui.API_STATUS)[2]))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(answers) == 8
    assert len(set(answers)) == 1
    assert cache.computed == 1


def test_a_status_that_fails_is_a_500_and_logged_once(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]

    def broken() -> bytes:
        raise RuntimeError("a bug")

    web = serve(cache=webui.StatusCache(broken, min_age=5.0, clock=lambda: now[0]))
    assert get(web, webui.API_STATUS)[0] == 500
    now[0] += 5.0
    assert get(web, webui.API_STATUS)[0] == 500
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == ["Web UI: the status could not be computed"]
    assert get(web, "/")[0] == 200


def test_the_port_is_8099_unless_a_local_run_names_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert webui.configured_port() == webui.PORT == 8099
    monkeypatch.setenv(webui.PORT_VARIABLE, "0")
    assert webui.configured_port() == 0
    monkeypatch.setenv(webui.PORT_VARIABLE, "18099")
    assert webui.configured_port() == 18099
    for wrong in ("x", "-1", "65536", ""):
        monkeypatch.setenv(webui.PORT_VARIABLE, wrong)
        with pytest.raises(webui.WebUIError, match=f"^{webui.PORT_VARIABLE} must be a port"):
            webui.configured_port()
    monkeypatch.delenv(paths.ROOT_VARIABLE)  # under the Supervisor: always the ingress port
    assert webui.configured_port() == webui.PORT


def test_a_port_in_use_is_one_line() -> None:
    with socket.create_server(("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(webui.WebUIError) as raised:
            webui.WebUI(port, allowed={LOOPBACK})
    assert str(raised.value) == f"the web UI cannot listen on port {port}: Address already in use"


def test_listening_looks_up_no_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name lookup could wait for a DNS server the add-on cannot reach (http.server's does)."""

    def no_lookup(name: str = "") -> str:
        raise AssertionError(f"looked up {name!r}")

    monkeypatch.setattr(socket, "getfqdn", no_lookup)
    webui.WebUI(0, allowed={LOOPBACK}).stop()


def test_the_status_json_has_the_agreed_fields() -> None:
    """The page and the author's own UI read these: fields may be added, never removed."""
    stores = app.start(Options.from_values(DEFAULTS))
    assert app.close(stores)
    shown = json.loads(webui.status_json())
    assert {"generated", "healthy", "folders", "stores", "data_version", "backup", "checks"} <= set(
        shown
    )
    folder_fields = {"path", "map_type", "access", "writable_ok", "in_backup"}
    folder_fields |= {"used_bytes", "free_bytes", "reserve_bytes"}
    assert all(folder_fields <= set(folder) for folder in shown["folders"])
    store_fields = {"name", "file", "size_bytes", "modified", "detail"}
    assert all(store_fields <= set(store) for store in shown["stores"])
    assert {"mode", "held_since"} <= set(shown["backup"])
    assert shown["backup"]["mode"] == status.BACKUP_MODE
    assert all(set(check) == {"level", "text"} for check in shown["checks"])
    assert datetime.fromisoformat(shown["generated"]).tzinfo is not None

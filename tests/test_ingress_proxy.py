"""The ingress stand-in (ingress_proxy.py) does to requests what Core and the Supervisor do.

An echo server stands in for the add-on: it answers each request with what it received.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ingress_proxy import USER, IngressProxy


class Echo(BaseHTTPRequestHandler):
    """Answers every request with its path and headers, as JSON with a charset."""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        content = json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


@pytest.fixture(scope="module")
def echo() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def proxy(echo: int) -> Iterator[IngressProxy]:
    with IngressProxy(echo) as proxy:
        yield proxy


def get(url: str, **headers: str) -> tuple[int, str, Any]:
    """Status, Content-Type and the JSON (or text) of an answer, errors included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
            status, content_type, body = (
                answer.status,
                answer.headers["Content-Type"],
                answer.read(),
            )
    except urllib.error.HTTPError as error:
        status, content_type, body = error.code, error.headers["Content-Type"], error.read()
    if content_type == "application/json":
        return status, content_type, json.loads(body)
    return status, content_type, body.decode()


def test_requests_reach_the_addon_with_the_headers_of_core_and_the_supervisor(
    proxy: IngressProxy,
) -> None:
    status, content_type, seen = get(
        proxy.url + "api/status?since=1",
        **{"X-Supervisor-Token": "secret", "X-Remote-User-Id": "someone-else"},
    )
    assert status == 200
    # The charset does not come through: aiohttp sets the media type alone.
    assert content_type == "application/json"
    assert seen["path"] == "/api/status?since=1"
    headers = seen["headers"]
    assert headers["X-Ingress-Path"] == f"/api/hassio_ingress/{proxy.token}"
    assert headers["X-Hass-Source"] == "core.ingress"
    assert headers["X-Forwarded-For"] == "127.0.0.1, 127.0.0.1"
    assert headers["Host"] == headers["X-Forwarded-Host"] == f"127.0.0.1:{proxy.port}"
    assert headers["X-Remote-User-Id"] == USER["X-Remote-User-Id"]
    assert "X-Supervisor-Token" not in headers
    assert "Accept-Encoding" not in headers
    assert [(e.method, e.path, e.status) for e in proxy.exchanges] == [
        ("GET", f"{proxy.entry}/api/status?since=1", 200)
    ]
    assert not proxy.failures()


@pytest.mark.parametrize(
    "path",
    ["/", "/api/status", "/api/hassio_ingress/", "/api/hassio_ingress/other-token/", "ENTRY"],
)
def test_anything_outside_the_addons_prefix_is_a_404_and_recorded(
    proxy: IngressProxy, path: str
) -> None:
    path = proxy.entry if path == "ENTRY" else path  # the entry without its trailing slash
    status, _, _ = get(f"http://127.0.0.1:{proxy.port}{path}")
    assert status == 404
    assert [(e.path, e.status) for e in proxy.failures()] == [(path, 404)]


def test_dot_segments_resolve_inside_the_prefix_and_never_climb_out(proxy: IngressProxy) -> None:
    status, _, seen = get(proxy.url + "static/%2e%2e/api/status")
    assert (status, seen["path"]) == (200, "/api/status")
    status, _, _ = get(proxy.url + "static/../../x")
    assert status == 400


def test_an_addon_that_does_not_answer_is_a_502() -> None:
    with IngressProxy(upstream_port=1) as proxy:
        status, _, _ = get(proxy.url)
    assert status == 502
    assert [e.status for e in proxy.failures()] == [502]

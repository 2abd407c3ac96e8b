"""A stand-in for Home Assistant's ingress: the way a browser's requests reach an add-on's web UI.

In Home Assistant the browser asks Core for `/api/hassio_ingress/<token>/<path>`; Core passes the
request to the Supervisor, which sends it on to `http://<add-on>:<ingress_port>/<path>` from its
own address on the hassio network (172.30.32.2). What the add-on then receives:

- from Core (home-assistant/core cc1e74cf, homeassistant/components/hassio/ingress.py,
  `HassIOIngress.url` and `_init_header`): only paths under `/api/hassio_ingress/<token>/`; the
  browser's headers less Content-Length, Content-Encoding, Transfer-Encoding, Accept-Encoding and
  the WebSocket handshake's; plus `X-Hass-Source: core.ingress`, `X-Ingress-Path:
  /api/hassio_ingress/<token>` (no trailing slash), X-Forwarded-For (the browser's address),
  X-Forwarded-Host (the Host the browser asked for) and X-Forwarded-Proto. The browser's Host
  header is passed on unchanged. A path whose dot segments climb out of the prefix is a 400.
- from the Supervisor (home-assistant/supervisor 090ef31, supervisor/api/ingress.py,
  `_init_header`, `_handle_request`, `_response_header`): its own token headers and any
  X-Remote-User-* a client sent are dropped; X-Remote-User-Id, -Name and -Display-Name of the
  session's user are set; Core's address is appended to X-Forwarded-For; the query string goes
  along; redirects are not followed. Of the add-on's answer, Transfer-Encoding, Content-Length,
  Content-Type and Content-Encoding are dropped and set anew, Content-Type to the media type alone:
  a `charset` parameter does not reach the browser, so a page must declare its own encoding
  (Core does the same, `_handle_request`).

This proxy does both hops in one process, from 127.0.0.1, with a fixed user, and records every
request and the status it got so a test can require that none failed. Not modelled: the ingress
session cookie (the Supervisor's 401 without one), WebSockets (501 here), Core's compression.
"""

from __future__ import annotations

import http.client
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import unquote, urlsplit

PREFIX = "/api/hassio_ingress/"
CORE_ADDRESS = "127.0.0.1"  # where the add-on's requests come from: Core and Supervisor are here
UPSTREAM_TIMEOUT = 30.0  # seconds: an add-on that does not answer is a 504, not a hang
USER = {
    "X-Remote-User-Id": "8f1c0e2a9b7d4c3e8a6f5b4d3c2e1f0a",
    "X-Remote-User-Name": "tester",
    "X-Remote-User-Display-Name": "Test User",
}
# Headers neither hop passes on: the request's body framing (re-sent with the body), Core's
# compression, the WebSocket handshake, the Supervisor's tokens, a client's own claim to a user.
DROPPED_REQUEST = {
    "content-length", "content-encoding", "transfer-encoding", "accept-encoding",
    "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-version",
    "sec-websocket-key", "x-supervisor-token", "x-hassio-key",
    *(name.lower() for name in USER),
}  # fmt: skip
DROPPED_RESPONSE = {"transfer-encoding", "content-length", "content-type", "content-encoding"}
# One connection per hop: these belong to the connection, not to the request (RFC 9110 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"}
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")


@dataclass(frozen=True)
class Exchange:
    """One request the browser made, as the proxy saw it, and the status it answered."""

    method: str
    path: str  # as the browser asked, prefix and query included
    status: int


def remove_dot_segments(path: str) -> str | None:
    """The path with `.` and `..` resolved (RFC 3986 5.2.4), or None if it climbs above `/`."""
    resolved: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if unquote(segment) == ".":
            if last:
                resolved.append("")
        elif unquote(segment) == "..":
            if len(resolved) <= 1:
                return None
            resolved.pop()
            if last:
                resolved.append("")
        else:
            resolved.append(segment)
    return "/".join(resolved)


class IngressProxy:
    """Serve one add-on under `/api/hassio_ingress/<token>/` on a free port of 127.0.0.1.

    Use as a context manager; `url` is the page's address, `exchanges` every request so far.
    """

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.token = secrets.token_urlsafe(32)
        self.entry = f"{PREFIX}{self.token}"  # the Supervisor's ingress_entry, X-Ingress-Path
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True  # a browser's idle keep-alive never blocks the stop
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="ingress-proxy"
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The add-on's page, as Home Assistant's panel opens it (trailing slash included)."""
        return f"http://127.0.0.1:{self.port}{self.entry}/"

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def failures(self) -> list[Exchange]:
        """Requests answered with an error status (4xx, 5xx)."""
        return [exchange for exchange in self.exchanges if exchange.status >= 400]

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def __enter__(self) -> IngressProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _handler(proxy: IngressProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_IngressHandler):
        pass

    Handler.proxy = proxy
    return Handler


class _IngressHandler(BaseHTTPRequestHandler):
    proxy: IngressProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as browsers use it; every answer has a length

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the exchanges are recorded instead."""

    def send_response(self, code: int, message: str | None = None) -> None:
        """Record the exchange as its status line goes out: before the browser can see it."""
        self.proxy.record(Exchange(self.command or "", self.path or "", code))
        super().send_response(code, message)

    def _handle(self) -> None:
        self._forward()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _handle

    def _forward(self) -> int:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        split = urlsplit(self.path)
        own = f"{self.proxy.entry}/"
        if not split.path.startswith(own):
            return self._answer(404, b"404: Not Found")
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self._answer(501, b"501: WebSockets are not modelled by this stand-in")
        path = remove_dot_segments("/" + split.path[len(own) :])
        if path is None:
            return self._answer(400, b"400: Bad Request")
        target = path + (f"?{split.query}" if split.query else "")
        try:
            status, headers, content = self._ask_addon(target, body)
        except TimeoutError:
            return self._answer(504, b"504: Gateway Timeout")
        except OSError:
            return self._answer(502, b"502: Bad Gateway")
        self.send_response(status)
        content_type = "application/octet-stream"  # Core's default when the add-on sends none
        for name, value in headers:
            if name.lower() == "content-type":
                content_type = value.partition(";")[0].strip()
            elif name.lower() not in DROPPED_RESPONSE | HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        if self.command == "HEAD" or status in (204, 304):
            self.end_headers()
        else:
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        return status

    def _ask_addon(self, target: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request to the add-on as Core and the Supervisor would; its whole answer."""
        host, port = self.proxy.upstream
        connection = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT)
        try:
            connection.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in DROPPED_REQUEST | HOP_BY_HOP | {"x-forwarded-for"}:
                    connection.putheader(name, value)
            browser = self.client_address[0]
            host_header = self.headers.get("Host") or f"127.0.0.1:{self.proxy.port}"
            if "Host" not in self.headers:
                connection.putheader("Host", host_header)
            forwarded_for = ", ".join(
                [*self.headers.get_all("X-Forwarded-For", []), browser, CORE_ADDRESS]
            )
            added = {
                "X-Hass-Source": "core.ingress",
                "X-Ingress-Path": self.proxy.entry,
                "X-Forwarded-For": forwarded_for,
                "X-Forwarded-Host": self.headers.get("X-Forwarded-Host") or host_header,
                "X-Forwarded-Proto": self.headers.get("X-Forwarded-Proto") or "http",
                **USER,
            }
            for name, value in added.items():
                connection.putheader(name, value)
            if body or self.command in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            content = response.read()
            return response.status, response.getheaders(), content
        finally:
            connection.close()

    def _answer(self, status: int, text: bytes) -> int:
        """The proxy's own answer, in plain text, as Core's and the Supervisor's errors are."""
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(text)
        return status

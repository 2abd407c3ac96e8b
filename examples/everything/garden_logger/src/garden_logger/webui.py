"""The web UI: the storage status page in Home Assistant's sidebar (ingress).

Home Assistant's ingress proxy, in the Supervisor, forwards /api/hassio_ingress/<token>/<path> to
http://<add-on>:<ingress_port>/<path>, query string included, from its own address 172.30.32.2
(home-assistant/supervisor 090ef31, supervisor/api/ingress.py: `_create_url`, `_handle_request`).
So the server listens on PORT (the Supervisor's default ingress_port) on every IPv4 address and
answers only that address: anyone else gets 403. In a local run (HA_APP_ROOT set) loopback is
allowed too, and HA_APP_INGRESS_PORT may choose the port (0: any free one; the log line says which).

Routes, exact, GET and HEAD only (others get 405): `/` the page, `/static/status.css`,
`/static/status.js` (files of the package's static folder, read once at start) and `/api/status`,
the JSON of status.collect() that the page renders. Anything else is 404: no path is ever mapped
to a file, so `..` and its encodings reach nothing. The page links only relatively, so it works
under the ingress prefix.

The server never blocks the add-on's work and cannot be made to crash it: it runs in threads of
its own; at most MAX_CONNECTIONS connections are served at once (one more is answered 503 and
closed at once, never queued); a client gets CLIENT_TIMEOUT seconds for each read; http.server
refuses request lines and headers over 64 KiB and more than 100 headers (414, 431); and the
status is computed at most once every STATUS_MIN_AGE seconds, however often the page polls
(StatusCache). One request is one connection (HTTP/1.0): no idle keep-alive holds a place.
"""

import http.server
import json
import logging
import os
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass
from importlib import resources
from typing import Final, TypeAlias

from . import paths, status
from .errors import AddonError

LOG = logging.getLogger(__name__)

PORT: Final = 8099  # the Supervisor's default ingress_port, so config.yaml does not set it
PORT_VARIABLE: Final = "HA_APP_INGRESS_PORT"  # local runs only: the port to listen on
INGRESS_GATEWAY: Final = "172.30.32.2"  # the Supervisor, whose ingress proxy is the only client
LOCAL_PEERS: Final = frozenset({"127.0.0.1", "::1"})  # allowed too in local runs
MAX_CONNECTIONS: Final = 16
CLIENT_TIMEOUT: Final = 10.0  # seconds a client may take for each read of its request
STATUS_MIN_AGE: Final = 5.0  # seconds an answer of api/status is served again
# ... and at least this many times as long as computing it took, so that however slow the disks
# are, the web UI spends at most a twentieth of its time looking at them.
STATUS_COST_FACTOR: Final = 20.0
STOP_WAIT: Final = 2.0  # seconds stop() waits for requests in progress
# How often the serving thread looks whether stop() was asked: a stop waits for it (and the page
# is closed to connections) up to this long. A look costs microseconds.
POLL_SECONDS: Final = 0.1
API_STATUS: Final = "/api/status"
METHODS: Final = ("GET", "HEAD")
# Every answer: only the add-on's own files may load (no CDN: the add-on has no internet); the
# icon is `data:,`, so no browser asks for /favicon.ico.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
REFUSED: Final = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 5\r\nRetry-After: 5\r\nConnection: close\r\n\r\nbusy\n"
)
DRAINED_BYTES: Final = 65536  # of a refused client's request, read so that closing sends no RST


# What socketserver calls a request: a TCP server's is its connection.
Request: TypeAlias = socket.socket | tuple[bytes, socket.socket]


class WebUIError(AddonError):
    """The web UI cannot start; the message says why."""


@dataclass(frozen=True)
class Page:
    """A file of the static folder, as served."""

    body: bytes
    content_type: str


# Route: (file of the static folder, its content type).
PAGES: Final = {
    "/": ("status.html", "text/html; charset=utf-8"),
    "/static/status.css": ("status.css", "text/css; charset=utf-8"),
    "/static/status.js": ("status.js", "text/javascript; charset=utf-8"),
}


def load_pages() -> dict[str, Page]:
    """The page's files, read once: the package does not change while the add-on runs."""
    folder = resources.files(__package__ or __name__).joinpath("static")
    try:
        return {
            route: Page(folder.joinpath(name).read_bytes(), content_type)
            for route, (name, content_type) in PAGES.items()
        }
    except OSError as error:
        raise WebUIError(f"the web UI's page cannot be read: {error}") from None


def configured_port() -> int:
    """PORT, or in a local run the port HA_APP_INGRESS_PORT names (0: any free port)."""
    value = os.environ.get(PORT_VARIABLE)
    if value is None or not paths.is_local():
        return PORT
    if value.strip().isdigit() and int(value) <= 65535:
        return int(value)
    msg = f"{PORT_VARIABLE} must be a port number from 0 to 65535, not {value[:20]!r}"
    raise WebUIError(msg)


def allowed_peers() -> frozenset[str]:
    """The addresses answered: the ingress gateway, and loopback in a local run."""
    return frozenset({INGRESS_GATEWAY} | (LOCAL_PEERS if paths.is_local() else set()))


def status_json() -> bytes:
    """api/status: one look at the storage (SQLite's quick check), as JSON."""
    return json.dumps(status.collect(quick=True).as_json(), indent=1).encode() + b"\n"


class StatusError(Exception):
    """Computing the status failed; the log has the reason."""


class StatusCache:
    """api/status, computed again only once it is STATUS_MIN_AGE seconds old (and at least
    STATUS_COST_FACTOR times the time it took); one request computes it while the others wait
    for that answer instead of computing it too. A failure is remembered as long."""

    def __init__(
        self,
        compute: Callable[[], bytes] = status_json,
        *,
        min_age: float = STATUS_MIN_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute = compute
        self._min_age = min_age
        self._clock = clock
        self._lock = threading.Lock()
        self._body: bytes | None = None
        self._fresh_until = float("-inf")
        self._last_error = ""
        self.computed = 0  # how many times compute ran

    def get(self) -> bytes:
        """The status as JSON; raises StatusError when it could not be computed."""
        with self._lock:
            started = self._clock()
            if started >= self._fresh_until:
                self.computed += 1
                try:
                    self._body = self._compute()
                except Exception as error:  # a bug or a disk error: the page says so, work goes on
                    self._body = None
                    self._log_failure(error)
                else:
                    self._last_error = ""
                took = self._clock() - started
                self._fresh_until = started + max(self._min_age, took * STATUS_COST_FACTOR)
            if self._body is None:
                raise StatusError
            return self._body

    def _log_failure(self, error: Exception) -> None:
        """The traceback once, not at every look while the same failure goes on."""
        if repr(error) != self._last_error:
            LOG.error("Web UI: the status could not be computed", exc_info=error)
        else:
            LOG.debug("Web UI: the status could not be computed: %r", error)
        self._last_error = repr(error)


class Handler(http.server.BaseHTTPRequestHandler):
    """One connection: one request, answered from the server's pages and status."""

    server: "Server"
    protocol_version = "HTTP/1.0"

    def version_string(self) -> str:
        return "status"  # the Server header: no Python version

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.client_timeout)  # each read of the request

    def parse_request(self) -> bool:
        """http.server's parsing and limits, then: a known peer, GET or HEAD."""
        if not super().parse_request():
            return False
        if self.client_address[0] not in self.server.allowed:
            self.send_error(403, "Only Home Assistant's ingress may connect")
            return False
        if self.command not in METHODS:
            self._send(405, b"GET or HEAD only\n", "text/plain; charset=utf-8",
                       Allow=", ".join(METHODS))  # fmt: skip
            return False
        return True

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def _answer(self) -> None:
        route = self.path.partition("?")[0]  # the proxy passes the query string on
        if route == API_STATUS:
            try:
                body = self.server.status.get()
            except StatusError:
                self._send(500, b"the status could not be computed\n", "text/plain; charset=utf-8")
                return
            self._send(200, body, "application/json", **{"Cache-Control": "no-store"})
        elif (page := self.server.pages.get(route)) is not None:
            self._send(200, page.body, page.content_type, **{"Cache-Control": "no-cache"})
        else:
            self.send_error(404)

    def _send(self, code: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """The access log, and http.server's notes on bad requests: DEBUG, never the Log tab's
        noise."""
        LOG.debug("Web UI: %s %s", self.client_address[0], format % args)


class Server(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer with a bound on the connections served at once; each runs in a daemon
    thread that blocks the signals the main thread handles (started within
    app.Signals.only_in_this_thread, which the serving thread inherits)."""

    daemon_threads = True
    request_queue_size = 64  # connections the kernel holds until accepted (each then gets a 503)

    def __init__(
        self,
        port: int,
        *,
        allowed: Collection[str],
        pages: dict[str, Page],
        status: StatusCache,
        max_connections: int = MAX_CONNECTIONS,
        client_timeout: float = CLIENT_TIMEOUT,
    ) -> None:
        self.allowed = frozenset(allowed)
        self.pages = pages
        self.status = status
        self.max_connections = max_connections
        self.client_timeout = client_timeout
        self._served: set[Request] = set()  # the connections in their threads
        self._changed = threading.Condition()
        super().__init__(("0.0.0.0", port), Handler)  # the ingress proxy's address is not ours

    def server_bind(self) -> None:
        """Bind as TCPServer does. Not as HTTPServer does: it also looks up the host's name
        (socket.getfqdn), which can wait for a DNS server the add-on cannot reach and needs
        network access its AppArmor profile does not give."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(
        self,
        request: Request,
        client_address: tuple[str, int],
    ) -> None:
        """Serve the connection in a thread of its own, or refuse it when MAX are served."""
        with self._changed:
            full = len(self._served) >= self.max_connections
            if not full:
                self._served.add(request)
        if full:
            LOG.debug("Web UI: %s refused: %d connections served", client_address[0],
                      self.max_connections)  # fmt: skip
            refuse(connection_of(request))
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._done(request)
            raise

    def process_request_thread(
        self,
        request: Request,
        client_address: tuple[str, int],
    ) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._done(request)

    def _done(self, request: Request) -> None:
        with self._changed:
            self._served.discard(request)
            self._changed.notify_all()

    def idle(self, wait: float) -> bool:
        """Wait up to wait seconds for every connection's thread to end; False if some still run."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._served, timeout=wait)

    def end_connections(self, wait: float) -> bool:
        """Cut every connection served (a slow client's read ends at once) and wait up to wait
        seconds for their threads; False when some still run (computing a status)."""
        with self._changed:
            for request in self._served:
                with suppress(OSError):
                    connection_of(request).shutdown(socket.SHUT_RDWR)
        return self.idle(wait)

    def handle_error(
        self,
        request: Request,
        client_address: tuple[str, int],
    ) -> None:
        """A client that went away is no error of the add-on's; anything else is logged once."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            LOG.debug("Web UI: %s: %s", client_address[0], error)
        else:
            LOG.exception("Web UI: a request from %s failed", client_address[0])


def connection_of(request: Request) -> socket.socket:
    """The socket of a request (socketserver's type also has UDP's, which this server never
    gets)."""
    return request if isinstance(request, socket.socket) else request[1]


def refuse(request: socket.socket) -> None:
    """Answer 503 without waiting for anything: read what the client has sent so far (so that
    closing sends a FIN, not a reset that could discard the answer), then write the answer."""
    with suppress(OSError):
        request.setblocking(False)
        drained = 0
        with suppress(BlockingIOError):
            while drained < DRAINED_BYTES and (chunk := request.recv(DRAINED_BYTES)):
                drained += len(chunk)
        request.send(REFUSED)


class WebUI:
    """The web server: bound when made (so a port in use stops the start before anything
    opens), served by start() in a thread of its own, ended by stop()."""

    def __init__(
        self,
        port: int | None = None,
        *,
        allowed: Collection[str] | None = None,
        cache: StatusCache | None = None,
        max_connections: int = MAX_CONNECTIONS,
        client_timeout: float = CLIENT_TIMEOUT,
    ) -> None:
        port = configured_port() if port is None else port
        pages = load_pages()
        try:
            self.server = Server(
                port,
                allowed=allowed_peers() if allowed is None else allowed,
                pages=pages,
                status=cache or StatusCache(),
                max_connections=max_connections,
                client_timeout=client_timeout,
            )
        except OSError as error:
            msg = f"the web UI cannot listen on port {port}: {error.strerror or error}"
            raise WebUIError(msg) from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when asked for port 0)."""
        return int(self.server.server_address[1])

    def start(self) -> None:
        """Serve in a daemon thread; call within app.Signals.only_in_this_thread()."""
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name="webui",
            daemon=True,
        )
        self._thread.start()
        LOG.info("Web UI listening on port %d", self.port)

    def stop(self, wait: float = STOP_WAIT) -> None:
        """Stop serving, close the port, and end the connections within about wait seconds.

        A request still computing the status is left to finish in its daemon thread: it only
        reads, so the stores may close meanwhile.
        """
        if self._thread is not None:
            self.server.shutdown()  # returns once serve_forever has (within POLL_SECONDS)
            self._thread.join()
            self._thread = None
        self.server.server_close()
        if not self.server.end_connections(wait):
            LOG.warning("Web UI: a request still runs after %.0f s; stopping anyway", wait)

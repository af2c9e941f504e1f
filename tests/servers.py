"""A real HTTP server on 127.0.0.1 for tests: routes, evolving pages, request log, hostile hooks.

Usage::

    with LocalServer() as server:             # LocalServer(tls=ctx) serves HTTPS
        server.set("/story", "<html>…v1…</html>", etag='"v1"')
        fetch(server.url("/story"))           # 200, body v1
        fetch(server.url("/story"), etag='"v1"')  # 304 (the route answers conditionals)
        server.set("/story", "<html>…v2…</html>", etag='"v2"')   # the page evolves
        server.set_versions("/feed", [b"one", b"two"])            # each GET serves the next
        server.redirect("/old", "/story")
        server.set_handler("/hang", hang())  # or slow_drip(), endless_chunked(), reset_after()…
        server.count("/story"), server.requests_for("/story")[0].headers["if-none-match"]
        server.max_in_flight                 # peak number of requests handled at once

Handlers are plain callables `handler(exchange: Exchange) -> None` that write whatever they like
(raw bytes included) to `exchange.wfile` / `exchange.connection`. They should wait on
`exchange.server.stopping` rather than sleep, so that closing the server never hangs.

Pytest fixtures wrapping this live in tests/conftest.py; this module has no pytest dependency.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Body = bytes | str
Handler = Callable[["Exchange"], None]

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # including the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes  # request body (POST/PUT), b"" otherwise


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=lambda: [b""])  # served in turn, last repeats
    etag: str | None = None
    last_modified: str | None = None
    handler: Handler | None = None
    served: int = 0


class Exchange:
    """One request as seen by a route handler."""

    def __init__(self, request_handler: BaseHTTPRequestHandler, request: RecordedRequest):
        self._handler = request_handler
        self.request = request
        self.server: LocalServer = request_handler.server.local  # type: ignore[attr-defined]
        self.wfile = request_handler.wfile
        self.connection: socket.socket = request_handler.connection

    def send(
        self, status: int = 200, headers: Mapping[str, str] | None = None, body: Body = b""
    ) -> None:
        """A complete response with Content-Length."""
        data = _to_bytes(body)
        self.send_head(status, {"Content-Length": str(len(data)), **(headers or {})})
        self.wfile.write(data)

    def send_head(self, status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        """Status line and headers only; the handler writes the body itself."""
        self._handler.send_response(status)
        for name, value in (headers or {}).items():
            self._handler.send_header(name, value)
        self._handler.end_headers()
        self.wfile.flush()

    def close_connection(self) -> None:
        self._handler.close_connection = True


class LocalServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with programmable routes. Unknown paths -> 404."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
    ) -> None:
        """`tls`: a server-side SSLContext to serve HTTPS (e.g. from `trustme`)."""
        self.scheme = "https" if tls else "http"
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd = _Server((host, port), _RequestHandler)
        self._httpd.local = self
        if tls is not None:
            # The handshake happens in the handler thread (see _RequestHandler.setup), so a
            # client that never completes one cannot stall the accept loop.
            self._httpd.socket = tls.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    # -- routes ------------------------------------------------------------------------

    def set(
        self,
        path: str,
        body: Body = b"",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        content_type: str | None = HTML,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Serve `body` at `path` (replacing what was there: pages evolve by calling it again).

        With `etag`/`last_modified` the route sends those validators and answers a matching
        If-None-Match / If-Modified-Since with 304. `content_type=None` sends no Content-Type.
        """
        self.set_versions(
            path,
            [body],
            status,
            headers,
            content_type=content_type,
            etag=etag,
            last_modified=last_modified,
        )

    def set_versions(
        self,
        path: str,
        bodies: Iterable[Body],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        content_type: str | None = HTML,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Serve `bodies` one per request, in order; the last one is repeated."""
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers or {})
        route = Route(
            status=status,
            headers=all_headers,
            bodies=[_to_bytes(b) for b in bodies] or [b""],
            etag=etag,
            last_modified=last_modified,
        )
        with self._lock:
            self._routes[path] = route

    def set_handler(self, path: str, handler: Handler) -> None:
        with self._lock:
            self._routes[path] = Route(handler=handler)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.set(path, b"", status, {"Location": location}, content_type=None)

    def remove(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    # -- observations --------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def count(self, path: str | None = None) -> int:
        return len(self.requests if path is None else self.requests_for(path))

    @property
    def in_flight(self) -> int:
        """Requests being handled right now."""
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most requests ever handled at the same time."""
        with self._lock:
            return self._max_in_flight

    # -- called by the request handler -----------------------------------------------------

    def _begin(self, request: RecordedRequest) -> Route | None:
        with self._lock:
            self._requests.append(request)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            route = self._routes.get(request.path) or self._routes.get(request.path.split("?")[0])
            if route is None or route.handler is not None:
                return route
            body = route.bodies[min(route.served, len(route.bodies) - 1)]
            route.served += 1
            # A snapshot, so that a concurrent set() cannot change a response half-way.
            return Route(route.status, dict(route.headers), [body], route.etag, route.last_modified)

    def _end(self) -> None:
        with self._lock:
            self._in_flight -= 1


# -- hostile and special behaviours, as handler factories ---------------------------------


def hang(seconds: float = 30.0) -> Handler:
    """Accept the request and never answer (until the server stops or `seconds` pass)."""

    def handler(exchange: Exchange) -> None:
        exchange.server.stopping.wait(seconds)
        exchange.close_connection()

    return handler


def slow_drip(
    chunk: bytes = b"<p>drip</p>", interval: float = 0.2, content_type: str = HTML
) -> Handler:
    """Headers at once, then one small chunk every `interval` seconds, for ever."""

    def handler(exchange: Exchange) -> None:
        exchange.send_head(200, {"Content-Type": content_type})  # body ends when we close
        exchange.close_connection()
        while not exchange.server.stopping.wait(interval):
            exchange.wfile.write(chunk)
            exchange.wfile.flush()

    return handler


def slow_headers(interval: float = 0.05) -> Handler:
    """A status line, then one more header line every `interval` seconds, for ever."""

    def handler(exchange: Exchange) -> None:
        exchange.close_connection()
        exchange.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
        exchange.wfile.flush()
        while not exchange.server.stopping.wait(interval):
            exchange.wfile.write(b"X-Drip: .\r\n")
            exchange.wfile.flush()

    return handler


def endless_chunked(chunk: bytes = b"<p>" + b"x" * 16_000 + b"</p>", content_type: str = HTML):
    """A chunked response that never ends: chunks as fast as the client reads."""

    def handler(exchange: Exchange) -> None:
        exchange.send_head(200, {"Content-Type": content_type, "Transfer-Encoding": "chunked"})
        exchange.close_connection()
        frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        while not exchange.server.stopping.is_set():
            exchange.wfile.write(frame)

    return handler


def reset_after(
    body: Body = b"<html><body>" + b"partial " * 200,
    declared_length: int = 1_000_000,
    content_type: str = HTML,
) -> Handler:
    """Promise `declared_length` bytes, send `body`, then reset the connection (TCP RST)."""

    def handler(exchange: Exchange) -> None:
        exchange.send_head(
            200, {"Content-Type": content_type, "Content-Length": str(declared_length)}
        )
        exchange.wfile.write(_to_bytes(body))
        exchange.wfile.flush()
        exchange.close_connection()
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        exchange.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        exchange.connection.close()

    return handler


def gated(gate: threading.Event, then: Handler | None = None, timeout: float = 10.0) -> Handler:
    """Hold each request until `gate` is set (to observe concurrency), then answer via `then`
    (default: a small HTML page)."""

    def handler(exchange: Exchange) -> None:
        gate.wait(timeout)
        if then is not None:
            then(exchange)
        else:
            exchange.send(200, {"Content-Type": HTML}, "<html><body><p>ok</p></body></html>")

    return handler


def gzip_bomb(expanded_size: int, piece: int = 1024 * 1024) -> bytes:
    """A gzip stream of `expanded_size` zero bytes, built without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    zeros = bytes(piece)
    parts = []
    remaining = expanded_size
    while remaining > 0:
        parts.append(compressor.compress(zeros[: min(piece, remaining)]))
        remaining -= piece
    parts.append(compressor.flush())
    return b"".join(parts)


# -- plumbing ----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # hanging handlers must not block stop()
    request_queue_size = 128  # the default 5 drops bursts of concurrent connects
    local: LocalServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up on hostile handlers is the point of those tests, not an error.
        pass


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(5)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_POST(self) -> None:
        self._serve(send_body=True)

    def do_PUT(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, send_body: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        local = self.server.local
        route = local._begin(request)
        try:
            if route is None:
                self._respond(404, {"Content-Type": HTML}, b"<html><body>not found</body></html>")
            elif route.handler is not None:
                route.handler(Exchange(self, request))
            elif _not_modified(route, request.headers):
                headers = {"ETag": route.etag} if route.etag else {}
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                self._respond(304, headers, b"", send_body=False)
            else:
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                self._respond(route.status, headers, route.bodies[0], send_body)
        finally:
            local._end()

    def _respond(
        self, status: int, headers: dict[str, str], body: bytes, send_body: bool = True
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304 and not any(n.lower() == "content-length" for n in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)


def _not_modified(route: Route, headers: Mapping[str, str]) -> bool:
    if_none_match = headers.get("if-none-match")
    if route.etag and if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or route.etag in tags
    since = headers.get("if-modified-since")
    return bool(route.last_modified and since == route.last_modified)


def _to_bytes(body: Body) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body

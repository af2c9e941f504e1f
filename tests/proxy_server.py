"""A real forward HTTP proxy on 127.0.0.1 for tests: GET and POST, and CONNECT tunnels.

    with ForwardProxy(credentials=("user", "secret")) as proxy:
        fetch through proxy.url  ->  proxy.requests == [("GET", "http://127.0.0.1:…/story")]

It forwards to any address (loopback included): it stands in for the operator's proxy, and
vetting story hosts is the tracker's job, not the proxy's.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class ForwardProxy:
    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.requests: list[tuple[str, str]] = []
        self.credentials = credentials
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self._httpd.daemon_threads = True
        self._httpd.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        if self.credentials:
            user, password = self.credentials
            return f"http://{user}:{password}@{host}:{port}"
        return f"http://{host}:{port}"

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    @property
    def proxy(self) -> ForwardProxy:
        return self.server.proxy  # type: ignore[attr-defined]

    def _authorised(self) -> bool:
        if self.proxy.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.proxy.credentials).encode()).decode()
        if self.headers.get("Proxy-Authorization") == f"Basic {expected}":
            return True
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="test"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_GET(self) -> None:
        self._forward("GET")

    def do_POST(self) -> None:
        self._forward("POST")

    def _forward(self, method: str) -> None:
        self.proxy.requests.append((method, self.path))
        if not self._authorised():
            return
        target = urlsplit(self.path)
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=10)
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization",)
        }
        sent = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(sent) if sent else None
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.request(method, path, body=body, headers=headers)
        response = upstream.getresponse()
        # Streamed as it arrives (a proxy must not hide a server that drips its body).
        length = response.getheader("Content-Length")
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", length)
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            while chunk := response.read1(65536):
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:  # the client gave up (its deadline): stop relaying
            self.close_connection = True
        finally:
            upstream.close()

    def do_CONNECT(self) -> None:
        self.proxy.requests.append(("CONNECT", self.path))
        if not self._authorised():
            return
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        sockets = [self.connection, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 10)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()


class RecordingProxy:
    """A fake HTTP proxy on 127.0.0.1 that records every request target and never forwards.

    It answers absolute-form GETs from `responses` (target URL -> (status, headers, body)),
    else with a page saying which target it was asked for: a test can then see what the
    tracker asked for without any connection leaving loopback.

        with RecordingProxy() as proxy:
            fetch through proxy.url  ->  proxy.targets == ["http://93.184.216.34/x"]
    """

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.responses: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
        self._httpd.daemon_threads = True
        self._httpd.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        proxy: RecordingProxy = self.server.proxy  # type: ignore[attr-defined]
        proxy.targets.append(self.path)
        status, headers, body = proxy.responses.get(
            self.path,
            (
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                b"<html><head><title>Proxied</title></head><body><h1>Proxied</h1><p>"
                + f"The proxy was asked for {self.path}.".encode()
                + b"</p></body></html>",
            ),
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _answer

    def do_CONNECT(self) -> None:
        proxy: RecordingProxy = self.server.proxy  # type: ignore[attr-defined]
        proxy.targets.append(f"CONNECT {self.path}")
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

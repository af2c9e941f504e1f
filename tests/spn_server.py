"""A fake web archive for tests: the Wayback Machine's Save Page Now API on 127.0.0.1.

The real one cannot be reached from the test machines; this one answers as SPN2 does
(https://docs.google.com/document/d/1Nsv52MvSjbLb2PCpHlat0gkzw0EvtSgpKHu4mk0MnrA):

- ``POST /save`` (form ``url``) → ``{"url": …, "job_id": "spn2-…"}``, 401 without the
  ``Authorization: LOW key:secret`` header when keys are required;
- ``GET /save/status/{job_id}`` → ``{"status": "pending"}`` ``pending_polls`` times, then
  ``{"status": "success", "timestamp": …, "original_url": …}``;
- ``GET /save/{url}`` (the simple form) → 302 to ``/web/{timestamp}/{url}``.

``fail_next(status, …)`` makes the next save requests fail (429, 500, an SPN error) before
it answers normally again; ``requests`` logs every request in order.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class SpnRequest:
    method: str
    path: str
    authorization: str | None
    url: str | None  # the page asked to be saved (save requests)


class FakeSavePageNow:
    def __init__(self, *, keys: tuple[str, str] | None = None, pending_polls: int = 1) -> None:
        self.keys = keys
        self.pending_polls = pending_polls
        self.requests: list[SpnRequest] = []
        self._failures: deque[tuple[int, dict[str, Any]]] = deque()
        self._jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> FakeSavePageNow:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting -----------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, body: dict[str, Any] | None = None) -> None:
        """The next ``times`` save requests answer ``status`` with ``body`` (JSON)."""
        with self._lock:
            for _ in range(times):
                self._failures.append((status, body or {"message": f"fake {status}"}))

    def saves(self) -> list[SpnRequest]:
        return [r for r in self.requests if r.method == "POST" or r.url is not None]

    def polls(self) -> list[SpnRequest]:
        return [r for r in self.requests if r.path.startswith("/save/status/")]

    # -- answering -----------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict, bytes]:
        authorization = headers.get("Authorization")
        url = None
        if method == "POST" and path == "/save":
            url = parse_qs(body.decode()).get("url", [None])[0]
        elif method == "GET" and path.startswith("/save/") and not path.startswith("/save/status/"):
            url = path.removeprefix("/save/")
        with self._lock:
            self.requests.append(SpnRequest(method, path, authorization, url))
            if self.keys is not None and authorization != f"LOW {self.keys[0]}:{self.keys[1]}":
                return _json(401, {"message": "You need to be logged in to use Save Page Now."})
            if url is not None and self._failures:
                status, failure = self._failures.popleft()
                return _json(status, failure)
            if method == "POST" and path == "/save":
                if not url:
                    return _json(400, {"status": "error", "status_ext": "error:invalid-url-syntax"})
                job_id = f"spn2-{len(self._jobs) + 1:040x}"
                timestamp = f"2026120417{len(self._jobs):04d}"
                self._jobs[job_id] = {"url": url, "left": self.pending_polls, "ts": timestamp}
                return _json(200, {"url": url, "job_id": job_id})
            if method == "GET" and path.startswith("/save/status/"):
                job = self._jobs.get(path.removeprefix("/save/status/"))
                if job is None:
                    return _json(200, {"status": "error", "status_ext": "error:not-found"})
                if job["left"] > 0:
                    job["left"] -= 1
                    return _json(200, {"status": "pending", "resources": []})
                return _json(
                    200,
                    {"status": "success", "timestamp": job["ts"], "original_url": job["url"]},
                )
            if url is not None:  # the simple form: saved at once, redirected to the copy
                timestamp = f"2026120418{len(self._jobs):04d}"
                self._jobs[f"simple-{len(self._jobs)}"] = {"url": url}
                return 302, {"Location": f"/web/{timestamp}/{url}"}, b""
        return _json(404, {"message": "not found"})


def _json(status: int, body: dict[str, Any]) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _handler_for(fake: FakeSavePageNow) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = fake.answer(self.command, self.path, self.headers, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler

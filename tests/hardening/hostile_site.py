"""A site of hostile pages for the whole-pipeline hardening tests, and what each must become.

Each :class:`Case` is one story: how the server misbehaves, and the check outcome (and
error kind) the tracker must record for it. The fetcher's handling of each is tested on its
own in tests/test_fetch.py; here they go through claim → fetch → extract → record.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from servers import HTML, Exchange, LocalServer, endless_chunked, gzip_bomb, hang, reset_after

from tracker.net.netguard import is_public_address

MB = 1024 * 1024

PARAGRAPHS = (
    "The regional council met on Thursday evening to debate the transport plan, which "
    "critics have called underfunded and several years late.",
    "Officials said the first new bus routes would open in the spring, with trams to follow "
    "once the funding for the second phase has been agreed.",
    "Residents who spoke at the meeting asked for more frequent services at night and for "
    "the fares to stay at their present level for at least two years.",
)


def article_page(title: str, paragraphs: tuple[str, ...] = PARAGRAPHS, *, extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}</article>"
        f"{extra}</body></html>"
    )


def loopback_only_127_0_0_1_or_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """The test server is on 127.0.0.1; every other private address stays refused."""
    return address == ipaddress.ip_address("127.0.0.1") or is_public_address(address)


@dataclass(frozen=True)
class Case:
    path: str
    what: str
    outcome: str  # CheckOutcome value
    error_kind: str | None
    setup: Callable[[LocalServer, str], None]
    needs_address_policy: bool = False  # the refusal only shows with private networks refused


def _stream(total: int, *, declare: bool) -> Callable[[Exchange], None]:
    def handler(exchange: Exchange) -> None:
        headers = {"Content-Type": HTML}
        if declare:
            headers["Content-Length"] = str(total)
        exchange.send_head(200, headers)
        exchange.close_connection()
        chunk = b"<p>" + b"y" * (64 * 1024 - 7) + b"</p>"
        sent = 0
        while sent < total and not exchange.server.stopping.is_set():
            exchange.wfile.write(chunk)  # raises once the client hangs up: that ends it
            sent += len(chunk)

    return handler


def _gzip_bomb(body: bytes) -> Callable[[Exchange], None]:
    def handler(exchange: Exchange) -> None:
        exchange.send(200, {"Content-Type": HTML, "Content-Encoding": "gzip"}, body)

    return handler


def _set(body: bytes | str, status: int = 200, content_type: str | None = HTML, **headers: str):
    def setup(server: LocalServer, path: str) -> None:
        server.set(path, body, status, headers, content_type=content_type)

    return setup


def _handler(factory: Callable[[], Callable[[Exchange], None]]):
    def setup(server: LocalServer, path: str) -> None:
        server.set_handler(path, factory())

    return setup


def _loop(server: LocalServer, path: str) -> None:
    server.redirect(path, path + "/b")
    server.redirect(path + "/b", path)


def _to_private(server: LocalServer, path: str) -> None:
    server.redirect(path, "http://169.254.169.254/latest/meta-data/")


def _retry_after_date(server: LocalServer, path: str) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(hours=3), usegmt=True)
    server.set(path, "busy", 503, {"Retry-After": when}, content_type="text/plain")


_BOMB = gzip_bomb(64 * MB)  # 64 MB of zeros in ~64 KB
_DEEP = 20_000
LATIN1_PAGE = article_page(
    "Café owners in Zürich protest",
    ("Café owners in Zürich said on Monday that the rules would cost them dearly.", *PARAGRAPHS),
).encode("cp1252")
INVALID_UTF8_PAGE = (
    article_page("Broken bytes", PARAGRAPHS)
    .encode()
    .replace(b"several years late", b"several \xff\xfe years \xc3 late")
)

CASES: tuple[Case, ...] = (
    # -- hostile HTTP --
    Case("/huge-declared", "a 50 MB body, declared", "error", "too_large",
         _handler(lambda: _stream(50 * MB, declare=True))),
    Case("/huge-streamed", "a 50 MB body, undeclared", "error", "too_large",
         _handler(lambda: _stream(50 * MB, declare=False))),
    Case("/endless", "an endless chunked stream", "error", "too_large",
         _handler(endless_chunked)),
    Case("/gzip-bomb", "a gzip bomb (64 MB of zeros)", "error", "too_large",
         _handler(lambda: _gzip_bomb(_BOMB))),
    Case("/binary", "a PNG served as text/html", "error", "not_html",
         _set(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)),
    Case("/lying-charset", "cp1252 bytes behind charset=utf-8", "changed", None,
         _set(LATIN1_PAGE, content_type="text/html; charset=utf-8")),
    Case("/invalid-utf8", "UTF-8 with invalid bytes", "changed", None,
         _set(INVALID_UTF8_PAGE, content_type="text/html; charset=utf-8")),
    Case("/loop", "a redirect loop", "error", "redirects", _loop),
    Case("/to-private", "a redirect to 169.254.169.254", "error", "private_network",
         _to_private, needs_address_policy=True),
    Case("/hang", "accepts and never answers", "error", "timeout", _handler(hang)),
    Case("/reset", "resets mid-body", "error", "connection", _handler(reset_after)),
    Case("/429", "429 with Retry-After: 7200", "error", "http_status",
         _set("slow down", 429, "text/plain", **{"Retry-After": "7200"})),
    Case("/503", "503 with an HTTP-date Retry-After (+3 h)", "error", "http_status",
         _retry_after_date),
    Case("/404", "404 Not Found", "error", "http_status", _set("gone", 404)),
    Case("/410", "410 Gone", "error", "http_status", _set("gone", 410)),
    # -- hostile HTML --
    Case("/deep", f"{_DEEP} nested <div>s", "changed", None,
         _set(article_page("Deep", extra="<div>" * _DEEP + "deep text" + "</div>" * _DEEP))),
    Case("/huge-attribute", "a 5 MB attribute value", "changed", None,
         _set(article_page("Attribute", extra=f"<div data-x='{'A' * (5 * MB)}'>x</div>"))),
    Case("/script-only", "a page that is only scripts", "empty", "empty",
         _set("<html><head><script>var a=1;</script></head><body>"
              "<script>document.write('<p>' + 'hello '.repeat(50) + '</p>')</script>"
              "</body></html>")),
    Case("/empty-page", "an empty HTML document", "empty", "empty",
         _set("<html><head></head><body></body></html>")),
    Case("/empty-body", "a zero-byte body", "error", "not_html", _set(b"")),
)  # fmt: skip


def serve_cases(server: LocalServer, cases: tuple[Case, ...] = CASES) -> None:
    for case in cases:
        case.setup(server, case.path)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")

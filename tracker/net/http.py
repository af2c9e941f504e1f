"""The HTTP fetcher ("http", the default): urllib3, one page per call, with the limits a
broken or hostile server calls for.

`HttpFetcher.fetch()` never raises: every failure becomes a `FetchResult` with outcome ERROR, a
stable `error_kind` for the scheduler (back off, retire on 404/410, honour Retry-After) and one
readable `error` line for people (the contract all fetchers keep: see `tracker.net.fetcher`).

Limits, and why each exists:

* connect/read timeouts bound each socket operation; the overall `deadline` bounds the whole
  fetch, redirects and slow-drip bodies included (a server that sends one byte every second
  never trips a read timeout): a watchdog timer shuts the socket down when it passes. DNS
  lookups are not bounded by it (getaddrinfo has no timeout).
* `max_bytes` is enforced while streaming and on the decompressed size: urllib3 (>= 2.7)
  inflates at most one chunk's worth per read, so a gzip bomb stops at the cap without being
  inflated into memory.
* redirects are followed by hand so every hop is checked against the private-network guard
  (see `tracker.net.netguard`) and counted.

Each fetch has a cookie jar of its own, empty when it starts (sites that bounce through a
cookie-setting redirect work, yet no cookie follows us from one fetch to the next - metered
paywalls count visits by cookie, and a paywall appearing would look like an edit), over
shared, thread-safe connection pools. So concurrent `fetch()` calls are safe.

urllib3 directly, not requests over it: requests' per-request preparation, its Response and
its cookie handling (re-parsing the URL about eight times) were a quarter of the CPU of a
fetch answered 304 Not Modified, the most common fetch of all. Its redirect target rule,
cookie rules (`http.cookiejar`) and trust in the CA bundle it names are kept.
"""

from __future__ import annotations

import contextlib
import http
import logging
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import Request

import urllib3
from requests.utils import requote_uri
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    LocationValueError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as TLSError

from tracker.core import cadence
from tracker.net import netguard, urls
from tracker.net.charset import (
    HTML_TYPES,
    NotHTMLError,
    decode_html,
    decode_text,
    looks_like_html,
    parse_content_type,
)
from tracker.net.fetcher import (
    ROBOTS_MAX_BYTES,
    FetchOptions,
    FetchResult,
    Outcome,
    format_size,
    register_fetcher,
)
from tracker.net.watchdog import Watchdog

# The name it has always logged under, whichever module the fetcher lives in.
logger = logging.getLogger("tracker.fetch")

CHUNK_SIZE = 64 * 1024

# Ends fetches that outrun their overall deadline (one thread for every fetcher).
_WATCHDOG = Watchdog()
# Room for ~16 worker threads plus robots.txt fetches, per host and across hosts.
POOL_CONNECTIONS = 64
POOL_MAXSIZE = 16

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})

# No retries: a connection that fails raises at once, a failed read as itself. The story is
# checked again on its schedule.
_NO_RETRIES = urllib3.Retry(0, read=False)


class HttpFetcher:
    """Fetches over HTTP(S); a `PageFetcher`; thread-safe; its methods never raise."""

    def __init__(
        self,
        options: FetchOptions | None = None,
        *,
        address_allowed: netguard.AddressPolicy | None = None,
        resolver: netguard.Resolver = netguard.resolve,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`address_allowed`: which resolved addresses may be contacted; defaults to public ones
        only, or all if `options.allow_private_networks`. `now` dates Retry-After."""
        self.options = options or FetchOptions()
        self._allowed = address_allowed or netguard.address_policy(
            self.options.allow_private_networks
        )
        self._resolver = resolver
        self._now = now
        self._monotonic = monotonic
        self._proxy_problem = _proxy_problem(self.options.proxy)
        self._local = threading.local()
        # One pool manager for plain HTTP and one for HTTPS, made at its first fetch: loading
        # the CA certificates costs about 20 ms, which a pass of http:// pages need not pay.
        # Through a proxy, one manager (the proxy's) for both.
        self._managers: dict[str, urllib3.PoolManager] = {}
        self._managers_lock = threading.Lock()
        self._headers = {
            "User-Agent": self.options.user_agent,
            # Only codecs whose urllib3 decoders are known to honour the streaming size limit.
            "Accept-Encoding": "gzip, deflate",
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            "Connection": "keep-alive",
        }

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET an HTML page, conditionally if validators are given."""
        return self._run(
            url,
            expect_html=True,
            etag=etag,
            last_modified=last_modified,
            max_bytes=self.options.max_bytes,
            truncate=False,
        )

    def fetch_resource(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET any text resource (a feed, a sitemap), conditionally, with the page limits:
        no HTML check; the body is refused, not truncated, past `max_bytes`."""
        return self._run(
            url,
            expect_html=False,
            etag=etag,
            last_modified=last_modified,
            max_bytes=self.options.max_bytes,
            truncate=False,
        )

    def get_text(self, url: str, *, max_bytes: int = ROBOTS_MAX_BYTES) -> FetchResult:
        """GET a small text resource such as robots.txt: any content type, UTF-8 unless
        declared otherwise, body truncated (not refused) at `max_bytes`."""
        return self._run(
            url,
            expect_html=False,
            etag=None,
            last_modified=None,
            max_bytes=max_bytes,
            truncate=True,
        )

    def close(self) -> None:
        with self._managers_lock:
            managers, self._managers = list(self._managers.values()), {}
        for manager in managers:
            manager.clear()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one fetch -----------------------------------------------------------------------

    def _run(
        self,
        url: str,
        *,
        expect_html: bool,
        etag: str | None,
        last_modified: str | None,
        max_bytes: int,
        truncate: bool,
    ) -> FetchResult:
        attempt = _Attempt(url=url, current=url, started=self._monotonic())
        # A watchdog enforces the deadline where timeouts cannot: a server that drips bytes
        # (headers or body) never trips a per-read timeout, so at the deadline the socket in
        # use is shut down from the watchdog's thread, which ends any blocked read.
        self._local.attempt = attempt
        watch = _WATCHDOG.watch(self.options.deadline, attempt.expire)
        result: FetchResult | None = None
        try:
            result = self._fetch(attempt, expect_html, etag, last_modified, max_bytes, truncate)
        except _Failure as failure:
            kind, message, retry_after = failure.kind, failure.message, failure.retry_after
        except Exception as exc:
            kind, message = _describe_exception(exc, attempt)
            retry_after = None
            if kind == "internal":
                logger.exception("unexpected error fetching %s", url)
        finally:
            watch.cancel()
            expired = attempt.finish()
            self._local.attempt = None
            if attempt.response is not None:
                _close(attempt.response)
        if result is None and self.options.proxy:
            message = _without_password(message, self.options.proxy)
        if expired and (result is not None or kind != "too_large"):
            # Whatever happened after the socket was shut down - even an apparently complete
            # response - is an artefact of the shutdown (a body cut short reads as a clean EOF).
            kind, retry_after = "timeout", None
            message = _deadline_message(self.options.deadline, attempt)
        elif result is not None:
            return result
        return self._result(
            attempt, Outcome.ERROR, error=message, error_kind=kind, retry_after=retry_after
        )

    def _fetch(
        self,
        attempt: _Attempt,
        expect_html: bool,
        etag: str | None,
        last_modified: str | None,
        max_bytes: int,
        truncate: bool,
    ) -> FetchResult:
        headers = dict(self._headers)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if self._proxy_problem:
            raise _Failure(
                "proxy", f"could not fetch {attempt.url} through the proxy: {self._proxy_problem}"
            )
        response = self._follow_redirects(attempt, headers)
        status = response.status

        if status == 304:
            # A 304 has no body; reading the empty rest hands the connection back to the
            # pool for the next fetch (closing the response would close the socket).
            response.read()
            return self._result(
                attempt,
                Outcome.NOT_MODIFIED,
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified") or last_modified,
            )
        if not 200 <= status < 300:
            message = f"HTTP {status} {response.reason or _reason_phrase(status)}".rstrip()
            if status in REDIRECT_STATUSES:
                message += " without a Location header"
            retry_after = None
            if status in RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self._now())
            raise _Failure("http_status", message, retry_after=retry_after)

        mime, charset = parse_content_type(response.headers.get("Content-Type"))
        if expect_html and mime is not None and mime not in HTML_TYPES:
            raise _Failure("not_html", f"not HTML ({mime})")
        declared_length = response.headers.get("Content-Length", "")
        if (
            not truncate
            and declared_length.isdigit()
            and int(declared_length) > max_bytes
            and not response.headers.get("Content-Encoding")
        ):
            raise _Failure("too_large", f"body larger than {format_size(max_bytes)} cap")

        body = self._read_body(response, attempt, max_bytes, truncate)

        if not expect_html:
            text, codec = decode_text(body, charset)
            return self._result(
                attempt,
                Outcome.OK,
                body=body,
                text=text,
                encoding=codec,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
        if not body.strip():
            raise _Failure("not_html", "empty body")
        if mime is None and not looks_like_html(body):
            raise _Failure("not_html", "not HTML (no Content-Type, and the body is not HTML)")
        try:
            text, encoding = decode_html(body, charset)
        except NotHTMLError as exc:
            raise _Failure("not_html", f"not HTML ({exc}, served as {mime or 'untyped'})") from None
        return self._result(
            attempt,
            Outcome.OK,
            body=body,
            text=text,
            encoding=encoding,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )

    def _follow_redirects(
        self, attempt: _Attempt, headers: dict[str, str]
    ) -> urllib3.BaseHTTPResponse:
        seen: set[tuple[str, str | None]] = set()
        chain: list[str] = []
        cookies = CookieJar()  # this fetch's: see the module doc
        while True:
            # Vetted as urllib3 will read it (the same host the proxy is asked for).
            vetted = netguard.vet(attempt.current)
            current = vetted.url
            attempt.final_url, attempt.status, attempt.headers = current, None, {}
            netguard.check_host(vetted.host, vetted.port, self._allowed, resolver=self._resolver)
            timeout = self._timeouts(attempt)
            cookie = _cookie_header(cookies, current) if len(cookies) else None
            sent = headers if cookie is None else {**headers, "Cookie": cookie}
            response = self._send(vetted.scheme, current, sent, timeout)
            attempt.response = response
            attempt.status = response.status
            # One entry per name, repeated headers joined with ", " (as HTTP allows).
            attempt.headers = {name.lower(): value for name, value in response.headers.itermerged()}
            chain.append(current)
            location = _redirect_target(response)
            if location is None:
                return response
            # Its cookies go with the next hop (a cookie-setting redirect bounce).
            cookies.extract_cookies(_CookieHeaders(response.headers), Request(current))  # type: ignore[arg-type]
            attempt.use(None)  # the connection goes back to the pool, for anyone to use
            _close(response)
            attempt.response = None
            # A URL requested twice with the same cookies will redirect the same way again.
            # (Keying on cookies too lets a cookie-setting bounce A -> B -> A through.)
            state = (current, cookie)
            if state in seen:
                raise _Failure("redirects", "redirect loop: " + " → ".join(chain))
            seen.add(state)
            if len(chain) > self.options.max_redirects:
                raise _Failure(
                    "redirects",
                    f"too many redirects (>{self.options.max_redirects}) from {chain[0]}",
                )
            attempt.redirects.append(current)
            if urls.has_controls(location):
                # urljoin would silently drop tabs and newlines that another parser keeps.
                raise netguard.BadURLError(
                    f"malformed URL {urls.escape_controls(location)!r}: control characters "
                    "are not allowed in a URL"
                )
            attempt.current = requote_uri(urljoin(current, location))

    def _send(
        self, scheme: str, url: str, headers: dict[str, str], timeout: tuple[float, float]
    ) -> urllib3.BaseHTTPResponse:
        """GET `url` (vetted), not following redirects, its body left to be streamed. No
        retries: a failed fetch is reported, and the story checked again on its schedule."""
        return self._manager(scheme).urlopen(
            "GET",
            url,
            headers=headers,
            redirect=False,
            retries=_NO_RETRIES,
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            preload_content=False,
            decode_content=False,
        )

    def _manager(self, scheme: str) -> urllib3.PoolManager:
        """The pool manager for `scheme` (made at its first fetch; see `__init__`)."""
        key = "proxy" if self.options.proxy else scheme
        manager = self._managers.get(key)
        if manager is not None:
            return manager
        with self._managers_lock:
            manager = self._managers.get(key)
            if manager is None:
                tls = {"ssl_context": _tls_context()} if key != "http" else {}
                manager = self._managers[key] = netguard.guarded_pool_manager(
                    self._allowed,
                    proxy=self.options.proxy,
                    on_socket=self._note_socket,
                    on_release=self._release_socket,
                    num_pools=POOL_CONNECTIONS,
                    maxsize=POOL_MAXSIZE,
                    **tls,
                )
            return manager

    def _read_body(
        self, response: urllib3.BaseHTTPResponse, attempt: _Attempt, max_bytes: int, truncate: bool
    ) -> bytes:
        chunks: list[bytes] = []
        deadline_at = attempt.started + self.options.deadline
        for chunk in response.stream(CHUNK_SIZE, decode_content=True):
            if attempt.bytes_read + len(chunk) > max_bytes:
                if truncate:
                    chunks.append(chunk[: max_bytes - attempt.bytes_read])
                    attempt.bytes_read = max_bytes
                    break
                attempt.bytes_read += len(chunk)
                raise _Failure("too_large", f"body larger than {format_size(max_bytes)} cap")
            attempt.bytes_read += len(chunk)
            chunks.append(chunk)
            if self._monotonic() > deadline_at:
                raise _Failure("timeout", _deadline_message(self.options.deadline, attempt))
        return b"".join(chunks)

    def _timeouts(self, attempt: _Attempt) -> tuple[float, float]:
        remaining = attempt.started + self.options.deadline - self._monotonic()
        if remaining <= 0:
            raise _Failure(
                "timeout",
                f"gave up after the {_seconds(self.options.deadline)} s deadline "
                f"before requesting {attempt.current}",
            )
        attempt.connect_timeout = min(self.options.connect_timeout, remaining)
        attempt.read_timeout = min(self.options.read_timeout, remaining)
        attempt.read_limited_by_deadline = attempt.read_timeout < self.options.read_timeout
        attempt.deadline = self.options.deadline
        return attempt.connect_timeout, attempt.read_timeout

    def _note_socket(self, sock: socket.socket) -> None:
        attempt = getattr(self._local, "attempt", None)
        if attempt is not None:
            attempt.use(sock)

    def _release_socket(self, sock: socket.socket) -> None:
        # urllib3 hands a connection back to the pool as soon as its body is read to the end,
        # before this fetch has finished; past that point another fetch may be reading from
        # the socket, and this fetch's deadline must not shut it down.
        attempt = getattr(self._local, "attempt", None)
        if attempt is not None:
            attempt.release(sock)

    def _result(
        self,
        attempt: _Attempt,
        outcome: Outcome,
        *,
        body: bytes | None = None,
        text: str | None = None,
        encoding: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        error: str | None = None,
        error_kind: str | None = None,
        retry_after: float | None = None,
    ) -> FetchResult:
        return FetchResult(
            outcome=outcome,
            url=attempt.url,
            final_url=attempt.final_url,
            status=attempt.status,
            headers=attempt.headers,
            body=body,
            text=text,
            encoding=encoding,
            etag=etag,
            last_modified=last_modified,
            error=error,
            error_kind=error_kind,
            retry_after=retry_after,
            elapsed=self._monotonic() - attempt.started,
            bytes_read=attempt.bytes_read,
            redirects=tuple(attempt.redirects),
        )


@dataclass
class _Attempt:
    """What is known so far about one fetch, so that a failure can still report it."""

    url: str
    current: str
    started: float
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    response: urllib3.BaseHTTPResponse | None = None
    redirects: list[str] = field(default_factory=list)
    bytes_read: int = 0
    connect_timeout: float = 0.0
    read_timeout: float = 0.0
    read_limited_by_deadline: bool = False
    deadline: float = 0.0
    _socket: socket.socket | None = None
    _expired: bool = False
    _finished: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock

    def release(self, sock: socket.socket) -> None:
        """`sock` went back to the pool: no longer this fetch's to shut down."""
        with self._lock:
            if self._socket is sock:
                self._socket = None

    def expire(self) -> None:
        """Called by the watchdog: end whatever read is blocking this fetch."""
        with self._lock:
            if self._finished:
                return
            self._expired = True
            if self._socket is not None:
                with contextlib.suppress(OSError):  # already closed: nothing to end
                    # The plain-socket method even for TLS sockets: it ends the blocked read
                    # without touching the TLS state the reading thread is using.
                    socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def finish(self) -> bool:
        """Stop the watchdog from touching the connection (it may be reused); was it expired?"""
        with self._lock:
            self._finished = True
            return self._expired


class _Failure(Exception):
    def __init__(self, kind: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


def _close(response: urllib3.BaseHTTPResponse) -> None:
    """Close `response` and hand its connection back to the pool: closed with it, unless its
    body was read to the end (urllib3 then handed the connection back at once, open, for
    the next fetch)."""
    response.close()
    response.release_conn()


def _redirect_target(response: urllib3.BaseHTTPResponse) -> str | None:
    """Where a redirect points; None for a response that is not one. Its Location is read
    as UTF-8, as browsers (and requests) read it; the header came decoded as Latin-1."""
    location = response.headers.get("Location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    try:
        return location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        shown = urls.escape_controls(location[:200])
        raise _Failure(
            "bad_url", f"redirected to a malformed URL (its Location is not UTF-8): {shown!r}"
        ) from None


def _cookie_header(cookies: CookieJar, url: str) -> str | None:
    """The Cookie header `cookies` send with a request for `url` (None: none of them)."""
    request = Request(url)
    cookies.add_cookie_header(request)
    return request.get_header("Cookie")


class _CookieHeaders:
    """A response's headers as `http.cookiejar` reads them (``info().get_all(name)``)."""

    def __init__(self, headers: urllib3.HTTPHeaderDict) -> None:
        self._headers = headers

    def info(self) -> _CookieHeaders:
        return self

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        return self._headers.getlist(name) or default


def _tls_context() -> ssl.SSLContext:
    """The certificates HTTPS fetches trust, loaded once per fetcher: the bundle (a file or a
    directory) named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, else certifi's, as requests
    chose them."""
    import certifi
    from urllib3.util.ssl_ import create_urllib3_context

    bundle = _ca_bundle_from_environment() or certifi.where()
    context = create_urllib3_context()
    try:
        if os.path.isdir(bundle):
            context.load_verify_locations(capath=bundle)
        else:
            context.load_verify_locations(cafile=bundle)
    except (OSError, ssl.SSLError) as exc:
        raise _Failure(
            "tls", f"TLS error: cannot load the CA certificates {bundle}: {exc}"
        ) from exc
    return context


# -- pure helpers --------------------------------------------------------------------------


def _ca_bundle_from_environment() -> str | None:
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), or None; read
    by :func:`tracker.core.cadence.parse_retry_after` (bounded: no value overflows)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    delay = cadence.parse_retry_after(value, now)
    return None if delay is None else delay.total_seconds()


def _reason_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _seconds(value: float) -> str:
    return f"{value:g}"


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (urllib3 `.reason`, args, __cause__)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__]
        linked.extend(current.args)
        stack.extend(e for e in linked if isinstance(e, BaseException))


def _describe_exception(exc: BaseException, attempt: _Attempt) -> tuple[str, str]:
    """(error_kind, message) for an exception raised while fetching."""
    chain = list(_exception_chain(exc))

    def find(*types: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, types)), None)

    url = attempt.current
    host = _netloc_of(url, host_only=True)
    if (refusal := find(netguard.PrivateNetworkError)) is not None:
        return "private_network", str(refusal)
    if (bad := find(netguard.BadURLError)) is not None:
        return "bad_url", str(bad) if url == attempt.url else f"redirected to a bad URL: {bad}"
    if isinstance(exc, LocationValueError):
        return "bad_url", f"malformed URL {url!r}: {exc}"
    if (lookup := find(netguard.HostLookupError)) is not None:
        return "dns", str(lookup)
    if (gai := find(socket.gaierror)) is not None or find(NameResolutionError) is not None:
        reason = gai.args[1] if gai is not None and len(gai.args) > 1 else "no such host"
        return "dns", f"DNS lookup failed for {host}: {reason}"
    if (tls := find(ssl.SSLError) or find(TLSError)) is not None:
        detail = _ssl_detail(tls) if isinstance(tls, ssl.SSLError) else str(tls)
        return "tls", f"TLS error: {detail} ({url})"
    if find(ProxyError) is not None:
        return "proxy", f"could not fetch {url} through the proxy: {_proxy_reason(chain)}"
    connecting = find(ConnectTimeoutError)  # its subclass NewConnectionError: not a timeout
    if connecting is not None and not isinstance(connecting, NewConnectionError):
        return (
            "timeout",
            f"timed out after {_seconds(attempt.connect_timeout)} s connecting to {url}",
        )
    if find(ReadTimeoutError, TimeoutError) is not None:
        if attempt.read_limited_by_deadline:
            return "timeout", _deadline_message(attempt.deadline, attempt)
        return "timeout", f"timed out after {_seconds(attempt.read_timeout)} s reading {url}"
    if find(DecodeError) is not None:
        encoding = attempt.headers.get("content-encoding", "compressed")
        return "decode", f"could not decompress the {encoding} body of {url}"
    if find(ConnectionRefusedError) is not None:
        return "connection", f"connection refused by {_netloc_of(url)}"
    if attempt.status is not None:
        return "connection", (
            f"connection lost after {format_size(attempt.bytes_read)} reading {url}"
        )
    if find(ProtocolError, ConnectionError, HTTPError) is not None:
        root = chain[-1]
        return "connection", f"connection to {url} failed: {root}"
    return "internal", f"unexpected error fetching {url}: {type(exc).__name__}: {exc}"


def _netloc_of(url: str, *, host_only: bool = False) -> str:
    """The host (or host:port) of `url` for a message; the URL itself if it has none that
    urlsplit can read (a refused URL is described, not parsed again into an exception)."""
    try:
        parts = urlsplit(url)
        return (parts.hostname if host_only else parts.netloc) or url
    except ValueError:
        return url


def _proxy_reason(chain: list[BaseException]) -> str:
    """The innermost useful words of a proxy failure (refused, or the proxy's own answer)."""
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection to the proxy refused"
    for error in reversed(chain):
        text = str(error)
        if "Tunnel connection failed" in text:
            return (
                "the proxy refused the tunnel ("
                + text.split("Tunnel connection failed:")[-1].strip(" ')\"")
                + ")"
            )
    return str(chain[-1])


def _proxy_problem(proxy: str | None) -> str | None:
    """Why the `proxy` URL cannot be used, in words that leave its credentials out; or None.

    Checked once, up front: urllib3's own complaint about a malformed proxy URL quotes it,
    password and all, and would be reported as the story's URL being malformed."""
    if not proxy or netguard.is_valid_proxy_url(proxy):
        return None
    return (
        "proxy_url is not a valid http://[user:password@]host:port URL (characters such "
        "as @ : / # ? in the user name or password must be percent-encoded)"
    )


def _without_password(message: str, proxy: str) -> str:
    """`message` with the proxy's password (as written, and decoded) masked."""
    # Everything between the scheme and the last "@" is user:password, however malformed.
    user, _, password = proxy.split("://", 1)[-1].rpartition("@")[0].partition(":")
    if not password:
        return message
    message = message.replace(f"{user}:{password}", f"{user}:***")
    # A bare password too, unless it is so short that masking it would garble the message.
    for secret in sorted({password, unquote(password)}, key=len, reverse=True):
        if len(secret) >= 4:
            message = message.replace(secret, "***")
    return message


def _deadline_message(deadline: float, attempt: _Attempt) -> str:
    return (
        f"gave up after the {_seconds(deadline)} s deadline reading {attempt.current} "
        f"({format_size(attempt.bytes_read)} received)"
    )


def _ssl_detail(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate verify failed: {error.verify_message}"
    text = str(error.args[1] if len(error.args) > 1 else error)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)


register_fetcher("http", HttpFetcher)

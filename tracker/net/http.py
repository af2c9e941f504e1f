"""The HTTP fetcher ("http", the default): requests over urllib3, one page per call, with the
limits a broken or hostile server calls for.

`HttpFetcher.fetch()` never raises: every failure becomes a `FetchResult` with outcome ERROR, a
stable `error_kind` for the scheduler (back off, retire on 404/410, honour Retry-After) and one
readable `error` line for people (the contract all fetchers keep: see `tracker.net.fetcher`).

Limits, and why each exists:

* connect/read timeouts bound each socket operation; the overall `deadline` bounds the whole
  fetch, redirects and slow-drip bodies included (a server that sends one byte every second
  never trips a read timeout): a watchdog timer shuts the socket down when it passes. DNS
  lookups are not bounded by it (getaddrinfo has no timeout), nor are fetches through a
  caller-supplied session (only its reads between chunks are checked).
* `max_bytes` is enforced while streaming and on the decompressed size: urllib3 (>= 2.7)
  inflates at most one chunk's worth per read, so a gzip bomb stops at the cap without being
  inflated into memory.
* redirects are followed by hand so every hop is checked against the private-network guard
  (see `tracker.net.netguard`) and counted.

Each fetch has a cookie jar of its own, empty when it starts (sites that bounce through a
cookie-setting redirect work, yet no cookie follows us from one fetch to the next - metered
paywalls count visits by cookie, and a paywall appearing would look like an edit): each thread
keeps one `requests.Session`, used by one fetch at a time and emptied of cookies before each,
over one shared, thread-safe connection pool. So concurrent `fetch()` calls are safe.
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
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.cookies import extract_cookies_to_jar
from requests.hooks import default_hooks
from requests.utils import requote_uri
from urllib3.exceptions import (
    DecodeError,
    NameResolutionError,
    ProtocolError,
    ReadTimeoutError,
)

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


class HttpFetcher:
    """Fetches over HTTP(S); a `PageFetcher`; thread-safe; its methods never raise."""

    def __init__(
        self,
        options: FetchOptions | None = None,
        session: requests.Session | None = None,
        *,
        address_allowed: netguard.AddressPolicy | None = None,
        resolver: netguard.Resolver = netguard.resolve,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`session`: use this session for every fetch instead of a private one per fetch (its
        adapters and cookies are then the caller's business; the per-hop guard still applies).
        `address_allowed`: which resolved addresses may be contacted; defaults to public ones
        only, or all if `options.allow_private_networks`. `now` dates Retry-After."""
        self.options = options or FetchOptions()
        self._allowed = address_allowed or netguard.address_policy(
            self.options.allow_private_networks
        )
        self._resolver = resolver
        self._now = now
        self._monotonic = monotonic
        self._shared_session = session
        self._proxy_problem = _proxy_problem(self.options.proxy)
        pool = {
            "pool_connections": POOL_CONNECTIONS,
            "pool_maxsize": POOL_MAXSIZE,
            "max_retries": 0,
        }
        self._local = threading.local()
        self._adapter = netguard.GuardedHTTPAdapter(
            self._allowed, on_socket=self._note_socket, on_release=self._release_socket, **pool
        )
        self._headers = {
            "User-Agent": self.options.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            # Only codecs whose urllib3 decoders are known to honour the streaming size limit.
            "Accept-Encoding": "gzip, deflate",
        }
        # A new session's headers (Connection: keep-alive, ...) with ours over them, in the
        # order requests merges them on every request (see `_send`).
        self._request_headers = requests.utils.default_headers()
        self._request_headers.update(self._headers)

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
        self._adapter.close()

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
                attempt.response.close()
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
        if self._proxy_problem and self._shared_session is None:
            raise _Failure(
                "proxy", f"could not fetch {attempt.url} through the proxy: {self._proxy_problem}"
            )
        session = self._shared_session or self._thread_session()
        response = self._follow_redirects(session, attempt, headers)
        status = response.status_code

        if status == 304:
            # A 304 has no body; reading the empty rest hands the connection back to the
            # pool for the next fetch (closing the response would close the socket).
            response.raw.read()
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
        self, session: requests.Session, attempt: _Attempt, headers: dict[str, str]
    ) -> requests.Response:
        seen: set[tuple[str, str | None]] = set()
        chain: list[str] = []
        while True:
            # Vetted as requests/urllib3 will read it (the same host the proxy is asked for).
            vetted = netguard.vet(attempt.current)
            current = vetted.url
            attempt.final_url, attempt.status, attempt.headers = current, None, {}
            netguard.check_host(vetted.host, vetted.port, self._allowed, resolver=self._resolver)
            timeout = self._timeouts(attempt)
            if session is self._shared_session:
                response = session.get(
                    current, headers=headers, stream=True, allow_redirects=False, timeout=timeout
                )
            else:
                response = self._send(session, current, headers, timeout)
            attempt.response = response
            attempt.status = response.status_code
            attempt.headers = {name.lower(): value for name, value in response.headers.items()}
            chain.append(current)
            location = session.get_redirect_target(response)
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response
            attempt.use(None)  # the connection goes back to the pool, for anyone to use
            response.close()
            attempt.response = None
            # A URL requested twice with the same cookies will redirect the same way again.
            # (Keying on cookies too lets a cookie-setting bounce A -> B -> A through.)
            state = (current, response.request.headers.get("Cookie"))
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
        self,
        session: requests.Session,
        url: str,
        headers: dict[str, str],
        timeout: tuple[float, float],
    ) -> requests.Response:
        """GET `url` through one of our own sessions, as `session.get` would, without its
        per-request merging of settings: ours are fixed (the session's default headers under
        ours, no environment, no auth hooks), so they are merged once, in `__init__`. That
        merging was a fifth of the CPU of a 304. The session's cookies go with the request
        and the response's come back into them, as with `session.get`.

        Sent through the session's adapter, not `session.send`: with redirects not followed,
        that still works out the next request of a redirect, and to do so reads the
        redirect's whole body, with no size limit (decompressed, into memory) and until the
        deadline for a body that never ends. A redirect's body is never read here: the
        response is closed, its connection with it."""
        merged = self._request_headers.copy()
        merged.update(headers)
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method="GET",
            url=url,
            headers=merged,
            cookies=session.cookies,
            hooks=default_hooks(),
        )
        assert prepared.url is not None  # prepare() set it, or raised
        adapter = session.get_adapter(prepared.url)  # InvalidSchema for what it cannot fetch
        # Our sessions always name a CA bundle or True (see _new_session): never None.
        verify = True if session.verify is None else session.verify
        response = adapter.send(
            prepared, stream=True, timeout=timeout, verify=verify, proxies=session.proxies
        )
        # What session.send does besides, and a fetch needs: the cookies the response sets
        # go with the fetch's next request (a cookie-setting redirect bounce).
        extract_cookies_to_jar(session.cookies, prepared, response.raw)
        return response

    def _read_body(
        self, response: requests.Response, attempt: _Attempt, max_bytes: int, truncate: bool
    ) -> bytes:
        chunks: list[bytes] = []
        deadline_at = attempt.started + self.options.deadline
        for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
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

    def _thread_session(self) -> requests.Session:
        """This thread's session, without cookies: a fetch starts with none. (Made once per
        thread: building a session for every fetch cost a twentieth of a 304's CPU.)"""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._new_session()
        session.cookies.clear()
        return session

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # Proxy and netrc settings from the environment are not consulted: a proxy would
        # bypass the per-connection address check, and scanning os.environ on every request
        # costs more than the rest of a 304 fetch. A CA bundle named there still counts.
        session.trust_env = False
        session.verify = _ca_bundle_from_environment() or True
        session.adapters.clear()
        session.mount("https://", self._adapter)
        session.mount("http://", self._adapter)
        if self.options.proxy:
            session.proxies = {"http": self.options.proxy, "https": self.options.proxy}
        return session

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
    response: requests.Response | None = None
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
    """The exception and everything it wraps (urllib3 `.reason`, requests' args, __cause__)."""
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
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return "bad_url", f"malformed URL {url!r}: {exc}"
    if (lookup := find(netguard.HostLookupError)) is not None:
        return "dns", str(lookup)
    if (gai := find(socket.gaierror)) is not None or find(NameResolutionError) is not None:
        reason = gai.args[1] if gai is not None and len(gai.args) > 1 else "no such host"
        return "dns", f"DNS lookup failed for {host}: {reason}"
    if (tls := find(ssl.SSLError)) is not None or isinstance(exc, requests.exceptions.SSLError):
        detail = _ssl_detail(tls) if isinstance(tls, ssl.SSLError) else str(exc)
        return "tls", f"TLS error: {detail} ({url})"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy", f"could not fetch {url} through the proxy: {_proxy_reason(chain)}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return (
            "timeout",
            f"timed out after {_seconds(attempt.connect_timeout)} s connecting to {url}",
        )
    if find(ReadTimeoutError, TimeoutError, requests.exceptions.ReadTimeout) is not None:
        if attempt.read_limited_by_deadline:
            return "timeout", _deadline_message(attempt.deadline, attempt)
        return "timeout", f"timed out after {_seconds(attempt.read_timeout)} s reading {url}"
    if find(requests.exceptions.ContentDecodingError, DecodeError) is not None:
        encoding = attempt.headers.get("content-encoding", "compressed")
        return "decode", f"could not decompress the {encoding} body of {url}"
    if find(ConnectionRefusedError) is not None:
        return "connection", f"connection refused by {_netloc_of(url)}"
    if attempt.status is not None:
        return "connection", (
            f"connection lost after {format_size(attempt.bytes_read)} reading {url}"
        )
    if find(ProtocolError, ConnectionError, requests.exceptions.RequestException) is not None:
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

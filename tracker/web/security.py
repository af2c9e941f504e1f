"""Who may use the web UI, and the headers that keep hostile page content inert.

The pages we store are hostile input, so every response carries a strict
Content-Security-Policy (no inline script ever runs; the one script the UI has, the diff
page's keys, is a same-origin file), ``nosniff`` and a frame ban.

Authentication: when ``settings.web_token`` is set, every page and API call needs it.
The API takes ``Authorization: Bearer <token>``; a browser logs in once with a form and
gets a signed session cookie; feed readers (which can do neither) use a per-installation
feed key derived from the token, valid for feeds only. Binding to anything but loopback
without a token is refused outright.

Forms are protected from cross-site requests with a signed double-submit token: a random
cookie (SameSite=Strict) plus a hidden field holding its HMAC, which another origin can
neither read nor forge; and their Origin (or, without one, Referer) must be this site's.

DNS rebinding: a hostile page whose name is re-pointed at 127.0.0.1 is "same origin" with
the UI as far as the browser is concerned. Its requests still carry its own name in `Host`,
so :class:`HostPolicy` answers only to the names the UI is configured under (`web_host`,
`base_url`) and loopback literals. JSON API writes need `Content-Type: application/json`
(which no cross-site form or simple request can send) or the bearer token.

Login: :class:`LoginLimiter` answers 429 (with Retry-After) to a client after
`LOGIN_MAX_FAILURES` wrong tokens within `LOGIN_WINDOW` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

from tracker.config import Settings

SESSION_COOKIE: Final = "tracker_session"
CSRF_COOKIE: Final = "tracker_csrf"
CSRF_FIELD: Final = "csrf_token"
SESSION_MAX_AGE: Final = 30 * 24 * 3600

# Scripts: same-origin files only (the diff page's j/k keys), never inline code, eval or
# another origin. Every response is `nosniff`, so no raw capture (text/plain) or JSON answer
# of ours can be loaded as a script either.
PAGE_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# For raw captures: even if a browser rendered one, it would get an opaque origin, no
# scripts, no subresources.
RAW_CSP: Final = "sandbox; default-src 'none'"

SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
# The Host names a loopback-bound UI answers to whatever the settings say: literals that no
# hostile page can have a browser send as its own name.
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})
WILDCARD_BINDINGS: Final = frozenset({"", "0.0.0.0", "::", "[::]"})

LOGIN_MAX_FAILURES: Final = 5
LOGIN_WINDOW: Final = 300.0  # seconds
# Clients remembered at most (the oldest forgotten first): a flood of addresses cannot
# exhaust memory.
LOGIN_MAX_CLIENTS: Final = 10_000


class WebConfigError(ValueError):
    """The web settings are unsafe or inconsistent; the message says what to change."""


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Guard:
    """The secrets of one app: checks tokens, session cookies, feed keys and CSRF tokens."""

    token: str | None
    key: bytes  # signs cookies; derived from the token so several web processes agree

    @classmethod
    def from_settings(cls, settings: Settings) -> Guard:
        token = settings.web_token or None
        if token is None and not is_loopback(settings.web_host):
            raise WebConfigError(
                f"web_host {settings.web_host!r} is not a loopback address: set web_token "
                "(TRACKER_WEB_TOKEN) so that the web UI and API require authentication"
            )
        if token is not None:
            key = hashlib.sha256(b"tracker-web-key\0" + token.encode()).digest()
        else:
            key = secrets.token_bytes(32)
        return cls(token=token, key=key)

    @property
    def required(self) -> bool:
        return self.token is not None

    # -- credentials ---------------------------------------------------------------------

    def token_ok(self, candidate: str | None) -> bool:
        if self.token is None:
            return True
        return candidate is not None and hmac.compare_digest(
            candidate.encode("utf-8", "replace"), self.token.encode()
        )

    def bearer_ok(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.token_ok(value.strip())

    def new_session(self, now: float | None = None) -> str:
        issued = str(int(now if now is not None else time.time()))
        return f"{issued}.{_sign(self.key, 'session.' + issued)}"

    def session_ok(self, cookie: str | None, now: float | None = None) -> bool:
        if not cookie or "." not in cookie:
            return False
        issued, _, signature = cookie.partition(".")
        if not issued.isdigit():
            return False
        expected = _sign(self.key, "session." + issued)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return False
        age = (now if now is not None else time.time()) - int(issued)
        return 0 <= age <= SESSION_MAX_AGE

    def has_session(self, request: Request) -> bool:
        return self.session_ok(request.cookies.get(SESSION_COOKIE))

    @property
    def feed_key(self) -> str | None:
        """A read-only credential for feed URLs (a leaked feed URL exposes feeds only)."""
        return _sign(self.key, "feeds")[:32] if self.required else None

    def feed_key_ok(self, candidate: str | None) -> bool:
        key = self.feed_key
        return key is None or (
            candidate is not None and hmac.compare_digest(candidate.encode(), key.encode())
        )

    # -- CSRF ----------------------------------------------------------------------------

    def csrf_token(self, cookie_value: str) -> str:
        return _sign(self.key, "csrf." + cookie_value)

    def csrf_ok(self, cookie_value: str | None, field_value: str | None) -> bool:
        if not cookie_value or not field_value:
            return False
        return hmac.compare_digest(field_value.encode(), self.csrf_token(cookie_value).encode())


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


def safe_next(target: str | None) -> str:
    """A redirect target after login: a local path only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def require_csrf(request: Request) -> None:
    """Dependency of every form POST: the hidden field must match the CSRF cookie."""
    guard: Guard = request.app.state.guard
    hosts: HostPolicy = request.app.state.hosts
    origin = request.headers.get("origin")
    if origin is None and (referer := request.headers.get("referer")):
        origin = origin_of(referer) or "null"
    # "null" (a sandboxed frame, a data: page, a cross-site redirect) is not this site either.
    if origin is not None and not hosts.origin_ok(origin, request):
        raise HTTPException(403, "cross-origin form submission refused")
    form = await request.form()
    field = form.get(CSRF_FIELD)
    if not guard.csrf_ok(
        request.cookies.get(CSRF_COOKIE), field if isinstance(field, str) else None
    ):
        raise HTTPException(
            403, "the form has expired or did not come from this site; reload the page and retry"
        )


# -- Host and Origin ------------------------------------------------------------------------


def split_host_header(value: str) -> tuple[str, int | None] | None:
    """(host, port) of a Host header, host lower-case without brackets or a trailing dot;
    None when the header is malformed."""
    value = value.strip()
    if not value or any(c.isspace() or c in "/\\@?#" for c in value):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
    else:
        host, colon, port_text = value.rpartition(":")
        if not colon:
            host, rest = value, ""
        else:
            rest = ":" + port_text
    if rest and (not rest.startswith(":") or not rest[1:].isdigit()):
        return None
    port = int(rest[1:]) if rest else None
    return host.lower().rstrip("."), port


@dataclass(frozen=True)
class HostPolicy:
    """Which `Host` headers the UI answers to, and which origins its forms accept."""

    names: frozenset[str]  # host names (any port)
    any_host: bool  # bound to all interfaces with a token and no base_url: no name to check
    base_origin: str | None  # scheme://host[:port] of base_url

    @classmethod
    def from_settings(cls, settings: Settings) -> HostPolicy:
        names = set(LOOPBACK_HOSTS)
        bind = settings.web_host.strip().lower()
        if bind not in WILDCARD_BINDINGS:
            names.add(bind.strip("[]").rstrip("."))
        base_origin = None
        if settings.base_url:
            parts = urlsplit(settings.base_url.strip())
            if parts.hostname:
                names.add(parts.hostname.lower().rstrip("."))
                base_origin = f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2]}"
        any_host = bind in WILDCARD_BINDINGS and not settings.base_url and bool(settings.web_token)
        return cls(frozenset(names), any_host, base_origin.lower() if base_origin else None)

    def host_ok(self, header: str | None) -> bool:
        if header is None:
            return self.any_host
        parsed = split_host_header(header)
        if parsed is None:
            return False
        return self.any_host or parsed[0] in self.names

    def origin_ok(self, origin: str, request: Request) -> bool:
        """Is `origin` (scheme://host[:port]) this site: the request's own (vetted) Host, or
        base_url's origin (behind a TLS-terminating reverse proxy the two differ)?"""
        origin = origin.strip().rstrip("/").lower()
        own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
        return origin in (own, self.base_origin)


def origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


# -- login attempts -------------------------------------------------------------------------


@dataclass
class LoginLimiter:
    """Failed logins per client: after `max_failures` within `window` seconds, the client
    waits until the oldest of them leaves the window. In memory, per process."""

    max_failures: int = LOGIN_MAX_FAILURES
    window: float = LOGIN_WINDOW
    max_clients: int = LOGIN_MAX_CLIENTS
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, client: str, now: float | None = None) -> int:
        """Seconds the client must wait before trying again; 0 if it may try now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.max_failures:
                return 0
            return max(1, int(times[0] + self.window - now + 0.999))

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(client, now)
            times.append(now)
            self._failures[client] = times
            while len(self._failures) > self.max_clients:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.pop(client, None) or deque(maxlen=self.max_failures)
        while times and times[0] <= now - self.window:
            times.popleft()
        if times:
            self._failures[client] = times  # re-inserted: most recently seen last
        return times

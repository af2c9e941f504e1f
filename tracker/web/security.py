"""Who may use the web UI, and the headers that keep hostile page content inert.

The pages we store are hostile input, so every response carries a strict
Content-Security-Policy (no scripts at all: the UI needs none), ``nosniff`` and a frame ban.

Authentication: when ``settings.web_token`` is set, every page and API call needs it.
The API takes ``Authorization: Bearer <token>``; a browser logs in once with a form and
gets a signed session cookie; feed readers (which can do neither) use a per-installation
feed key derived from the token, valid for feeds only. Binding to anything but loopback
without a token is refused outright.

Forms are protected from cross-site requests with a signed double-submit token: a random
cookie (SameSite=Strict) plus a hidden field holding its HMAC, which another origin can
neither read nor forge.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass
from typing import Final

from fastapi import HTTPException, Request

from tracker.config import Settings

SESSION_COOKIE: Final = "tracker_session"
CSRF_COOKIE: Final = "tracker_csrf"
CSRF_FIELD: Final = "csrf_token"
SESSION_MAX_AGE: Final = 30 * 24 * 3600

PAGE_CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
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
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin.rstrip("/") != expected:
            raise HTTPException(403, "cross-origin form submission refused")
    form = await request.form()
    field = form.get(CSRF_FIELD)
    if not guard.csrf_ok(
        request.cookies.get(CSRF_COOKIE), field if isinstance(field, str) else None
    ):
        raise HTTPException(
            403, "the form has expired or did not come from this site; reload the page and retry"
        )

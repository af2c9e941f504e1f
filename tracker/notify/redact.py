"""Keeping a channel's secrets out of what a delivery records and shows.

A channel's target often *is* its credential: a Slack or Discord webhook URL carries its
token in the path, others in the query (``?token=…``, ``?key=…&sig=…``) or the userinfo
(``user:pass@host``), an Apprise URL in every part (``tgram://bottoken/chatid``). Lists
show the target masked (:meth:`tracker.notify.kinds.ChannelKind.mask`), but a failure's
text quotes whatever the library saw: requests names the URL in its exceptions, a receiver
may echo it in a 500 page, a redirect names where it points. So every error and reply a
delivery keeps passes through a :class:`Redactor` built from the channel's own secrets
(the parts its mask hides, its signing secret, the SMTP password and proxy credentials it
sends with), which

1. masks every absolute URL in the text as :func:`mask_url` masks a webhook target (and
   any other scheme's URL, Apprise's included, to ``scheme://***``),
2. masks every query value (``?token=…``, ``&sig=…``) wherever a path is quoted, and
3. replaces each remaining occurrence of a secret (raw, percent-encoded or decoded).

Pure: no I/O; the kinds module decides which strings are a channel's secrets.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

MASK: Final = "***"
# Shorter strings are not replaced wherever they occur (a query value "1" is not a secret
# and would garble "HTTP 500"); they are still masked where they appear in a URL.
MIN_SECRET: Final = 4

_URL: Final = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]{0,31})://[^\s'\"<>`]+")
_QUERY_VALUE: Final = re.compile(r"([?&;][A-Za-z0-9_.\-~%\[\]]{1,100}=)([^&;#\s'\"<>`),]+)")
_PIECES: Final = re.compile(r"[/:@?&=#,;+\s]+")


def mask_url(url: str) -> str:
    """The URL with its scheme, host and the words of its path, but no user name or
    password, no query value and no path segment that may be a token."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    if parts.username or parts.password:
        netloc = f"{MASK}@{netloc}"
    query = urlencode([(name, MASK) for name, _ in parse_qsl(parts.query, keep_blank_values=True)])
    path = "/".join(
        MASK if looks_like_token(segment) else segment for segment in parts.path.split("/")
    )
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def looks_like_token(segment: str) -> bool:
    """A path segment that may be a credential: Slack, Discord and Teams webhook URLs carry
    their secret (and ids) in the path (``/services/T0AB12CD3/B0EF45GH6/Xk3v…``), while
    words like ``hooks`` or ``IncomingWebhook`` are not secrets."""
    return len(segment) >= 16 or (len(segment) >= 6 and any(c.isdigit() for c in segment))


def url_secrets(url: str) -> list[str]:
    """What :func:`mask_url` hides of ``url``: user name and password, token-like path
    segments, query values, the fragment; and the URL itself, its path and query."""
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:  # not readable as a URL: every piece of it is secret
        return pieces(url)
    found = [url, parts.netloc if (username or password) else ""]
    found += [username or "", password or "", parts.fragment]
    if username or password:  # as the Authorization header a receiver may echo carries it
        userinfo = f"{unquote(username or '')}:{unquote(password or '')}"
        found.append(base64.b64encode(userinfo.encode()).decode())
    found += [segment for segment in parts.path.split("/") if looks_like_token(segment)]
    if parts.query:
        found += [parts.query, f"{parts.path}?{parts.query}"]
        found += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
        found += [value for _, _, value in (p.partition("=") for p in parts.query.split("&"))]
    return [item for item in found if item]


def pieces(text: str) -> list[str]:
    """``text`` and every piece of it between URL punctuation: for a target whose mask
    shows nothing (or only the scheme), all of it is secret."""
    _, separator, rest = text.partition("://")
    found = [text, rest] if separator else [text]
    found += _PIECES.split(rest if separator else text)
    return [item for item in found if item]


@dataclass(frozen=True)
class Redactor:
    """Masks a channel's secrets (see the module's docstring) in any text."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, secrets: Iterable[str | None]) -> Redactor:
        variants: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            for variant in (secret, unquote(secret), quote(secret, safe=""), quote(secret)):
                variants.update((variant, quote_plus(variant)) if " " in variant else (variant,))
        kept = (v for v in variants if len(v) >= MIN_SECRET and v != MASK)
        return cls(tuple(sorted(kept, key=lambda v: (-len(v), v))))

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = _URL.sub(_mask_found_url, text)
        text = _QUERY_VALUE.sub(lambda match: match.group(1) + MASK, text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


def _mask_found_url(match: re.Match[str]) -> str:
    url = match.group()
    if match.group(1).lower() in ("http", "https"):
        # Trailing punctuation of the sentence around the URL is not part of it.
        stripped = url.rstrip(".,;:!)]}")
        return mask_url(stripped) + url[len(stripped) :]
    return f"{match.group(1)}://{MASK}"

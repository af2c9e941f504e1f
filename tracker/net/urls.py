"""URL vetting: one reading of a URL for the guard and for the HTTP client.

The private-network guard decides on a URL's host; the HTTP client (requests over urllib3)
then connects to - or, through a proxy, asks for - the host *it* reads in the same string.
Python's `urllib.parse.urlsplit` and urllib3's `parse_url` disagree on some strings:
`http://127.0.0.1:80\\@example.com/` is `example.com` to the first (the backslash is part
of the user name) and `127.0.0.1:80` to the second (the backslash ends the authority), and
`urlsplit` silently drops tabs and newlines that urllib3 percent-encodes. A guard that reads
one way and a client that reads the other is an SSRF (finding 1 of issue 13).

So every URL the tracker will fetch or post to goes through :func:`vet_url`, which refuses
instead of guessing:

* C0 control characters, DEL and C1 controls anywhere (they are never part of a real URL;
  a NUL breaks PostgreSQL text columns, an ESC rewrites a terminal);
* whitespace, backslashes or anything outside RFC 3986's authority characters in the
  authority (user info, host, port);
* user info in the URLs of pages, feeds and sitemaps (a news page has no use for it), and in
  other URLs (webhooks) anything but one plain ``user[:password]@``;
* hosts that are not a plain name, a dotted-quad IPv4 address or a bracketed IPv6 address
  (no zone ids, no `0x7f.1`, `2130706433` or `127.1` spellings that resolvers and proxies
  read differently);
* and finally any URL that `urlsplit`, urllib3's `parse_url` and requests' own preparation
  do not all read as the same scheme, host and port.

The URL comes back unchanged apart from surrounding whitespace: identity (case, tracking
parameters) is `tracker.core.discover.canonicalise_url`'s business, not safety's.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from requests.exceptions import RequestException
from requests.models import PreparedRequest
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

DEFAULT_PORTS = {"http": 80, "https": 443}

# C0 controls, DEL and C1 controls: never in a URL, never printed raw.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# RFC 3986 reg-name / userinfo characters (unreserved, sub-delims, pct-encoded) plus the
# delimiters an authority may hold (":" "@" "[" "]"); anything else is refused there.
_AUTHORITY_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=%:@\[\]]*")
_USERINFO_PART = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_PORT = re.compile(r"[0-9]{1,5}")
_HEX_OR_DIGITS = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)")
# Surrounding whitespace as feeds and forms deliver it (a <link> on its own line).
_EDGE_WHITESPACE = " \t\r\n\f\v"


class BadURLError(ValueError):
    """The URL cannot be fetched at all: wrong scheme, no host, malformed host or port, or a
    spelling that parsers read differently."""


@dataclass(frozen=True)
class VettedURL:
    """A URL as both the guard and the HTTP client read it."""

    url: str  # as given, surrounding whitespace removed
    scheme: str  # lower-case
    host: str  # lower-case, IDNA-encoded, IPv6 without brackets
    port: int  # explicit or the scheme's default


def escape_controls(text: str) -> str:
    """`text` with control characters shown as escapes (``\\x00``, ``\\x1b``): safe to put in
    an error message, a log line or a terminal."""
    return CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def has_controls(text: str) -> bool:
    return CONTROL_CHARS.search(text) is not None


def vet_url(url: str, *, allow_userinfo: bool = False) -> VettedURL:
    """Read `url` the way the HTTP client will, or raise BadURLError; see the module doc."""
    url = url.strip(_EDGE_WHITESPACE)
    shown = _shown(url)
    if has_controls(url):
        raise BadURLError(f"malformed URL {shown}: control characters are not allowed in a URL")
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
    scheme = match.group(1).lower() if match else ""
    if scheme not in DEFAULT_PORTS:
        what = f"'{scheme}'" if scheme else "no scheme"
        raise BadURLError(f"unsupported URL {shown}: {what}; only http and https can be tracked")
    rest = url[len(scheme) + 1 :]
    if not rest.startswith("//"):
        raise BadURLError(f"malformed URL {shown}: no host name (expected {scheme}://host/…)")
    # The authority as the most generous reader sees it: up to the first "/", "?" or "#"
    # (a backslash ends it for urllib3 and browsers, not for urlsplit: refuse it outright).
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    bad = _first_bad_authority_char(authority)
    if bad is not None:
        raise BadURLError(
            f"malformed URL {shown}: not a valid host name ({bad} before the path, "
            "which URL parsers read differently)"
        )
    userinfo, at, hostport = authority.rpartition("@")
    if at:
        _check_userinfo(userinfo, shown, allow_userinfo)
    host, port = _split_host_port(hostport, shown)
    host = _check_host(host, shown)
    port_number = DEFAULT_PORTS[scheme] if port is None else port
    vetted = VettedURL(url=url, scheme=scheme, host=host, port=port_number)
    _check_parsers_agree(vetted, shown)
    return vetted


def _shown(url: str) -> str:
    text = url if len(url) <= 200 else url[:200] + "…"
    return repr(escape_controls(text)).replace("\\\\x", "\\x")


def _first_bad_authority_char(authority: str) -> str | None:
    if _AUTHORITY_CHARS.fullmatch(authority):
        return None
    for char in authority:
        if not char.isascii() and unicodedata.category(char)[0] in "LMN":
            continue  # an internationalised host name (IDNA-encoded before use)
        if not _AUTHORITY_CHARS.fullmatch(char):
            if char == "\\":
                return "a backslash"
            if char.isspace():
                return "whitespace"
            name = unicodedata.name(char, "")
            return f"the character {char!r}" + (f" ({name})" if name else "")
    return None  # pragma: no cover - fullmatch failed, so some character is bad


def _check_userinfo(userinfo: str, shown: str, allow_userinfo: bool) -> None:
    if not allow_userinfo:
        raise BadURLError(
            f"malformed URL {shown}: user names and passwords ('user@host') are not allowed "
            "in the URL of a page, feed or sitemap"
        )
    user, colon, password = userinfo.partition(":")
    if (
        "@" in userinfo
        or not _USERINFO_PART.fullmatch(user)
        or (colon and not _USERINFO_PART.fullmatch(password))
        # Decoded, neither part may hold what a proxy that decodes before parsing would
        # read as a delimiter (a password may hold ":" and "@": they come after the user).
        or _holds_delimiters(unquote(user), ":@")
        or _holds_delimiters(unquote(password), "")
    ):
        raise BadURLError(
            f"malformed URL {shown}: the user name or password is not a plain "
            "user[:password] (percent-encode ':', '@' and other delimiters in it)"
        )


def _holds_delimiters(decoded: str, extra: str) -> bool:
    return has_controls(decoded) or any(
        c.isspace() or c in "\\/?#[]" or c in extra for c in decoded
    )


def _split_host_port(hostport: str, shown: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise BadURLError(f"malformed URL {shown}: unterminated IPv6 address")
        host, after = hostport[: end + 1], hostport[end + 1 :]
        if after and not after.startswith(":"):
            raise BadURLError(f"malformed URL {shown}: text after the IPv6 address")
        port_text = after[1:] if after else None
    else:
        if "]" in hostport or "[" in hostport:
            raise BadURLError(f"malformed URL {shown}: brackets around a host that is not IPv6")
        host, colon, port_text_raw = hostport.partition(":")
        port_text = port_text_raw if colon else None
    if port_text is None or port_text == "":
        return host, None
    if not _PORT.fullmatch(port_text) or not 0 < int(port_text) < 65536:
        raise BadURLError(f"malformed URL {shown}: invalid port {port_text!r}")
    return host, int(port_text)


def _check_host(host: str, shown: str) -> str:
    """The host, lower-case and without brackets, if it is unambiguous."""
    if not host:
        raise BadURLError(f"malformed URL {shown}: no host name")
    if host.startswith("["):
        inner = host[1:-1]
        if "%" in inner:
            raise BadURLError(f"malformed URL {shown}: IPv6 zone ids are not allowed")
        try:
            return str(ipaddress.IPv6Address(inner))
        except ValueError:
            raise BadURLError(f"malformed URL {shown}: {inner!r} is not an IPv6 address") from None
    if "%" in host:
        raise BadURLError(f"malformed URL {shown}: percent-encoded host names are not allowed")
    name = _ascii_host(host, shown).rstrip(".")
    labels = name.split(".")
    if _HEX_OR_DIGITS.fullmatch(labels[-1]):
        # A numeric last label makes the whole host an IPv4 address to browsers, resolvers
        # and proxies alike - in as many spellings as they have parsers. One spelling only.
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise BadURLError(
                f"malformed URL {shown}: {host!r} is not a dotted-quad IPv4 address"
            ) from None
    if not _is_valid_hostname(name):
        raise BadURLError(f"malformed URL {shown}: {host!r} is not a valid host name")
    return name


def _ascii_host(host: str, shown: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BadURLError(f"malformed URL {shown}: {host!r} is not a valid host name") from None


def _is_valid_hostname(host: str) -> bool:
    if not host or len(host) > 253:
        return False
    for label in host.split("."):
        if not 1 <= len(label) <= 63:
            return False
        # Underscores are not legal in host names but do occur in the wild (e.g. CDN
        # subdomains), and resolvers accept them, so they are tolerated.
        if not all(c.isascii() and (c.isalnum() or c in "-_") for c in label):
            return False
    return True


def _check_parsers_agree(vetted: VettedURL, shown: str) -> None:
    """urlsplit, urllib3 and requests must read the same scheme, host and port."""
    readings: list[tuple[str, str, int]] = []
    try:
        parts = urlsplit(vetted.url)
        readings.append(_reading(parts.scheme, parts.hostname, parts.port))
        parsed = parse_url(vetted.url)
        readings.append(_reading(parsed.scheme, parsed.host, parsed.port))
        prepared = PreparedRequest()
        prepared.prepare_url(vetted.url, None)
        again = urlsplit(prepared.url or "")
        readings.append(_reading(again.scheme, again.hostname, again.port))
    except (ValueError, LocationParseError, RequestException) as exc:
        raise BadURLError(f"malformed URL {shown}: {exc}") from None
    expected = (vetted.scheme, vetted.host, vetted.port)
    if any(reading != expected for reading in readings):
        raise BadURLError(f"malformed URL {shown}: URL parsers disagree on its host")


def _reading(scheme: str | None, host: str | None, port: int | None) -> tuple[str, str, int]:
    scheme = (scheme or "").lower()
    name = _host_as_compared(host or "")
    return scheme, name, port if port is not None else DEFAULT_PORTS.get(scheme, 0)


@functools.lru_cache(maxsize=4096)
def _host_as_compared(host: str) -> str:
    # Cached: every fetch reads its host three times (urlsplit, urllib3, requests), almost
    # always the same string, and the address and IDNA parsing was a tenth of a 304's CPU.
    name = host.lower().strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        with contextlib.suppress(UnicodeError):
            name = name.encode("idna").decode("ascii").lower()
    return name

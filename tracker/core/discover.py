"""Discovery, the pure part: feed and sitemap bytes → entries; URL canonicalisation; filters.

No network, database or clock here: :mod:`tracker.services.feeds` fetches and stores.

- RSS and Atom go through feedparser, which copes with the broken feeds found in the wild.
- XML sitemaps (``<urlset>``) and sitemap indexes (``<sitemapindex>``) are parsed with lxml,
  entities and network access off; Google News sitemaps add ``<news:publication_date>``
  and ``<news:title>`` to each ``<url>``.
- One article must be one story, so URLs are canonicalised before they are compared or
  stored: scheme and host lower-cased, default port and fragment dropped, and the
  tracking parameters newsletters and social sites add (``utm_*``, ``fbclid``, …) removed.
- A site speaks only for itself: a page's ``<link rel=canonical>`` and a feed's entries
  count only within the site they came from (:func:`same_site`, by registrable domain).
"""

from __future__ import annotations

import calendar
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.etree

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

# Query parameters that identify a campaign, click or share, never the article. Names are
# compared case-insensitively; an entry ending in "*" is a prefix.
DEFAULT_TRACKING_PARAMETERS: tuple[str, ...] = (
    "utm_*",
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wt_mc",
    "wt.mc_id",
    "cmpid",
    "at_medium",
    "at_campaign",
    "ocid",
    "ns_source",
    "ns_mchannel",
    "ns_campaign",
    "ns_linkname",
    "ns_fee",
    "s_cid",
    "sr_share",
    "smid",
    "share",
    "ref_src",
    "ref_url",
    "spm",
    "guccounter",
    "guce_referrer",
    "guce_referrer_sig",
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass(frozen=True)
class Entry:
    """One article a feed or sitemap lists."""

    url: str
    title: str | None = None
    published: datetime | None = None  # when the feed says it was published (UTC)


@dataclass(frozen=True)
class ParsedFeed:
    kind: str  # rss | atom | sitemap | news-sitemap | sitemap-index | unknown
    title: str | None
    entries: tuple[Entry, ...]
    # A sitemap index lists further sitemaps rather than articles.
    sitemaps: tuple[str, ...] = ()
    problem: str | None = None  # why nothing could be read, when nothing could

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class EntryFilter:
    """Include/exclude regular expressions, matched (``re.search``) against an entry's URL."""

    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None

    def accepts(self, url: str) -> bool:
        if self.include is not None and not self.include.search(url):
            return False
        return not (self.exclude is not None and self.exclude.search(url))


@dataclass(frozen=True)
class TrackingParameters:
    """Which query parameters to strip: exact names and prefixes, lower-cased."""

    names: frozenset[str] = field(default_factory=frozenset)
    prefixes: tuple[str, ...] = ()

    @classmethod
    def of(cls, patterns: Iterable[str]) -> TrackingParameters:
        names: set[str] = set()
        prefixes: list[str] = []
        for pattern in patterns:
            pattern = pattern.strip().lower()
            if not pattern:
                continue
            if pattern.endswith("*"):
                prefixes.append(pattern[:-1])
            else:
                names.add(pattern)
        return cls(frozenset(names), tuple(prefixes))

    def matches(self, name: str) -> bool:
        name = name.lower()
        return name in self.names or name.startswith(self.prefixes)


_DEFAULT_TRACKING = TrackingParameters.of(DEFAULT_TRACKING_PARAMETERS)


def tracking_parameters(extra: Iterable[str] = ()) -> TrackingParameters:
    """The default tracking parameters plus ``extra`` names (``"name"`` or ``"prefix*"``)."""
    extra = tuple(extra)
    if not extra:
        return _DEFAULT_TRACKING
    return TrackingParameters.of((*DEFAULT_TRACKING_PARAMETERS, *extra))


def canonicalise_url(url: str, tracking: TrackingParameters | None = None) -> str:
    """The URL that identifies an article: one spelling for every way it gets linked.

    Lower-cases scheme and host, drops the default port, the fragment and tracking
    parameters (keeping the order of the others), and gives an empty path "/". The path
    and the remaining query are left exactly as they are: servers may treat their case
    and order as meaningful. Does not validate: see :func:`tracker.net.netguard.validate_url`.
    """
    tracking = tracking or _DEFAULT_TRACKING
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += f":{parts.password}"
        netloc = f"{userinfo}@{netloc}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(name, value) for name, value in pairs if not tracking.matches(name)]
        if len(kept) != len(pairs):
            query = urlencode(kept, doseq=True)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


# -- sites ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """Who answers for a URL: its scheme, port and registrable domain (or IP address).

    ``domain`` is the registrable domain ("eTLD+1" by the Public Suffix List, private
    suffixes such as ``github.io`` included, so ``a.github.io`` and ``b.github.io`` are two
    sites), IDNA-encoded; a host that is itself a public suffix or a single label stands for
    itself only; an IP address is its own site (``ip:`` + its one spelling)."""

    scheme: str
    domain: str
    port: int


# Characters that parsers disagree about (or that no real URL has): refused outright.
_UNSAFE_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
# Hosts a resolver may read as an IPv4 address in another spelling (127.1, 0x7f.1, 2130706433).
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_HOST_NAME = re.compile(r"^[a-z0-9_.-]+$")


@cache
def _public_suffixes() -> PublicSuffixList:
    # The list bundled with the package (no network fetch); private suffixes included.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def site_of(url: str | None) -> Site | None:
    """The :class:`Site` of an http(s) URL, or None when it has none we can vouch for.

    None for: other schemes; userinfo (``https://victim.example@evil.example/``);
    backslashes, whitespace or control characters (URL parsers disagree on those); an
    unreadable port; a host that is no valid name (IDNA) and no plain IP address, including
    numeric spellings of IPv4 addresses other than the dotted quad."""
    if not url or _UNSAFE_URL_CHARACTERS.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc:
        return None
    host = (parts.hostname or "").rstrip(".")
    domain = _registrable_domain(host) if host else None
    if domain is None:
        return None
    return Site(scheme, domain, port if port is not None else _DEFAULT_PORTS[scheme])


@lru_cache(maxsize=4096)  # a feed's entries share a few hosts; the list lookup is not free
def _registrable_domain(host: str) -> str | None:
    try:
        return f"ip:{ipaddress.ip_address(host).compressed}"
    except ValueError:
        pass
    if not host.isascii():
        import idna

        try:  # the same encoding HTTP clients use: lookalike letters stay distinct
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    host = host.lower()
    labels = host.split(".")
    if (
        not _HOST_NAME.match(host)
        or any(not label for label in labels)
        or _NUMERIC_HOST.match(labels[-1])
    ):
        return None
    return _public_suffixes().privatesuffix(host) or host


# The origin (a feed, a story) is the same for many calls in a row.
_origin_site = lru_cache(maxsize=256)(site_of)


def same_site(origin: str | None, other: str | None) -> bool:
    """Whether `other` belongs to the site `origin` is on (see :class:`Site`).

    Same registrable domain (or the same IP address) and the same scheme and port; the one
    exception is an upgrade from plain http to https on the default ports. A downgrade from
    https to http is another site: a page read over TLS cannot vouch for a URL that anyone
    on the network path can answer for."""
    mine, theirs = _origin_site(origin), site_of(other)
    if mine is None or theirs is None or mine.domain != theirs.domain:
        return False
    if (mine.scheme, mine.port) == (theirs.scheme, theirs.port):
        return True
    return (mine.scheme, mine.port, theirs.scheme, theirs.port) == ("http", 80, "https", 443)


def canonical_within_site(
    page_url: str,
    canonical: str | None,
    *also: str | None,
    tracking: TrackingParameters | None = None,
) -> str | None:
    """A page's declared canonical URL (canonicalised), if the page's site may declare it.

    None when there is none, or when it is on another site than `page_url` (or than any
    of `also`, e.g. the URL the page was finally fetched from after redirects): a page
    speaks for its own site only, so it cannot make a story of another site's article."""
    if not canonical:
        return None
    canonical = canonical.strip()
    if not all(same_site(url, canonical) for url in (page_url, *also) if url):
        return None
    return canonicalise_url(canonical, tracking)


def compile_filter(include: str | None, exclude: str | None) -> EntryFilter:
    """An :class:`EntryFilter`; raises ValueError naming a bad regular expression."""

    def compiled(pattern: str | None, which: str) -> re.Pattern[str] | None:
        if not pattern:
            return None
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid {which} pattern {pattern!r}: {exc}") from None

    return EntryFilter(compiled(include, "include"), compiled(exclude, "exclude"))


def parse_feed(body: bytes, base_url: str) -> ParsedFeed:
    """Entries of an RSS, Atom, sitemap or Google News sitemap document.

    Relative links are resolved against ``base_url``; entries without a usable http(s)
    link are skipped; duplicates (after canonicalisation) are listed once.
    """
    root_name = _xml_root_name(body)
    if root_name in ("urlset", "sitemapindex"):
        return _parse_sitemap(body, base_url)
    return _parse_syndication(body, base_url)


def new_entries(
    entries: Sequence[Entry],
    known_urls: Iterable[str],
    entry_filter: EntryFilter | None = None,
    tracking: TrackingParameters | None = None,
) -> list[Entry]:
    """Entries worth adding: canonical URL not known yet, accepted by the filter, once each."""
    seen = set(known_urls)
    result: list[Entry] = []
    for entry in entries:
        url = canonicalise_url(entry.url, tracking)
        if url in seen or (entry_filter is not None and not entry_filter.accepts(url)):
            continue
        seen.add(url)
        result.append(Entry(url=url, title=entry.title, published=entry.published))
    return result


def parse_opml(body: bytes) -> list[tuple[str, str | None]]:
    """(feed URL, category or None) for every outline with an ``xmlUrl`` in an OPML file."""
    root = lxml.etree.fromstring(body, parser=_safe_parser())
    feeds: list[tuple[str, str | None]] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if not url:
            continue
        category = outline.get("category")
        if not category:
            parent = outline.getparent()
            if parent is not None and parent.tag == "outline" and not parent.get("xmlUrl"):
                category = parent.get("text") or parent.get("title")
        feeds.append((url, (category or "").strip("/ ") or None))
    return feeds


# -- sitemaps ----------------------------------------------------------------------------------


def _safe_parser() -> lxml.etree.XMLParser:
    # No entity expansion (billion laughs), no DTD or network fetches, tolerant of junk.
    return lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False
    )


def _xml_root_name(body: bytes) -> str | None:
    head = body[:2048].lstrip()
    if not head.startswith(b"<"):
        return None
    match = re.search(rb"<([A-Za-z_][\w.-]*:)?(urlset|sitemapindex|rss|feed|RDF)[\s>]", head)
    return match.group(2).decode() if match else None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: lxml.etree._Element, *names: str) -> str | None:
    for child in element:
        if _local(child.tag) in names and child.text and child.text.strip():
            return child.text.strip()
    return None


def _parse_sitemap(body: bytes, base_url: str) -> ParsedFeed:
    try:
        root = lxml.etree.fromstring(body, parser=_safe_parser())
    except lxml.etree.XMLSyntaxError as exc:
        return ParsedFeed("unknown", None, (), problem=f"not a readable sitemap: {exc}")
    if root is None:
        return ParsedFeed("unknown", None, (), problem="empty sitemap")
    if _local(root.tag) == "sitemapindex":
        locations = [
            urljoin(base_url, loc)
            for sitemap in root
            if _local(sitemap.tag) == "sitemap" and (loc := _child_text(sitemap, "loc"))
        ]
        return ParsedFeed("sitemap-index", None, (), sitemaps=tuple(dict.fromkeys(locations)))
    entries: list[Entry] = []
    news = False
    for url_element in root:
        if _local(url_element.tag) != "url":
            continue
        loc = _child_text(url_element, "loc")
        if not loc:
            continue
        title = None
        published = _parse_date(_child_text(url_element, "lastmod"))
        for child in url_element:
            if _local(child.tag) == "news":
                news = True
                title = _child_text(child, "title")
                published = _parse_date(_child_text(child, "publication_date")) or published
        entries.append(Entry(urljoin(base_url, loc), title, published))
    return ParsedFeed("news-sitemap" if news else "sitemap", None, _usable(entries))


def _parse_date(value: str | None) -> datetime | None:
    """W3C datetime (``2024-05-01``, ``2024-05-01T10:00:00+02:00``, ``…Z``) as aware UTC."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# -- RSS and Atom ------------------------------------------------------------------------------


def _parse_syndication(body: bytes, base_url: str) -> ParsedFeed:
    import feedparser  # only feed polling needs it (keeps `normalise_url` light to import)

    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    version = parsed.get("version") or ""
    if not parsed.entries and not version:
        problem = "not an RSS/Atom feed or sitemap"
        if parsed.get("bozo_exception") is not None:
            problem += f" ({parsed.bozo_exception})"
        return ParsedFeed("unknown", None, (), problem=problem)
    kind = "atom" if version.startswith("atom") else "rss"
    entries = []
    for item in parsed.entries:
        link = _entry_link(item)
        if not link:
            continue
        published = None
        for key in ("published_parsed", "updated_parsed", "created_parsed"):
            value = item.get(key)
            if value:
                published = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
                break
        entries.append(Entry(urljoin(base_url, link), item.get("title") or None, published))
    title = parsed.feed.get("title") or None
    return ParsedFeed(kind, title, _usable(entries))


def _entry_link(item: dict) -> str | None:
    # Atom entries may carry several links; the article is rel="alternate" (the default).
    for link in item.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    link = item.get("link")
    if link:
        return link
    guid = item.get("id") or ""
    return guid if guid.startswith(("http://", "https://")) else None


def _usable(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    result: dict[str, Entry] = {}
    for entry in entries:
        if urlsplit(entry.url).scheme.lower() not in ("http", "https"):
            continue
        key = canonicalise_url(entry.url)
        result.setdefault(key, entry)
    return tuple(result.values())


# -- feeds a page advertises -------------------------------------------------------------------

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+xml")


def advertised_feeds(body: bytes, base_url: str) -> list[str]:
    """The feeds an HTML page advertises (``<link rel="alternate"
    type="application/rss+xml" href=…>``, or Atom), as absolute http(s) URLs, in page order,
    each once: what to follow instead of an article page given as a feed."""
    import lxml.html

    try:
        document = lxml.html.document_fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return []
    found: list[str] = []
    for link in document.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" not in rel or kind not in FEED_TYPES or not href:
            continue
        url = urljoin(base_url, href)
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found.append(url)
    return found


def looks_like_html(body: bytes) -> bool:
    """Whether `body` starts as an HTML page does (a doctype or an <html>/<head> element)."""
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head")) or b"<html" in head[:512]

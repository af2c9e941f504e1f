"""What extraction produces: an article's headline, metadata and body blocks, and where
the article sits in its page.

A module of its own so that extraction and normalisation, which both read these types,
do not import each other, and so that code that only passes them along (a check answered
304 Not Modified) need not import extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The longest URL a story can have: the width of the URL columns. Longer ones are refused
# when a story is added and ignored when a page names one as its canonical URL.
MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class Block:
    """One paragraph, heading, list item or table row of the body."""

    text: str
    links: tuple[str, ...] = ()  # text of each link inside the block, in order
    kind: str = "p"  # p, head, item, quote, row, code


@dataclass(frozen=True)
class Entry:
    """One entry of a live blog (tracker.core.liveblog): a timestamped update of the page."""

    key: str  # stable across fetches: the element's id, the data's url/@id, else a hash
    time: str | None  # ISO 8601 as the page states it (a datetime attribute), else the clock text
    headline: str | None
    text: str  # paragraphs separated by "\n\n"
    pinned: bool = False  # pinned to the top, or marked as a key event
    label: str | None = None  # the time as the page shows it ("9:12 a.m."), when it is stable


@dataclass(frozen=True)
class Article:
    title: str | None  # the headline as shown on the page
    byline: str | None
    published: str | None  # ISO 8601 date/datetime string as found
    modified: str | None
    text: str  # body, paragraphs separated by "\n\n"; "" when nothing was found
    canonical_url: str | None
    lang: str | None
    # Every distinct headline the page states (visible h1, og:title, <title> without site name),
    # chosen title first. Sites edit these separately; the fingerprint reads all of them.
    headlines: tuple[str, ...] = ()
    blocks: tuple[Block, ...] = field(default=(), repr=False)
    # Where the body came from: "html" (read from the page's markup), "selector" (the story's
    # CSS selector), or the page's data when the markup was an app shell (one of
    # tracker.core.embedded.SOURCES: "json-ld", "next-data", "nuxt", ...).
    source: str = "html"
    # A live blog's entries in the order the page lists them; () for any other page.
    entries: tuple[Entry, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Region:
    """Where an article sits in its page (drawn by :mod:`tracker.core.region`): kept with
    the story, so that the next check can tell whether that part of the page changed."""

    path: str  # the region element's path in the page (lxml's getpath)
    digest: str  # sha256 hex of what the article could be read from (see tracker.core.region)

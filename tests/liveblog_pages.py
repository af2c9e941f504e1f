"""Live-blog pages in the markup shapes the web uses, for tests: each renders a list of entries.

- `guardian_like`: a block list (``div#liveblog-body > article#block-… ``), each block with a
  ``<time datetime>`` in a permalink, an ``h2`` title and its paragraphs; a key-events list
  and a summary above;
- `wordpress_like`: a live-blog plugin's entries (``div.liveblog-entry#liveblog-entry-…``) with
  the time in the entry's header and an ``h3`` title that starts "UPDATE 9:12 a.m.:";
- `json_ld_only`: an app shell whose only article is a JSON-LD ``LiveBlogPosting``;
- `no_ids`: entries with neither ids nor permalinks nor ``<time>``: a clock line, an ``h3``.

The page chrome (nav, a "most read" list of dated teasers, a footer) is the same in each.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class E:
    id: str
    time: str  # ISO 8601
    label: str  # as shown, e.g. "9:12 a.m."
    headline: str
    paragraphs: tuple[str, ...]
    pinned: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _chrome(body: str, title: str, head: str = "") -> str:
    teasers = "".join(
        f'<li><a href="/news/{n}">Other story number {n} about something else</a>'
        f'<time datetime="2026-12-0{n}T08:00:00Z">{n} Dec</time></li>'
        for n in range(1, 6)
    )
    return (
        f"<!doctype html><html lang='en'><head><title>{html.escape(title)} | Daily News</title>"
        f"{head}</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<main><h1>{html.escape(title)}</h1>{body}</main>"
        f"<aside><h2>Most read</h2><ul>{teasers}</ul></aside>"
        "<footer><p>© 2026 Daily News. All rights reserved.</p></footer></body></html>"
    )


SUMMARY = (
    "Rescue teams are searching collapsed buildings after a strong earthquake struck the coast "
    "early on Thursday, officials said."
)


def guardian_like(entries: list[E], title: str = "Earthquake: live updates") -> str:
    blocks = []
    for e in entries:
        cls = "block is-key-event" if e.pinned else "block"
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in e.paragraphs)
        blocks.append(
            f'<article id="block-{e.id}" class="{cls}">'
            f'<header><p class="block-time"><a href="?page=with:block-{e.id}#block-{e.id}">'
            f'<time datetime="{e.time}">{html.escape(e.label)}</time></a></p>'
            f'<h2 class="block-title">{html.escape(e.headline)}</h2></header>'
            f'<div class="block-elements">{paragraphs}</div>'
            '<footer><button>Share</button><a href="https://twitter.com/share">Twitter</a></footer>'
            "</article>"
        )
    key_events = "".join(
        f'<li><a href="#block-{e.id}">{html.escape(e.label)} {html.escape(e.headline)}</a></li>'
        for e in entries
        if e.pinned
    )
    body = (
        f'<div class="standfirst"><p>{SUMMARY}</p></div>'
        f'<div class="key-events"><h2>Key events</h2><ul>{key_events}</ul></div>'
        f'<div id="liveblog-body">{"".join(blocks)}</div>'
    )
    return _chrome(body, title)


def wordpress_like(entries: list[E], title: str = "Storm live: the latest") -> str:
    items = []
    for e in entries:
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in e.paragraphs)
        pinned = " liveblog-entry-sticky" if e.pinned else ""
        items.append(
            f'<div id="liveblog-entry-{e.id}" class="liveblog-entry{pinned}">'
            '<header class="liveblog-meta">'
            f'<a class="liveblog-time-anchor" href="#liveblog-entry-{e.id}">'
            f'<time datetime="{e.time}" class="liveblog-meta-time">{html.escape(e.label)}</time>'
            '</a><span class="liveblog-author-name">Jane Reporter</span></header>'
            f'<div class="liveblog-entry-content"><h3>UPDATE {html.escape(e.label)}: '
            f"{html.escape(e.headline)}</h3>{paragraphs}</div>"
            '<div class="liveblog-share"><a href="#">Share</a></div></div>'
        )
    body = (
        f"<article><p class='byline'>By Jane Reporter</p><p>{SUMMARY}</p>"
        f'<div class="liveblog-feed">{"".join(items)}</div></article>'
    )
    return _chrome(body, title)


def no_ids(entries: list[E], title: str = "Election night as it happens") -> str:
    items = []
    for e in entries:
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in e.paragraphs)
        items.append(
            f'<section class="post"><span class="stamp">{html.escape(e.label)}</span>'
            f"<h3>{html.escape(e.headline)}</h3>{paragraphs}</section>"
        )
    body = f"<p>{SUMMARY}</p><div>{''.join(items)}</div>"
    return _chrome(body, title)


def json_ld_only(entries: list[E], title: str = "Markets live") -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "headline": title,
        "datePublished": "2026-12-04T06:00:00Z",
        "liveBlogUpdate": [
            {
                "@type": "BlogPosting",
                "url": f"https://news.example/live#post-{e.id}",
                "headline": e.headline,
                "datePublished": e.time,
                "articleBody": " ".join(f"<p>{html.escape(p)}</p>" for p in e.paragraphs),
            }
            for e in entries
        ],
    }
    head = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    return (
        f"<!doctype html><html lang='en'><head><title>{html.escape(title)}</title>{head}</head>"
        "<body><nav><a href='/'>Home</a></nav><div id='root'></div>"
        "<footer><p>© 2026 Daily News</p></footer></body></html>"
    )


def sample_entries() -> list[E]:
    """Three entries, newest first, as a live blog lists them."""
    return [
        E(
            "c3",
            "2026-12-04T09:40:00Z",
            "9:40 a.m.",
            "Airport reopens",
            (
                "The international airport reopened its main runway on Thursday morning after "
                "engineers inspected it for cracks.",
                "Flights are expected to be delayed for the rest of the day, the operator said.",
            ),
        ),
        E(
            "b2",
            "2026-12-04T09:05:00Z",
            "9:05 a.m.",
            "Death toll rises",
            (
                "The number of people confirmed dead has risen to 14, the regional governor told "
                "reporters at a briefing in the capital.",
            ),
            pinned=True,
        ),
        E(
            "a1",
            "2026-12-04T08:30:00Z",
            "8:30 a.m.",
            "Strong quake hits the coast",
            (
                "A magnitude 6.8 earthquake struck off the coast shortly before dawn, the "
                "geological survey said, shaking buildings across the region.",
                "Residents described furniture sliding across rooms as the ground shook for "
                "nearly a minute.",
            ),
        ),
    ]


NEW_ENTRY = E(
    "d4",
    "2026-12-04T10:12:00Z",
    "10:12 a.m.",
    "Aftershock felt in the capital",
    (
        "A strong aftershock was felt in the capital at 10.10am, sending office workers into "
        "the streets for the second time today.",
    ),
)

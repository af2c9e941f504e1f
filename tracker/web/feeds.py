"""Atom feeds (feedgen): every change, one story's changes, one tag's changes.

Each entry is one version and carries the change, not the article: the summary, the
headline change, byline and date changes, and the changed paragraphs with one paragraph of
context, the rest folded into "… 14 unchanged paragraphs …" (linking the full diff). Feed
readers drop stylesheets and often inline styles too, so the marking is portable
(`diffing.render_html_portable`): "212 → 284", "[removed: …]", "[added: …]" in words, struck
and underlined by inline styles, and only <p>-level HTML (no block inside a paragraph).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request, Response
from feedgen.feed import FeedGenerator

from tracker.core import diffing, liveblog
from tracker.core.field_changes import field_changes
from tracker.core.kinds import kind_label
from tracker.core.lifecycle import EVENT_LABELS, LifecycleEvent
from tracker.pipeline.check import version_as_article
from tracker.store.models import Event, Story, Version
from tracker.web import queries
from tracker.web.api import SafeText
from tracker.web.deps import database, settings_of

router = APIRouter(prefix="/feeds", tags=["feeds"])

ENTRIES: Final = 50
# A feed request diffs up to ENTRIES pairs of versions: bound each diff, and the whole.
ENTRY_DIFF_TIMEOUT: Final = 0.2
FEED_DIFF_BUDGET: Final = 3.0
ATOM: Final = "application/atom+xml; charset=utf-8"
# Characters XML 1.0 cannot carry at all; a hostile page may contain them.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def _base_url(request: Request) -> str:
    return (settings_of(request).base_url or str(request.base_url)).rstrip("/")


# Paragraphs of context around each change in an entry: enough to say where it sits.
ENTRY_CONTEXT: Final = 1
# A first version has no change to show: its opening paragraphs say what the story is.
FIRST_VERSION_PARAGRAPHS: Final = 2


def entry_html(
    version: Version,
    previous: Version | None,
    *,
    with_diff: bool = True,
    full_href: str | None = None,
) -> str:
    """The entry body: the change summary, the headline, byline and date changes, and the
    changed paragraphs with their context (a first version: its opening paragraphs).

    `full_href` (the full diff page) is what each fold links to. Without `with_diff` (the
    feed's time budget is spent), the summary and headline change and a link only.
    """
    parts = []
    if version.summary:
        parts.append(f"<p><strong>{_escape(version.summary)}</strong></p>")
    if previous is not None and (previous.title or "") != (version.title or ""):
        title = diffing.word_diff(previous.title or "", version.title or "")
        parts.append(f"<p>Headline: {diffing.portable_line(title.ops)}</p>")
    if previous is not None:
        parts.extend(
            f"<p>{diffing.portable_line(change.labelled().ops)}</p>"
            for change in field_changes(previous, version)
        )
    units = _changed_entries(version, previous) if with_diff else None
    if units is not None:  # a live blog: the entries added, edited and removed
        parts.extend(
            f"<h3>{_escape(unit.caption)}</h3>\n{diffing.render_html_portable(unit.diff)}"
            for unit in units
        )
    elif with_diff and previous is None:
        parts.append(_opening(version.text))
    elif with_diff and previous is not None:
        diff = diffing.word_diff(previous.text, version.text, timeout=ENTRY_DIFF_TIMEOUT)
        parts.append(diffing.render_html_portable(diff, context=ENTRY_CONTEXT, full_href=full_href))
    else:
        parts.append("<p>(Open the link for the word diff of this version.)</p>")
    return xml_safe("\n".join(parts))


def _opening(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    shown = "".join(
        f"<p>{_escape(p).replace(chr(10), '<br>')}</p>\n"
        for p in paragraphs[:FIRST_VERSION_PARAGRAPHS]
    )
    rest = len(paragraphs) - FIRST_VERSION_PARAGRAPHS
    if rest > 0:
        noun = "paragraph" if rest == 1 else "paragraphs"
        shown += f"<p><em>… {rest} more {noun} …</em></p>\n"
    return shown


def _changed_entries(version: Version, previous: Version | None) -> list[diffing.DiffUnit] | None:
    """A live blog's changed entries, when both versions were read as entries; else None."""
    if previous is None or not previous.entries or not version.entries:
        return None
    units = liveblog.entry_units(version_as_article(previous), version_as_article(version))
    return [unit for unit in units if unit.status != "equal"]


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def build_feed(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    alternate_url: str,
    rows: list[tuple[Version, Story]],
    previous: dict[int, Version],
    base_url: str,
    events: Sequence[tuple[Event, Story]] = (),
) -> bytes:
    """The feed: versions and lifecycle events (a story unpublished, moved, paywalled,
    back) as entries among them, newest first, at most `ENTRIES` of both together."""
    feed = FeedGenerator()
    feed.id(xml_safe(feed_id))
    feed.title(xml_safe(title))
    feed.link(href=xml_safe(alternate_url), rel="alternate")
    feed.link(href=xml_safe(self_url), rel="self")
    feed.generator("tracker")
    items: list[tuple[Version | Event, Story]] = [*rows, *events]
    items.sort(key=_entry_order, reverse=True)
    items = items[:ENTRIES]
    if items:
        feed.updated(_entry_time(items[0][0]))
    else:
        from datetime import UTC, datetime

        feed.updated(datetime(2000, 1, 1, tzinfo=UTC))
    deadline = time.monotonic() + FEED_DIFF_BUDGET
    versions = [(item, story) for item, story in items if isinstance(item, Version)]
    links = {
        version.id: _entry_link(base_url, story, version, previous.get(version.id))
        for version, story in versions
    }
    bodies = {  # newest first: they matter most when the budget runs out
        version.id: entry_html(
            version,
            previous.get(version.id),
            with_diff=time.monotonic() < deadline,
            full_href=links[version.id] + "?show=all",
        )
        for version, _ in versions
    }
    # feedgen prepends each new entry; add oldest first so the feed reads newest first.
    for item, story in reversed(items):
        if isinstance(item, Event):
            _add_event_entry(feed, item, story, base_url)
            continue
        version = item
        entry = feed.add_entry()
        entry.id(f"{base_url}/stories/{story.id}/versions/{version.seq}")
        headline = version.title or story.title or story.url
        kinds = ", ".join(kind_label(k) for k in version.kinds or [])
        entry.title(xml_safe(f"{headline} — v{version.seq}" + (f" ({kinds})" if kinds else "")))
        entry.link(href=links[version.id], rel="alternate")
        entry.updated(version.captured_at)
        entry.published(version.captured_at)
        entry.author({"name": xml_safe(version.byline or "tracker")})
        entry.content(bodies[version.id], type="html")
        for kind in version.kinds or []:
            entry.category(term=kind)
    return feed.atom_str(pretty=True)


def _entry_time(item: Version | Event) -> datetime:
    return item.captured_at if isinstance(item, Version) else item.created_at


def _entry_order(item: tuple[Version | Event, Story]) -> tuple[datetime, int, int]:
    # At the same instant an event sorts after (newer than) a version, as in the changes view.
    entry = item[0]
    return (_entry_time(entry), isinstance(entry, Event), entry.id)


def _add_event_entry(feed: FeedGenerator, event: Event, story: Story, base_url: str) -> None:
    """A lifecycle event's entry: what happened in words, linking the story's history (the
    versions it keeps); the story page says what the tracker does next."""
    story_url = f"{base_url}/stories/{story.id}"
    label = EVENT_LABELS[LifecycleEvent(event.kind)]  # the query chose lifecycle kinds only
    entry = feed.add_entry()
    entry.id(f"{story_url}/events/{event.id}")
    entry.title(xml_safe(f"{story.title or story.url} — {label}"))
    entry.link(href=story_url, rel="alternate")
    entry.updated(event.created_at)
    entry.published(event.created_at)
    entry.author({"name": "tracker"})
    facts = [f"<p><strong>{_escape(event.detail or label)}</strong></p>"]
    data = event.data or {}
    for name, caption in (("from", "From"), ("to", "Now at")):
        if isinstance(data.get(name), str):
            address = _escape(data[name])
            facts.append(f'<p>{caption}: <a href="{address}">{address}</a></p>')
    facts.append(
        f'<p><a href="{_escape(story_url)}">The story\'s history</a> keeps every version.</p>'
    )
    entry.content(xml_safe("\n".join(facts)), type="html")
    entry.category(term=event.kind)


def _entry_link(base_url: str, story: Story, version: Version, before: Version | None) -> str:
    """The diff page of the change an entry is about (a first version: its page)."""
    if before is not None:
        return f"{base_url}/stories/{story.id}/diff/{before.seq}/{version.seq}"
    return f"{base_url}/stories/{story.id}/versions/{version.seq}"


def _feed_response(
    request: Request,
    title: str,
    alternate: str,
    rows: list[tuple[Version, Story]],
    events: list[tuple[Event, Story]],
) -> Response:
    base = _base_url(request)
    path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    with database(request).session() as session:
        previous = queries.previous_versions(session, [v for v, _ in rows])
    body = build_feed(
        feed_id=base + path,
        title=title,
        self_url=base + path,
        alternate_url=base + alternate,
        rows=rows,
        previous=previous,
        base_url=base,
        events=events,
    )
    return Response(body, media_type=ATOM)


@router.get("/all.atom", summary="Every change, newest first")
def all_changes(request: Request) -> Response:
    with database(request).read_session() as session:
        rows = queries.latest_versions(session, limit=ENTRIES)
        events = queries.latest_lifecycle_events(session, limit=ENTRIES)
    return _feed_response(request, "tracker: all changes", "/", rows, events)


@router.get("/stories/{story_id}.atom", summary="One story's changes")
def story_changes(request: Request, story_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        name = story.title or story.url
        rows = queries.latest_versions(session, limit=ENTRIES, story_id=story_id)
        events = queries.latest_lifecycle_events(session, limit=ENTRIES, story_id=story_id)
    return _feed_response(request, f"tracker: {name}", f"/stories/{story_id}", rows, events)


@router.get("/tags/{tag}.atom", summary="Changes to stories with a tag")
def tag_changes(
    request: Request, tag: Annotated[SafeText, Path(min_length=1, max_length=100)]
) -> Response:
    with database(request).read_session() as session:
        rows = queries.latest_versions(session, limit=ENTRIES, tag=tag)
        events = queries.latest_lifecycle_events(session, limit=ENTRIES, tag=tag)
    from urllib.parse import quote

    return _feed_response(
        request, f"tracker: stories tagged {tag}", f"/?tag={quote(tag, safe='')}", rows, events
    )

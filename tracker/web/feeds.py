"""Atom feeds (feedgen): every change, one story's changes, one tag's changes.

Each entry is one version and carries its diff against the previous version as HTML (the
page text escaped, insertions in <ins>, deletions in <del>), so a feed reader shows exactly
what changed.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request, Response
from feedgen.feed import FeedGenerator

from tracker.core import diffing, liveblog
from tracker.pipeline.check import version_as_article
from tracker.store.models import Story, Version
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


def entry_html(version: Version, previous: Version | None, *, with_diff: bool = True) -> str:
    """The entry body: a change summary and the word diff (or the text of a first version).

    Without `with_diff` (the feed's time budget is spent), the summary and a link only.
    """
    parts = []
    if version.summary:
        parts.append(f"<p><strong>{_escape(version.summary)}</strong></p>")
    if previous is not None and (previous.title or "") != (version.title or ""):
        title = diffing.word_diff(previous.title or "", version.title or "")
        parts.append(f"<p>Headline: {diffing.render_html_inline(title)}</p>")
    units = _changed_entries(version, previous) if with_diff else None
    if units is not None:  # a live blog: the entries added, edited and removed, each whole
        parts.append(diffing.render_html_units(units))
    elif with_diff:
        diff = diffing.word_diff(
            previous.text if previous else "", version.text, timeout=ENTRY_DIFF_TIMEOUT
        )
        parts.append(diffing.render_html_inline(diff))
    else:
        parts.append("<p>(Open the link for the word diff of this version.)</p>")
    return xml_safe("\n".join(parts))


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
) -> bytes:
    feed = FeedGenerator()
    feed.id(xml_safe(feed_id))
    feed.title(xml_safe(title))
    feed.link(href=xml_safe(alternate_url), rel="alternate")
    feed.link(href=xml_safe(self_url), rel="self")
    feed.generator("tracker")
    if rows:
        feed.updated(rows[0][0].captured_at)
    else:
        from datetime import UTC, datetime

        feed.updated(datetime(2000, 1, 1, tzinfo=UTC))
    deadline = time.monotonic() + FEED_DIFF_BUDGET
    bodies = {  # newest first: they matter most when the budget runs out
        version.id: entry_html(
            version, previous.get(version.id), with_diff=time.monotonic() < deadline
        )
        for version, _ in rows
    }
    # feedgen prepends each new entry; add oldest first so the feed reads newest first.
    for version, story in reversed(rows):
        before = previous.get(version.id)
        if before is not None:
            link = f"{base_url}/stories/{story.id}/diff/{before.seq}/{version.seq}"
        else:
            link = f"{base_url}/stories/{story.id}/versions/{version.seq}"
        entry = feed.add_entry()
        entry.id(f"{base_url}/stories/{story.id}/versions/{version.seq}")
        headline = version.title or story.title or story.url
        kinds = ", ".join(k.replace("_", " ") for k in version.kinds or [])
        entry.title(xml_safe(f"{headline} — v{version.seq}" + (f" ({kinds})" if kinds else "")))
        entry.link(href=link, rel="alternate")
        entry.updated(version.captured_at)
        entry.published(version.captured_at)
        entry.author({"name": xml_safe(version.byline or "tracker")})
        entry.content(bodies[version.id], type="html")
        for kind in version.kinds or []:
            entry.category(term=kind)
    return feed.atom_str(pretty=True)


def _feed_response(request: Request, title: str, alternate: str, rows) -> Response:
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
    )
    return Response(body, media_type=ATOM)


@router.get("/all.atom", summary="Every change, newest first")
def all_changes(request: Request) -> Response:
    with database(request).read_session() as session:
        rows = queries.latest_versions(session, limit=ENTRIES)
    return _feed_response(request, "tracker: all changes", "/", rows)


@router.get("/stories/{story_id}.atom", summary="One story's changes")
def story_changes(request: Request, story_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        name = story.title or story.url
        rows = queries.latest_versions(session, limit=ENTRIES, story_id=story_id)
    return _feed_response(request, f"tracker: {name}", f"/stories/{story_id}", rows)


@router.get("/tags/{tag}.atom", summary="Changes to stories with a tag")
def tag_changes(
    request: Request, tag: Annotated[SafeText, Path(min_length=1, max_length=100)]
) -> Response:
    with database(request).read_session() as session:
        rows = queries.latest_versions(session, limit=ENTRIES, tag=tag)
    from urllib.parse import quote

    return _feed_response(
        request, f"tracker: stories tagged {tag}", f"/?tag={quote(tag, safe='')}", rows
    )

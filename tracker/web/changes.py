"""The changes page (/changes) and its API (/api/v1/changes): what changed, across stories.

Both read `tracker.services.changes_feed`, as `tracker changes` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from tracker.core.kinds import KIND_LABELS
from tracker.core.lifecycle import EVENT_LABELS
from tracker.services.changes_feed import (
    DEFAULT_LIMIT,
    KINDS,
    MAX_LIMIT,
    ChangesError,
    ChangesPage,
    changes_page,
    make_filter,
    row_fields,
)
from tracker.web import queries
from tracker.web.api import SafeText
from tracker.web.deps import database
from tracker.web.pages import render

page_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["api"])

KindName = Literal[
    "first",
    "headline",
    "paragraphs_added",
    "paragraphs_removed",
    "text_edited",
    "byline",
    "dates",
    "correction",
    "minor",
    "entry_added",
    "entry_edited",
    "entry_removed",
    # What a desk calls the edit (tracker.core.edit_types.EDIT_TYPES), indexed with the kinds.
    "number_changed",
    "quote_changed",
    "quote_removed",
    "quote_added",
    "name_removed",
    "name_added",
    "correction_note",
    "silent_correction",
    "wording",
    # The article's lifecycle events (tracker.core.lifecycle), rows of their own.
    "unpublished",
    "redirected",
    "slug_changed",
    "paywalled",
    "republished",
]
Kinds = Annotated[
    list[KindName],
    Query(
        max_length=len(KINDS),
        description="Only versions with any of these kinds, or (unpublished, redirected, "
        "slug_changed, paywalled, republished) those lifecycle events. No kind: every version "
        "and every lifecycle event.",
    ),
]
Tag = Annotated[SafeText | None, Query(max_length=100, description="Only stories with this tag.")]
Site = Annotated[
    SafeText | None,
    Query(max_length=200, description="Only stories of this site (a domain, e.g. example.com)."),
]
When = Annotated[
    SafeText | None,
    Query(max_length=40, description="A time ago (90m, 24h, 7d) or an ISO date/time (UTC)."),
]
CursorParam = Annotated[
    SafeText | None,
    Query(max_length=60, description="A page's 'next' (older) or 'newer' cursor."),
]


@dataclass(frozen=True)
class ChangesQuery:
    """The filters and cursors the page and the API share, as one dependency."""

    kind: list[str]
    tag: str | None
    site: str | None
    since: str | None
    until: str | None
    before: str | None
    after: str | None

    @property
    def filtered(self) -> bool:
        return bool(self.kind or self.tag or self.site or self.since or self.until)


def changes_query(
    kind: Kinds = [],  # noqa: B006 -- FastAPI copies defaults
    tag: Tag = None,
    site: Site = None,
    since: When = None,
    until: When = None,
    before: CursorParam = None,
    after: CursorParam = None,
) -> ChangesQuery:
    return ChangesQuery(list(kind), tag, site, since, until, before, after)


Filters = Annotated[ChangesQuery, Depends(changes_query)]


def page_size(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
) -> int:
    return limit


# A dependency too, so that it is listed after the filters in the OpenAPI schema, as before.
PageSize = Annotated[int, Depends(page_size)]


def _page(request: Request, query: ChangesQuery, *, limit: int) -> ChangesPage:
    changes = make_filter(
        kinds=query.kind,
        tag=query.tag,
        site=query.site,
        since=query.since,
        until=query.until,
        now=datetime.now(UTC),
    )
    with database(request).read_session() as session:
        return changes_page(session, changes, limit=limit, before=query.before, after=query.after)


@page_router.get("/changes", response_class=HTMLResponse)
def changes_html(request: Request, query: Filters) -> Response:
    error = None
    try:
        page = _page(request, query, limit=DEFAULT_LIMIT)
    except ChangesError as exc:
        error, page = str(exc), None
    with database(request).read_session() as session:
        tags = queries.all_tags(session)
    return render(
        request,
        "changes.html",
        status_code=400 if error else 200,
        page=page,
        error=error,
        kinds=KIND_LABELS,
        lifecycle_kinds=EVENT_LABELS,
        chosen=set(query.kind),
        tags=tags,
        tag=query.tag or "",
        site=query.site or "",
        since=query.since or "",
        until=query.until or "",
        filtered=query.filtered,
    )


class ExcerptPiece(BaseModel):
    op: Literal["equal", "delete", "insert"]
    text: str


class ChangeOut(BaseModel):
    story_id: int
    headline: str = Field(description="The story's headline now (its URL if it has none).")
    url: str
    site: str = Field(description="The story's domain, without www.")
    seq: int = Field(description="The version's number within its story.")
    captured_at: datetime
    kinds: list[str]
    edit_types: list[str] = Field(
        default_factory=list,
        description="What a desk calls the edit: number_changed, quote_changed, name_added, "
        "correction_note, silent_correction, wording, ... (empty: not typed).",
    )
    kinds_in_words: list[str]
    title: str | None = Field(description="The headline this version stated.")
    previous_title: str | None = Field(
        description="The headline this version replaced; null when the headline did not change."
    )
    excerpt: list[ExcerptPiece] = Field(
        description="The first changed sentence, word by word ([] when only the headline, "
        "byline or dates changed); a first version's is its first sentence."
    )
    excerpt_text: str = Field(description="The excerpt as one line: [-removed-] {+added+}.")
    summary: str | None
    story_path: str
    change_path: str = Field(
        description="The diff that made this version (a first version: its own page; a "
        "lifecycle event: the story's events)."
    )
    event: str | None = Field(
        default=None,
        description="A lifecycle event's row: unpublished, redirected, slug_changed, paywalled "
        "or republished (its detail is the summary, seq the story's latest version); null for "
        "a version.",
    )
    event_data: dict[str, Any] | None = Field(
        default=None,
        description="A lifecycle event's facts: from and to (URLs), the HTTP status, the "
        "paywall marker.",
    )


class ChangeList(BaseModel):
    items: list[ChangeOut]
    limit: int
    next: str | None = Field(
        description="Cursor of the next, older page (?before=); null on the last."
    )
    newer: str | None = Field(
        description="Cursor of the previous, newer page (?after=); null on the first."
    )


@api_router.get(
    "/changes",
    response_model=ChangeList,
    summary="Changes across stories, newest first",
    responses={400: {"description": "A filter or cursor that cannot be used."}},
)
def changes_json(request: Request, query: Filters, limit: PageSize) -> ChangeList:
    page = _page(request, query, limit=limit)
    return ChangeList(
        items=[ChangeOut(**row_fields(row)) for row in page.rows],
        limit=page.limit,
        next=page.older,
        newer=page.newer,
    )

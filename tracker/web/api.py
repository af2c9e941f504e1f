"""The JSON API under /api/v1: the CLI's operations over HTTP, every list paginated.

Errors are JSON ``{"detail": "…"}`` with a 4xx status and the same messages as the CLI.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import select

from tracker.core import diffing
from tracker.core.cadence import CadencePolicy
from tracker.core.discover import tracking_parameters
from tracker.core.field_changes import field_change_to_json, field_changes
from tracker.net.fetcher import RenderMode
from tracker.services.search import results_fields, search
from tracker.services.serialize import story_fields, version_fields, version_summary_fields
from tracker.services.stories import (
    StoryNotFound,
    StorySettings,
    add_stories,
    configure_story,
    get_version,
    remove_story,
    set_status,
)
from tracker.services.timestamps import timestamp_json
from tracker.services.variants import story_variants, variant_fields
from tracker.store.models import Check, Event, Story, StoryStatus
from tracker.store.timestamp_models import ChainTimestamp, TimestampStatus
from tracker.store.timestamps import version_stamp
from tracker.web import alerts, queries
from tracker.web.deps import database, raw_capture_response, run_check, settings_of


def _clean_text(value: str) -> str:
    # Lone surrogates cannot be stored (PostgreSQL rejects them, so does NUL): say so up front.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


SafeText = Annotated[str, AfterValidator(_clean_text)]
StoryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The story's id.")]
Seq = Annotated[
    int,
    Path(
        ge=-(2**31), le=2**31 - 1, description="Version number; negative counts back (-1: latest)."
    ),
]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Items to skip.")]

router = APIRouter(prefix="/api/v1", tags=["api"])


# -- schemas -----------------------------------------------------------------------------


class VariantOut(BaseModel):
    kind: Literal["headline", "paragraph"]
    text: str
    times_served: int = Field(
        description="Checks that read it (before it was recognised: the versions showing it)."
    )
    first_seen_at: datetime
    last_seen_at: datetime
    current: bool = Field(description="Shown by the page as last read.")


class VariantList(BaseModel):
    since: datetime | None = Field(description="When the story was first seen serving variants.")
    items: list[VariantOut]


class StoryOut(BaseModel):
    id: int
    url: str
    title: str | None
    status: str
    versions: int
    developing: bool
    promise: str
    promise_text: str | None
    tags: list[str]
    added_at: datetime
    last_checked_at: datetime | None
    last_changed_at: datetime | None
    next_check_at: datetime | None
    schedule: str | None
    consecutive_failures: int
    last_error: str | None
    extraction_health: Literal["ok", "suspect"] | None = Field(
        description="suspect: the stored text is probably not the article (the latest "
        "version's health_reasons say why and what to do); null before the first version."
    )
    fetcher: str | None = Field(description="The fetcher that got the latest version.")
    lifecycle: Literal["live", "unpublished", "redirected", "paywalled"] = Field(
        description="Where the page stands: live; unpublished (404/410); redirected away "
        "from the article; paywalled (a teaser, not stored as a version). See the events."
    )
    settings: StorySettingsOut
    variants_since: datetime | None = Field(
        description="When the story was first seen serving headline variants (an A/B test) "
        "or paragraphs that come and go; null: never."
    )
    variants: list[VariantOut] | None = Field(
        default=None,
        description="Its headline variants and varying paragraphs (one story only; lists "
        "leave it out: GET /stories/{id}/variants).",
    )


class Pagination(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class StoryList(Pagination):
    items: list[StoryOut]


# How a story's pages are fetched: plain HTTP, a headless browser, or auto (HTTP, and the
# browser only for an app shell); "default" drops the story's own choice.
RenderChoice = Literal[RenderMode, "default"]


class AddStories(BaseModel):
    urls: list[SafeText] = Field(min_length=1, max_length=1000, description="URLs to track.")
    tags: list[Annotated[SafeText, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    selector: Annotated[SafeText, Field(max_length=1000)] | None = None
    render: RenderChoice | None = Field(
        default=None, description="How to fetch the pages (null: the render setting)."
    )


class Added(BaseModel):
    id: int
    url: str
    created: bool


Duration = Annotated[
    SafeText,
    Field(
        max_length=50,
        description="A duration such as 5m, 1h30m, 2d; 'auto' drops the story's own value.",
    ),
]


class StoryUpdate(BaseModel):
    """Fields left out stay as they are."""

    status: Literal["active", "paused"] | None = Field(
        default=None, description="paused: stop checking; active: resume."
    )
    interval: Duration | None = Field(
        default=None, description="Fixed check interval (the story then never retires)."
    )
    min_interval: Duration | None = None
    max_interval: Duration | None = None
    robots: Literal["respect", "ignore", "default"] | None = None
    ignore_patterns: list[Annotated[SafeText, Field(min_length=1, max_length=500)]] | None = Field(
        default=None,
        max_length=50,
        description="Regular expressions for article lines that never make a version; "
        "replaces the story's list ([] clears it).",
    )
    selector: Annotated[SafeText, Field(max_length=1000)] | None = Field(
        default=None, description="CSS selector of the article body ('' for automatic)."
    )
    render: RenderChoice | None = Field(
        default=None, description="How to fetch the pages ('default': the render setting)."
    )


class StorySettingsOut(BaseModel):
    """A story's own settings; null means the global setting applies."""

    interval: str | None
    min_interval: str | None
    max_interval: str | None
    robots: Literal["respect", "ignore", "default"]
    ignore_patterns: list[str]
    selector: str | None
    render: RenderChoice


class HealthReason(BaseModel):
    code: str = Field(
        description="A stable code: no-text, few-words, mostly-links, app-shell, "
        "javascript-required, collapse, same-as-other-stories."
    )
    message: str


class VersionSummary(BaseModel):
    seq: int
    captured_at: datetime
    title: str | None
    kinds: list[str]
    summary: str | None
    words_added: int
    words_removed: int
    chars_added: int
    chars_removed: int
    diff_coarse: bool
    capture_sha256: str | None
    health: Literal["ok", "suspect"] | None = Field(
        description="Is the text plausibly the article? null: stored before verdicts existed."
    )
    health_reasons: list[HealthReason]
    text_source: str | None = Field(
        description="Where the text came from: html, selector, or the page's data "
        "(json-ld, next-data, nuxt, ...)."
    )
    fetcher: str | None = Field(description="The fetcher that got the page: http, browser.")
    screenshot_sha256: str | None = Field(
        description="The PNG screenshot of the rendered page (browser_screenshots), if kept: "
        "GET /stories/{id}/versions/{seq}/screenshot.png."
    )
    edit_types: list[str] | None = Field(
        description="What a desk calls the edit against the previous version (figure, quote "
        "or name changed, correction note, silent correction, wording); null for first "
        "versions, live blogs and versions stored before edit types existed."
    )
    content_sha256: str | None = Field(
        description="SHA-256 of the article as stored (docs/evidence.md); null only for "
        "a version not yet back-filled."
    )
    raw_sha256: str | None = Field(
        description="SHA-256 of the raw capture it was read from, kept when the capture "
        "itself is pruned."
    )
    chain_sha256: str | None = Field(
        description="The link of the story's hash chain: over the previous version's link, "
        "this version's number, capture time, the story URL and the two digests above."
    )
    archived_url: str | None = Field(
        description="The web archive's copy of the page (the archive hand-off, "
        "docs/discovery-and-archive.md); null until archived or when the hand-off is off."
    )
    archive_status: Literal["pending", "submitted", "archived", "failed"] | None = Field(
        description="How far the archive hand-off got; null: never submitted."
    )


class VersionList(Pagination):
    items: list[VersionSummary]


class EntryOut(BaseModel):
    key: str = Field(
        description="Stable across versions: the page's id for the entry, its data's url/@id, "
        "else a hash of its time and first words."
    )
    time: str | None = Field(description="ISO 8601 when the page states one, else clock text.")
    label: str | None = Field(description="The time as a reader sees it ('9:12 a.m.').")
    headline: str | None
    text: str
    pinned: bool = Field(description="Pinned, or marked as a key event.")


class VersionTimestamp(BaseModel):
    id: int = Field(description="GET /api/v1/timestamps/{id} gives the token and its heads.")
    tsa_url: str = Field(description="The time-stamping authority that signed it.")
    gen_time: datetime = Field(description="The TSA's time: the version existed by then.")


class VersionOut(VersionSummary):
    timestamp: VersionTimestamp | None = Field(
        default=None,
        description="The first RFC 3161 timestamp covering this version (its story's head at "
        "this version or a later one), if any (docs/evidence.md).",
    )
    url: str
    story_id: int
    headlines: list[str]
    byline: str | None
    published: str | None
    modified: str | None
    canonical_url: str | None
    text: str
    entries: list[EntryOut] | None = Field(
        default=None, description="A live blog's entries, in the page's order; null otherwise."
    )


class DiffOp(BaseModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class DiffStats(BaseModel):
    words_added: int
    words_removed: int
    chars_added: int
    chars_removed: int


class WordDiffOut(BaseModel):
    ops: list[DiffOp]
    stats: DiffStats
    coarse: bool
    coarse_reason: str | None
    note: str | None


class EntryDiffOut(BaseModel):
    key: str | None = Field(description="The entry's key; null for the summary.")
    caption: str
    status: Literal["added", "removed", "edited", "equal"]
    diff: WordDiffOut


class FieldChangeOut(BaseModel):
    field: Literal["byline", "published", "modified"]
    label: str = Field(description='What a reader calls it: "Byline", "Published", "Updated".')
    before: str | None
    after: str | None
    diff: WordDiffOut


class DiffOut(BaseModel):
    url: str
    story_id: int
    from_: int = Field(alias="from")
    to: int
    title_before: str | None
    title_after: str | None
    kinds: list[str] | None = Field(description="Change kinds (consecutive versions only).")
    summary: str | None
    diff: WordDiffOut
    title_diff: WordDiffOut | None
    fields: list[FieldChangeOut] = Field(
        default_factory=list,
        description="The byline and dates that changed, each with its word diff (dates "
        "are replaced whole); empty when none did.",
    )
    entries: list[EntryDiffOut] | None = Field(
        default=None,
        description="A live blog read as entries in both versions: the summary above the "
        "entries, then every entry of either version aligned with itself, each diffed on its "
        "own; null otherwise.",
    )

    model_config = {"populate_by_name": True}


class CheckOut(BaseModel):
    id: int
    story_id: int
    url: str
    started_at: datetime
    duration_ms: int
    wait_ms: int | None = Field(
        default=None, description="Of duration_ms, the wait for the host's politeness slot."
    )
    outcome: str
    http_status: int | None
    error_kind: str | None
    error: str | None
    bytes: int


class CheckList(Pagination):
    items: list[CheckOut]


class EventOut(BaseModel):
    id: int
    story_id: int
    url: str
    kind: str
    created_at: datetime
    detail: str | None
    data: dict[str, Any] | None = Field(
        default=None,
        description="A lifecycle event's facts: from and to (URLs), the HTTP status, the "
        "paywall marker; null for other events.",
    )


class EventList(Pagination):
    items: list[EventOut]


class CheckReportOut(BaseModel):
    story_id: int
    url: str
    outcome: str
    http_status: int | None
    error: str | None
    version: int | None
    kinds: list[str]
    summary: str | None
    events: list[str]
    status: str
    next_check_at: datetime | None


# -- serialisers ---------------------------------------------------------------------------


def story_out(story: Story) -> StoryOut:
    return StoryOut(**story_fields(story))


def _next_offset(page: queries.Page[Any]) -> int | None:
    return page.offset + len(page.items) if page.has_next else None


def _pagination(page: queries.Page[Any]) -> dict[str, Any]:
    return {
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": _next_offset(page),
    }


def diff_out(diff: queries.VersionDiff) -> DiffOut:
    return DiffOut.model_validate(
        {
            "url": diff.url,
            "story_id": diff.story_id,
            "from": diff.before.seq,
            "to": diff.after.seq,
            "title_before": diff.before.title,
            "title_after": diff.after.title,
            "kinds": list(diff.after.kinds or []) if diff.consecutive else None,
            "summary": diff.after.summary if diff.consecutive else None,
            "diff": diffing.diff_to_json(diff.text),
            "title_diff": diffing.diff_to_json(diff.title) if diff.title else None,
            "fields": [
                field_change_to_json(change) for change in field_changes(diff.before, diff.after)
            ],
            "entries": [
                {
                    "key": unit.key,
                    "caption": unit.caption,
                    "status": unit.status,
                    "diff": diffing.diff_to_json(unit.diff),
                }
                for unit in diff.entries
            ]
            if diff.entries is not None
            else None,
        }
    )


def _now() -> datetime:
    return datetime.now(UTC)


# -- stories -------------------------------------------------------------------------------


@router.get("/stories", response_model=StoryList, summary="List stories")
def list_stories(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Literal["active", "paused", "retired", "gone"] | None = None,
    tag: Annotated[SafeText | None, Query(max_length=100)] = None,
    developing: bool | None = None,
    q: Annotated[
        SafeText | None, Query(max_length=200, description="Search in URL and title.")
    ] = None,
    url: Annotated[SafeText | None, Query(max_length=2048, description="Exact URL.")] = None,
    sort: Literal["last_changed", "next_check", "added", "versions"] = "last_changed",
) -> dict[str, Any]:
    with database(request).read_session() as session:
        page = queries.story_page(
            session,
            limit=limit,
            offset=offset,
            sort=sort,
            status=status,
            tag=tag,
            developing=developing,
            search=q,
            url=url,
        )
        return {"items": [story_out(s) for s in page.items], **_pagination(page)}


@router.post("/stories", response_model=list[Added], status_code=201, summary="Track stories")
def add(request: Request, body: AddStories) -> list[Added]:
    settings = settings_of(request)
    with database(request).session() as session:
        results = add_stories(
            session,
            body.urls,
            now=_now(),
            tags=body.tags,
            selector=body.selector or None,
            allow_private_networks=settings.allow_private_networks,
            tracking=tracking_parameters(settings.tracking_parameters),
            render=body.render,
        )
    return [Added(id=r.story_id, url=r.url, created=r.created) for r in results]


@router.get("/stories/{story_id}", response_model=StoryOut, summary="One story")
def get_story(request: Request, story_id: StoryId) -> StoryOut:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        variants = [VariantOut(**variant_fields(v)) for v in story_variants(session, story.id)]
        return StoryOut(**story_fields(story), variants=variants)


@router.get(
    "/stories/{story_id}/variants",
    response_model=VariantList,
    summary="Headline variants and paragraphs that come and go",
)
def list_variants(request: Request, story_id: StoryId) -> dict[str, Any]:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        items = [variant_fields(v) for v in story_variants(session, story.id)]
        return {"since": story.variants_since, "items": items}


@router.patch("/stories/{story_id}", response_model=StoryOut, summary="Pause, resume or configure")
def update_story(request: Request, story_id: StoryId, body: StoryUpdate) -> StoryOut:
    change = StorySettings(
        interval=body.interval,
        min_interval=body.min_interval,
        max_interval=body.max_interval,
        robots=body.robots,
        ignore_patterns=tuple(body.ignore_patterns) if body.ignore_patterns is not None else None,
        selector=body.selector,
        render=body.render,
    )
    with database(request).session() as session:
        story = queries.get_story(session, story_id)
        if not change.empty():
            policy = CadencePolicy.from_settings(settings_of(request))
            configure_story(session, story, change, policy=policy, now=_now())
        if body.status is not None:
            set_status(session, story, StoryStatus(body.status), now=_now())
        session.flush()
        return story_out(story)


@router.delete("/stories/{story_id}", status_code=204, summary="Stop tracking; delete versions")
def delete_story(request: Request, story_id: StoryId) -> Response:
    with database(request).session() as session:
        remove_story(session, queries.get_story(session, story_id))
    return Response(status_code=204)


@router.post("/stories/{story_id}/check", response_model=CheckReportOut, summary="Check now")
def check_story(request: Request, story_id: StoryId) -> CheckReportOut:
    with database(request).session() as session:
        queries.get_story(session, story_id)
    report = run_check(request, story_id)
    return CheckReportOut(
        story_id=report.story_id,
        url=report.url,
        outcome=str(report.outcome),
        http_status=report.http_status,
        error=report.error,
        version=report.version_seq,
        kinds=list(report.kinds),
        summary=report.summary,
        events=list(report.events),
        status=str(report.status),
        next_check_at=report.next_check_at,
    )


# -- versions and diffs ----------------------------------------------------------------------


@router.get("/stories/{story_id}/versions", response_model=VersionList, summary="Versions")
def list_versions(
    request: Request,
    story_id: StoryId,
    limit: Limit = 50,
    offset: Offset = 0,
    order: Literal["newest", "oldest"] = "newest",
) -> dict[str, Any]:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        page = queries.version_page(
            session, story, limit=limit, offset=offset, newest_first=order == "newest"
        )
        return {"items": [version_summary_fields(v) for v in page.items], **_pagination(page)}


@router.get("/stories/{story_id}/versions/{seq}", response_model=VersionOut, summary="A version")
def get_one_version(request: Request, story_id: StoryId, seq: Seq) -> dict[str, Any]:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        version = get_version(session, story, seq)
        stamp = version_stamp(session, story.id, version.seq)
        timestamp = (
            {"id": stamp.timestamp_id, "tsa_url": stamp.tsa_url, "gen_time": stamp.gen_time}
            if stamp
            else None
        )
        return {**version_fields(story, version), "timestamp": timestamp}


class TimestampSummary(BaseModel):
    id: int
    requested_at: datetime
    tsa_url: str
    status: Literal["ok", "error"]
    gen_time: datetime | None = Field(description="The TSA's time; null when it failed.")
    heads: int = Field(description="How many stories' chain heads it covers.")
    hash_algorithm: str
    message_imprint: str = Field(description="Hex digest of the message of sorted leaves.")
    error: str | None = Field(description="Why the TSA gave no token, when it failed.")


class TimestampList(BaseModel):
    items: list[TimestampSummary]


class StampedHeadOut(BaseModel):
    url: str
    seq: int
    head: str = Field(description="The version's chain_sha256 as stamped.")


class TimestampOut(BaseModel):
    id: int
    tsa_url: str
    requested_at: datetime
    gen_time: datetime | None
    hash_algorithm: str
    message_imprint: str
    leaves: list[str] = Field(
        description="Every leaf of the message, sorted: sha256 of 'tracker-head/1', URL, "
        "seq and head, one per line."
    )
    heads: list[StampedHeadOut]
    token: str = Field(description="The TSA's TimeStampResp, DER, base64.")


@router.get("/timestamps", response_model=TimestampList, summary="RFC 3161 timestamps")
def list_timestamps(request: Request, limit: Limit = 50) -> dict[str, Any]:
    """The newest requests to the TSA, granted or failed."""
    with database(request).read_session() as session:
        rows = session.scalars(
            select(ChainTimestamp).order_by(ChainTimestamp.id.desc()).limit(limit)
        )
        return {
            "items": [
                {
                    "id": row.id,
                    "requested_at": row.requested_at,
                    "tsa_url": row.tsa_url,
                    "status": row.status,
                    "gen_time": row.gen_time,
                    "heads": row.heads_count,
                    "hash_algorithm": row.hash_algorithm,
                    "message_imprint": row.message_imprint,
                    "error": row.error,
                }
                for row in rows
            ]
        }


@router.get(
    "/timestamps/{timestamp_id}",
    response_model=TimestampOut,
    summary="A timestamp: its token and the heads it covers",
    responses={404: {"description": "No granted timestamp with this id"}},
)
def get_timestamp(
    request: Request, timestamp_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> dict[str, Any]:
    with database(request).read_session() as session:
        stamp = session.get(ChainTimestamp, timestamp_id)
        if stamp is None or stamp.status != TimestampStatus.OK:
            raise StoryNotFound(f"no granted timestamp {timestamp_id}")
        return timestamp_json(session, stamp)


@router.get(
    "/stories/{story_id}/versions/{seq}/raw",
    summary="The raw capture, as text/plain (never rendered)",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, 404: {"description": "No capture"}},
)
def get_raw(request: Request, story_id: StoryId, seq: Seq, download: bool = False) -> Response:
    return raw_capture_response(request, story_id, seq, download=download)


DiffFormat = Literal["json", "html", "side-by-side", "text", "unified"]


@router.get(
    "/stories/{story_id}/diff",
    response_model=DiffOut,
    summary="Diff two versions",
    description="No versions: the latest change. Only `to`: the change that made it. "
    "format=json (default) gives word ops; html and side-by-side give an HTML fragment "
    "(all page text escaped); text gives a plain word diff ([-old-]{+new+}); unified a "
    "paragraph diff.",
    responses={200: {"content": {"text/html": {}, "text/plain": {}}}},
)
def get_diff(
    request: Request,
    story_id: StoryId,
    from_: Annotated[int | None, Query(alias="from", ge=-(2**31), le=2**31 - 1)] = None,
    to: Annotated[int | None, Query(ge=-(2**31), le=2**31 - 1)] = None,
    format: DiffFormat = "json",
) -> Any:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        diff = queries.version_diff(session, story, from_, to)
    if format == "json":
        return diff_out(diff)
    if format in ("html", "side-by-side"):
        render = (
            diffing.render_html_inline if format == "html" else diffing.render_html_side_by_side
        )
        head = f"<h1>{diffing.render_html_phrase(diff.title)}</h1>\n" if diff.title else ""
        fields = [change.labelled() for change in field_changes(diff.before, diff.after)]
        head += diffing.render_html_lines(fields, side_by_side=format == "side-by-side")
        if diff.entries is not None:  # a live blog: entry by entry
            side = format == "side-by-side"
            return HTMLResponse(head + diffing.render_html_units(diff.entries, side_by_side=side))
        return HTMLResponse(head + render(diff.text))
    if format == "unified":
        return PlainTextResponse(
            diffing.render_unified(
                (diff.before.title or "") + "\n\n" + diff.before.text,
                (diff.after.title or "") + "\n\n" + diff.after.text,
                from_label=f"{diff.url} v{diff.before.seq}",
                to_label=f"{diff.url} v{diff.after.seq}",
            )
        )
    head = f"{diff.url}: v{diff.before.seq} → v{diff.after.seq}\n"
    if diff.title:
        head += "Headline: " + diffing.render_terminal(diff.title, color=False) + "\n"
    for change in field_changes(diff.before, diff.after):
        head += diffing.render_terminal(change.labelled(), color=False) + "\n"
    return PlainTextResponse(head + "\n" + diffing.render_terminal(diff.text, color=False))


# -- logs ----------------------------------------------------------------------------------


def check_out(check: Check, url: str) -> CheckOut:
    return CheckOut(
        id=check.id,
        story_id=check.story_id,
        url=url,
        started_at=check.started_at,
        duration_ms=check.duration_ms,
        wait_ms=check.wait_ms,
        outcome=check.outcome,
        http_status=check.http_status,
        error_kind=check.error_kind,
        error=check.error,
        bytes=check.bytes,
    )


def event_out(event: Event, url: str) -> EventOut:
    return EventOut(
        id=event.id,
        story_id=event.story_id,
        url=url,
        kind=event.kind,
        created_at=event.created_at,
        detail=event.detail,
        data=event.data,
    )


@router.get("/checks", response_model=CheckList, summary="The check log, newest first")
def list_checks(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    story_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    errors: bool = False,
) -> dict[str, Any]:
    with database(request).read_session() as session:
        if story_id is not None:
            queries.get_story(session, story_id)
        page = queries.check_page(
            session, limit=limit, offset=offset, story_id=story_id, errors_only=errors
        )
        return {"items": [check_out(c, url) for c, url in page.items], **_pagination(page)}


@router.get("/events", response_model=EventList, summary="Story events, newest first")
def list_events(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    story_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    with database(request).read_session() as session:
        if story_id is not None:
            queries.get_story(session, story_id)
        page = queries.event_page(session, limit=limit, offset=offset, story_id=story_id)
        return {"items": [event_out(e, url) for e, url in page.items], **_pagination(page)}


# -- alerts: channels and the delivery log (read-only; secrets never leave) -----------------


DeliveryStatusName = Literal["pending", "failed", "sent", "dead"]
ChannelRef = Annotated[
    SafeText, Path(min_length=1, max_length=100, description="The channel's name, or its id.")
]
DeliveryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The delivery's id.")]


class DeliveryCounts(BaseModel):
    pending: int
    failed: int
    sent: int
    dead: int


class ChannelOut(BaseModel):
    id: int
    name: str
    kind: str
    target: str = Field(description="Masked: no password, token or query value is shown.")
    has_secret: bool = Field(description="Whether a signing secret is set (it is never shown).")
    tags: list[str]
    stories: list[str]
    min_kind: str | None
    events: list[str]
    digest_seconds: int | None
    enabled: bool
    source: str = Field(description="cli or settings: where the channel is managed.")
    created_at: datetime
    deliveries: DeliveryCounts


class ChannelList(Pagination):
    items: list[ChannelOut]


class DeliveryOut(BaseModel):
    id: int
    channel: str
    channel_id: int
    story_id: int
    url: str
    version: int | None = Field(description="The version announced (null for an event).")
    event_id: int | None
    trigger: str
    events: list[str]
    status: DeliveryStatusName
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    idempotency_key: str


class DeliveryList(Pagination):
    items: list[DeliveryOut]


class AttemptOut(BaseModel):
    number: int
    started_at: datetime
    duration_ms: int
    ok: bool
    status_code: int | None = Field(description="HTTP status or SMTP reply code.")
    response: str | None = Field(description="SMTP reply or the start of the HTTP body.")
    error: str | None
    worker: str | None


class DeliveryDetail(DeliveryOut):
    attempt_log: list[AttemptOut]


def channel_out(row: alerts.ChannelRow) -> ChannelOut:
    channel = row.channel
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        kind=channel.kind,
        target=row.target,
        has_secret=bool(channel.secret),
        tags=list(channel.tags or []),
        stories=list(channel.stories or []),
        min_kind=channel.min_kind,
        events=list(channel.events or []),
        digest_seconds=channel.digest_seconds,
        enabled=channel.enabled,
        source=channel.source,
        created_at=channel.created_at,
        deliveries=DeliveryCounts(**row.counts),
    )


def delivery_out(row: alerts.DeliveryRow) -> dict[str, Any]:
    delivery = row.delivery
    return {
        "id": delivery.id,
        "channel": row.channel,
        "channel_id": delivery.channel_id,
        "story_id": delivery.story_id,
        "url": row.url,
        "version": row.version,
        "event_id": delivery.event_id,
        "trigger": delivery.trigger,
        "events": list(delivery.events or []),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
        "sent_at": delivery.sent_at,
        "last_error": row.last_error,  # masked
        "idempotency_key": delivery.idempotency_key,
    }


@router.get("/channels", response_model=ChannelList, summary="Alert channels (secrets hidden)")
def list_channels(request: Request, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    with database(request).read_session() as session:
        page = alerts.channel_page(session, limit=limit, offset=offset)
        return {"items": [channel_out(row) for row in page.items], **_pagination(page)}


@router.get("/channels/{name_or_id}", response_model=ChannelOut, summary="One alert channel")
def get_channel(request: Request, name_or_id: ChannelRef) -> ChannelOut:
    with database(request).read_session() as session:
        return channel_out(alerts.channel_row(session, alerts.find_channel(session, name_or_id)))


# -- the web-archive hand-off ------------------------------------------------------------------


class ArchiveSubmissionOut(BaseModel):
    story_id: int
    url: str
    seq: int
    status: Literal["pending", "submitted", "archived", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None


class ArchiveStatusOut(BaseModel):
    enabled: bool = Field(description="Is archive_endpoint set (the daemon submits versions)?")
    counts: dict[str, int] = Field(description="Submissions by status.")
    unfinished: list[ArchiveSubmissionOut] = Field(
        description="Submissions not archived yet: failed first, then the oldest waiting."
    )


@router.get("/archive", response_model=ArchiveStatusOut, summary="The web-archive hand-off")
def archive_status(request: Request, limit: Limit = 50) -> dict[str, Any]:
    from tracker.pipeline.web_archive import queue_summary, unfinished

    with database(request).read_session() as session:
        summary = queue_summary(session)
        rows = [
            {
                "story_id": row.story_id,
                "url": row.url,
                "seq": seq,
                "status": row.status,
                "attempts": row.attempts,
                "next_attempt_at": row.next_attempt_at,
                "last_error": row.last_error,
            }
            for row, seq in unfinished(session, limit=limit)
        ]
    return {
        "enabled": settings_of(request).archive_endpoint is not None,
        "counts": summary.counts,
        "unfinished": rows,
    }


@router.get("/deliveries", response_model=DeliveryList, summary="The delivery log, newest first")
def list_deliveries(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    status: DeliveryStatusName | None = None,
    channel: Annotated[
        SafeText | None, Query(max_length=100, description="A channel's name or id.")
    ] = None,
) -> dict[str, Any]:
    with database(request).read_session() as session:
        page = alerts.delivery_page(
            session,
            limit=limit,
            offset=offset,
            status=status,
            channel=channel or None,
            settings=settings_of(request),
        )
        return {"items": [delivery_out(row) for row in page.items], **_pagination(page)}


@router.get(
    "/deliveries/{delivery_id}", response_model=DeliveryDetail, summary="A delivery's attempts"
)
def get_delivery(request: Request, delivery_id: DeliveryId) -> dict[str, Any]:
    with database(request).read_session() as session:
        row = alerts.get_delivery(session, delivery_id, settings_of(request))
        attempts = [
            AttemptOut(
                number=a.number,
                started_at=a.started_at,
                duration_ms=a.duration_ms,
                ok=a.ok,
                status_code=a.status_code,
                response=a.response,
                error=a.error,
                worker=a.worker,
            )
            for a in row.attempts  # masked
        ]
        return {**delivery_out(row), "attempt_log": attempts}


# -- search ------------------------------------------------------------------------------


class MarkedPiece(BaseModel):
    text: str
    match: bool = Field(description="Whether this piece is what the query matched.")


class SearchStory(BaseModel):
    id: int
    url: str
    title: str | None = Field(description="The story's headline now.")
    status: str
    tags: list[str]


class SearchVersion(BaseModel):
    seq: int
    captured_at: datetime
    snippet: str | None = Field(
        description="Where it was said (for the newest three versions of a story; null for "
        "the others)."
    )
    snippet_marked: list[MarkedPiece] | None = Field(
        description="The snippet in pieces, the matches marked."
    )


class SearchHeadline(BaseModel):
    headline: str
    current: bool = Field(description="false: a past headline, no longer the story's.")
    marked: list[MarkedPiece]


class SearchHit(BaseModel):
    story: SearchStory
    newest_at: datetime = Field(description="When the newest version that said it was captured.")
    versions_matched: int
    versions: list[SearchVersion] = Field(description="The versions that said it, newest first.")
    headlines: list[SearchHeadline] = Field(
        description="The headlines of those versions that contain a term of the query."
    )


class SearchOut(BaseModel):
    total: int | None = Field(
        description="Stories in all; null when more matched than were read for this page "
        "(next_offset then says there is a next page)."
    )
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")
    query: str = Field(description="The query as read: words, and phrases in quotes.")
    terms: list[str]
    items: list[SearchHit] = Field(description="Stories, newest first.")


@router.get("/search", response_model=SearchOut, summary="Stories that ever said something")
def search_versions(
    request: Request,
    q: Annotated[
        SafeText,
        Query(
            max_length=500,
            description='Words and "quoted phrases"; a story matches when one of its '
            "versions (text or headlines) says every one of them.",
        ),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=100, description="Stories per page.")] = 20,
    offset: Offset = 0,
    tag: Annotated[SafeText | None, Query(max_length=100)] = None,
    site: Annotated[
        SafeText | None, Query(max_length=253, description="Host name, e.g. example.com.")
    ] = None,
) -> dict[str, Any]:
    with database(request).read_session() as session:
        results = search(session, q, limit=limit, offset=offset, tag=tag or None, site=site or None)
        return results_fields(results)

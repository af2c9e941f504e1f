"""The HTML pages: server-rendered, working without scripts, every piece of page text escaped."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from tracker.core import diffing, folding, liveblog
from tracker.core.article import Entry
from tracker.core.cadence import CadencePolicy, format_duration
from tracker.core.discover import tracking_parameters
from tracker.core.field_changes import field_changes
from tracker.core.health import suggestion_for
from tracker.core.lifecycle import LIFECYCLE_EVENTS, Lifecycle
from tracker.services.serialize import archive_fields
from tracker.services.stories import (
    StoryError,
    StoryNotFound,
    StorySettings,
    add_stories,
    configure_story,
    remove_story,
    set_status,
    story_settings,
)
from tracker.services.variants import story_variants
from tracker.store.alert_models import Channel
from tracker.store.models import StoryStatus
from tracker.store.timestamps import first_stamps, version_stamp
from tracker.web import alerts, cards, queries
from tracker.web.api import RenderChoice, SafeText
from tracker.web.charts import ChartPoint, changes_chart
from tracker.web.deps import (
    database,
    raw_capture_response,
    run_check,
    screenshot_response,
    settings_of,
)
from tracker.web.security import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    LoginLimiter,
    require_csrf,
    safe_next,
)

router = APIRouter(include_in_schema=False)

StoryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Seq = Annotated[int, Path(ge=-(2**31), le=2**31 - 1)]
DeliveryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PageSize = 50
Offset = Annotated[int, Query(ge=0, le=10**9)]
Csrf = Depends(require_csrf)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, template, {"now": datetime.now(UTC), **context}, status_code=status_code
    )


def error_page(request: Request, status: int, message: str) -> Response:
    if not hasattr(request.state, "csrf_cookie"):
        request.state.csrf_cookie = ""
    return render(request, "error.html", status_code=status, status=status, message=message)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _now() -> datetime:
    return datetime.now(UTC)


# -- stories list --------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def stories(
    request: Request,
    q: Annotated[SafeText | None, Query(max_length=200)] = None,
    status: Literal["", "active", "paused", "retired", "gone"] = "",
    tag: Annotated[SafeText | None, Query(max_length=100)] = None,
    developing: bool = False,
    sort: Literal["last_changed", "next_check", "added", "versions"] = "last_changed",
    offset: Offset = 0,
) -> Response:
    with database(request).read_session() as session:
        page = queries.story_page(
            session,
            limit=PageSize,
            offset=offset,
            sort=sort,
            status=status or None,
            tag=tag or None,
            developing=True if developing else None,
            search=q or None,
        )
        tags = queries.all_tags(session)
        session.expunge_all()
    return render(
        request,
        "stories.html",
        page=page,
        tags=tags,
        q=q or "",
        status=status,
        tag=tag or "",
        developing=developing,
        sort=sort,
    )


# -- adding --------------------------------------------------------------------------------


@router.get("/add", response_class=HTMLResponse)
def add_form(request: Request) -> Response:
    return render(request, "add.html", urls="", tags="", selector="", error=None)


@router.post("/add", dependencies=[Csrf])
def add_submit(
    request: Request,
    urls: Annotated[SafeText, Form(max_length=200_000)] = "",
    tags: Annotated[SafeText, Form(max_length=2000)] = "",
    selector: Annotated[SafeText, Form(max_length=1000)] = "",
) -> Response:
    url_list = [line.strip() for line in urls.splitlines() if line.strip()]
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]
    error = None
    if not url_list:
        error = "give at least one URL"
    elif any(len(t) > 100 for t in tag_list):
        error = "tags are at most 100 characters"
    else:
        try:
            with database(request).session() as session:
                results = add_stories(
                    session,
                    url_list,
                    now=_now(),
                    tags=tag_list,
                    selector=selector.strip() or None,
                    allow_private_networks=settings_of(request).allow_private_networks,
                    tracking=tracking_parameters(settings_of(request).tracking_parameters),
                )
        except StoryError as exc:
            error = str(exc)
    if error is not None:
        return render(
            request,
            "add.html",
            status_code=400,
            urls=urls,
            tags=tags,
            selector=selector,
            error=error,
        )
    if len(results) == 1:
        return _redirect(f"/stories/{results[0].story_id}")
    return _redirect("/?sort=added")


# -- one story -----------------------------------------------------------------------------


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, story_id: StoryId) -> Response:
    notice = _read_notice(request.cookies.get(NOTICE_COOKIE))
    response = _render_story(request, story_id, notice=notice)
    if NOTICE_COOKIE in request.cookies:  # shown once
        response.delete_cookie(NOTICE_COOKIE, path=_story_path(story_id))
    return response


def _render_story(
    request: Request,
    story_id: int,
    *,
    status_code: int = 200,
    form: SettingsForm | None = None,
    settings_error: str | None = None,
    notice: list[str] | None = None,
) -> Response:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        versions = queries.all_version_summaries(session, story)
        events = queries.event_page(session, limit=20, offset=0, story_id=story_id)
        checks = queries.check_page(session, limit=10, offset=0, story_id=story_id)
        entries = queries.latest_entries(session, story)
        variants = story_variants(session, story.id) if story.variants_since else []
        stamps = first_stamps(session, story_id)
        _ = story.tag_names
        own = story_settings(story)
        session.expunge_all()
    latest = versions[-1] if versions else None
    # Not live (unpublished, redirected, paywalled): said at the top, with the event's words.
    lifecycle_event = None
    if story.lifecycle != Lifecycle.LIVE:
        lifecycle_event = next(
            (event for event, _ in events.items if event.kind in LIFECYCLE_EVENTS), None
        )
    # The newest timestamp still matching the chain covers every version up to its head.
    stamp = max(stamps, key=lambda s: s.seq, default=None)
    suspect = None
    if story.extraction_health == "suspect" and latest is not None:
        reasons = list(latest.health_reasons or [])
        codes = [reason["code"] for reason in reasons]
        suspect = {"reasons": reasons, "advice": suggestion_for(codes, latest.text_source)}
    chart = changes_chart(
        [
            ChartPoint(v.seq, v.captured_at, v.words_added, v.words_removed, tuple(v.kinds or ()))
            for v in versions
        ],
        link=f"/stories/{story_id}/versions/{{seq}}",
    )
    return render(
        request,
        "story.html",
        status_code=status_code,
        story=story,
        versions=list(reversed(versions)),
        chart=chart,
        suspect=suspect,
        lifecycle_event=lifecycle_event,
        latest=latest,
        stamp=stamp,
        entries=[_entry_view(entry) for entry in entries],
        variants=variants,
        events=events.items,
        checks=checks.items,
        own=own,
        global_settings=_global_settings(request),
        form=(form or SettingsForm()).over(own),
        settings_error=settings_error,
        notice=notice,
    )


def _entry_view(entry: Entry) -> dict[str, Any]:
    """What the story page's live-blog timeline shows of one entry."""
    return {
        "key": entry.key,
        # A machine-readable time only when the page stated one (not "9:12 a.m.").
        "datetime": entry.time if entry.time and entry.time[:4].isdigit() else None,
        "label": liveblog.entry_label(entry),
        "headline": entry.headline,
        "paragraphs": [p for p in entry.text.split("\n\n") if p.strip()],
        "pinned": entry.pinned,
    }


def _set_status(request: Request, story_id: int, status: StoryStatus) -> Response:
    with database(request).session() as session:
        set_status(session, queries.get_story(session, story_id), status, now=_now())
    return _redirect(f"/stories/{story_id}")


@router.post("/stories/{story_id}/pause", dependencies=[Csrf])
def pause(request: Request, story_id: StoryId) -> Response:
    return _set_status(request, story_id, StoryStatus.PAUSED)


@router.post("/stories/{story_id}/resume", dependencies=[Csrf])
def resume(request: Request, story_id: StoryId) -> Response:
    return _set_status(request, story_id, StoryStatus.ACTIVE)


@router.post("/stories/{story_id}/check", dependencies=[Csrf])
def check_now(request: Request, story_id: StoryId) -> Response:
    with database(request).session() as session:
        queries.get_story(session, story_id)
    run_check(request, story_id)
    return _redirect(f"/stories/{story_id}")


@router.get("/stories/{story_id}/remove", response_class=HTMLResponse)
def remove_confirm(request: Request, story_id: StoryId) -> Response:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        session.expunge(story)
    return render(request, "remove.html", story=story)


@router.post("/stories/{story_id}/remove", dependencies=[Csrf])
def remove(request: Request, story_id: StoryId) -> Response:
    with database(request).session() as session:
        remove_story(session, queries.get_story(session, story_id))
    return _redirect("/")


# -- a story's own settings (as `tracker set` and PATCH /api/v1/stories/{id}) -------------

NOTICE_COOKIE = "tracker_notice"
# A cookie holds about 4 KB: long change lines (a 500-character pattern) are cut short.
_NOTICE_LINES = 10
_NOTICE_LINE_CHARS = 200
_MAX_PATTERNS = 50  # the API's limits, so the form accepts what the API accepts
_MAX_PATTERN_CHARS = 500
_MAX_SELECTOR_CHARS = 1000
FormText = Annotated[SafeText, Form(max_length=1000)]


@dataclass(frozen=True)
class SettingsForm:
    """What the settings form shows: the story's values, or what was typed before an error.

    Durations start blank (blank keeps the story's value); the robots choice, the ignore
    list and the selector start as the story has them and are saved as the form holds them.
    None (the page as first shown): the story's value.
    """

    interval: str = ""
    min_interval: str = ""
    max_interval: str = ""
    robots: str | None = None
    ignore_patterns: str | None = None
    selector: str | None = None
    render: str | None = None

    def over(self, own: dict[str, Any]) -> SettingsForm:
        """This form, with the story's own values where nothing was typed."""
        return replace(
            self,
            robots=self.robots if self.robots is not None else str(own["robots"]),
            ignore_patterns=self.ignore_patterns
            if self.ignore_patterns is not None
            else "\n".join(own["ignore_patterns"]),
            selector=self.selector if self.selector is not None else own["selector"] or "",
            render=self.render if self.render is not None else str(own["render"]),
        )


def _story_path(story_id: int) -> str:
    return f"/stories/{story_id}"


def _global_settings(request: Request) -> dict[str, str]:
    """What "global setting" means for each of a story's own settings, for the page."""
    settings = settings_of(request)
    policy = CadencePolicy.from_settings(settings)

    def duration(value: Any, otherwise: str) -> str:
        return format_duration(value) if value else otherwise

    return {
        "interval": duration(policy.fixed_interval, "adaptive schedule"),
        "min_interval": duration(policy.min_interval, "no lower bound"),
        "max_interval": duration(policy.max_interval, "no upper bound"),
        "robots": "respect" if settings.respect_robots_txt else "ignore",
        "render": settings.render,
    }


def _settings_change(
    interval: str,
    min_interval: str,
    max_interval: str,
    robots: str | None,
    ignore_patterns: str,
    selector: str,
    render: str | None = None,
) -> StorySettings:
    """The form as a change; raises StoryError for input over the API's limits."""
    # One regular expression a line, kept as typed (a trailing space may matter).
    patterns = tuple(line for line in ignore_patterns.splitlines() if line.strip())
    if len(patterns) > _MAX_PATTERNS:
        raise StoryError(f"ignore patterns: at most {_MAX_PATTERNS}")
    if any(len(pattern) > _MAX_PATTERN_CHARS for pattern in patterns):
        raise StoryError(f"ignore patterns: at most {_MAX_PATTERN_CHARS} characters each")
    if len(selector) > _MAX_SELECTOR_CHARS:
        raise StoryError(f"selector: at most {_MAX_SELECTOR_CHARS} characters")
    return StorySettings(
        interval=interval.strip() or None,
        min_interval=min_interval.strip() or None,
        max_interval=max_interval.strip() or None,
        robots=robots,
        ignore_patterns=patterns,
        selector=selector,
        render=render,
    )


def _encode_notice(lines: list[str]) -> str:
    shown = [
        line if len(line) <= _NOTICE_LINE_CHARS else line[: _NOTICE_LINE_CHARS - 1] + "…"
        for line in lines[:_NOTICE_LINES]
    ]
    if len(lines) > _NOTICE_LINES:
        shown.append(f"… and {len(lines) - _NOTICE_LINES} more")
    # base64: cookie values cannot hold the arrows, quotes and spaces of the change lines.
    return base64.urlsafe_b64encode(json.dumps(shown).encode()).decode()


def _read_notice(cookie: str | None) -> list[str] | None:
    if not cookie:
        return None
    try:
        lines = json.loads(base64.urlsafe_b64decode(cookie.encode()))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        return None
    return lines[: _NOTICE_LINES + 1]


@router.post("/stories/{story_id}/settings", dependencies=[Csrf])
def settings_submit(
    request: Request,
    story_id: StoryId,
    interval: FormText = "",
    min_interval: FormText = "",
    max_interval: FormText = "",
    robots: Annotated[Literal["respect", "ignore", "default"] | None, Form()] = None,
    ignore_patterns: Annotated[SafeText, Form(max_length=100_000)] = "",
    selector: Annotated[SafeText, Form(max_length=10_000)] = "",
    render: Annotated[RenderChoice | None, Form()] = None,
) -> Response:
    """Apply the settings form.

    Blank durations and a missing robots choice leave those settings alone. The ignore list
    and the selector are saved as the form holds them: a browser sends an emptied field as
    "", which FastAPI cannot tell from a missing one, so both mean "none"."""
    typed = SettingsForm(
        interval=interval,
        min_interval=min_interval,
        max_interval=max_interval,
        robots=robots,
        ignore_patterns=ignore_patterns,
        selector=selector,
        render=render,
    )
    try:
        change = _settings_change(
            interval, min_interval, max_interval, robots, ignore_patterns, selector, render
        )
        with database(request).session() as session:
            story = queries.get_story(session, story_id)
            changes = (
                []
                if change.empty()
                else configure_story(
                    session,
                    story,
                    change,
                    policy=CadencePolicy.from_settings(settings_of(request)),
                    now=_now(),
                )
            )
    except StoryNotFound:
        raise
    except StoryError as exc:  # nothing was written: configure_story validates first
        return _render_story(
            request, story_id, status_code=400, form=typed, settings_error=str(exc)
        )
    response = _redirect(_story_path(story_id))
    response.set_cookie(
        NOTICE_COOKIE,
        _encode_notice(changes or ["nothing changed"]),
        max_age=300,
        path=_story_path(story_id),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


# -- versions and diffs --------------------------------------------------------------------


@router.get("/stories/{story_id}/versions/{seq}", response_class=HTMLResponse)
def version_page(request: Request, story_id: StoryId, seq: Seq) -> Response:
    from tracker.services.stories import get_version

    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        version = get_version(session, story, seq)
        archive = archive_fields(version)
        stamp = version_stamp(session, story.id, version.seq)
        session.expunge_all()
    paragraphs = [p.strip() for p in version.text.split("\n\n") if p.strip()]
    return render(
        request,
        "version.html",
        story=story,
        version=version,
        paragraphs=paragraphs,
        archive=archive,
        stamp=stamp,
    )


@router.get("/stories/{story_id}/versions/{seq}/screenshot.png")
def version_screenshot(request: Request, story_id: StoryId, seq: Seq) -> Response:
    return screenshot_response(request, story_id, seq)


@router.get("/stories/{story_id}/versions/{seq}/raw")
def version_raw(request: Request, story_id: StoryId, seq: Seq, download: bool = False) -> Response:
    return raw_capture_response(request, story_id, seq, download=download)


@router.get("/stories/{story_id}/diff")
def diff_latest(
    request: Request,
    story_id: StoryId,
    from_: Annotated[int | None, Query(alias="from", ge=-(2**31), le=2**31 - 1)] = None,
    to: Annotated[int | None, Query(ge=-(2**31), le=2**31 - 1)] = None,
    view: Literal["inline", "side"] = "inline",
    show: Literal["changes", "all"] | None = None,
) -> Response:
    """The version picker's target: resolves the range and redirects to its permalink."""
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        start, end = queries.resolve_range(story, from_, to)
    return _redirect(_diff_href(story_id, start, end, view, show))


ReadingMode = Literal["changes", "all"]


def _diff_href(
    story_id: int, start: int, end: int, view: str, show: ReadingMode | None = None
) -> str:
    """A diff page's address, with the layout and reading mode when they are not defaults."""
    query = {"view": "side"} if view == "side" else {}
    if show is not None:
        query["show"] = show
    suffix = f"?{urlencode(query)}" if query else ""
    return f"/stories/{story_id}/diff/{start}/{end}{suffix}"


@router.get("/stories/{story_id}/diff/{from_seq}/{to_seq}", response_class=HTMLResponse)
def diff_page(
    request: Request,
    story_id: StoryId,
    from_seq: Seq,
    to_seq: Seq,
    view: Literal["inline", "side"] = "inline",
    show: ReadingMode | None = None,
) -> Response:
    """A diff; `show=changes` folds unchanged paragraphs away, `show=all` shows them all,
    and without it long articles open changes-only (core.folding.folds_by_default)."""
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        diff = queries.version_diff(session, story, from_seq, to_seq)
        choices = queries.version_choices(session, story_id)
        session.expunge_all()
    start, end = diff.before.seq, diff.after.seq
    paragraphs = max(
        diffing.count_paragraphs(diff.before.text), diffing.count_paragraphs(diff.after.text)
    )
    # A live blog is read entry by entry: its length is its number of entries.
    length = len(diff.entries) if diff.entries is not None else paragraphs
    changes_only = show == "changes" if show is not None else folding.folds_by_default(length)
    context = folding.CONTEXT_PARAGRAPHS if changes_only else None
    full_href = _diff_href(story_id, start, end, view, "all")
    if diff.entries is not None:  # a live blog: entry by entry, each aligned with itself
        body = diffing.render_html_units(
            diff.entries,
            side_by_side=view == "side",
            before_label=f"Version {start}",
            after_label=f"Version {end}",
            context=context,
            full_href=full_href,
            navigate=True,
        )
    elif view == "side":
        body = diffing.render_html_side_by_side(
            diff.text,
            before_label=f"Version {start}",
            after_label=f"Version {end}",
            context=context,
            full_href=full_href,
            navigate=True,
        )
    else:
        body = diffing.render_html_inline(
            diff.text, context=context, full_href=full_href, navigate=True
        )
    fields = field_changes(diff.before, diff.after)
    fields_html = diffing.render_html_lines(
        [change.labelled() for change in fields], side_by_side=view == "side"
    )
    # Inline HTML only: the headline's diff sits inside an <h2>.
    title = diffing.render_html_phrase(diff.title) if diff.title else None
    count = story.version_count
    step = end - start
    previous = next_ = None
    if min(start, end) > 1:
        previous = _diff_href(story_id, start - 1, end - 1, view, show)
    if max(start, end) < count:
        next_ = _diff_href(story_id, start + 1, end + 1, view, show)
    return render(
        request,
        "diff.html",
        story=story,
        diff=diff,
        body=body,
        fields_html=fields_html,
        title_diff=title,
        view=view,
        show=show,
        changes_only=changes_only,
        step=step,
        previous=previous,
        previous_range=(start - 1, end - 1),
        next=next_,
        next_range=(start + 1, end + 1),
        hrefs={
            "inline": _diff_href(story_id, start, end, "inline", show),
            "side": _diff_href(story_id, start, end, "side", show),
            "changes": _diff_href(story_id, start, end, view, "changes"),
            "all": _diff_href(story_id, start, end, view, "all"),
            "self": _diff_href(story_id, start, end, view, show),
        },
        choices=choices,
        card=cards.card_share(request, story_id, diff.after.seq) if diff.consecutive else None,
    )


# -- logs ----------------------------------------------------------------------------------


@router.get("/checks", response_class=HTMLResponse)
def checks_page(
    request: Request,
    errors: bool = False,
    story: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    offset: Offset = 0,
) -> Response:
    with database(request).read_session() as session:
        if story is not None:
            queries.get_story(session, story)
        page = queries.check_page(
            session, limit=PageSize, offset=offset, story_id=story, errors_only=errors
        )
        titles = queries.story_titles(session, [check.story_id for check, _ in page.items])
        session.expunge_all()
    return render(request, "checks.html", page=page, errors=errors, story=story, titles=titles)


@router.get("/events", response_class=HTMLResponse)
def events_page(request: Request, offset: Offset = 0) -> Response:
    with database(request).read_session() as session:
        page = queries.event_page(session, limit=PageSize, offset=offset)
        titles = queries.story_titles(session, [event.story_id for event, _ in page.items])
        session.expunge_all()
    return render(request, "events.html", page=page, titles=titles)


# -- alerts (channels are managed in tracker.web.manage) ----------------------------------


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries_page(
    request: Request,
    status: Literal["", "pending", "failed", "sent", "dead"] = "",
    channel: Annotated[SafeText, Query(max_length=100)] = "",
    offset: Offset = 0,
) -> Response:
    with database(request).read_session() as session:
        page = alerts.delivery_page(
            session,
            limit=PageSize,
            offset=offset,
            status=status or None,
            channel=channel or None,
            settings=settings_of(request),
        )
        channels = list(session.scalars(select(Channel.name).order_by(Channel.name).limit(200)))
        titles = queries.story_titles(session, [row.delivery.story_id for row in page.items])
        session.expunge_all()
    return render(
        request,
        "deliveries.html",
        page=page,
        status=status,
        channel=channel,
        channels=channels,
        statuses=alerts.STATUSES,
        titles=titles,
    )


@router.get("/deliveries/{delivery_id}", response_class=HTMLResponse)
def delivery_page(request: Request, delivery_id: DeliveryId) -> Response:
    with database(request).read_session() as session:
        row = alerts.get_delivery(session, delivery_id, settings_of(request))
        attempts = list(row.attempts)  # errors and replies masked
        session.expunge_all()
    return render(request, "delivery.html", row=row, attempts=attempts)


# -- login ---------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    token: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    guard = request.app.state.guard
    if not guard.required:
        return _redirect(safe_next(next))
    limiter: LoginLimiter = request.app.state.login_limiter
    client = request.client.host if request.client else "unknown"
    if wait := limiter.retry_after(client):
        response = render(
            request,
            "login.html",
            status_code=429,
            next=safe_next(next),
            error=f"too many wrong tokens: try again in {wait} s",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if not guard.token_ok(token):
        limiter.failed(client)
        return render(
            request, "login.html", status_code=401, next=safe_next(next), error="wrong token"
        )
    limiter.succeeded(client)
    response = _redirect(safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        guard.new_session(),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> Response:
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response

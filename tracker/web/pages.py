"""The HTML pages: server-rendered, no scripts, every piece of page text escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from tracker import diffing
from tracker.discover import tracking_parameters
from tracker.models import StoryStatus
from tracker.notify.models import Channel
from tracker.stories import StoryError, add_stories, remove_story, set_status
from tracker.web import alerts, queries
from tracker.web.api import SafeText
from tracker.web.charts import ChartPoint, changes_chart
from tracker.web.deps import database, raw_capture_response, run_check, settings_of
from tracker.web.security import SESSION_COOKIE, SESSION_MAX_AGE, require_csrf, safe_next

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
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        versions = queries.all_version_summaries(session, story)
        events = queries.event_page(session, limit=20, offset=0, story_id=story_id)
        checks = queries.check_page(session, limit=10, offset=0, story_id=story_id)
        _ = story.tag_names
        session.expunge_all()
    chart = changes_chart(
        [ChartPoint(v.seq, v.captured_at, v.words_added, v.words_removed) for v in versions],
        link=f"/stories/{story_id}/versions/{{seq}}",
    )
    return render(
        request,
        "story.html",
        story=story,
        versions=list(reversed(versions)),
        chart=chart,
        events=events.items,
        checks=checks.items,
    )


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


# -- versions and diffs --------------------------------------------------------------------


@router.get("/stories/{story_id}/versions/{seq}", response_class=HTMLResponse)
def version_page(request: Request, story_id: StoryId, seq: Seq) -> Response:
    from tracker.stories import get_version

    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        version = get_version(session, story, seq)
        session.expunge_all()
    paragraphs = [p.strip() for p in version.text.split("\n\n") if p.strip()]
    return render(request, "version.html", story=story, version=version, paragraphs=paragraphs)


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
) -> Response:
    """The version picker's target: resolves the range and redirects to its permalink."""
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        start, end = queries.resolve_range(story, from_, to)
    suffix = "?view=side" if view == "side" else ""
    return _redirect(f"/stories/{story_id}/diff/{start}/{end}{suffix}")


@router.get("/stories/{story_id}/diff/{from_seq}/{to_seq}", response_class=HTMLResponse)
def diff_page(
    request: Request,
    story_id: StoryId,
    from_seq: Seq,
    to_seq: Seq,
    view: Literal["inline", "side"] = "inline",
) -> Response:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        diff = queries.version_diff(session, story, from_seq, to_seq)
        session.expunge_all()
    if view == "side":
        body = diffing.render_html_side_by_side(
            diff.text,
            before_label=f"Version {diff.before.seq}",
            after_label=f"Version {diff.after.seq}",
        )
    else:
        body = diffing.render_html_inline(diff.text)
    title = diffing.render_html_inline(diff.title) if diff.title else None
    count = story.version_count
    step = diff.after.seq - diff.before.seq
    previous = next_ = None
    if min(diff.before.seq, diff.after.seq) > 1:
        previous = (diff.before.seq - 1, diff.after.seq - 1)
    if max(diff.before.seq, diff.after.seq) < count:
        next_ = (diff.before.seq + 1, diff.after.seq + 1)
    return render(
        request,
        "diff.html",
        story=story,
        diff=diff,
        body=body,
        title_diff=title,
        view=view,
        step=step,
        previous=previous,
        next=next_,
        seqs=range(count, 0, -1),
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
        session.expunge_all()
    return render(request, "checks.html", page=page, errors=errors, story=story)


@router.get("/events", response_class=HTMLResponse)
def events_page(request: Request, offset: Offset = 0) -> Response:
    with database(request).read_session() as session:
        page = queries.event_page(session, limit=PageSize, offset=offset)
        session.expunge_all()
    return render(request, "events.html", page=page)


# -- alerts (read-only: channels are managed with `tracker channel` or the settings file) --


@router.get("/channels", response_class=HTMLResponse)
def channels_page(request: Request, offset: Offset = 0) -> Response:
    with database(request).read_session() as session:
        page = alerts.channel_page(session, limit=PageSize, offset=offset)
        session.expunge_all()
    return render(request, "channels.html", page=page)


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
        )
        channels = list(session.scalars(select(Channel.name).order_by(Channel.name).limit(200)))
        session.expunge_all()
    return render(
        request,
        "deliveries.html",
        page=page,
        status=status,
        channel=channel,
        channels=channels,
        statuses=alerts.STATUSES,
    )


@router.get("/deliveries/{delivery_id}", response_class=HTMLResponse)
def delivery_page(request: Request, delivery_id: DeliveryId) -> Response:
    with database(request).read_session() as session:
        row = alerts.get_delivery(session, delivery_id)
        attempts = list(row.delivery.attempt_log)
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
    if not guard.token_ok(token):
        return render(
            request, "login.html", status_code=401, next=safe_next(next), error="wrong token"
        )
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

"""Managing alert channels and followed feeds from the web UI, as `tracker channel` and
`tracker feed` do, through the same services (tracker.services.channels, .feeds).

Every form posts with a CSRF token. Secrets are never written into a page: a target is shown
masked by its kind, a typed secret is not put back into the form after an error, and the
only secret ever shown is a signing secret the tracker has just made (once, as the CLI does,
on a page that is not cached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from tracker.core.kinds import EDIT_TYPES, kind_label
from tracker.notify.kinds import ChannelError, kinds
from tracker.notify.payload import ALERT_EVENTS, DEFAULT_EVENTS
from tracker.notify.spec import DEFAULT_MIN_KIND, KIND_NAMES
from tracker.services.channels import (
    TestReport,
    create_channel,
    destination,
    send_test_alert,
    test_subject,
)
from tracker.services.feeds import (
    FeedNotFound,
    FeedPoller,
    PollReport,
    find_feed,
    follow_feed,
    list_feeds,
    remove_feed,
    set_feed_paused,
)
from tracker.services.stories import StoryError
from tracker.store.alert_models import Channel
from tracker.store.channels import remove_channel, set_enabled
from tracker.store.feed_models import Feed
from tracker.web import alerts
from tracker.web.api import SafeText
from tracker.web.deps import database, settings_of
from tracker.web.security import require_csrf

router = APIRouter(include_in_schema=False)

Csrf = Depends(require_csrf)
ChannelId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FeedId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Short = Annotated[SafeText, Form(max_length=200)]
Long = Annotated[SafeText, Form(max_length=20_000)]
# Kinds most to least significant, as a reader would pick them ("headline", "correction" first).
KIND_CHOICES = tuple((name, kind_label(name)) for name in reversed(KIND_NAMES))
EDIT_TYPE_CHOICES = tuple((name, kind_label(name)) for name in EDIT_TYPES)
NO_STORE = {"Cache-Control": "no-store"}


def _now() -> datetime:
    return datetime.now(UTC)


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    from tracker.web.pages import render

    return render(request, template, status_code=status_code, **context)


def _split(text: str, *, commas: bool = False) -> list[str]:
    parts = text.replace(",", "\n").splitlines() if commas else text.splitlines()
    return [p.strip() for p in parts if p.strip()]


# -- channels -------------------------------------------------------------------------------


@dataclass
class ChannelForm:
    """What the add-channel form shows: blank, or what was typed before an error (never the
    secret)."""

    name: str = ""
    kind: str = ""
    targets: str = ""
    tags: str = ""
    stories: str = ""
    min_kind: str = DEFAULT_MIN_KIND.value
    kinds: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=lambda: list(DEFAULT_EVENTS))
    digest: str = ""


def _kind_choices() -> list[dict[str, Any]]:
    """Every registered kind and what its form fields mean, from the registry."""
    return [
        {
            "name": name,
            "target": "recipients, one a line" if kind.target_key == "to" else "one URL",
            "signed": kind.signed,
        }
        for name, kind in kinds().items()
    ]


def _channels_page(
    request: Request,
    *,
    status_code: int = 200,
    form: ChannelForm | None = None,
    error: str | None = None,
    added: dict[str, Any] | None = None,
    test: TestReport | None = None,
    offset: int = 0,
) -> Response:
    with database(request).read_session() as session:
        page = alerts.channel_page(session, limit=50, offset=offset)
        session.expunge_all()
    response = _render(
        request,
        "channels.html",
        status_code=status_code,
        page=page,
        form=form or ChannelForm(kind=next(iter(kinds()), "")),
        error=error,
        added=added,
        test=test,
        kind_choices=_kind_choices(),
        change_kinds=KIND_CHOICES,
        edit_types=EDIT_TYPE_CHOICES,
        alert_events=ALERT_EVENTS,
    )
    if added is not None:
        response.headers.update(NO_STORE)
    return response


@router.get("/channels", response_class=HTMLResponse)
def channels_page(request: Request, offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> Response:
    return _channels_page(request, offset=offset)


@router.post("/channels", dependencies=[Csrf])
def channel_add(
    request: Request,
    name: Short = "",
    kind: Annotated[SafeText, Form(max_length=16)] = "",
    targets: Long = "",
    secret: Annotated[str, Form(max_length=1000)] = "",
    tags: Annotated[SafeText, Form(max_length=2000)] = "",
    stories: Long = "",
    min_kind: Annotated[SafeText, Form(max_length=32)] = DEFAULT_MIN_KIND.value,
    kinds_wanted: Annotated[list[str], Form(alias="kinds")] = [],  # noqa: B006 -- FastAPI form lists
    events: Annotated[list[str], Form()] = [],  # noqa: B006
    digest: Annotated[SafeText, Form(max_length=50)] = "",
) -> Response:
    form = ChannelForm(
        name=name,
        kind=kind,
        targets=targets,
        tags=tags,
        stories=stories,
        min_kind=min_kind,
        kinds=list(kinds_wanted),
        events=list(events),
        digest=digest,
    )
    try:
        if not events:
            raise ChannelError("choose at least one event to alert on")
        with database(request).session() as session:
            created = create_channel(
                session,
                name=name,
                kind=kind,
                targets=_split(targets),
                secret=secret.strip() or None,
                tags=_split(tags, commas=True),
                stories=_split(stories),
                min_kind=min_kind,
                kinds=kinds_wanted,
                events=events,
                digest=digest.strip() or None,
                now=_now(),
            )
            signed = kinds()[created.kind].signed
            added = {
                "name": created.name,
                "kind": created.kind,
                # A secret the tracker made is shown this once, as `tracker channel add` does.
                "new_secret": created.secret if signed and not secret.strip() else None,
            }
    except (ChannelError, StoryError) as exc:
        return _channels_page(request, status_code=400, form=form, error=str(exc))
    return _channels_page(request, added=added)


def _channel_name(request: Request, channel_id: int) -> str:
    with database(request).read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise alerts.NotFound(f"no channel {channel_id}")
        return channel.name


@router.post("/channels/{channel_id}/test", dependencies=[Csrf])
def channel_test(request: Request, channel_id: ChannelId) -> Response:
    name = _channel_name(request, channel_id)
    with database(request).read_session() as session:
        target = destination(session, name)
        subject = test_subject(session)
    # Sent outside any transaction: a slow mail server holds no database lock.
    report = send_test_alert(target, settings_of(request), now=_now(), subject=subject)
    return _channels_page(request, status_code=200 if report.ok else 502, test=report)


def _set_enabled(request: Request, channel_id: int, enabled: bool) -> Response:
    name = _channel_name(request, channel_id)
    try:
        with database(request).session() as session:
            set_enabled(session, name, enabled)
    except ChannelError as exc:
        return _channels_page(request, status_code=400, error=str(exc))
    return RedirectResponse("/channels", status_code=303)


@router.post("/channels/{channel_id}/pause", dependencies=[Csrf])
def channel_pause(request: Request, channel_id: ChannelId) -> Response:
    return _set_enabled(request, channel_id, False)


@router.post("/channels/{channel_id}/resume", dependencies=[Csrf])
def channel_resume(request: Request, channel_id: ChannelId) -> Response:
    return _set_enabled(request, channel_id, True)


@router.get("/channels/{channel_id}/remove", response_class=HTMLResponse)
def channel_remove_confirm(request: Request, channel_id: ChannelId) -> Response:
    with database(request).read_session() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise alerts.NotFound(f"no channel {channel_id}")
        row = alerts.channel_row(session, channel)
        session.expunge_all()
    return _render(request, "channel_remove.html", row=row)


@router.post("/channels/{channel_id}/remove", dependencies=[Csrf])
def channel_remove(request: Request, channel_id: ChannelId) -> Response:
    name = _channel_name(request, channel_id)
    try:
        with database(request).session() as session:
            remove_channel(session, name)
    except ChannelError as exc:
        return _channels_page(request, status_code=400, error=str(exc))
    return RedirectResponse("/channels", status_code=303)


# -- followed feeds -------------------------------------------------------------------------


@dataclass
class FeedForm:
    url: str = ""
    tags: str = ""
    include: str = ""
    exclude: str = ""
    interval: str = ""
    any_site: bool = False


def _feeds_page(
    request: Request,
    *,
    status_code: int = 200,
    form: FeedForm | None = None,
    error: str | None = None,
    notice: str | None = None,
    poll: PollReport | None = None,
) -> Response:
    with database(request).read_session() as session:
        feeds = list_feeds(session)
        session.expunge_all()
    return _render(
        request,
        "followed.html",
        status_code=status_code,
        feeds=feeds,
        form=form or FeedForm(),
        error=error,
        notice=notice,
        poll=poll,
    )


@router.get("/followed", response_class=HTMLResponse)
def followed_page(request: Request) -> Response:
    return _feeds_page(request)


@router.post("/followed", dependencies=[Csrf])
def followed_add(
    request: Request,
    url: Annotated[SafeText, Form(max_length=2048)] = "",
    tags: Annotated[SafeText, Form(max_length=2000)] = "",
    include: Annotated[SafeText, Form(max_length=1000)] = "",
    exclude: Annotated[SafeText, Form(max_length=1000)] = "",
    interval: Annotated[SafeText, Form(max_length=50)] = "",
    any_site: Annotated[bool, Form()] = False,
) -> Response:
    form = FeedForm(url, tags, include, exclude, interval, any_site)
    try:
        if not url.strip():
            raise StoryError("give the feed's URL")
        with database(request).session() as session:
            feed, created = follow_feed(
                session,
                url.strip(),
                now=_now(),
                allow_private_networks=settings_of(request).allow_private_networks,
                tags=_split(tags, commas=True),
                include=include.strip() or None,
                exclude=exclude.strip() or None,
                interval=interval.strip() or None,
                any_site=any_site,
            )
            shown = feed.url
    except StoryError as exc:
        return _feeds_page(request, status_code=400, form=form, error=str(exc))
    verb = "Following" if created else "Updated"
    return _feeds_page(request, notice=f"{verb} {shown}: it is polled at once by the daemon.")


def _feed(session: Any, feed_id: int) -> Feed:
    try:
        return find_feed(session, feed_id)
    except FeedNotFound as exc:
        raise alerts.NotFound(f"no followed feed {feed_id}") from exc


@router.post("/followed/{feed_id}/poll", dependencies=[Csrf])
def followed_poll(request: Request, feed_id: FeedId) -> Response:
    with database(request).read_session() as session:
        _feed(session, feed_id)
    with FeedPoller(database(request), settings_of(request)) as poller:
        [report] = poller.poll([feed_id])
    return _feeds_page(request, status_code=200 if report.outcome != "error" else 502, poll=report)


def _set_paused(request: Request, feed_id: int, paused: bool) -> Response:
    with database(request).session() as session:
        set_feed_paused(session, _feed(session, feed_id), paused, now=_now())
    return RedirectResponse("/followed", status_code=303)


@router.post("/followed/{feed_id}/pause", dependencies=[Csrf])
def followed_pause(request: Request, feed_id: FeedId) -> Response:
    return _set_paused(request, feed_id, True)


@router.post("/followed/{feed_id}/resume", dependencies=[Csrf])
def followed_resume(request: Request, feed_id: FeedId) -> Response:
    return _set_paused(request, feed_id, False)


@router.get("/followed/{feed_id}/remove", response_class=HTMLResponse)
def followed_remove_confirm(request: Request, feed_id: FeedId) -> Response:
    with database(request).read_session() as session:
        feed = _feed(session, feed_id)
        session.expunge(feed)
    return _render(request, "followed_remove.html", feed=feed)


@router.post("/followed/{feed_id}/remove", dependencies=[Csrf])
def followed_remove(request: Request, feed_id: FeedId) -> Response:
    with database(request).session() as session:
        remove_feed(session, _feed(session, feed_id))
    return RedirectResponse("/followed", status_code=303)

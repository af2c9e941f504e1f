"""Alert channels managed from any interface: `tracker channel` and the web UI call these.

Adding checks what the kind needs (through the registry: nothing here knows one kind from
another), resolves story references, and parses the digest period; a test alert is sent
for real and its result comes back with the channel's secrets masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.notify.kinds import (
    ChannelError,
    Destination,
    a_channel,
    kind_named,
    mask_target,
)
from tracker.notify.kinds import kinds as channel_kinds
from tracker.notify.payload import DEFAULT_EVENTS, StoryInfo, sample_alert
from tracker.notify.spec import digest_seconds
from tracker.services.stories import StoryError, find_story
from tracker.store.alert_models import Channel
from tracker.store.channels import add_channel, find_channel

__all__ = [
    "ChannelError",
    "TestReport",
    "create_channel",
    "destination",
    "send_test_alert",
]


def create_channel(
    session: Session,
    *,
    name: str,
    kind: str,
    targets: Sequence[str],
    now: datetime,
    secret: str | None = None,
    tags: Sequence[str] = (),
    stories: Sequence[str] = (),
    min_kind: str | None = None,
    kinds: Sequence[str] = (),
    events: Sequence[str] = (),
    digest: str | None = None,
) -> Channel:
    """Add a channel as ``tracker channel add`` does; ChannelError saying what is wrong.

    `targets`: recipients for a kind that takes several ("to"), exactly one URL otherwise.
    `stories`: URLs or ids of tracked stories. `min_kind` None or "any": every change.
    `events` empty: the default events. A signed kind given no secret gets a new one (read
    ``channel.secret`` back once to show it)."""
    name = name.strip()
    if not name:
        raise ChannelError("a channel needs a name")
    if len(name) > 100:
        raise ChannelError("a channel name is at most 100 characters")
    kind_class = kind_named(kind)
    targets = [t.strip() for t in targets if t.strip()]
    if not targets:
        raise ChannelError(
            f"{a_channel(kind)} needs a {'recipient' if kind_class.target_key == 'to' else 'URL'}"
        )
    if kind_class.target_key == "url" and len(targets) != 1:
        raise ChannelError(f"{a_channel(kind)} takes exactly one URL")
    try:
        period = digest_seconds(digest)
    except ValueError as exc:
        raise ChannelError(str(exc)) from exc
    try:
        story_refs = [find_story(session, ref).url for ref in stories]
    except StoryError as exc:
        raise ChannelError(str(exc)) from exc
    return add_channel(
        session,
        name=name,
        kind=kind,
        target=", ".join(targets),
        secret=secret or None,
        tags=[t for t in tags if t],
        stories=story_refs,
        min_kind=None if min_kind in (None, "", "any") else min_kind,
        kinds=kinds,
        events=events or DEFAULT_EVENTS,
        digest_seconds=period,
        now=now,
    )


@dataclass(frozen=True)
class TestReport:
    """What a test alert did, safe to show: target masked, reply and error redacted."""

    channel: str
    kind: str
    target: str  # masked
    ok: bool
    message_id: str
    reply_label: str  # what the kind calls the service's answer ("SMTP reply", "response")
    reply: str | None
    error: str | None
    about: str = ""  # the story URL the made-up change is about
    sample_story: bool = False  # no story is tracked: the alert is about a sample one


@dataclass(frozen=True)
class TestSubject:
    """What a test alert is about: the most recently changed tracked story, so its links
    (with base_url) lead to a real page; None when no story is tracked."""

    story: StoryInfo | None
    versions: int


def test_subject(session: Session) -> TestSubject:
    from sqlalchemy import select

    from tracker.store.models import Story

    latest = session.scalar(
        select(Story).order_by(Story.last_changed_at.desc().nulls_last(), Story.id.desc())
    )
    if latest is None:
        return TestSubject(None, 0)
    info = StoryInfo(latest.id, latest.url, latest.title, tuple(latest.tag_names))
    return TestSubject(info, latest.version_count)


def destination(session: Session, name: str) -> Destination:
    """The channel called `name`, detached from the session: sending happens outside any
    transaction (a slow SMTP server must not hold the database)."""
    return Destination.of(find_channel(session, name))


def send_test_alert(
    target: Destination, settings: Any, *, now: datetime, subject: TestSubject | None = None
) -> TestReport:
    """Send a real test alert (a made-up change to `subject`'s story, or a sample story) to
    the channel now, whatever its filters or pause, and say exactly what happened."""
    from tracker.notify.senders import Senders

    subject = subject or TestSubject(None, 0)
    key = f"trk_{target.uid}_test{int(now.timestamp())}"
    alert = sample_alert(now, settings.base_url, story=subject.story, versions=subject.versions)
    senders = Senders(settings)
    try:
        result = senders.send(target, [alert], key, now)
    finally:
        senders.close()
    kind_class = channel_kinds().get(target.kind)
    reply = " ".join(str(x) for x in (result.status_code, result.response) if x)
    return TestReport(
        channel=target.name,
        kind=target.kind,
        target=mask_target(target.kind, target.target),
        ok=result.ok,
        message_id=key,
        reply_label=kind_class.reply_label if kind_class is not None else "reply",
        reply=" ".join(reply.split())[:500] or None,
        error=result.error,
        about=alert.story.url,
        sample_story=subject.story is None,
    )

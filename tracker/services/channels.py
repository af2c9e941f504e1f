"""The channels table: find, add and remove alert channels, and sync the declared ones.

Channels live in the database (deliveries refer to them, so they need a stable id). The
CLI adds and removes them there; channels declared in the settings file are synced into
the table when the daemon starts (and before every ``tracker channel`` command), marked
``source = "settings"``: the file is their single source of truth, so the CLI refuses to
remove them, and removing one from the file removes it from the table.

What a target must look like is the kind's business (:mod:`tracker.notify.kinds`): nothing
here knows one kind from another. The sync itself is :func:`tracker.pipeline.outbox.sync_declared`
(the daemon's delivery runner runs it, and the pipeline cannot import the services).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.notify.kinds import ChannelError, kind_named
from tracker.notify.spec import check_events, check_min_kind
from tracker.pipeline.outbox import new_uid, sync_declared
from tracker.store.alert_models import Channel, Delivery, DeliveryStatus

__all__ = [
    "ChannelError",
    "add_channel",
    "find_channel",
    "new_uid",
    "remove_channel",
    "sync_declared",
]


def find_channel(session: Session, name: str) -> Channel:
    channel = session.scalar(select(Channel).where(Channel.name == name))
    if channel is None:
        known = ", ".join(session.scalars(select(Channel.name).order_by(Channel.name))) or "none"
        raise ChannelError(f"no channel named {name!r} (channels: {known})")
    return channel


def add_channel(
    session: Session,
    *,
    name: str,
    kind: str,
    target: str,
    secret: str | None = None,
    tags: Sequence[str] = (),
    stories: Sequence[str] = (),
    min_kind: str | None,
    events: Sequence[str],
    digest_seconds: int | None = None,
    enabled: bool = True,
    source: str = "cli",
    now: datetime,
) -> Channel:
    """Add a channel (a signed kind without a secret gets a fresh one: read it back once)."""
    kind_class = kind_named(kind)
    if session.scalar(select(Channel.id).where(Channel.name == name)) is not None:
        raise ChannelError(f"a channel named {name!r} exists already")
    try:
        target, secret = kind_class.validate(target, secret)
        events = check_events(events)
        min_kind = check_min_kind(min_kind)
    except ValueError as exc:
        raise ChannelError(f"channel {name!r}: {exc}") from exc
    channel = Channel(
        name=name,
        kind=kind,
        target=target,
        secret=secret,
        uid=new_uid(),
        tags=sorted(set(tags)),
        stories=list(dict.fromkeys(stories)),
        min_kind=min_kind,
        events=list(events),
        digest_seconds=digest_seconds,
        enabled=enabled,
        source=source,
        created_at=now,
    )
    session.add(channel)
    session.flush()
    return channel


def remove_channel(session: Session, name: str) -> int:
    """Remove a CLI-managed channel and its deliveries; returns how many were still owed."""
    channel = find_channel(session, name)
    if channel.source == "settings":
        raise ChannelError(f"channel {name!r} is declared in the settings file: remove it there")
    owed = len(
        session.scalars(
            select(Delivery.id).where(
                Delivery.channel_id == channel.id,
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
            )
        ).all()
    )
    session.delete(channel)
    session.flush()
    return owed

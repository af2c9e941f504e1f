"""The channels table: find, add and remove alert channels, and sync the declared ones
(the CLI and web UI manage channels here; the daemon's delivery runner syncs them).

Channels live in the database (deliveries refer to them, so they need a stable id). The
CLI adds and removes them there; channels declared in the settings file are synced into
the table when the daemon starts (and before every ``tracker channel`` command), marked
``source = "settings"``: the file is their single source of truth, so the CLI refuses to
remove them, and removing one from the file removes it from the table.

What a target must look like is the kind's business (:mod:`tracker.notify.kinds`): nothing
here knows one kind from another.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.notify.kinds import ChannelError, kind_named
from tracker.notify.spec import (
    ChannelSettings,
    check_events,
    check_kinds,
    check_min_kind,
    digest_seconds,
)
from tracker.store.alert_models import Channel, Delivery, DeliveryStatus

__all__ = [
    "ChannelError",
    "add_channel",
    "find_channel",
    "new_uid",
    "remove_channel",
    "set_enabled",
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
    kinds: Sequence[str] = (),
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
        kinds = check_kinds(kinds)
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
        kinds=list(kinds) or None,
        events=list(events),
        digest_seconds=digest_seconds,
        enabled=enabled,
        source=source,
        created_at=now,
    )
    session.add(channel)
    session.flush()
    return channel


def set_enabled(session: Session, name: str, enabled: bool) -> Channel:
    """Pause (``enabled=False``) or resume a CLI-managed channel. A paused channel is owed
    no alerts: nothing is queued for it while paused (see the outbox's enqueue)."""
    channel = find_channel(session, name)
    if channel.source == "settings":
        raise ChannelError(f"channel {name!r} is declared in the settings file: set enabled there")
    channel.enabled = enabled
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


def new_uid() -> str:
    """A new channel's uid: part of every idempotency key of its deliveries."""
    return secrets.token_hex(8)


def sync_declared(
    session: Session, declared: Sequence[ChannelSettings], *, now: datetime
) -> list[str]:
    """Make the table's settings-file channels match ``declared``; returns what changed.

    A channel keeps its id and uid across syncs (pending deliveries and idempotency keys
    stay valid); a CLI channel of the same name is an error rather than silently replaced.
    """
    changes: list[str] = []
    existing = {
        channel.name: channel
        for channel in session.scalars(select(Channel).where(Channel.source == "settings"))
    }
    for spec in declared:
        secret = spec.secret.get_secret_value() if spec.secret else None
        try:
            target, secret = kind_named(spec.kind).validate(spec.target, secret)
        except (ChannelError, ValueError) as exc:
            raise ChannelError(f"settings: channel {spec.name!r}: {exc}") from exc
        values = {
            "kind": spec.kind,
            "target": target,
            "secret": secret,
            "tags": sorted(set(spec.tags)),
            "stories": list(dict.fromkeys(spec.stories)),
            "min_kind": spec.min_kind,
            "kinds": list(spec.kinds) or None,
            "events": list(spec.events),
            "digest_seconds": digest_seconds(spec.digest),
            "enabled": spec.enabled,
        }
        channel = existing.pop(spec.name, None)
        if channel is None:
            if session.scalar(select(Channel.id).where(Channel.name == spec.name)) is not None:
                raise ChannelError(
                    f"settings: channel {spec.name!r} also exists as a CLI channel; "
                    "rename one of them"
                )
            session.add(
                Channel(name=spec.name, uid=new_uid(), source="settings", created_at=now, **values)
            )
            changes.append(f"added {spec.name}")
        elif any(getattr(channel, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(channel, key, value)
            changes.append(f"updated {spec.name}")
    for name, channel in existing.items():
        session.delete(channel)
        changes.append(f"removed {name}")
    session.flush()
    return changes

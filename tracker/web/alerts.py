"""Reads for the alert pages and API: channels (secrets masked), the delivery log, attempts.

Read-only on purpose: channels are added and removed with ``tracker channel`` or in the
settings file, which is where a webhook's signing secret is shown (once). Nothing here ever
returns ``Channel.secret``, and a target shows no credential it may carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from tracker.notify.kinds import mask_target, redactor
from tracker.notify.redact import Redactor
from tracker.store.alert_models import Channel, Delivery, DeliveryStatus
from tracker.store.models import Story, Version
from tracker.web.queries import Page, _page

STATUSES: Final = tuple(status.value for status in DeliveryStatus)


class NotFound(LookupError):
    """An unknown channel or delivery: answered 404 with this message."""


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    target: str  # masked
    counts: dict[str, int]  # deliveries by status, every status present


@dataclass(frozen=True)
class AttemptRow:
    """One attempt as it may be shown: its reply and error masked."""

    number: int
    started_at: datetime
    duration_ms: int
    ok: bool
    status_code: int | None
    response: str | None
    error: str | None
    worker: str | None


@dataclass(frozen=True)
class DeliveryRow:
    delivery: Delivery
    channel: str
    url: str
    version: int | None
    # Show these, never ``delivery.last_error`` or its attempt log: masked with the
    # channel's secrets (rows recorded before errors were masked when stored included).
    last_error: str | None = None
    attempts: tuple[AttemptRow, ...] = ()


def find_channel(session: Session, name_or_id: str) -> Channel:
    """A channel by name, or by id when no channel has that name and it is a number."""
    channel = session.scalar(select(Channel).where(Channel.name == name_or_id))
    if channel is None and name_or_id.isascii() and name_or_id.isdigit():
        number = int(name_or_id)
        channel = session.get(Channel, number) if number < 2**31 else None
    if channel is None:
        raise NotFound(f"no channel named {name_or_id!r}")
    return channel


def delivery_counts(session: Session, channel_ids: list[int]) -> dict[int, dict[str, int]]:
    counts = {channel_id: dict.fromkeys(STATUSES, 0) for channel_id in channel_ids}
    if not channel_ids:
        return counts
    query = (
        select(Delivery.channel_id, Delivery.status, func.count())
        .where(Delivery.channel_id.in_(channel_ids))
        .group_by(Delivery.channel_id, Delivery.status)
    )
    for channel_id, status, count in session.execute(query):
        counts[channel_id][status] = count
    return counts


def channel_row(session: Session, channel: Channel) -> ChannelRow:
    counts = delivery_counts(session, [channel.id])[channel.id]
    return ChannelRow(channel, mask_target(channel.kind, channel.target), counts)


def channel_page(session: Session, *, limit: int, offset: int) -> Page[ChannelRow]:
    query = select(Channel).order_by(Channel.name)
    rows, total = _page(session, query, limit, offset)
    channels = [row[0] for row in rows]
    counts = delivery_counts(session, [c.id for c in channels])
    items = [ChannelRow(c, mask_target(c.kind, c.target), counts[c.id]) for c in channels]
    return Page(items, total, limit, offset)


def _delivery_query():
    return (
        select(Delivery, Channel, Story.url, Version.seq)
        .join(Channel, Channel.id == Delivery.channel_id)
        .join(Story, Story.id == Delivery.story_id)
        .outerjoin(Version, Version.id == Delivery.version_id)
    )


def delivery_page(
    session: Session,
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    channel: str | None = None,
    settings: Any = None,
) -> Page[DeliveryRow]:
    """The delivery log, newest first (the CLI's ``tracker deliveries`` order)."""
    query = _delivery_query().order_by(Delivery.created_at.desc(), Delivery.id.desc())
    if status is not None:
        query = query.where(Delivery.status == status)
    if channel is not None:
        query = query.where(Delivery.channel_id == find_channel(session, channel).id)
    rows, total = _page(session, query, limit, offset)
    redactors: dict[int, Redactor] = {}
    items = [_delivery_row(*row, redactors=redactors, settings=settings) for row in rows]
    return Page(items, total, limit, offset)


def get_delivery(session: Session, delivery_id: int, settings: Any = None) -> DeliveryRow:
    """One delivery with its attempts loaded, oldest attempt first."""
    query = (
        _delivery_query()
        .where(Delivery.id == delivery_id)
        .options(selectinload(Delivery.attempt_log))
    )
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return _delivery_row(*row, redactors={}, settings=settings, attempts=True)


def _delivery_row(
    delivery: Delivery,
    channel: Channel,
    url: str,
    version: int | None,
    *,
    redactors: dict[int, Redactor],
    settings: Any,
    attempts: bool = False,
) -> DeliveryRow:
    redact = redactors.get(channel.id)
    if redact is None:
        redact = redactors[channel.id] = redactor(
            channel.kind, channel.target, channel.secret, settings
        )
    log = tuple(
        AttemptRow(
            number=a.number,
            started_at=a.started_at,
            duration_ms=a.duration_ms,
            ok=a.ok,
            status_code=a.status_code,
            response=redact(a.response),
            error=redact(a.error),
            worker=a.worker,
        )
        for a in (delivery.attempt_log if attempts else ())
    )
    return DeliveryRow(delivery, channel.name, url, version, redact(delivery.last_error), log)

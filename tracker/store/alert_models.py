"""The outbox tables: channels, the deliveries owed to them, and every attempt to deliver.

A delivery is written in the same transaction as the version (or event) it announces, so
an alert can be neither lost (no version without its deliveries) nor invented (no delivery
without a committed version). Its ``idempotency_key`` is unique: enqueuing twice is
impossible, and a resend after a crash carries the same key.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.store.base import Base, UTCDateTime


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not tried yet
    FAILED = "failed"  # tried, failed, will be retried at next_attempt_at
    SENT = "sent"
    DEAD = "dead"  # failed max attempts times; kept for inspection, never retried


class Channel(Base):
    """Where alerts go: an email address list, a webhook URL or an Apprise URL, with filters."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | webhook | apprise
    # email: comma-separated recipients; webhook and apprise: the URL.
    target: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text)  # webhook signing secret (whsec_…)
    # Random, fixed at creation: makes idempotency keys unique across installations.
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    stories: Mapped[list[str]] = mapped_column(JSON, default=list)  # URLs or ids
    min_kind: Mapped[str | None] = mapped_column(String(32))
    # Only versions with one of these change kinds ("only headline changes and
    # corrections"); None or empty: any kind that meets min_kind.
    kinds: Mapped[list[str] | None] = mapped_column(JSON)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    digest_seconds: Mapped[int | None] = mapped_column(Integer)  # None: one alert per change
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(16), default="cli")  # cli | settings
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """One alert owed to one channel: the outbox row."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # What is announced: "new", "changed", "promise_overdue", … ; ``events`` adds what else
    # applies to the same version (e.g. "promise_fulfilled").
    trigger: Mapped[str] = mapped_column(String(32))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    # Digest channels: deliveries of one period share a batch and go out as one message.
    batch_key: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    channel: Mapped[Channel] = relationship(lazy="joined")
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery",
        order_by="DeliveryAttempt.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)


class DeliveryAttempt(Base):
    """One try at sending a delivery, with exactly what the other side answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)  # HTTP status or SMTP reply code
    response: Mapped[str | None] = mapped_column(Text)  # SMTP reply / start of the HTTP body
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")

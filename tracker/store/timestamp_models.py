"""RFC 3161 timestamps of the stories' chain heads (docs/evidence.md).

A :class:`ChainTimestamp` is one request to a time-stamping authority, answered or not; its
:class:`StampedHead` rows are the heads it covers, one per story. The message sent to the
TSA is rebuilt from those rows (:func:`tracker.core.chain.heads_message`), so a tampered
head or a row slipped in or out no longer gives the token's imprint.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.store.base import Base, UTCDateTime


class TimestampStatus:
    """A timestamp is ``ok`` (the TSA granted it: the token is stored) or ``error`` (the TSA
    was unreachable, refused, or answered something that is not a token for our request)."""

    OK = "ok"
    ERROR = "error"


class ChainTimestamp(Base):
    """One request to a TSA over the heads of the stories that changed since the last."""

    __tablename__ = "chain_timestamps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    tsa_url: Mapped[str] = mapped_column(String(2048))
    hash_algorithm: Mapped[str] = mapped_column(String(16))
    # Hex digest of the message (the sorted leaves): what the TSA signed.
    message_imprint: Mapped[str] = mapped_column(String(128))
    heads_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    # The TSA's time (genTime), and its whole answer, DER (TimeStampResp, with the token).
    gen_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)


class StampedHead(Base):
    """A story's chain head as a timestamp covered it: its versions up to `seq` existed by
    the timestamp's genTime."""

    __tablename__ = "stamped_heads"
    __table_args__ = (Index("ix_stamped_heads_story_id_seq", "story_id", "seq"),)

    timestamp_id: Mapped[int] = mapped_column(
        ForeignKey("chain_timestamps.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    chain_sha256: Mapped[str] = mapped_column(String(64))

"""The web-archive hand-off queue: one row per version whose page is to be saved by a web
archive (a Wayback Machine "Save Page Now" style service, docs/discovery-and-archive.md).

A row is written in the same transaction as its version, so a crash loses no submission
and submits nothing for a version that was never stored. The daemon's archive duty works
the queue apart from checks: a slow or dead archive delays only this table.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.store.base import Base, UTCDateTime
from tracker.store.models import Version


class SubmissionStatus(StrEnum):
    PENDING = "pending"  # not sent yet, or to be sent again at next_attempt_at
    SUBMITTED = "submitted"  # the archive accepted the job; its status is polled
    ARCHIVED = "archived"  # archived_url is the archive's copy
    FAILED = "failed"  # gave up: last_error says why; never retried by the daemon


class ArchiveSubmission(Base):
    __tablename__ = "archive_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), unique=True
    )
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)  # the page submitted: the story's URL
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # requests made (saves and polls)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the last save request went out: the rate limit counts these (docs).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    job_id: Mapped[str | None] = mapped_column(String(200))  # SPN2's job, while polled
    archived_url: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # Reserved by one worker while its request is in flight (so two never send one row).
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version: Mapped[Version] = relationship()

    __table_args__ = (
        Index("ix_archive_submissions_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_archive_submissions_submitted_at", "submitted_at"),
    )

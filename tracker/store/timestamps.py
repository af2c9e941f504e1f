"""Reading and writing the timestamps of chain heads (tracker.store.timestamp_models)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from tracker.core.chain import head_leaf
from tracker.store.models import Story, Version
from tracker.store.timestamp_models import ChainTimestamp, StampedHead, TimestampStatus

__all__ = [
    "Head",
    "TimestampSummary",
    "VersionStamp",
    "changed_heads",
    "covering_timestamps",
    "first_stamps",
    "last_attempt_at",
    "record_timestamp",
    "stamp_heads",
    "stamp_leaves",
    "timestamp_summary",
    "version_stamp",
]


@dataclass(frozen=True, slots=True)
class Head:
    """A story's chain head: its newest version's number and link."""

    story_id: int
    url: str
    seq: int
    chain_sha256: str

    @property
    def leaf(self) -> str:
        return head_leaf(self.url, self.seq, self.chain_sha256)


def changed_heads(session: Session) -> list[Head]:
    """The heads of the stories whose newest version is not the one last timestamped (new
    versions since, or a chain rebuilt since), in story order."""
    newest = (
        select(Version.story_id, func.max(Version.seq).label("seq"))
        .group_by(Version.story_id)
        .subquery()
    )
    current = session.execute(
        select(Story.id, Story.url, Version.seq, Version.chain_sha256)
        .join(newest, newest.c.story_id == Story.id)
        .join(Version, and_(Version.story_id == Story.id, Version.seq == newest.c.seq))
        .where(Version.chain_sha256.is_not(None))
        .order_by(Story.id)
    ).all()
    last_stamp = (
        select(StampedHead.story_id, func.max(StampedHead.timestamp_id).label("timestamp_id"))
        .join(ChainTimestamp, ChainTimestamp.id == StampedHead.timestamp_id)
        .where(ChainTimestamp.status == TimestampStatus.OK)
        .group_by(StampedHead.story_id)
        .subquery()
    )
    stamped = {
        story_id: (seq, link)
        for story_id, seq, link in session.execute(
            select(StampedHead.story_id, StampedHead.seq, StampedHead.chain_sha256).join(
                last_stamp,
                and_(
                    last_stamp.c.story_id == StampedHead.story_id,
                    last_stamp.c.timestamp_id == StampedHead.timestamp_id,
                ),
            )
        )
    }
    return [
        Head(story_id, url, seq, link)
        for story_id, url, seq, link in current
        if link and stamped.get(story_id) != (seq, link)
    ]


def last_attempt_at(session: Session) -> datetime | None:
    """When a timestamp was last requested, granted or not (the daemon's pace)."""
    return session.scalar(select(func.max(ChainTimestamp.requested_at)))


@dataclass(frozen=True)
class TimestampSummary:
    """How timestamping is going, for `tracker doctor` and /metrics."""

    granted: int
    failed: int
    last_granted_at: datetime | None  # when it was requested
    last_attempt_at: datetime | None
    # The requests that failed since the last granted one (all of them if none was), and
    # the newest one's error: a TSA that stopped answering shows here.
    failing_since_granted: int
    last_error: str | None


def timestamp_summary(session: Session) -> TimestampSummary:
    """Counts by status, the last granted and last attempted request, and the failures
    since the last granted one."""
    counts = dict(
        session.execute(
            select(ChainTimestamp.status, func.count()).group_by(ChainTimestamp.status)
        ).all()
    )
    last_granted = session.scalar(
        select(func.max(ChainTimestamp.requested_at)).where(
            ChainTimestamp.status == TimestampStatus.OK
        )
    )
    failing = select(ChainTimestamp).where(ChainTimestamp.status == TimestampStatus.ERROR)
    if last_granted is not None:
        failing = failing.where(ChainTimestamp.requested_at > last_granted)
    newest_failure = session.scalars(
        failing.order_by(ChainTimestamp.requested_at.desc(), ChainTimestamp.id.desc()).limit(1)
    ).first()
    failing_count = session.scalar(select(func.count()).select_from(failing.subquery())) or 0
    return TimestampSummary(
        granted=counts.get(TimestampStatus.OK, 0),
        failed=counts.get(TimestampStatus.ERROR, 0),
        last_granted_at=last_granted,
        last_attempt_at=last_attempt_at(session),
        failing_since_granted=failing_count,
        last_error=newest_failure.error if newest_failure is not None else None,
    )


def record_timestamp(
    session: Session,
    *,
    requested_at: datetime,
    tsa_url: str,
    hash_algorithm: str,
    message_imprint: str,
    heads: Sequence[Head],
    response_der: bytes | None,
    gen_time: datetime | None,
    error: str | None,
) -> ChainTimestamp:
    """Store one request and its answer; the heads only when it was granted (an error
    covers nothing, and those heads are tried again next time)."""
    stamp = ChainTimestamp(
        requested_at=requested_at,
        tsa_url=tsa_url,
        hash_algorithm=hash_algorithm,
        message_imprint=message_imprint,
        heads_count=len(heads),
        status=TimestampStatus.ERROR if error else TimestampStatus.OK,
        gen_time=gen_time,
        response_der=response_der,
        error=error,
    )
    session.add(stamp)
    session.flush()
    if error is None:
        session.add_all(
            StampedHead(
                timestamp_id=stamp.id,
                story_id=head.story_id,
                seq=head.seq,
                chain_sha256=head.chain_sha256,
            )
            for head in heads
        )
        session.flush()
    return stamp


def stamp_heads(session: Session, timestamp_id: int) -> list[Head]:
    """The heads a timestamp covered, with their stories' URLs."""
    return [
        Head(*row)
        for row in session.execute(
            select(StampedHead.story_id, Story.url, StampedHead.seq, StampedHead.chain_sha256)
            .join(Story, Story.id == StampedHead.story_id)
            .where(StampedHead.timestamp_id == timestamp_id)
            .order_by(StampedHead.story_id)
        )
    ]


def stamp_leaves(session: Session, timestamp_id: int) -> list[str]:
    """The leaves a timestamp's message is made of, sorted."""
    return sorted(head.leaf for head in stamp_heads(session, timestamp_id))


def covering_timestamps(
    session: Session, story_ids: Sequence[int] | None = None
) -> list[ChainTimestamp]:
    """The granted timestamps covering any of `story_ids` (all granted ones when None),
    oldest first."""
    query = select(ChainTimestamp).where(ChainTimestamp.status == TimestampStatus.OK)
    if story_ids is not None:
        query = query.where(
            ChainTimestamp.id.in_(
                select(StampedHead.timestamp_id).where(StampedHead.story_id.in_(story_ids))
            )
        )
    return list(session.scalars(query.order_by(ChainTimestamp.id)))


@dataclass(frozen=True, slots=True)
class VersionStamp:
    """The first timestamp covering a version: it existed by `gen_time`."""

    timestamp_id: int
    tsa_url: str
    gen_time: datetime
    seq: int  # the story's head it stamped: this version or a later one


def first_stamps(session: Session, story_id: int) -> list[VersionStamp]:
    """Each granted timestamp of the story whose stamped head
    is still the link of that version (a chain rebuilt since is not covered by the stamps
    before), oldest first: a version is covered by the first one whose seq is at least its
    own. Only `tracker verify` checks the tokens themselves."""
    rows = session.execute(
        select(StampedHead.seq, ChainTimestamp.id, ChainTimestamp.tsa_url, ChainTimestamp.gen_time)
        .join(ChainTimestamp, ChainTimestamp.id == StampedHead.timestamp_id)
        .join(
            Version,
            and_(
                Version.story_id == StampedHead.story_id,
                Version.seq == StampedHead.seq,
                Version.chain_sha256 == StampedHead.chain_sha256,
            ),
        )
        .where(StampedHead.story_id == story_id, ChainTimestamp.status == TimestampStatus.OK)
        .order_by(ChainTimestamp.id)
    ).all()
    return [
        VersionStamp(stamp_id, tsa_url, gen_time, seq)
        for seq, stamp_id, tsa_url, gen_time in rows
        if gen_time is not None
    ]


def version_stamp(session: Session, story_id: int, seq: int) -> VersionStamp | None:
    """The earliest timestamp proving version `seq` of the story existed, or None."""
    return next((stamp for stamp in first_stamps(session, story_id) if stamp.seq >= seq), None)

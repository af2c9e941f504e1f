"""Periodic upkeep: overdue promises, retiring stale stories, pruning old check rows, and
merging the search index's segments a little."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from tracker.core.cadence import CadencePolicy, promise_overdue
from tracker.pipeline.outbox import enqueue_alerts
from tracker.store.models import Check, Event, EventKind, PromiseState, Story, StoryStatus
from tracker.store.search_index import merge_index_segments


@dataclass(frozen=True)
class HousekeepingReport:
    promises_overdue: int
    stories_retired: int
    checks_pruned: int


def run_housekeeping(
    session: Session, policy: CadencePolicy, now: datetime, *, check_retention: timedelta
) -> HousekeepingReport:
    report = HousekeepingReport(
        promises_overdue=mark_overdue_promises(session, policy, now),
        stories_retired=retire_stale_stories(session, policy, now),
        checks_pruned=prune_checks(session, now - check_retention),
    )
    # Every version written adds a segment to the search index, and searching reads each.
    merge_index_segments(session)
    return report


def mark_overdue_promises(session: Session, policy: CadencePolicy, now: datetime) -> int:
    """Record a "promise overdue" event, once, for each update promised and not delivered."""
    cutoff = now - policy.promise_deadline
    candidates = session.scalars(
        select(Story).where(
            Story.promise_state == PromiseState.PENDING, Story.promised_at <= cutoff
        )
    )
    count = 0
    for story in candidates:
        assert story.promised_at is not None
        if promise_overdue(
            story.promised_at,
            fulfilled=False,
            overdue_recorded=False,
            now=now,
            deadline=policy.promise_deadline,
        ):
            story.promise_state = PromiseState.OVERDUE
            event = Event(
                story_id=story.id,
                kind=EventKind.PROMISE_OVERDUE,
                created_at=now,
                detail=story.promise_text,
            )
            session.add(event)
            session.flush()
            # The alert is written in the same transaction as the event: never one without
            # the other.
            enqueue_alerts(session, story=story, version=None, events=[event], now=now)
            count += 1
    return count


def retire_stale_stories(session: Session, policy: CadencePolicy, now: datetime) -> int:
    """Retire active stories past the retirement age that no check has retired yet."""
    cutoff = now - policy.effective_retire_after
    stale = session.scalars(
        select(Story).where(
            Story.status == StoryStatus.ACTIVE,
            Story.fixed_interval_seconds.is_(None),
            Story.first_seen_at < cutoff,
            or_(Story.last_substantive_at.is_(None), Story.last_substantive_at < cutoff),
            or_(Story.lease_expires_at.is_(None), Story.lease_expires_at <= now),
        )
    )
    count = 0
    for story in stale:
        story.status = StoryStatus.RETIRED
        story.next_check_at = None
        story.schedule_reason = "retired: no substantive change for too long"
        session.add(
            Event(
                story_id=story.id,
                kind=EventKind.STORY_RETIRED,
                created_at=now,
                detail=story.schedule_reason,
            )
        )
        count += 1
    return count


def prune_checks(session: Session, older_than: datetime) -> int:
    """Delete check rows older than ``older_than`` (versions and events are kept)."""
    result = session.execute(
        delete(Check)
        .where(Check.started_at < older_than)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE/DELETE result is a CursorResult, which has the row count.
    return cast("CursorResult[Any]", result).rowcount or 0

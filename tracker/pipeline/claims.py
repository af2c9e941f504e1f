"""Claiming due stories with leases, so any number of workers share one database.

A claim is one atomic ``UPDATE … RETURNING``: on PostgreSQL the candidate rows are picked
with ``FOR UPDATE SKIP LOCKED`` so concurrent workers never wait on, or double-claim, a
row; SQLite has a single writer, and its IMMEDIATE transactions serialise claims. A worker
that dies keeps its leases only until ``lease_expires_at``; then any worker may claim them,
or sooner: a worker on the same host whose process is gone (killed, or it could not even
write the release because the disk was full) has its leases taken back by the next worker
there (:func:`reclaim_from_dead_workers`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from tracker.pipeline.story_state import STATE_COLUMNS, StoryState, state_from_row
from tracker.store.models import Story, StoryStatus


def _lease_free(now: datetime):
    return or_(Story.lease_expires_at.is_(None), Story.lease_expires_at <= now)


def claim_due(
    session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[StoryState]:
    """Lease up to ``limit`` active stories whose ``next_check_at`` has come, oldest first.

    Returns what the checks need to know, so no second read is needed before fetching.
    """
    candidates = (
        select(Story.id)
        .where(
            Story.status == StoryStatus.ACTIVE,
            Story.next_check_at <= now,
            _lease_free(now),
        )
        .order_by(Story.next_check_at)
        .limit(limit)
    )
    return _claim(session, candidates, worker=worker, now=now, lease=lease)


def claim_ids(
    session: Session,
    story_ids: Sequence[int],
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
) -> list[StoryState]:
    """Lease the given stories now, due or not (a one-shot ``tracker check``).

    Stories leased by another worker (a running daemon) are skipped: it is checking them.
    """
    if not story_ids:
        return []
    candidates = select(Story.id).where(Story.id.in_(list(story_ids)), _lease_free(now))
    return _claim(session, candidates, worker=worker, now=now, lease=lease)


def _claim(
    session: Session, candidates, *, worker: str, now: datetime, lease: timedelta
) -> list[StoryState]:
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(Story)
        .where(Story.id.in_(candidates.scalar_subquery()))
        .values(lease_owner=worker, lease_expires_at=now + lease)
        .returning(*STATE_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    return [state_from_row(row) for row in session.execute(statement)]


def queue_lag_seconds(session: Session, now: datetime) -> float:
    """Seconds the most overdue active story has waited to be checked (0 when none).

    Leased stories count: a check normally finishes seconds after its story is claimed, so a
    story that stays due while leased is stuck work (a hung extraction, every process busy),
    which /healthz and the daemon's summary must show rather than report no lag."""
    oldest = session.scalar(
        select(func.min(Story.next_check_at)).where(
            Story.status == StoryStatus.ACTIVE,
            Story.next_check_at <= now,
        )
    )
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def worker_pid(worker: str, host: str) -> int | None:
    """The process id in a worker id made on `host` ("host:pid:random"); None for another
    host's worker or an id of another shape."""
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return None
    return int(parts[1])


def reclaim_from_dead_workers(
    session: Session, *, host: str, now: datetime, alive: Callable[[int], bool]
) -> int:
    """Free the unexpired leases held by workers of `host` whose process is not `alive`.
    Returns how many leases were freed.

    Reads the leased stories only (the partial index ``ix_stories_leased``: checks in flight,
    whatever the number of stories), so every worker can afford it once a minute."""
    owners = session.scalars(
        select(Story.lease_owner)
        # Stated, though LIKE implies it, so the planners see the partial index applies.
        .where(Story.lease_owner.is_not(None))
        .where(Story.lease_owner.like(f"{_escape_like(host)}:%", escape="\\"))
        .where(Story.lease_expires_at > now)
        .distinct()
    ).all()
    dead = [
        owner
        for owner in owners
        if owner is not None and (pid := worker_pid(owner, host)) is not None and not alive(pid)
    ]
    if not dead:
        return 0
    result = session.execute(
        update(Story)
        .where(Story.lease_owner.in_(dead))
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", result).rowcount or 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def release(session: Session, story_ids: Sequence[int], *, worker: str) -> int:
    """Give back leases this worker holds (shutdown with checks not started)."""
    if not story_ids:
        return 0
    result = session.execute(
        update(Story)
        .where(and_(Story.id.in_(list(story_ids)), Story.lease_owner == worker))
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE/DELETE result is a CursorResult, which has the row count.
    return cast("CursorResult[Any]", result).rowcount or 0

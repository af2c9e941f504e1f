"""Checks answered 304 Not Modified, written many at once.

Most checks of a tracked story come back 304 Not Modified. `record` (tracker.pipeline.check)
writes one through the ORM (load the story as an object, mutate it, flush it), which cost
more CPU than fetching it. `record_not_modified` decides the same thing from a plain row and
leaves the check's two writes, one UPDATE of the story and one INSERT of the check, to
`write_not_modified`, which makes them one executemany each for the whole group
transaction. Anything out of the ordinary (an event to record, the story gone, its lease
lost) goes through `record`.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from tracker.core import cadence
from tracker.net.fetcher import FetchResult, Outcome
from tracker.pipeline.story_state import CheckReport, lifecycle_step, next_schedule
from tracker.store.models import Check, CheckOutcome, Story

# What a not-modified check reads of its story: the lease, the lifecycle and the cadence.
NOT_MODIFIED_COLUMNS = (
    Story.id,
    Story.url,
    Story.status,
    Story.lease_owner,
    Story.last_fingerprint,
    Story.lifecycle,
    Story.live_url,
    Story.version_count,
    Story.first_seen_at,
    Story.last_substantive_at,
    Story.developing,
    Story.promised_at,
    Story.consecutive_failures,
    Story.consecutive_gone,
    Story.fixed_interval_seconds,
    Story.min_interval_seconds,
    Story.max_interval_seconds,
    Story.extraction_health,
)
# The story columns it writes: exactly those `record` sets for a 304 (see record_not_modified).
_NOT_MODIFIED_WRITES = (
    "last_checked_at",
    "lifecycle",
    "live_url",
    "consecutive_failures",
    "consecutive_gone",
    "last_error",
    "schedule_reason",
    "next_check_at",
    "lease_owner",
    "lease_expires_at",
    "etag",
    "last_modified",
)
_ROWS_KEY = "tracker.pipeline.not_modified.rows"
_PENDING_KEY = "tracker.pipeline.not_modified.pending"
# Built once: a statement made afresh per group transaction costs more to build and key for
# SQLAlchemy's compiled cache than the SQLite query itself.
_STORIES, _CHECKS = cast(Table, Story.__table__), cast(Table, Check.__table__)
_READ_ROWS = select(*NOT_MODIFIED_COLUMNS).where(Story.id.in_(bindparam("ids", expanding=True)))
_LOCK_ROWS = _READ_ROWS.with_for_update()
_UPDATE_STORIES = (
    update(_STORIES)
    .where(_STORIES.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in _NOT_MODIFIED_WRITES})
)
_INSERT_CHECKS = insert(_CHECKS)


def lock_story_rows(session: Session, story_ids: list[int]) -> None:
    """Read (and on PostgreSQL lock) the rows of the stories whose checks came back 304, at
    once, for `record_not_modified`."""
    if not story_ids:
        return
    statement = _LOCK_ROWS if session.get_bind().dialect.name == "postgresql" else _READ_ROWS
    rows = session.info.setdefault(_ROWS_KEY, {})
    rows.update((row.id, row) for row in session.execute(statement, {"ids": story_ids}))


def record_not_modified(
    session: Session,
    story_id: int,
    fetched: FetchResult,
    *,
    policy: cadence.CadencePolicy,
    now: datetime,
    started_at: datetime,
    worker: str | None,
    compared_against: str | None,
    fetcher: str | None = None,
    render_reason: str | None = None,
    wait_ms: int | None = None,
    archive_versions: bool = False,
) -> CheckReport:
    """`record` for a check answered 304 Not Modified: the same rows and the same report.

    The story's row comes from `lock_story_rows`; the writes wait in the session for
    `write_not_modified`, which the caller runs before committing. A check that makes an
    event (the lifecycle moves, the cadence retires the story), whose story is gone or
    whose lease was lost goes through `record` itself."""
    if fetched.outcome is not Outcome.NOT_MODIFIED:
        raise ValueError(f"record_not_modified of a {fetched.outcome} result")
    row = session.info.get(_ROWS_KEY, {}).get(story_id)
    step = None if row is None else lifecycle_step(row, fetched, now=now)
    # What record() does for a 304: the check succeeded, so the counters start again. One
    # draw of the jitter, whichever path writes the check.
    jitter_unit = random.random()
    schedule = (
        None
        if row is None
        else next_schedule(row, policy, now, failures=0, gone=0, jitter_unit=jitter_unit)
    )
    if (
        row is None
        or step is None
        or schedule is None
        or (worker is not None and row.lease_owner not in (None, worker))
        or step.events
        or schedule.verdict is not cadence.Verdict.CHECK
    ):
        # Imported here, not above: a pass of plain 304s never needs the page-reading
        # modules that `record` brings (about 0.1 s of imports for a whole command).
        from tracker.pipeline.check import record

        return record(
            session,
            story_id,
            fetched,
            None,
            None,
            policy=policy,
            now=now,
            started_at=started_at,
            worker=worker,
            compared_against=compared_against,
            fetcher=fetcher,
            render_reason=render_reason,
            wait_ms=wait_ms,
            archive_versions=archive_versions,
            jitter_unit=jitter_unit,
        )
    duration_ms = max(0, int((now - started_at).total_seconds() * 1000))
    render_reason = render_reason[:2000] if render_reason else None
    story = {
        "b_id": row.id,
        "last_checked_at": now,
        "lifecycle": step.state.state,
        "live_url": step.state.live_url,
        "consecutive_failures": 0,
        "consecutive_gone": 0,
        "last_error": None,
        "schedule_reason": schedule.reason[:200],
        "next_check_at": schedule.next_check_at,
        "lease_owner": None,
        "lease_expires_at": None,
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
    }
    check = {
        "story_id": row.id,
        "started_at": started_at,
        "duration_ms": duration_ms,
        "outcome": CheckOutcome.NOT_MODIFIED,
        "http_status": fetched.status,
        "error_kind": None,
        "error": None,
        "bytes": fetched.bytes_read,
        "version_id": None,
        "capture_sha256": None,
        "worker": worker,
        "fetcher": fetcher,
        "render_reason": render_reason,
        "wait_ms": None if wait_ms is None else min(wait_ms, duration_ms),
    }
    session.info.setdefault(_PENDING_KEY, []).append((story, check))
    return CheckReport(
        row.id,
        row.url,
        CheckOutcome.NOT_MODIFIED,
        http_status=fetched.status,
        next_check_at=schedule.next_check_at,
        schedule_reason=story["schedule_reason"],
        status=row.status,
        duration_ms=duration_ms,
        wait_ms=wait_ms,
        fetcher=fetcher,
        render_reason=render_reason,
        extraction_health=row.extraction_health,
    )


def write_not_modified(session: Session) -> None:
    """Write what `record_not_modified` left in the session: one UPDATE of the stories and
    one INSERT of the checks, each run once for all of them."""
    session.info.pop(_ROWS_KEY, None)
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    session.execute(_UPDATE_STORIES, [story for story, _ in pending])
    session.execute(_INSERT_CHECKS, [check for _, check in pending])

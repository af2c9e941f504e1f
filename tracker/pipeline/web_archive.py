"""The web-archive hand-off queue: submissions written with their versions, worked by a
daemon duty of their own.

- :func:`enqueue_submission`: called when a version is stored, in its transaction (so a
  crash loses no submission and a rolled-back version leaves none behind).
- :class:`ArchiveRunner`: the duty. Each tick claims what is due under the rate limit (the
  save requests of the last minute, counted in the table, so the limit holds across
  workers and restarts), asks the archive outside any transaction, and records the answer:
  the archived copy's URL, a job to poll, a retry with back-off, or, past
  ``archive_max_attempts``, a recorded failure. A slow or dead archive delays only this
  queue: checks never wait for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from tracker.core.cadence import parse_duration
from tracker.core.web_archive import Answer, HandoffPolicy, Outcome, retry_at, room
from tracker.store.archive_models import ArchiveSubmission, SubmissionStatus
from tracker.store.models import Story, Version

if TYPE_CHECKING:
    # Its client, httpx, takes about 0.15 s to import: only the archive's worker needs it,
    # not every check that imports this module for `enqueue_submission`.
    from tracker.net.save_page_now import SavePageNow

log = logging.getLogger("tracker.archive")

POLL_BATCH = 50  # status requests a tick at most (they do not count against the rate)
RATE_WINDOW = timedelta(minutes=1)


def enqueue_submission(
    session: Session, *, story: Story, version: Version, now: datetime
) -> ArchiveSubmission:
    """Owe the archive a save of the page behind ``version``, in the caller's transaction."""
    submission = ArchiveSubmission(
        version=version,
        story_id=story.id,
        url=story.url,
        status=SubmissionStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(submission)
    return submission


def backfill_latest(session: Session, *, now: datetime) -> int:
    """Owe the archive a save of each live story's latest version that has none: versions
    stored while the hand-off was off. Returns how many were queued.

    Only the latest: the archive saves the page as it is now, which is the latest version
    (a page that changed since is saved as the next version anyway); an older version's
    "copy" would be another text under its name. Stories whose page is not the article now
    (unpublished, redirected away, paywalled) are left out for the same reason."""
    latest = (
        select(Story, Version)
        .join(Version, (Version.story_id == Story.id) & (Version.seq == Story.version_count))
        .where(
            Story.lifecycle == "live",
            ~select(ArchiveSubmission.id)
            .where(ArchiveSubmission.version_id == Version.id)
            .exists(),
        )
        .order_by(Story.id)
    )
    owed = session.execute(latest).all()
    for story, version in owed:
        enqueue_submission(session, story=story, version=version, now=now)
    return len(owed)


def policy_from_settings(settings: Any) -> HandoffPolicy:
    return HandoffPolicy(
        per_minute=settings.archive_per_minute,
        max_attempts=settings.archive_max_attempts,
        backoff_base=parse_duration(settings.archive_backoff_base),
        backoff_cap=parse_duration(settings.archive_backoff_cap),
        poll_every=parse_duration(settings.archive_poll_interval),
        poll_for=parse_duration(settings.archive_poll_for),
        lease=max(timedelta(minutes=1), timedelta(seconds=settings.archive_timeout * 3)),
    )


def client_from_settings(settings: Any) -> SavePageNow:
    from tracker.net.save_page_now import SavePageNow

    secret = settings.archive_secret_key
    return SavePageNow(
        settings.archive_endpoint,
        api=settings.archive_api,
        replay_base=settings.archive_replay_base,
        timeout=settings.archive_timeout,
        access_key=settings.archive_access_key,
        secret_key=secret.get_secret_value() if secret is not None else None,
    )


# -- claiming -------------------------------------------------------------------------------


def saved_within(session: Session, since: datetime) -> int:
    """Save requests sent since ``since`` (each row's latest: the back-off, at least a
    minute, keeps one row from being saved twice in the rate window)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ArchiveSubmission)
            .where(ArchiveSubmission.submitted_at >= since)
        )
        or 0
    )


def _free(now: datetime) -> Any:
    return or_(
        ArchiveSubmission.lease_expires_at.is_(None), ArchiveSubmission.lease_expires_at < now
    )


def _due(session: Session, status: str, now: datetime, limit: int) -> list[int]:
    if limit <= 0:
        return []
    return list(
        session.scalars(
            select(ArchiveSubmission.id)
            .where(
                ArchiveSubmission.status == status,
                or_(
                    ArchiveSubmission.next_attempt_at.is_(None),
                    ArchiveSubmission.next_attempt_at <= now,
                ),
                _free(now),
            )
            .order_by(ArchiveSubmission.next_attempt_at, ArchiveSubmission.id)
            .limit(limit)
        )
    )


def _count_due(session: Session, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ArchiveSubmission)
            .where(
                ArchiveSubmission.status == SubmissionStatus.PENDING,
                ArchiveSubmission.next_attempt_at <= now,
                _free(now),
            )
        )
        or 0
    )


def _claim(session: Session, ids: list[int], status: str, now: datetime, lease: timedelta) -> list:
    """Reserve rows one conditional UPDATE each: a row another worker took is skipped."""
    claimed = []
    values: dict[str, Any] = {"lease_expires_at": now + lease}
    if status == SubmissionStatus.PENDING:
        values["submitted_at"] = now  # counted by the rate limit from now on
    for submission_id in ids:
        result = session.execute(
            update(ArchiveSubmission)
            .where(
                ArchiveSubmission.id == submission_id,
                ArchiveSubmission.status == status,
                _free(now),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            row = session.get(ArchiveSubmission, submission_id)
            if row is not None:
                session.refresh(row)
                claimed.append((row.id, row.url, row.job_id))
    return claimed


# -- recording ------------------------------------------------------------------------------


def record_answer(
    session: Session,
    submission_id: int,
    answer: Answer,
    *,
    polled: bool,
    policy: HandoffPolicy,
    now: datetime,
) -> ArchiveSubmission | None:
    """Move one submission on after the archive's ``answer`` (to a save, or to a poll)."""
    row = session.get(ArchiveSubmission, submission_id)
    if row is None:  # the version (or story) was deleted meanwhile
        return None
    row.lease_expires_at = None
    if not polled:
        row.attempts += 1
    outcome = answer.outcome
    if polled and outcome == Outcome.PENDING:
        started = row.submitted_at or now
        if now - started < policy.poll_for:
            row.next_attempt_at = now + policy.poll_every
            return row
        answer = Answer(
            Outcome.RETRY, error=f"the archive's job was still pending after {policy.poll_for}"
        )
        outcome = Outcome.RETRY
    if outcome == Outcome.ARCHIVED:
        row.status = SubmissionStatus.ARCHIVED
        row.archived_url = answer.archived_url
        row.archived_at = now
        row.next_attempt_at = None
        row.job_id = None
        row.last_error = None
    elif outcome in (Outcome.ACCEPTED, Outcome.PENDING):
        row.status = SubmissionStatus.SUBMITTED
        row.job_id = answer.job_id or row.job_id
        row.next_attempt_at = now + policy.poll_every
    elif outcome == Outcome.RETRY:
        row.job_id = None
        again = retry_at(max(row.attempts, 1), policy, now)
        if again is None:
            row.status = SubmissionStatus.FAILED
            row.next_attempt_at = None
            row.last_error = f"gave up after {row.attempts} attempts: {answer.error}"
        else:
            row.status = SubmissionStatus.PENDING
            row.next_attempt_at = again
            row.last_error = answer.error
    else:
        row.status = SubmissionStatus.FAILED
        row.job_id = None
        row.next_attempt_at = None
        row.last_error = answer.error
    return row


# -- the duty -------------------------------------------------------------------------------


@dataclass
class ArchiveTick:
    saved: int = 0  # save requests sent
    polled: int = 0  # status requests sent
    archived: int = 0
    failed: int = 0  # given up for good this tick
    deferred: int = 0  # due saves left for later by the rate limit


def utcnow() -> datetime:
    return datetime.now(UTC)


class ArchiveRunner:
    """Works the archive queue: one tick sends what is due and allowed, then returns."""

    def __init__(
        self,
        db: Any,
        settings: Any,
        *,
        clock: Callable[[], datetime] = utcnow,
        stopping: threading.Event | None = None,
        client: SavePageNow | None = None,
    ) -> None:
        self.db = db
        self.policy = policy_from_settings(settings)
        self.clock = clock
        self.stopping = stopping or threading.Event()
        self.client = client or client_from_settings(settings)

    def tick(self) -> ArchiveTick:
        """Never raises: a database or archive problem waits for the next tick."""
        report = ArchiveTick()
        try:
            self._tick(report)
        except Exception as exc:  # noqa: BLE001 -- the next tick tries again
            log.error("archive hand-off tick failed: %s", exc)
        return report

    def _tick(self, report: ArchiveTick) -> None:
        now = self.clock()
        with self.db.session() as session:
            allowed = room(self.policy, saved_within(session, now - RATE_WINDOW))
            due = _due(session, SubmissionStatus.PENDING, now, allowed)
            saves = _claim(session, due, SubmissionStatus.PENDING, now, self.policy.lease)
            report.deferred = _count_due(session, now)
            polls_due = _due(session, SubmissionStatus.SUBMITTED, now, POLL_BATCH)
            polls = _claim(session, polls_due, SubmissionStatus.SUBMITTED, now, self.policy.lease)
        for submission_id, _url, job_id in polls:
            if self.stopping.is_set():
                break
            report.polled += 1
            self._record(submission_id, self.client.status(job_id or ""), True, report)
        for submission_id, url, _job_id in saves:
            if self.stopping.is_set():
                break  # the lease runs out and another tick saves it
            report.saved += 1
            self._record(submission_id, self.client.save(url), False, report)

    def _record(
        self, submission_id: int, answer: Answer, polled: bool, report: ArchiveTick
    ) -> None:
        with self.db.session() as session:
            row = record_answer(
                session, submission_id, answer, polled=polled, policy=self.policy, now=self.clock()
            )
            if row is None:
                return
            status, url, error = row.status, row.url, row.last_error
            archived = row.archived_url
        if status == SubmissionStatus.ARCHIVED:
            report.archived += 1
            log.info("archived %s: %s", url, archived)
        elif status == SubmissionStatus.FAILED:
            report.failed += 1
            log.warning("archive hand-off of %s failed: %s", url, error)
        elif answer.error:
            log.info("archive hand-off of %s will be retried: %s", url, answer.error)

    def close(self) -> None:
        self.client.close()


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSummary:
    counts: dict[str, int]
    oldest_pending_at: datetime | None
    last_error: str | None  # the newest row's error, for doctor


def queue_summary(session: Session) -> QueueSummary:
    counts = {
        str(status): count
        for status, count in session.execute(
            select(ArchiveSubmission.status, func.count()).group_by(ArchiveSubmission.status)
        )
    }
    oldest = session.scalar(
        select(func.min(ArchiveSubmission.created_at)).where(
            ArchiveSubmission.status.in_([SubmissionStatus.PENDING, SubmissionStatus.SUBMITTED])
        )
    )
    last_error = session.scalar(
        select(ArchiveSubmission.last_error)
        .where(ArchiveSubmission.last_error.is_not(None))
        .order_by(ArchiveSubmission.id.desc())
        .limit(1)
    )
    return QueueSummary(counts, oldest, last_error)


def archived_urls(session: Session, version_ids: list[int]) -> dict[int, ArchiveSubmission]:
    """The submissions of these versions, by version id (for pages, API, CLI, exports)."""
    if not version_ids:
        return {}
    rows = session.scalars(
        select(ArchiveSubmission).where(ArchiveSubmission.version_id.in_(version_ids))
    )
    return {row.version_id: row for row in rows}


def unfinished(session: Session, *, limit: int = 50) -> list[tuple[ArchiveSubmission, int]]:
    """Submissions not archived (failed first, then the oldest waiting), with their
    version numbers: what `tracker archive-status` lists."""
    order = (ArchiveSubmission.status != SubmissionStatus.FAILED, ArchiveSubmission.id)
    rows = session.execute(
        select(ArchiveSubmission, Version.seq)
        .join(Version, Version.id == ArchiveSubmission.version_id)
        .where(ArchiveSubmission.status != SubmissionStatus.ARCHIVED)
        .order_by(*order)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


def retry_failed(session: Session, *, now: datetime) -> int:
    """Give failed submissions a fresh set of attempts (after fixing the endpoint or keys)."""
    result = session.execute(
        update(ArchiveSubmission)
        .where(ArchiveSubmission.status == SubmissionStatus.FAILED)
        .values(status=SubmissionStatus.PENDING, attempts=0, next_attempt_at=now, job_id=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

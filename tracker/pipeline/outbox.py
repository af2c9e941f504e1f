"""The outbox: deliveries are written with the version, then sent by a delivery tick.

Guarantees, and where they come from:

- **Never lost.** :func:`enqueue_alerts` runs inside the check's transaction, so a version
  is never committed without its deliveries. A delivery stays owed until an attempt
  succeeds or it has failed ``max_attempts`` times (then it is ``dead``, and visible).
- **Never doubled.** Each delivery has a unique idempotency key derived from (channel,
  version or event): it cannot be enqueued twice. Claims are leases taken with
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (one writer at a time on SQLite), so two
  daemons never send the same delivery at once. What remains is the unavoidable window
  between a receiver's "200" and our commit of it: a crash there causes a resend that
  carries the same key (``webhook-id``, ``Message-ID``), never a second distinct alert.
- **Observable.** Every attempt is a row: HTTP status, SMTP reply, error text.

The decisions (back-off, what an attempt's result means, digest periods, keys) are pure
functions at the top; the I/O (claiming, sending, recording) follows.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from tracker.core.cadence import parse_duration
from tracker.notify.kinds import ChannelError, Destination, redact_result, redactor
from tracker.notify.payload import Alert, StoryInfo, describe_change, make_links
from tracker.notify.redact import Redactor
from tracker.notify.result import SendResult
from tracker.notify.senders import Senders
from tracker.notify.spec import Filters, StoryFacts
from tracker.store.alert_models import Channel, Delivery, DeliveryAttempt, DeliveryStatus
from tracker.store.channels import sync_declared
from tracker.store.models import Event, EventKind, Story, Version

log = logging.getLogger("tracker.deliveries")

# Events that are alerts of their own; PROMISE_FULFILLED rides on the version it names.
STANDALONE_EVENTS = {
    EventKind.PROMISE_OVERDUE: "promise_overdue",
    EventKind.STORY_GONE: "story_gone",
    EventKind.CHECKS_FAILING: "checks_failing",
    EventKind.EXTRACTION_SUSPECT: "extraction_suspect",
    # The article's lifecycle (tracker.core.lifecycle): each its own alert.
    EventKind.UNPUBLISHED: "unpublished",
    EventKind.REDIRECTED: "redirected",
    EventKind.SLUG_CHANGED: "slug_changed",
    EventKind.PAYWALLED: "paywalled",
    EventKind.REPUBLISHED: "republished",
    EventKind.VARIANTS_DETECTED: "variants_detected",
}
OWED = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- decisions (pure) ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPolicy:
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    max_attempts: int = 10
    lease: timedelta = timedelta(minutes=5)
    batch: int = 50
    concurrency: int = 4

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("delivery_max_attempts must be at least 1")
        if self.backoff_base <= timedelta(0) or self.backoff_cap < self.backoff_base:
            raise ValueError("delivery back-off: need 0 < delivery_backoff_base <= _cap")

    @classmethod
    def from_settings(cls, settings: Any) -> DeliveryPolicy:
        return cls(
            backoff_base=parse_duration(settings.delivery_backoff_base),
            backoff_cap=parse_duration(settings.delivery_backoff_cap),
            max_attempts=settings.delivery_max_attempts,
            lease=parse_duration(settings.delivery_lease),
            batch=settings.delivery_batch,
            concurrency=settings.delivery_concurrency,
        )


def backoff(failures: int, base: timedelta, cap: timedelta) -> timedelta:
    """The wait after ``failures`` failed attempts: base, doubling, capped."""
    if failures <= 0:
        return timedelta(0)
    if (failures - 1) * math.log(2) >= math.log(cap / base):
        return cap
    return base * 2 ** (failures - 1)


@dataclass(frozen=True)
class AfterAttempt:
    status: DeliveryStatus
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


def after_attempt(
    attempt_number: int, result: SendResult, policy: DeliveryPolicy, now: datetime
) -> AfterAttempt:
    """What a delivery becomes after its ``attempt_number``-th attempt gave ``result``."""
    if result.ok:
        return AfterAttempt(DeliveryStatus.SENT, None, now, None)
    error = result.describe()
    if attempt_number >= policy.max_attempts:
        return AfterAttempt(DeliveryStatus.DEAD, None, None, error)
    wait = backoff(attempt_number, policy.backoff_base, policy.backoff_cap)
    return AfterAttempt(DeliveryStatus.FAILED, now + wait, None, error)


def digest_due(now: datetime, period_seconds: int) -> datetime:
    """The end of the digest period ``now`` falls in (periods are aligned to UTC midnight
    for whole days, to the hour for hours)."""
    elapsed = (now - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=(math.floor(elapsed / period_seconds) + 1) * period_seconds)


def idempotency_key(
    channel_uid: str, *, version_id: int | None = None, event_id: int | None = None
) -> str:
    if version_id is not None:
        return f"trk_{channel_uid}_v{version_id}"
    if event_id is not None:
        return f"trk_{channel_uid}_e{event_id}"
    raise ValueError("an idempotency key needs a version or an event")


def digest_key(channel_uid: str, due: datetime) -> str:
    return f"trk_{channel_uid}_d{int(due.timestamp())}"


# -- enqueueing (inside the check's transaction) -------------------------------------------


def enqueue_alerts(
    session: Session,
    *,
    story: Story,
    version: Version | None,
    events: Sequence[Event],
    now: datetime,
) -> list[Delivery]:
    """Write the deliveries owed for a new version and/or new events, in the caller's
    transaction. Cheap when there is nothing to announce (no query at all)."""
    standalone = [e for e in events if e.kind in STANDALONE_EVENTS]
    if version is None and not standalone:
        return []
    channels = session.scalars(select(Channel).where(Channel.enabled.is_(True))).all()
    if not channels:
        return []
    if any(e.id is None for e in standalone):
        session.flush()
    facts = StoryFacts(
        id=story.id,
        url=story.url,
        canonical_url=story.canonical_url,
        tags=frozenset(story.tag_names),
    )
    fulfils = version is not None and any(
        e.kind == EventKind.PROMISE_FULFILLED and e.version_id == version.id for e in events
    )
    deliveries: list[Delivery] = []
    for channel in channels:
        filters = Filters.of(channel)
        if version is not None:
            trigger = filters.wants_version(
                facts, version.kinds or (), fulfils=fulfils, edit_types=version.edit_types or ()
            )
            if trigger is not None:
                applies = [trigger]
                if fulfils and trigger != "promise_fulfilled":
                    applies.append("promise_fulfilled")
                key = idempotency_key(channel.uid, version_id=version.id)
                deliveries.append(_delivery(channel, story, now, key, trigger, applies, version))
        for event in standalone:
            name = STANDALONE_EVENTS[EventKind(event.kind)]
            if filters.wants_event(facts, name):
                key = idempotency_key(channel.uid, event_id=event.id)
                deliveries.append(_delivery(channel, story, now, key, name, [name], event=event))
    session.add_all(deliveries)
    return deliveries


def _delivery(
    channel: Channel,
    story: Story,
    now: datetime,
    key: str,
    trigger: str,
    applies: list[str],
    version: Version | None = None,
    event: Event | None = None,
) -> Delivery:
    due, batch = now, None
    if channel.digest_seconds:
        due = digest_due(now, channel.digest_seconds)
        batch = digest_key(channel.uid, due)
    return Delivery(
        channel_id=channel.id,
        story_id=story.id,
        version_id=version.id if version is not None else None,
        event_id=event.id if event is not None else None,
        trigger=trigger,
        events=applies,
        idempotency_key=key,
        batch_key=batch,
        status=DeliveryStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=due,
    )


# -- claiming ---------------------------------------------------------------------------


def _lease_free(now: datetime):
    return or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at <= now)


def claim_due(
    session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[int]:
    """Lease up to ``limit`` due deliveries of enabled channels (whole digest batches)."""
    enabled = select(Channel.id).where(Channel.enabled.is_(True))
    candidates = (
        select(Delivery.id)
        .where(
            Delivery.status.in_(OWED),
            Delivery.next_attempt_at <= now,
            _lease_free(now),
            Delivery.channel_id.in_(enabled.scalar_subquery()),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    claimed = _claim(session, candidates, worker=worker, now=now, lease=lease)
    batches = session.scalars(
        select(Delivery.batch_key).where(Delivery.id.in_(claimed), Delivery.batch_key.is_not(None))
    ).all()
    if batches:
        rest = select(Delivery.id).where(
            Delivery.batch_key.in_(set(batches)), Delivery.status.in_(OWED), _lease_free(now)
        )
        claimed += _claim(session, rest, worker=worker, now=now, lease=lease)
    return claimed


def _claim(
    session: Session, candidates, *, worker: str, now: datetime, lease: timedelta
) -> list[int]:
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=Delivery)
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(candidates.scalar_subquery()))
        .values(lease_owner=worker, lease_expires_at=now + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(statement))


def release(session: Session, delivery_ids: Sequence[int], *, worker: str) -> None:
    if delivery_ids:
        session.execute(
            update(Delivery)
            .where(and_(Delivery.id.in_(list(delivery_ids)), Delivery.lease_owner == worker))
            .values(lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )


# -- building what to send ---------------------------------------------------------------


@dataclass
class Job:
    """One message to send: a single delivery, or a digest batch of them."""

    delivery_ids: list[int]
    destination: Destination
    key: str
    alerts: list[Alert] = field(default_factory=list)
    error: str | None = None  # the alert could not be built (recorded as a failed attempt)


def load_jobs(session: Session, delivery_ids: Sequence[int], base_url: str | None) -> list[Job]:
    deliveries = session.scalars(
        select(Delivery).where(Delivery.id.in_(list(delivery_ids))).order_by(Delivery.id)
    ).all()
    jobs: dict[str, Job] = {}
    changes: dict[int, Any] = {}  # version id -> Change, shared by channels
    for delivery in deliveries:
        key = delivery.batch_key or delivery.idempotency_key
        job = jobs.get(key)
        if job is None:
            job = jobs[key] = Job([], Destination.of(delivery.channel), key)
        job.delivery_ids.append(delivery.id)
        try:
            job.alerts.append(_alert(session, delivery, base_url, changes))
        except Exception as exc:  # one bad row must not stop the others
            log.exception("cannot build the alert of delivery %s", delivery.id)
            job.error = f"internal error building the alert: {type(exc).__name__}: {exc}"
    return list(jobs.values())


def _alert(session: Session, delivery: Delivery, base_url: str | None, changes: dict) -> Alert:
    story = session.get(Story, delivery.story_id)
    assert story is not None
    info = StoryInfo(story.id, story.url, story.title, tuple(story.tag_names))
    if delivery.version_id is not None:
        version = session.get(Version, delivery.version_id)
        assert version is not None
        change = changes.get(version.id)
        if change is None:
            previous = session.scalar(
                select(Version).where(Version.story_id == story.id, Version.seq == version.seq - 1)
            )
            change = changes[version.id] = describe_change(previous, version)
        detail = None
        if "promise_fulfilled" in (delivery.events or ()):
            detail = session.scalar(
                select(Event.detail).where(
                    Event.version_id == version.id, Event.kind == EventKind.PROMISE_FULFILLED
                )
            )
        return Alert(
            trigger=delivery.trigger,
            story=info,
            occurred_at=version.captured_at,
            links=make_links(base_url, info, version.seq),
            events=tuple(delivery.events or (delivery.trigger,)),
            change=change,
            detail=detail,
        )
    event = session.get(Event, delivery.event_id) if delivery.event_id is not None else None
    return Alert(
        trigger=delivery.trigger,
        story=info,
        occurred_at=event.created_at if event is not None else delivery.created_at,
        links=make_links(base_url, info),
        events=tuple(delivery.events or (delivery.trigger,)),
        detail=event.detail if event is not None else None,
    )


# -- recording --------------------------------------------------------------------------


def record_attempt(
    session: Session,
    delivery_ids: Sequence[int],
    result: SendResult,
    *,
    started_at: datetime,
    now: datetime,
    worker: str | None,
    policy: DeliveryPolicy,
    settings: Any = None,
) -> list[Delivery]:
    """Keep the attempt and move each delivery on (sent, retry later, or dead). The result's
    error and reply are kept masked (:func:`mask_delivery_text`)."""
    statement = select(Delivery).where(Delivery.id.in_(list(delivery_ids)))
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(of=Delivery)
    deliveries = session.scalars(statement).all()
    duration_ms = max(0, int((now - started_at).total_seconds() * 1000))
    masked: dict[int, SendResult] = {}
    for delivery in deliveries:
        # Masked here, where errors are stored, with the channel's own secrets: whatever
        # sent the alert, no page, API or CLI reading the row later can show them.
        shown = masked.get(delivery.channel_id)
        if shown is None:
            shown = masked[delivery.channel_id] = _masked(result, delivery.channel, settings)
        number = delivery.attempts + 1
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                number=number,
                started_at=started_at,
                duration_ms=duration_ms,
                ok=shown.ok,
                status_code=shown.status_code,
                response=shown.response,
                error=shown.error,
                worker=worker,
            )
        )
        delivery.attempts = number
        if delivery.lease_owner == worker:
            delivery.lease_owner = None
            delivery.lease_expires_at = None
        if delivery.status == DeliveryStatus.SENT:
            continue  # another worker got there after our lease ran out: keep its success
        outcome = after_attempt(number, shown, policy, now)
        delivery.status = outcome.status
        delivery.next_attempt_at = outcome.next_attempt_at
        delivery.sent_at = outcome.sent_at
        delivery.last_error = outcome.last_error
    return list(deliveries)


def _masked(result: SendResult, channel: Channel | None, settings: Any) -> SendResult:
    if channel is None:
        return result
    return redact_result(result, channel_redactor(channel, settings))


def channel_redactor(channel: Channel, settings: Any = None) -> Redactor:
    """What masks ``channel``'s secrets (and the settings' delivery credentials)."""
    return redactor(channel.kind, channel.target, channel.secret, settings)


def mask_delivery_text(text: str | None, channel: Channel, settings: Any = None) -> str | None:
    """A delivery's stored error or reply as it may be shown: rows stored before errors
    were masked when recorded are masked again on the way out."""
    return channel_redactor(channel, settings)(text)


# -- the delivery tick --------------------------------------------------------------------


@dataclass
class TickReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.dead


def utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryRunner:
    """Sends due deliveries: claim a batch, send on a small thread pool, record each."""

    def __init__(
        self,
        db: Any,
        settings: Any,
        *,
        worker: str,
        clock: Callable[[], datetime] = utcnow,
        stopping: threading.Event | None = None,
        senders: Senders | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.worker = worker
        self.clock = clock
        self.policy = DeliveryPolicy.from_settings(settings)
        self.stopping = stopping or threading.Event()
        self.senders = senders or Senders(settings)
        self._pool = ThreadPoolExecutor(
            max_workers=self.policy.concurrency, thread_name_prefix="deliver"
        )
        self._lock = threading.Lock()

    def sync_channels(self) -> list[str]:
        """Bring the settings file's channels into the table (see :func:`sync_declared`)."""
        try:
            with self.db.session() as session:
                changes = sync_declared(session, self.settings.channels, now=self.clock())
        except ChannelError as exc:
            # Loud, but not fatal: channels already in the table keep working.
            log.error("the settings file's channels were not synced: %s", exc)
            return []
        for change in changes:
            log.info("channel %s (settings file)", change)
        return changes

    def tick(self) -> TickReport:
        """Send everything due now; returns counts. Never raises."""
        report = TickReport()
        while not self.stopping.is_set():
            try:
                with self.db.session() as session:
                    ids = claim_due(
                        session,
                        worker=self.worker,
                        now=self.clock(),
                        lease=self.policy.lease,
                        limit=self.policy.batch,
                    )
                if not ids:
                    break
                with self.db.session() as session:
                    jobs = load_jobs(session, ids, self.settings.base_url)
            except Exception as exc:  # noqa: BLE001 -- database down: next tick retries
                log.error("could not claim deliveries: %s", exc)
                break
            skipped: list[int] = []
            for outcome in self._pool.map(self._run, jobs):
                if outcome is None:
                    continue
                if isinstance(outcome, list):
                    skipped.extend(outcome)
                else:
                    setattr(report, outcome, getattr(report, outcome) + 1)
            if skipped:
                with self.db.session() as session:
                    release(session, skipped, worker=self.worker)
            if len(ids) < self.policy.batch:
                break
        return report

    def _run(self, job: Job) -> str | list[int] | None:
        if self.stopping.is_set():
            return job.delivery_ids  # hand back: the next daemon sends it
        started_at = self.clock()
        destination = job.destination
        if job.error is not None:
            result = SendResult(False, error=job.error)
        else:
            # Signatures and Date headers carry wall-clock time: receivers reject stale ones
            # (the clock above is the scheduler's, which tests simulate).
            result = self.senders.send(destination, job.alerts, job.key, utcnow())
        # Before it is logged or stored: no channel secret in an error (see notify.redact).
        redact = redactor(destination.kind, destination.target, destination.secret, self.settings)
        result = redact_result(result, redact)
        try:
            with self.db.session() as session:
                deliveries = record_attempt(
                    session,
                    job.delivery_ids,
                    result,
                    started_at=started_at,
                    now=self.clock(),
                    worker=self.worker,
                    policy=self.policy,
                    settings=self.settings,
                )
                statuses = [d.status for d in deliveries]
                attempts = max((d.attempts for d in deliveries), default=0)
        except Exception as exc:  # noqa: BLE001 -- the lease expires; it will be re-sent
            log.error("could not record the attempt of %s: %s", job.key, exc)
            return None
        status = statuses[0] if statuses else DeliveryStatus.FAILED
        level = logging.INFO if result.ok else logging.WARNING
        log.log(
            level,
            "delivery %s to %s (%s) attempt %d: %s",
            job.key,
            job.destination.name,
            job.destination.kind,
            attempts,
            result.describe(),
            extra={
                "delivery": {
                    "key": job.key,
                    "channel": job.destination.name,
                    "status": str(status),
                    "attempt": attempts,
                    "ok": result.ok,
                    "status_code": result.status_code,
                    "error": result.error,
                }
            },
        )
        return {
            DeliveryStatus.SENT: "sent",
            DeliveryStatus.DEAD: "dead",
        }.get(DeliveryStatus(status), "failed")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.senders.close()

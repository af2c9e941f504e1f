"""The daemon: APScheduler runs the periodic duties; the per-story schedule is in the database.

Duties:

- **dispatch** (every ``dispatch_interval``): claim due stories with leases and hand them
  to the :class:`~tracker.pipeline.engine.CheckEngine`; while due work remains and the pool has
  room, keep claiming, so a backlog drains at full speed rather than one batch a tick;
- **housekeeping**: overdue promises, retiring stale stories, pruning old check rows;
- **summary**: one log line (checked, changed, errors, queue lag);
- **archive** (every ``archive_interval``, when ``archive_endpoint`` is set): the web-archive
  hand-off queue (:mod:`tracker.pipeline.web_archive`);
- **timestamps** (when ``tsa_url`` is set): the chain heads that changed since the last
  RFC 3161 timestamp, at most every ``tsa_interval`` (tracker.services.timestamps);
- **heartbeat** (every 30 s): the worker's row in ``workers``, deleted on a clean stop, so
  the web UI can say when nothing is checking (:mod:`tracker.core.liveness`).

APScheduler 3.x job stores must not be shared between processes, so no per-story jobs
live there: ``stories.next_check_at`` is the schedule, and leases let many workers share it.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from tracker.config import Settings
from tracker.core.liveness import HEARTBEAT_SECONDS
from tracker.pipeline import claims, stages
from tracker.pipeline.engine import CheckEngine, utcnow
from tracker.pipeline.extraction_pool import start_server
from tracker.pipeline.housekeeping import run_housekeeping
from tracker.pipeline.outbox import DeliveryRunner
from tracker.pipeline.story_state import CheckReport, StoryState
from tracker.pipeline.web_archive import ArchiveRunner
from tracker.store import workers
from tracker.store.db import Database
from tracker.store.models import CheckOutcome

log = logging.getLogger("tracker.daemon")

# How often dispatch looks for leases held by this host's dead workers (a scan of leases).
RECLAIM_EVERY = timedelta(minutes=1)
check_log = logging.getLogger("tracker.check")
# How often the timestamps duty asks whether `tsa_interval` has passed.
TIMESTAMP_TICK_SECONDS = 60


class Daemon:
    """Checks every active story when it is due, until stopped.

    `on_report` is told each check's report once it is committed, mostly from the engine's
    writer thread (see CheckEngine.submit): it must be quick and must not wait on a check."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        engine: CheckEngine | None = None,
        on_report: Callable[[CheckReport], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.engine = engine or CheckEngine(db, settings, worker_id=worker_id, clock=clock)
        self.worker_id = self.engine.worker_id
        self.lease = timedelta(seconds=settings.lease_seconds)
        # Enough queued work that threads never idle between ticks, little enough that a
        # shutdown has few leases to hand back.
        self.max_in_flight = settings.global_concurrency * 2
        self.stats: Counter[str] = Counter()
        self._in_flight: dict[int, Future[CheckReport]] = {}
        self._lock = threading.Lock()
        self._slot_freed = threading.Condition(self._lock)
        self.stopping = threading.Event()
        self.stopped = threading.Event()
        self.scheduler = BackgroundScheduler(timezone=UTC)
        self._last_tick_at: datetime | None = None
        self._reclaimed_at: datetime | None = None
        self._on_report = on_report
        self.deliveries: DeliveryRunner | None = None
        self.archive: ArchiveRunner | None = None
        self._started = time.monotonic()
        self.started_at = clock()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self.settings.extract_processes != 0:
            start_server()  # its imports overlap the first claims and fetches
        self.heartbeat()  # seen as running at once, not 30 s later
        add = self.scheduler.add_job
        common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
        add(self.heartbeat, "interval", seconds=HEARTBEAT_SECONDS, id="heartbeat", **common)
        add(
            self.dispatch_tick,
            "interval",
            seconds=self.settings.dispatch_interval,
            id="dispatch",
            next_run_time=datetime.now(UTC),
            **common,
        )
        add(
            self.housekeeping,
            "interval",
            seconds=self.settings.housekeeping_interval,
            id="housekeeping",
            next_run_time=datetime.now(UTC) + timedelta(seconds=5),
            **common,
        )
        add(
            self.log_summary,
            "interval",
            seconds=self.settings.summary_interval,
            id="summary",
            **common,
        )
        # Alerts: the settings file's channels into the table, then send what is due.
        self.deliveries = DeliveryRunner(
            self.db, self.settings, worker=self.worker_id, clock=self.clock, stopping=self.stopping
        )
        self.deliveries.sync_channels()
        add(
            self.deliveries.tick,
            "interval",
            seconds=self.settings.delivery_interval,
            id="deliveries",
            **common,
        )
        # The web-archive hand-off, when configured: a duty of its own, so a slow or dead
        # archive delays only its queue, never a check.
        if self.settings.archive_endpoint:
            self.archive = ArchiveRunner(
                self.db, self.settings, clock=self.clock, stopping=self.stopping
            )
            add(
                self.archive.tick,
                "interval",
                seconds=self.settings.archive_interval,
                id="archive",
                **common,
            )
        # Discovery: poll due feeds and sitemaps, merge duplicate stories, prune old captures.
        from tracker.services.feeds import DISCOVERY_TICK_SECONDS, discovery_job

        feeds_job = discovery_job(
            self.db,
            self.settings,
            fetcher=self.engine.fetcher,
            robots=self.engine.robots,
            clock=self.clock,
        )
        add(feeds_job, "interval", seconds=DISCOVERY_TICK_SECONDS, id="feeds", **common)
        if self.settings.tsa_url:
            # Its own job: a slow or dead TSA holds one scheduler thread, never a check.
            add(
                self.timestamp_tick,
                "interval",
                seconds=TIMESTAMP_TICK_SECONDS,
                id="timestamps",
                **common,
            )
        self.scheduler.start()
        log.info(
            "worker %s started: database %s, up to %d checks at once",
            self.worker_id,
            self.db.engine.url.render_as_string(hide_password=True),
            self.settings.global_concurrency,
        )

    def stop(self, grace: float = 30.0) -> None:
        """Stop claiming, let in-flight checks finish (up to ``grace`` s), hand back the rest."""
        if self.stopped.is_set():
            return
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        with self._lock:
            pending = dict(self._in_flight)
        not_started = [story_id for story_id, f in pending.items() if f.cancel()]
        if not_started:
            with self.db.session() as session:
                claims.release(session, not_started, worker=self.worker_id)
        running = [f for story_id, f in pending.items() if story_id not in not_started]
        if running:
            log.info("waiting up to %.0f s for %d running checks", grace, len(running))
            for future in running:
                future.exception(timeout=max(0.1, grace))
        self.engine.close()
        if self.deliveries is not None:
            self.deliveries.close()
        if self.archive is not None:
            self.archive.close()
        self.log_summary()
        self._forget_heartbeat()
        log.info("worker %s stopped", self.worker_id)
        self.stopped.set()

    # -- duties ------------------------------------------------------------------------

    def dispatch_tick(self) -> int:
        """Claim and start due checks while there is room; returns how many were started."""
        self._last_tick_at = self.clock()
        started = 0
        while not self.stopping.is_set():
            with self._lock:
                room = self.max_in_flight - len(self._in_flight)
                if room <= 0:
                    self._slot_freed.wait(timeout=0.5)
                    continue
            wanted = min(room, self.settings.dispatch_batch)
            now = self.clock()
            # Other workers' dead processes are looked for once a minute (a scan of leases).
            dead_workers = self._reclaimed_at is None or now - self._reclaimed_at >= RECLAIM_EVERY
            self.engine.reclaim_leases(dead_workers=dead_workers)
            if dead_workers:
                self._reclaimed_at = now
            try:
                with self.db.session() as session:
                    claimed = claims.claim_due(
                        session,
                        worker=self.worker_id,
                        now=self.clock(),
                        lease=self.lease,
                        limit=wanted,
                    )
            except Exception as exc:  # noqa: BLE001 -- database down: try again next tick
                log.error("could not claim due stories: %s", exc)
                return started
            for state in claimed:
                self._start(state)
            started += len(claimed)
            if len(claimed) < wanted:
                break
        return started

    def _start(self, state: StoryState) -> None:
        with self._lock:
            future = self.engine.submit(state)
            self._in_flight[state.id] = future
        future.add_done_callback(functools.partial(self._finished, state.id))

    def _finished(self, story_id: int, future: Future[CheckReport]) -> None:
        with self._lock:
            self._in_flight.pop(story_id, None)
            self._slot_freed.notify_all()
        if future.cancelled():
            return
        report = future.result()
        self.stats["checked"] += 1
        self.stats[str(report.outcome)] += 1
        log_check(report)
        if self._on_report is not None:
            self._on_report(report)

    def heartbeat(self) -> None:
        """Say this worker is alive (its row in ``workers``)."""
        try:
            with self.db.session() as session:
                workers.beat(
                    session,
                    name=self.worker_id,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=self.started_at,
                    now=self.clock(),
                )
        except Exception as exc:  # noqa: BLE001 -- database down: the next beat tries again
            log.error("heartbeat not recorded: %s", exc)

    def _forget_heartbeat(self) -> None:
        try:
            with self.db.session() as session:
                workers.forget(session, self.worker_id)
        except Exception as exc:  # noqa: BLE001 -- the row goes stale; the web UI copes
            log.error("heartbeat not removed: %s", exc)

    def housekeeping(self) -> None:
        try:
            with self.db.session() as session:
                report = run_housekeeping(
                    session,
                    self.engine.policy,
                    self.clock(),
                    check_retention=timedelta(days=self.settings.check_retention_days),
                )
        except Exception as exc:  # noqa: BLE001 -- database down: next run will catch up
            log.error("housekeeping failed: %s", exc)
            return
        if any((report.promises_overdue, report.stories_retired, report.checks_pruned)):
            log.info(
                "housekeeping: %d promises overdue, %d stories retired, %d old checks pruned",
                report.promises_overdue,
                report.stories_retired,
                report.checks_pruned,
            )

    def timestamp_tick(self) -> None:
        """Timestamp the chain heads that changed, when ``tsa_interval`` has passed since
        the last request (docs/evidence.md). A TSA's failure is recorded and logged."""
        from tracker.services.timestamps import stamp_changed_heads, stamp_due

        try:
            with self.db.read_session() as session:
                if not stamp_due(session, self.settings, self.clock()):
                    return
            result = stamp_changed_heads(self.db, self.settings, now=self.clock())
        except Exception as exc:  # noqa: BLE001 -- database down: the next tick tries again
            log.error("timestamping failed: %s", exc)
            return
        if result.error:
            log.warning("timestamp of %d chain heads failed: %s", result.heads, result.error)
        elif result.timestamp_id is not None:
            log.info("timestamped %d chain heads at %s", result.heads, result.gen_time)

    def queue_lag(self) -> float:
        """Seconds the most overdue story has been waiting (see claims.queue_lag_seconds)."""
        with self.db.read_session() as session:
            return claims.queue_lag_seconds(session, self.clock())

    def log_summary(self) -> None:
        try:
            lag = self.queue_lag()
        except Exception:  # noqa: BLE001 -- a summary must not fail the daemon
            lag = float("nan")
        stats = self.stats
        errors = sum(stats[o] for o in (CheckOutcome.ERROR, CheckOutcome.EMPTY, "blocked"))
        elapsed = max(time.monotonic() - self._started, 1e-9)
        per_check = self.engine.stage_cpu.per_check()
        log.info(
            "summary: %d checked, %d changed, %d unchanged, %d not modified, %d errors; "
            "%.1f checks/s since start; queue lag %.1f s; CPU per check: %s",
            stats["checked"],
            stats[CheckOutcome.CHANGED],
            stats[CheckOutcome.UNCHANGED],
            stats[CheckOutcome.NOT_MODIFIED],
            errors,
            stats["checked"] / elapsed,
            lag,
            stages.describe(per_check),
            extra={
                "summary": {
                    **stats,
                    "checks_per_second": stats["checked"] / elapsed,
                    "queue_lag_seconds": lag,
                    "cpu_seconds_per_check": per_check,
                }
            },
        )

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)


def log_check(report: CheckReport) -> None:
    """One line per check outcome."""
    parts = [f"{report.outcome}", report.url or f"story {report.story_id}"]
    if report.version_seq:
        parts.append(f"v{report.version_seq}: {report.summary}")
    if report.error:
        parts.append(f"({report.error})")
    if report.events:
        parts.append("events: " + ", ".join(report.events))
    if report.next_check_at:
        parts.append(f"next {report.schedule_reason}")
    level = logging.WARNING if report.outcome == CheckOutcome.ERROR else logging.INFO
    check_log.log(
        level,
        " ".join(parts),
        extra={
            "check": {
                "story_id": report.story_id,
                "url": report.url,
                "outcome": str(report.outcome),
                "http_status": report.http_status,
                "version": report.version_seq,
                "kinds": list(report.kinds),
                "events": report.events,
                "error": report.error,
                "next_check_at": report.next_check_at.isoformat() if report.next_check_at else None,
                "duration_ms": report.duration_ms,
            }
        },
    )

"""/healthz and /metrics (Prometheus), computed from the database at request time.

Computing from the database rather than counting in-process means any web process reports
the whole installation's numbers, whichever daemon or workers did the checks. Check counts
cover the retained check log (``check_retention_days``), so they are gauges, not counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import case, func, select, text

from tracker.pipeline import claims
from tracker.pipeline.web_archive import queue_summary
from tracker.store.archive_models import SubmissionStatus
from tracker.store.db import Database
from tracker.store.models import Check, CheckOutcome, Story, Version
from tracker.store.timestamps import timestamp_summary
from tracker.web.deps import database, settings_of

router = APIRouter(include_in_schema=False)

# Fetch durations, seconds.
BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Queue lag beyond which nothing is evidently checking due stories.
MIN_STALL_SECONDS: Final = 300.0


class DatabaseCollector:
    """A Prometheus collector reading the tracker's tables on each scrape."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        with self.db.session() as session:
            stories = session.execute(
                select(Story.status, func.count()).group_by(Story.status)
            ).all()
            developing = session.scalar(
                select(func.count()).select_from(Story).where(Story.developing.is_(True))
            )
            suspect = session.scalar(
                select(func.count())
                .select_from(Story)
                .where(Story.extraction_health == "suspect", Story.status == "active")
            )
            versions = session.scalar(select(func.count()).select_from(Version))
            outcomes = session.execute(
                select(Check.outcome, func.count()).group_by(Check.outcome)
            ).all()
            seconds = Check.duration_ms / 1000.0
            bucket_counts = session.execute(
                select(
                    *[func.sum(case((seconds <= bound, 1), else_=0)) for bound in BUCKETS],
                    func.count(),
                    func.coalesce(func.sum(seconds), 0.0),
                ).where(Check.http_status.is_not(None))
            ).one()
            lag = claims.queue_lag_seconds(session, now)
            archive = queue_summary(session).counts
            stamps = timestamp_summary(session)

        gauge = GaugeMetricFamily("tracker_stories", "Stories by status", labels=["status"])
        for status, count in stories:
            gauge.add_metric([status], count)
        yield gauge
        yield GaugeMetricFamily(
            "tracker_developing_stories", "Stories carrying a developing marker", developing or 0
        )
        yield GaugeMetricFamily(
            "tracker_suspect_extractions",
            "Active stories whose stored text is probably not the article",
            suspect or 0,
        )
        yield GaugeMetricFamily("tracker_versions", "Versions stored", versions or 0)
        checks = GaugeMetricFamily(
            "tracker_checks", "Checks in the retained log by outcome", labels=["outcome"]
        )
        for outcome in CheckOutcome:
            if outcome is CheckOutcome.SKIPPED:  # never stored
                continue
            checks.add_metric([outcome.value], dict(outcomes).get(outcome.value, 0))
        yield checks
        yield GaugeMetricFamily(
            "tracker_queue_lag_seconds", "How long the most overdue story has waited", lag
        )
        submissions = GaugeMetricFamily(
            "tracker_archive_submissions",
            "Versions handed to the web archive, by status (failed: given up)",
            labels=["status"],
        )
        for status in SubmissionStatus:
            submissions.add_metric([status.value], archive.get(status.value, 0))
        yield submissions
        timestamps = GaugeMetricFamily(
            "tracker_chain_timestamps",
            "RFC 3161 timestamp requests by status (ok: granted; error: failed)",
            labels=["status"],
        )
        timestamps.add_metric(["ok"], stamps.granted)
        timestamps.add_metric(["error"], stamps.failed)
        yield timestamps
        yield GaugeMetricFamily(
            "tracker_chain_timestamps_failing",
            "Timestamp requests failed since the last granted one (alert when above 0)",
            stamps.failing_since_granted,
        )
        if stamps.last_granted_at is not None:
            yield GaugeMetricFamily(
                "tracker_chain_timestamp_last_granted_seconds",
                "Unix time of the last granted timestamp request",
                stamps.last_granted_at.timestamp(),
            )
        *cumulative, total, total_seconds = bucket_counts
        histogram = HistogramMetricFamily(
            "tracker_fetch_duration_seconds",
            "Duration of checks that got an HTTP answer (retained log)",
            buckets=[
                *[
                    (str(bound), int(count or 0))
                    for bound, count in zip(BUCKETS, cumulative, strict=True)
                ],
                ("+Inf", int(total or 0)),
            ],
            sum_value=float(total_seconds or 0.0),
        )
        yield histogram


def registry_for(db: Database) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(db))
    return registry


@router.get("/metrics")
def metrics(request: Request) -> Response:
    registry = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = request.app.state.metrics_registry = registry_for(database(request))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz")
def healthz(request: Request) -> Response:
    """200 when the database answers and due stories are being checked, else 503.

    "Scheduler alive" is judged from the data: when due stories wait longer than a few
    dispatch intervals (at least five minutes), nothing is checking them.
    """
    settings = settings_of(request)
    now = datetime.now(UTC)
    stall = max(MIN_STALL_SECONDS, settings.dispatch_interval * 30)
    try:
        with database(request).read_session() as session:
            session.execute(text("SELECT 1"))
            lag = claims.queue_lag_seconds(session, now)
            last_check = session.scalar(select(func.max(Check.started_at)))
    except Exception as exc:  # noqa: BLE001 -- whatever the driver raises, the answer is "down"
        return JSONResponse(
            {"status": "error", "database": "unreachable", "error": type(exc).__name__},
            status_code=503,
        )
    scheduler_ok = lag < stall
    body = {
        "status": "ok" if scheduler_ok else "stalled",
        "database": "ok",
        "scheduler": "ok" if scheduler_ok else "stalled",
        "queue_lag_seconds": round(lag, 1),
        "stall_threshold_seconds": stall,
        "last_check_at": last_check.isoformat() if last_check else None,
        "last_check_age_seconds": (
            round((now - last_check).total_seconds(), 1) if last_check else None
        ),
    }
    return JSONResponse(body, status_code=200 if scheduler_ok else 503)

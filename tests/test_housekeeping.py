"""Housekeeping: overdue promises (with their alert), retiring stale stories, pruning checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tracker.core.cadence import CadencePolicy
from tracker.pipeline.housekeeping import run_housekeeping
from tracker.services.stories import add_stories
from tracker.store.alert_models import Delivery
from tracker.store.channels import add_channel
from tracker.store.models import Check, Event, PromiseState, Story, StoryStatus

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _story(session, url: str, **fields) -> Story:
    [added] = add_stories(session, [url], now=NOW - timedelta(days=2), allow_private_networks=True)
    story = session.get(Story, added.story_id)
    for name, value in fields.items():
        setattr(story, name, value)
    return story


def test_an_undelivered_promise_becomes_overdue_once_and_alerts(db):
    policy = CadencePolicy()
    with db.session() as session:
        add_channel(
            session,
            name="desk",
            kind="webhook",
            target="https://hooks.example/desk",
            min_kind=None,
            events=["promise_overdue"],
            now=NOW,
        )
        late = _story(
            session,
            "https://news.example/late",
            promise_state=PromiseState.PENDING,
            promise_text="check back for an update",
            promised_at=NOW - timedelta(hours=25),
        )
        _story(
            session,
            "https://news.example/in-time",
            promise_state=PromiseState.PENDING,
            promise_text="more to follow",
            promised_at=NOW - timedelta(hours=2),
        )
        late_id = late.id

    for _ in range(2):  # a second run must not repeat the event or the alert
        with db.session() as session:
            run_housekeeping(session, policy, NOW, check_retention=timedelta(days=90))

    with db.session() as session:
        events = session.execute(select(Event.story_id, Event.kind)).all()
        deliveries = session.scalar(select(func.count()).select_from(Delivery))
        assert session.get(Story, late_id).promise_state == PromiseState.OVERDUE
    assert events == [(late_id, "promise_overdue")]
    assert deliveries == 1


def test_stale_stories_retire_and_old_checks_are_pruned(db):
    policy = CadencePolicy()
    with db.session() as session:
        old = _story(session, "https://news.example/old", first_seen_at=NOW - timedelta(days=400))
        fresh = _story(session, "https://news.example/fresh")
        for age_days in (100, 1):
            session.add(
                Check(
                    story_id=fresh.id,
                    started_at=NOW - timedelta(days=age_days),
                    duration_ms=5,
                    outcome="unchanged",
                )
            )
        old_id, fresh_id = old.id, fresh.id

    with db.session() as session:
        report = run_housekeeping(session, policy, NOW, check_retention=timedelta(days=90))
    assert (report.stories_retired, report.checks_pruned) == (1, 1)
    with db.session() as session:
        assert session.get(Story, old_id).status == StoryStatus.RETIRED
        assert session.get(Story, fresh_id).status == StoryStatus.ACTIVE
        assert session.scalar(select(func.count()).select_from(Check)) == 1

"""A check answered 304 Not Modified is written in bulk (record_not_modified, then
write_not_modified for the whole group transaction): it must leave exactly the rows that
`record`, the one path for every other check, leaves for the same 304.

Each scenario fetches a real 304 from a local server, then writes it both ways from the same
database state (each in a transaction rolled back afterwards) and compares every column of
the story and of the new check row, and the reports.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from servers import LocalServer
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.core.cadence import CadencePolicy
from tracker.demo.site import STAGES, render_page
from tracker.net.fetcher import FetchOptions, FetchResult, Outcome
from tracker.net.http import HttpFetcher
from tracker.pipeline import not_modified
from tracker.pipeline.check import lock_stories, record
from tracker.pipeline.engine import CheckEngine
from tracker.pipeline.not_modified import (
    lock_story_rows,
    record_not_modified,
    write_not_modified,
)
from tracker.pipeline.story_state import CheckReport
from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Check, Event, Story

WORKER = "host:1:abcdef"
STORIES = Story.__table__
CHECKS = Check.__table__
assert isinstance(STORIES, Table) and isinstance(CHECKS, Table)


def _story_with_a_version(db: Database, settings: Settings, server: LocalServer) -> int:
    server.set("/story", render_page(STAGES[0]), etag='"v1"')
    with db.session() as session:
        [added] = add_stories(
            session, [server.url("/story")], now=datetime.now(UTC), allow_private_networks=True
        )
    with CheckEngine(db, settings) as engine:
        [first] = engine.check_now([added.story_id])
    assert first.version_seq == 1
    return added.story_id


def _not_modified(server: LocalServer) -> FetchResult:
    with HttpFetcher(FetchOptions(allow_private_networks=True)) as fetcher:
        fetched = fetcher.fetch(server.url("/story"), etag='"v1"')
    assert fetched.outcome is Outcome.NOT_MODIFIED and fetched.status == 304
    return fetched


Write = Callable[..., CheckReport]


def _old_path(session: Session, story_id: int, fetched: FetchResult, **kwargs: Any) -> CheckReport:
    lock_stories(session, [story_id])
    return record(session, story_id, fetched, None, None, **kwargs)


def _new_path(session: Session, story_id: int, fetched: FetchResult, **kwargs: Any) -> CheckReport:
    lock_story_rows(session, [story_id])
    report = record_not_modified(session, story_id, fetched, **kwargs)
    write_not_modified(session)
    return report


def _written(
    db: Database,
    story_id: int,
    fetched: FetchResult,
    write: Write,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str], CheckReport]:
    """The story's row, its check rows and the kinds of the events it made, after `write`
    (rolled back after)."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    # The cadence's jitter, the one random input, drawn the same for both paths.
    monkeypatch.setattr(random, "random", random.Random(7).random)
    kwargs: dict[str, Any] = {
        "policy": CadencePolicy(),
        "now": now,
        "started_at": now - timedelta(milliseconds=42),
        "worker": WORKER,
        "compared_against": None,
        "fetcher": "http",
        "render_reason": None,
        "wait_ms": 3,
    } | overrides
    session = db.sessions()
    try:
        session.begin()
        report = write(session, story_id, fetched, **kwargs)
        session.flush()
        story = dict(
            session.execute(select(STORIES).where(STORIES.c.id == story_id)).one()._mapping
        )
        checks = [
            dict(row._mapping)
            for row in session.execute(
                select(CHECKS).where(CHECKS.c.story_id == story_id).order_by(CHECKS.c.id)
            )
        ]
        events = list(
            session.scalars(
                select(Event.kind)
                .where(Event.story_id == story_id, Event.created_at == now)
                .order_by(Event.id)
            )
        )
        return story, checks, events, report
    finally:
        session.rollback()
        session.close()


def _both_paths(
    db: Database,
    story_id: int,
    fetched: FetchResult,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str], CheckReport]:
    old = _written(db, story_id, fetched, _old_path, monkeypatch, **overrides)
    new = _written(db, story_id, fetched, _new_path, monkeypatch, **overrides)
    assert new[0] == old[0], "the story's row differs"
    # Check ids aside: a PostgreSQL sequence is not rolled back with the first transaction.
    assert [_without_id(row) for row in new[1]] == [_without_id(row) for row in old[1]], (
        "the check rows differ"
    )
    assert new[2] == old[2], "the events differ"
    assert asdict(new[3]) == asdict(old[3]), "the reports differ"
    return old


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "id"}


def _set(db: Database, story_id: int, **values: Any) -> None:
    with db.session() as session:
        session.execute(update(Story).where(Story.id == story_id).values(**values))


def test_a_304_writes_the_same_rows_as_record_does(
    db: Database, settings: Settings, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    story_id = _story_with_a_version(db, settings, server)
    # Leased by this worker, as a claimed story is, after a run of failures.
    _set(
        db,
        story_id,
        lease_owner=WORKER,
        lease_expires_at=datetime(2026, 12, 1, 12, 5, tzinfo=UTC),
        consecutive_failures=3,
        consecutive_gone=1,
        last_error="HTTP 503 Service Unavailable",
        first_seen_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )
    story, checks, events, report = _both_paths(db, story_id, _not_modified(server), monkeypatch)
    # Not vacuous: the 304 was recorded, the story rescheduled and handed back.
    assert checks[-1]["outcome"] == "not_modified" and checks[-1]["http_status"] == 304
    assert checks[-1]["duration_ms"] == 42 and checks[-1]["wait_ms"] == 3
    assert checks[-1]["worker"] == WORKER and checks[-1]["fetcher"] == "http"
    assert story["lease_owner"] is None and story["lease_expires_at"] is None
    assert story["consecutive_failures"] == 0 and story["last_error"] is None
    assert story["consecutive_gone"] == 0
    assert story["last_checked_at"] == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert story["next_check_at"] > story["last_checked_at"]
    assert story["etag"] == '"v1"'
    assert events == [] and report.outcome == "not_modified" and report.events == []


def test_a_304_that_carries_new_validators_stores_them(
    db: Database, settings: Settings, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    """A CDN may answer 304 with a new ETag (RFC 9111, 4.3.4): the next check must send it,
    or the origin's next answer to the stale one is a needless full page."""
    story_id = _story_with_a_version(db, settings, server)
    rotated = replace(
        _not_modified(server), etag='"v1-gzip"', last_modified="Thu, 03 Dec 2026 08:00:00 GMT"
    )
    story, checks, _, _ = _both_paths(db, story_id, rotated, monkeypatch)
    assert checks[-1]["outcome"] == "not_modified"
    assert story["etag"] == '"v1-gzip"'
    assert story["last_modified"] == "Thu, 03 Dec 2026 08:00:00 GMT"


def test_a_304_of_a_story_with_its_own_interval_and_a_render_reason(
    db: Database, settings: Settings, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    story_id = _story_with_a_version(db, settings, server)
    _set(db, story_id, fixed_interval_seconds=600, lease_owner=None, lease_expires_at=None)
    story, checks, _, report = _both_paths(
        db, story_id, _not_modified(server), monkeypatch, render_reason="r" * 2500, wait_ms=900
    )
    assert story["schedule_reason"] and "10 min" in story["schedule_reason"]
    assert len(checks[-1]["render_reason"]) == 2000 and report.render_reason == "r" * 2000
    assert checks[-1]["wait_ms"] == 42  # never more than the check took


def test_a_304_that_makes_an_event_is_recorded_as_record_does(
    db: Database, settings: Settings, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    """A story seen for long enough is retired by the cadence: an event, through `record`."""
    story_id = _story_with_a_version(db, settings, server)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    _set(
        db,
        story_id,
        first_seen_at=long_ago,
        last_substantive_at=long_ago,
        developing=False,
        promised_at=None,
        lease_owner=WORKER,
    )
    story, _, events, report = _both_paths(db, story_id, _not_modified(server), monkeypatch)
    assert story["status"] == "retired" and events == ["story_retired"]
    assert report.events == ["story_retired"]


def test_a_304_for_a_story_whose_lease_was_lost_writes_nothing(
    db: Database, settings: Settings, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    story_id = _story_with_a_version(db, settings, server)
    _set(db, story_id, lease_owner="another:2:worker")
    story, checks, _, report = _both_paths(db, story_id, _not_modified(server), monkeypatch)
    assert report.lease_lost and story["lease_owner"] == "another:2:worker"
    assert [check["outcome"] for check in checks] == ["changed"]  # the first check only


def test_a_304_for_a_story_removed_meanwhile(
    db: Database, settings: Settings, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    story_id = _story_with_a_version(db, settings, server)
    fetched = _not_modified(server)
    reports = []
    for write in (_old_path, _new_path):
        session = db.sessions()
        try:
            session.begin()
            session.query(Story).filter(Story.id == story_id).delete()
            reports.append(
                write(
                    session,
                    story_id,
                    fetched,
                    policy=CadencePolicy(),
                    now=datetime.now(UTC),
                    started_at=datetime.now(UTC),
                    worker=WORKER,
                    compared_against=None,
                )
            )
            session.flush()
            assert session.scalar(select(CHECKS.c.id).where(CHECKS.c.story_id == story_id)) is None
        finally:
            session.rollback()
            session.close()
    assert [asdict(report) for report in reports[1:]] == [asdict(reports[0])]
    assert reports[0].error == "story was removed"


def test_record_not_modified_refuses_any_other_result(db: Database, server: LocalServer):
    server.set("/story", render_page(STAGES[0]), etag='"v1"')
    fetched = _not_modified(server)
    with db.session() as session, pytest.raises(ValueError, match="ok"):
        record_not_modified(
            session,
            1,
            FetchResult(**(asdict(fetched) | {"outcome": Outcome.OK})),
            policy=CadencePolicy(),
            now=datetime.now(UTC),
            started_at=datetime.now(UTC),
            worker=None,
            compared_against=None,
        )


def test_the_engine_writes_a_pass_of_304s_in_bulk(
    db: Database, settings: Settings, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    """Through the engine: many stories answered 304 in one pass go through the bulk write,
    and each ends as record() would leave it (handed back, rescheduled, one more check)."""
    pages = [f"/story/{n}" for n in range(12)]
    for n, path in enumerate(pages):
        server.set(path, render_page(STAGES[0]).replace("</h1>", f" {n}</h1>"), etag=f'"{n}"')
    with db.session() as session:
        added = add_stories(
            session,
            [server.url(path) for path in pages],
            now=datetime.now(UTC),
            allow_private_networks=True,
        )
    ids = [story.story_id for story in added]
    bulk: list[int] = []
    original = not_modified.record_not_modified

    def spy(session: Session, story_id: int, *args: Any, **kwargs: Any) -> CheckReport:
        bulk.append(story_id)
        return original(session, story_id, *args, **kwargs)

    with CheckEngine(db, settings) as engine:
        first = engine.check_now(ids)
        monkeypatch.setattr("tracker.pipeline.engine.record_not_modified", spy)
        again = engine.check_now(ids)
    assert {str(report.outcome) for report in first} == {"changed"}
    assert {str(report.outcome) for report in again} == {"not_modified"}
    assert sorted(bulk) == sorted(ids)
    with db.session() as session:
        stories = session.scalars(select(Story).where(Story.id.in_(ids))).all()
        assert all(
            story.lease_owner is None and story.lease_expires_at is None for story in stories
        )
        assert all(story.consecutive_failures == 0 for story in stories)
        by_id = {report.story_id: report for report in again}
        assert all(story.next_check_at == by_id[story.id].next_check_at for story in stories)
        assert all(story.last_checked_at is not None for story in stories)
        outcomes = session.execute(
            select(Check.story_id, Check.outcome, Check.http_status).where(Check.story_id.in_(ids))
        ).all()
    assert sorted(outcomes) == sorted(
        [(i, "changed", 200) for i in ids] + [(i, "not_modified", 304) for i in ids]
    )


@pytest.mark.parametrize(
    ("before", "expected_events"),
    [
        # Unpublished (it answered 404), now the article again: republished, an event.
        ({"lifecycle": "unpublished"}, ["republished"]),
        # Tracked before lifecycles were: where the article lives is learnt, no event.
        ({"live_url": None}, []),
    ],
)
def test_a_304_moves_the_lifecycle_as_record_does(
    db: Database,
    settings: Settings,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    before: dict[str, Any],
    expected_events: list[str],
):
    story_id = _story_with_a_version(db, settings, server)
    _set(db, story_id, lease_owner=WORKER, **before)
    story, _, events, _ = _both_paths(db, story_id, _not_modified(server), monkeypatch)
    assert events == expected_events
    assert story["lifecycle"] == "live" and story["live_url"] == server.url("/story")

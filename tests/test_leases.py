"""Leases are never stranded: a dead worker's leases on this host are taken back at once.

A worker id is "host:pid:random". A worker that died (kill -9, out of memory) or could not even
write the release of its leases (disk full) leaves leases that would keep its stories from
being checked until they expire; the next worker on the same host frees them instead, and
leaves alone the leases of live workers and of workers on other hosts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tracker.pipeline import claims
from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Story

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def lease(db: Database, owners: dict[str, str]) -> None:
    with db.session() as session:
        add_stories(
            session,
            [f"https://example.com/{name}" for name in owners],
            now=NOW,
        )
        for story in session.scalars(select(Story)):
            story.lease_owner = owners[story.url.rsplit("/", 1)[1]]
            story.lease_expires_at = NOW + timedelta(hours=1)


def owners(db: Database) -> dict[str, str | None]:
    with db.session() as session:
        return {
            story.url.rsplit("/", 1)[1]: story.lease_owner
            for story in session.scalars(select(Story))
        }


def test_only_dead_workers_of_this_host_lose_their_leases(db: Database):
    lease(
        db,
        {
            "dead": "box:4242:aaaaaa",
            "alive": "box:7:bbbbbb",
            "elsewhere": "other-box:4242:cccccc",
            "odd": "not-a-worker-id",
        },
    )
    with db.session() as session:
        freed = claims.reclaim_from_dead_workers(
            session, host="box", now=NOW, alive=lambda pid: pid != 4242
        )
    assert freed == 1
    assert owners(db) == {
        "dead": None,
        "alive": "box:7:bbbbbb",
        "elsewhere": "other-box:4242:cccccc",
        "odd": "not-a-worker-id",
    }


def test_a_host_name_with_like_wildcards_matches_only_itself(db: Database):
    lease(db, {"a": "b_x:4242:aaaaaa", "b": "bax:4242:bbbbbb"})
    with db.session() as session:
        claims.reclaim_from_dead_workers(session, host="b_x", now=NOW, alive=lambda pid: False)
    assert owners(db) == {"a": None, "b": "bax:4242:bbbbbb"}


def test_worker_ids_are_read_back_strictly():
    assert claims.worker_pid("box:12:abcdef", "box") == 12
    assert claims.worker_pid("my:box:12:abcdef", "my:box") == 12
    assert claims.worker_pid("box:12:abcdef", "other") is None
    assert claims.worker_pid("box:x12:abcdef", "box") is None
    assert claims.worker_pid("box", "box") is None

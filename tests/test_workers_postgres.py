"""Scale-out: several `tracker worker` processes share one PostgreSQL database.

Every due story must be checked exactly once (counted at the server), none starved; a
worker killed with SIGKILL holds its stories only until their leases expire, and then the
other workers check them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_settings
from servers import Exchange, LocalServer
from sqlalchemy import func, select, update

from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Check, Story

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STORIES = 300


def article(n: int, round_: int) -> bytes:
    paragraphs = "".join(
        f"<p>Story {n} paragraph {i}: the regional council met again on round {round_} to "
        f"discuss the new transport plan, which critics say is underfunded and late.</p>"
        for i in range(3)
    )
    return (
        f"<html><head><title>Story {n}</title></head><body>"
        f"<article><h1>Story {n}</h1>{paragraphs}</article></body></html>"
    ).encode()


class StorySite:
    """Serves /s/<n>, counting requests per story; ``delay`` slows every response."""

    def __init__(self, server: LocalServer) -> None:
        self.round = 1
        self.delay = 0.0
        self.hits: Counter[int] = Counter()
        for n in range(STORIES):
            server.set_handler(f"/s/{n}", self._handler(n))

    def _handler(self, n: int):
        def handle(exchange: Exchange) -> None:
            self.hits[n] += 1
            if self.delay:
                exchange.server.stopping.wait(self.delay)
            exchange.send(200, {"Content-Type": "text/html"}, article(n, self.round))

        return handle


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def test_three_workers_check_each_due_story_once_and_take_over_a_killed_worker(
    tmp_path: Path, pg_schema: str, server: LocalServer
):
    settings = make_settings(tmp_path / "home", pg_schema)
    db = Database(settings)
    site = StorySite(server)
    with db.session() as session:
        add_stories(
            session,
            [server.url(f"/s/{n}") for n in range(STORIES)],
            now=datetime.now(UTC),
            allow_private_networks=True,
        )
    env = {
        **os.environ,
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": pg_schema,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_PER_HOST_CONCURRENCY": "8",
        "TRACKER_GLOBAL_CONCURRENCY": "8",
        "TRACKER_EXTRACT_PROCESSES": "0",
        "TRACKER_DISPATCH_INTERVAL": "0.2",
        "TRACKER_DISPATCH_BATCH": "8",
        "TRACKER_LEASE_SECONDS": "4",
    }

    def checked() -> int:
        with db.session() as session:
            return session.scalar(select(func.count(func.distinct(Check.story_id)))) or 0

    # Round 1: all 300 due at once, three workers.
    workers = start_workers(3, env)
    try:
        wait_for(lambda: checked() == STORIES)
    finally:
        stop_workers(workers)
    assert sorted(site.hits) == list(range(STORIES)), "a story was starved"
    assert set(site.hits.values()) == {1}, "a story was fetched more than once"
    with db.session() as session:
        per_worker = Counter(session.scalars(select(Check.worker)))
        assert session.scalar(select(func.count()).select_from(Check)) == STORIES
    assert len(per_worker) == 3, f"work was not shared: {per_worker}"

    # Round 2: everything due again, slow responses; SIGKILL one worker mid-run.
    site.round, site.delay = 2, 0.05
    site.hits.clear()
    round_two_started = datetime.now(UTC)
    with db.session() as session:
        session.execute(update(Story).values(next_check_at=datetime.now(UTC)))
    workers = start_workers(3, env)
    victim = workers[0]
    try:
        wait_for(lambda: sum(site.hits.values()) >= 60)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        with db.session() as session:
            orphaned = set(
                session.scalars(select(Story.id).where(Story.lease_owner.like(f"%:{victim.pid}:%")))
            )
        assert orphaned, "the killed worker held no leases (kill came too late to test)"

        def round_two_done() -> bool:
            with db.session() as session:
                behind = select(func.count()).select_from(Story).where(Story.version_count < 2)
                return session.scalar(behind) == 0

        wait_for(round_two_done)
    finally:
        stop_workers(workers)

    with db.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(Story).where(Story.version_count != 2))
            == 0
        )
        # The orphaned stories were finished by the survivors after the lease expired.
        takers = set(
            session.scalars(
                select(Check.worker).where(
                    Check.story_id.in_(orphaned), Check.started_at >= round_two_started
                )
            )
        )
    assert takers and all(f":{victim.pid}:" not in t for t in takers)
    db.dispose()

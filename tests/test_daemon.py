"""The daemon against a local server whose pages change on a timeline.

Most tests drive the dispatch tick by hand with a simulated clock, so the schedule is
exact and the test fast: two simulated hours take a second. One test runs the real
APScheduler wiring, and one the real `tracker run` process with SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import make_settings
from servers import LocalServer
from sqlalchemy import func, select

from tracker.demo.site import STAGES as DEMO_STAGES
from tracker.demo.site import render_page
from tracker.pipeline.stages import STAGES
from tracker.services.daemon import Daemon
from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Check, Event, Story, Version


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def settle(daemon: Daemon) -> None:
    """Let the checks started by a tick finish."""
    deadline = time.monotonic() + 30
    while daemon.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert daemon.in_flight == 0


def plain_page(title: str, paragraphs: list[str], chrome: int = 0) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        f"<aside><a href='/x'>Most read {chrome}</a></aside></body></html>"
    )


PARAGRAPHS = [
    "The city council voted on Tuesday to approve the new budget for the coming year, "
    "after a debate that lasted well into the evening and drew a large crowd.",
    "Council members said the plan would fund road repairs, two new libraries and an "
    "expansion of the bus network, while keeping property taxes at current levels.",
    "Opponents argued the budget relied on optimistic revenue forecasts and warned that "
    "cuts might be needed later in the year if the economy slowed down.",
]


def test_each_change_is_captured_and_pages_are_not_fetched_more_than_the_policy_says(
    tmp_path: Path, database_url: str, server: LocalServer
):
    clock = SimulatedClock(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    settings = make_settings(tmp_path / "home", database_url, jitter=0.0)
    db = Database(settings)
    server.set("/settled", plain_page("Budget approved", PARAGRAPHS))
    server.set("/developing", render_page(DEMO_STAGES[0], 0))
    with db.session() as session:
        add_stories(
            session,
            [server.url("/settled"), server.url("/developing")],
            now=clock(),
            allow_private_networks=True,
        )
    daemon = Daemon(db, settings, clock=clock)
    try:
        for minute in range(120):
            if minute == 30:  # the settled story gets a real edit half an hour in
                server.set("/settled", plain_page("Budget approved", [*PARAGRAPHS, "New."]))
            if minute == 45:  # the developing story delivers its promised update
                server.set("/developing", render_page(DEMO_STAGES[1], minute))
            elif minute % 7 == 0:  # chrome churn on the developing page
                server.set("/developing", render_page(DEMO_STAGES[0 if minute < 45 else 1], minute))
            daemon.dispatch_tick()
            settle(daemon)
            clock.advance(minutes=1)
    finally:
        daemon.stop(grace=5)

    # A fresh story is checked every 15 minutes: minutes 0, 15, …, 105 → 8 fetches.
    assert server.count("/settled") == 8
    # While the page promises an update it is checked every 2 minutes; after the promise
    # is fulfilled (minute 46) and the marker gone, every 15 minutes again.
    developing_fetches = server.count("/developing")
    assert 23 + 5 <= developing_fetches <= 24 + 6
    with db.session() as session:
        versions = {
            url: [
                v.seq for v in session.scalars(select(Version).join(Story).where(Story.url == url))
            ]
            for url in (server.url("/settled"), server.url("/developing"))
        }
        events = [e.kind for e in session.scalars(select(Event).order_by(Event.id))]
    assert versions[server.url("/settled")] == [1, 2]
    assert versions[server.url("/developing")] == [1, 2]
    assert events == ["promise_made", "promise_fulfilled"]
    db.dispose()


def test_errors_back_off_and_repeated_404_makes_a_story_gone(
    tmp_path: Path, database_url: str, server: LocalServer
):
    clock = SimulatedClock(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    settings = make_settings(tmp_path / "home", database_url, jitter=0.0, gone_after=3)
    db = Database(settings)
    server.set("/flaky", "unavailable", status=503, headers={"Retry-After": "3600"})
    server.set("/deleted", "not here", status=404)
    with db.session() as session:
        add_stories(
            session,
            [server.url("/flaky"), server.url("/deleted")],
            now=clock(),
            allow_private_networks=True,
        )
    daemon = Daemon(db, settings, clock=clock)
    try:
        for _ in range(6 * 60):  # six simulated hours, one tick a minute
            daemon.dispatch_tick()
            settle(daemon)
            clock.advance(minutes=1)
    finally:
        daemon.stop(grace=5)
    # Retry-After: 3600 → at most one request an hour.
    assert server.count("/flaky") == 6
    with db.session() as session:
        deleted = session.scalar(select(Story).where(Story.url == server.url("/deleted")))
        assert deleted.status == "gone"
        assert deleted.next_check_at is None
        gone_events = session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "story_gone")
        )
    assert server.count("/deleted") == 3
    assert gone_events == 1
    db.dispose()


def test_the_scheduler_runs_dispatch_by_itself(
    tmp_path: Path, database_url: str, server: LocalServer
):
    settings = make_settings(tmp_path / "home", database_url, dispatch_interval=0.1)
    db = Database(settings)
    server.set("/a", plain_page("A story", PARAGRAPHS))
    with db.session() as session:
        add_stories(session, [server.url("/a")], now=datetime.now(UTC), allow_private_networks=True)
    daemon = Daemon(db, settings)
    daemon.start()
    try:
        deadline = time.monotonic() + 20
        while server.count("/a") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        while daemon.stats["checked"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        daemon.stop(grace=5)
    assert daemon.stats["checked"] == 1
    with db.session() as session:
        story = session.scalar(select(Story))
        assert story.version_count == 1
        assert story.lease_owner is None
        assert story.next_check_at > datetime.now(UTC) + timedelta(minutes=10)
    db.dispose()


@pytest.mark.slow
def test_tracker_run_shuts_down_cleanly_on_sigterm(tmp_path: Path, server: LocalServer):
    server.set("/story", plain_page("A story", PARAGRAPHS))
    env = {
        **os.environ,
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_EXTRACT_PROCESSES": "0",
        "TRACKER_DISPATCH_INTERVAL": "0.2",
    }
    subprocess.run(
        [sys.executable, "-m", "tracker", "add", server.url("/story")], env=env, check=True
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "run", "--no-web", "--log-format", "json"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while server.count("/story") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert '"outcome": "changed"' in stderr
    assert "summary: 1 checked, 1 changed" in stderr
    assert "stopped" in stderr
    # The last summary says where the check's CPU time went, stage by stage.
    [*_, summary] = [
        json.loads(line)["summary"] for line in stderr.splitlines() if '"summary"' in line
    ]
    cpu = summary["cpu_seconds_per_check"]
    assert set(cpu) == set(STAGES)
    assert cpu["fetch"] > 0 and cpu["extract"] > 0  # a new page: fetched and read in full
    assert summary["checks_per_second"] > 0
    db = Database(make_settings(tmp_path / "home"))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Check)) == 1
        assert session.scalar(select(Story.lease_owner)) is None
    db.dispose()


@pytest.mark.slow
def test_tracker_run_refuses_an_unauthenticated_public_web_ui(tmp_path: Path):
    env = {
        **os.environ,
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_WEB_HOST": "0.0.0.0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: web UI:")
    assert "web_token" in result.stderr.lower() or "TRACKER_WEB_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr

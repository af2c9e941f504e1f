"""Honest status: the web UI says when no daemon is checking, and a check's time is split
into waiting for the host's politeness slot and the fetch itself.

A daemon's liveness is its heartbeat row (`workers`), written by a real Daemon and a real
`tracker worker` process and removed when they stop; the wait is measured by a real engine
fetching from a local server with per-host politeness on.
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
from conftest import cli_runner, make_settings
from servers import LocalServer
from sqlalchemy import select
from test_web_support import insert_story, make_client, utcnow

from tracker.core.liveness import ALIVE_WITHIN, OVERDUE_NO_DAEMON, daemon_alive, next_check_text
from tracker.demo.site import STAGES, render_page
from tracker.pipeline.engine import CheckEngine
from tracker.services.daemon import Daemon
from tracker.services.stories import add_stories
from tracker.store import workers
from tracker.store.db import Database
from tracker.store.models import Check, Story, Worker

BANNER = "No daemon is running"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def worker_rows(db: Database) -> list[Worker]:
    with db.session() as session:
        rows = list(session.scalars(select(Worker)))
        session.expunge_all()
        return rows


# -- the rule -------------------------------------------------------------------------------


def test_a_daemon_is_alive_while_its_heartbeat_is_recent():
    assert daemon_alive(NOW - timedelta(seconds=30), NOW)
    assert daemon_alive(NOW - ALIVE_WITHIN, NOW)
    assert not daemon_alive(NOW - ALIVE_WITHIN - timedelta(seconds=1), NOW)
    assert not daemon_alive(None, NOW)


def test_a_due_story_is_overdue_only_when_nothing_is_checking():
    past, future = NOW - timedelta(minutes=5), NOW + timedelta(minutes=5)
    assert next_check_text(past, NOW, checking=False) == OVERDUE_NO_DAEMON
    assert next_check_text(past, NOW, checking=True) == "5m ago"
    assert next_check_text(future, NOW, checking=False) == "in 5m"
    assert next_check_text(None, NOW, checking=False) == "—"


# -- the heartbeat --------------------------------------------------------------------------


def test_a_running_daemon_keeps_a_heartbeat_and_removes_it_when_it_stops(
    tmp_path: Path, database_url: str
):
    settings = make_settings(tmp_path / "home", database_url, extract_processes=0)
    db = Database(settings)
    daemon = Daemon(db, settings)
    daemon.start()
    try:
        [row] = worker_rows(db)
        assert row.name == daemon.worker_id
        assert row.pid == os.getpid()
        assert daemon_alive(row.last_seen_at, datetime.now(UTC))
        with db.read_session() as session:
            assert workers.last_seen(session) == row.last_seen_at
    finally:
        daemon.stop(grace=5)
    assert worker_rows(db) == []
    db.dispose()


@pytest.mark.slow
def test_tracker_worker_writes_its_heartbeat_and_a_clean_stop_removes_it(
    tmp_path: Path, database_url: str
):
    env = {
        **os.environ,
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_EXTRACT_PROCESSES": "0",
    }
    db = Database(make_settings(tmp_path / "home", database_url))
    db.dispose()  # the database exists, migrated, before the worker starts
    db = Database(make_settings(tmp_path / "home", database_url))
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        rows: list[Worker] = []
        while not rows and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            rows = worker_rows(db)
        [row] = rows
        assert row.pid == process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert worker_rows(db) == []
    db.dispose()


# -- what the pages say ---------------------------------------------------------------------


def test_without_a_daemon_every_page_says_so_and_a_due_story_reads_overdue(db, settings):
    story_id = insert_story(
        db,
        "https://example.org/news/council-vote",
        ["The council met.", "The council voted."],
        next_check_at=utcnow() - timedelta(minutes=5),
    )
    with make_client(db, settings) as client:
        for path in (
            "/",
            f"/stories/{story_id}",
            "/checks",
            "/events",
            "/channels",
            "/deliveries",
            "/followed",
            "/add",
        ):
            page = client.get(path)
            assert page.status_code == 200, path
            assert BANNER in page.text, path
        assert OVERDUE_NO_DAEMON in client.get("/").text
        assert OVERDUE_NO_DAEMON in client.get(f"/stories/{story_id}").text


def test_with_a_live_heartbeat_the_banner_and_overdue_text_go(db, settings):
    story_id = insert_story(
        db,
        "https://example.org/news/council-vote",
        ["The council met."],
        next_check_at=utcnow() - timedelta(minutes=5),
    )
    with db.session() as session:
        workers.beat(session, name="w1", host="h", pid=1, started_at=utcnow(), now=utcnow())
    with make_client(db, settings) as client:
        for path in ("/", f"/stories/{story_id}"):
            text = client.get(path).text
            assert BANNER not in text and OVERDUE_NO_DAEMON not in text
    # A worker that crashed leaves its row behind: stale, it no longer counts.
    with db.session() as session:
        stale = utcnow() - ALIVE_WITHIN - timedelta(minutes=1)
        workers.beat(session, name="w1", host="h", pid=1, started_at=stale, now=stale)
    with make_client(db, settings) as client:
        assert BANNER in client.get("/").text


def test_tracker_list_says_a_due_story_is_overdue_while_no_daemon_runs(
    tmp_path: Path, database_url: str, db: Database
):
    insert_story(
        db,
        "https://example.org/news/council-vote",
        ["The council met."],
        next_check_at=utcnow() - timedelta(minutes=5),
    )
    run = cli_runner(tmp_path / "home", database_url)
    listing = run("list")
    # The table cell stays short ("overdue"); the reason is said once, below the table.
    assert "overdue" in listing.stdout and "due now" not in listing.stdout
    assert OVERDUE_NO_DAEMON in listing.stderr
    # With a worker's fresh heartbeat the next pass will take it: it is due, not overdue.
    with db.session() as session:
        workers.beat(session, name="w1", host="h", pid=1, started_at=utcnow(), now=utcnow())
    listing = run("list")
    assert "due now" in listing.stdout and "overdue" not in listing.output


# -- waiting for the host slot vs fetching ---------------------------------------------------


def test_the_wait_for_the_host_slot_is_recorded_apart_from_the_fetch(
    tmp_path: Path, database_url: str, server: LocalServer
):
    # One request at a time to a host, a second apart: of two stories on one host checked
    # together, one must wait for the other's slot.
    settings = make_settings(
        tmp_path / "home",
        database_url,
        per_host_concurrency=1,
        per_host_min_delay=1.0,
        extract_processes=0,
    )
    db = Database(settings)
    server.set("/a", render_page(STAGES[0], 0))
    server.set("/b", render_page(STAGES[1], 0))
    with db.session() as session:
        add_stories(
            session, [server.url("/a"), server.url("/b")], now=utcnow(), allow_private_networks=True
        )
        ids = list(session.scalars(select(Story.id).order_by(Story.id)))
    with CheckEngine(db, settings) as engine:
        reports = engine.check_now(ids)
    assert all(r.wait_ms is not None for r in reports)
    with db.session() as session:
        checks = list(session.scalars(select(Check).order_by(Check.id)))
        session.expunge_all()
    assert len(checks) == 2
    waited = max(checks, key=lambda c: c.wait_ms or 0)
    assert waited.wait_ms is not None and waited.wait_ms >= 500  # the 1 s host delay, mostly
    assert waited.wait_ms <= waited.duration_ms
    fetch_ms = waited.duration_ms - waited.wait_ms

    with make_client(db, settings) as client:
        checks_page = client.get("/checks").text
        assert f"{fetch_ms}<span" in checks_page
        assert f"+ {waited.wait_ms} waiting for the host" in checks_page
        story_page = client.get(f"/stories/{waited.story_id}").text
        assert f"+ {waited.wait_ms} waiting for the host" in story_page
        api = client.get("/api/v1/checks").json()["items"]
        assert waited.wait_ms in [c["wait_ms"] for c in api]

    run = cli_runner(tmp_path / "home", database_url)
    output = run("checks").output
    assert f"{fetch_ms:>6} ms (+{waited.wait_ms} ms waiting for the host)" in output
    rows = json.loads(run("checks", "--json").output)
    [row] = [r for r in rows if r["wait_ms"] == waited.wait_ms]
    assert row["duration_ms"] == waited.duration_ms
    db.dispose()

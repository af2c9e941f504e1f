"""Faults: the database goes away, a worker is killed mid-check, another process holds the
SQLite lock, the disk fills up. Nothing may be lost, duplicated or corrupted.

Disk full is simulated with RLIMIT_FSIZE in the `tracker` subprocess (writes past the limit
fail with EFBIG, which SQLite reports as "database or disk is full"): it needs no root and
no mount, unlike a small tmpfs, and hits exactly the process under test.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_support import WebhookReceiver
from conftest import POSTGRES_URL, make_settings, postgres_schema_url
from hostile_site import PARAGRAPHS, article_page, wait_for
from servers import Exchange, LocalServer
from sqlalchemy import create_engine, func, select, text

from tracker.notify.webhook import new_secret
from tracker.services.daemon import Daemon
from tracker.services.stories import add_stories
from tracker.store.alert_models import Delivery
from tracker.store.channels import add_channel
from tracker.store.db import Database
from tracker.store.models import Check, Story, Version

pytestmark = pytest.mark.slow


def sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def integrity(database_url: str) -> str:
    with sqlite3.connect(sqlite_path(database_url)) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def add(db: Database, urls: list[str]) -> None:
    with db.session() as session:
        add_stories(session, urls, now=datetime.now(UTC), allow_private_networks=True)


def worker_env(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
        "PYTHONDONTWRITEBYTECODE": "1",
        "TRACKER_HOME": str(home),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_PER_HOST_CONCURRENCY": "8",
        "TRACKER_EXTRACT_PROCESSES": "0",
        "TRACKER_DISPATCH_INTERVAL": "0.2",
        **extra,
    }


def versions_per_story(db: Database) -> Counter[str]:
    with db.session() as session:
        rows = session.execute(select(Story.url, Version.seq).join(Version)).all()
    assert len(set(rows)) == len(rows), "a version was stored twice"
    return Counter(url for url, _ in rows)


# -- kill -9 of a worker mid-check ------------------------------------------------------------


def test_a_worker_killed_mid_check_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, database_url: str, server: LocalServer
):
    stories = 12
    gate = threading.Event()
    arrived = threading.Semaphore(0)

    def held(n: int):
        def handle(exchange: Exchange) -> None:
            arrived.release()
            gate.wait(30)
            exchange.send(200, {"Content-Type": "text/html"}, article_page(f"Story {n}"))

        return handle

    for n in range(stories):
        server.set_handler(f"/s/{n}", held(n))
    settings = make_settings(tmp_path / "home", database_url)
    db = Database(settings)
    urls = [server.url(f"/s/{n}") for n in range(stories)]
    add(db, urls)
    env = worker_env(tmp_path / "home", database_url, TRACKER_LEASE_SECONDS="3")
    command = [sys.executable, "-m", "tracker", "worker"]
    victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(3):  # at least three checks are mid-fetch
            assert arrived.acquire(timeout=60), "the worker never fetched"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    finally:
        if victim.poll() is None:
            victim.kill()
        gate.set()
    with db.session() as session:
        orphaned = session.scalar(
            select(func.count()).select_from(Story).where(Story.lease_owner.is_not(None))
        )
        recorded_by_victim = session.scalar(select(func.count()).select_from(Check))
    if database_url.startswith("sqlite"):
        assert integrity(database_url) == "ok"
    assert orphaned >= 3

    survivor = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(versions_per_story(db)) == stories, 90, "every story's version")
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.communicate(timeout=60)
    counts = versions_per_story(db)
    print(
        f"\nkill -9: the killed worker held {orphaned} leases and had recorded "
        f"{recorded_by_victim} checks; after the leases expired the survivor stored "
        f"{sum(counts.values())} versions for {stories} stories"
    )
    assert set(counts.values()) == {1}
    if database_url.startswith("sqlite"):
        assert integrity(database_url) == "ok"
    db.dispose()


# -- SQLite locked by another process -----------------------------------------------------------


def test_a_check_waits_for_a_sqlite_lock_held_by_another_process(
    tmp_path: Path, server: LocalServer
):
    database_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    settings = make_settings(tmp_path / "home", database_url)
    db = Database(settings)
    server.set("/story", article_page("Budget approved"))
    add(db, [server.url("/story")])
    locker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({sqlite_path(database_url)!r}, isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\nsys.stdin.read()\n"
            "c.execute('COMMIT')\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    from tracker.pipeline.engine import CheckEngine

    engine = CheckEngine(db, settings)
    reports: list = []
    try:
        assert locker.stdout.readline().strip() == "locked"
        checker = threading.Thread(target=lambda: reports.extend(engine.check_now([1])))
        checker.start()
        # While the other process holds the lock nothing can be written: the check waits.
        checker.join(timeout=2)
        assert checker.is_alive() and not reports
    finally:
        locker.stdin.close()
        locker.wait(timeout=30)
    checker.join(timeout=30)
    engine.close()
    [report] = reports
    print(f"\nSQLite locked by another process: the check waited, then recorded {report.outcome}")
    assert report.outcome == "changed" and report.version_seq == 1
    assert integrity(database_url) == "ok"
    db.dispose()


# -- disk full --------------------------------------------------------------------------------


def test_a_full_disk_is_a_clear_error_and_corrupts_nothing(tmp_path: Path, server: LocalServer):
    database_url = f"sqlite:///{tmp_path / 'data' / 'tracker.db'}"
    settings = make_settings(tmp_path / "data", database_url)
    db = Database(settings)
    rng = random.Random(3)
    words = [f"w{rng.randrange(100_000)}" for _ in range(60_000)]
    stories = 8
    for n in range(stories):
        # Incompressible-ish text: each page is ~100 KB of capture and version text.
        body = " ".join(rng.sample(words, 8_000))
        server.set(f"/s/{n}", article_page(f"Story {n}", (*PARAGRAPHS, body)))
    add(db, [server.url(f"/s/{n}") for n in range(stories)])
    db.dispose()
    with sqlite3.connect(sqlite_path(database_url)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    limit = os.path.getsize(sqlite_path(database_url)) + 128 * 1024

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    # A check whose result cannot be written keeps its lease (releasing it is a write too).
    # The lease is long: the next pass must not wait for it to expire.
    env = worker_env(tmp_path / "data", database_url, TRACKER_LEASE_SECONDS="3600")
    full = subprocess.run(
        [sys.executable, "-m", "tracker", "check", "--all", "--json"],
        env=env,
        preexec_fn=small_disk,
        capture_output=True,
        text=True,
        timeout=120,
    )
    reports = json.loads(full.stdout or "[]")
    errors = [r["error"] for r in reports if r["outcome"] == "error"]
    print(
        f"\ndisk full (RLIMIT_FSIZE {limit} bytes): exit {full.returncode}, "
        f"{len(errors)} of {stories} checks failed: {errors[:1]}"
    )
    # EFBIG (the rlimit) reads as "disk I/O error"; ENOSPC (a full disk) as "database or disk
    # is full": both name the disk.
    assert errors and all("disk" in error for error in errors)
    assert integrity(database_url) == "ok"

    # With room again, the next pass takes back the leases the dead process could not hand
    # back, and records every story once: nothing half-written remains.
    again = subprocess.run(
        [sys.executable, "-m", "tracker", "check", "--all", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    db = Database(settings)
    counts = versions_per_story(db)
    assert len(counts) == stories and set(counts.values()) == {1}
    assert integrity(database_url) == "ok"
    db.dispose()


# -- PostgreSQL restarted during a run -----------------------------------------------------------


@pytest.fixture
def restartable_pg_schema() -> Iterator[str]:
    """Like conftest's pg_schema, but its admin connection survives a server restart."""
    if not POSTGRES_URL or shutil.which("pg_ctlcluster") is None:
        pytest.skip("needs TRACKER_TEST_POSTGRES_URL and pg_ctlcluster (this machine's cluster)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.serial
@pytest.mark.postgres
def test_the_daemon_survives_a_postgresql_restart_and_loses_nothing(
    tmp_path: Path, restartable_pg_schema: str, server: LocalServer
):
    stories = 200
    fetched = threading.Semaphore(0)
    hits: Counter[int] = Counter()

    def slow(n: int):
        def handle(exchange: Exchange) -> None:
            hits[n] += 1
            fetched.release()
            exchange.server.stopping.wait(0.05)
            exchange.send(200, {"Content-Type": "text/html"}, article_page(f"Story {n}"))

        return handle

    for n in range(stories):
        server.set_handler(f"/s/{n}", slow(n))
    hook = WebhookReceiver(server, "/hook")
    settings = make_settings(
        tmp_path / "home",
        restartable_pg_schema,
        # Work claimed just before the outage waits out its lease: keep both leases short.
        lease_seconds=3.0,
        delivery_lease="3s",
        dispatch_interval=0.2,
        delivery_interval=0.2,
        global_concurrency=4,
        delivery_backoff_base="1s",
    )
    db = Database(settings)
    add(db, [server.url(f"/s/{n}") for n in range(stories)])
    with db.session() as session:
        add_channel(session, name="all", kind="webhook", target=hook.url, secret=new_secret(),
                    min_kind=None, events=["new", "changed"], now=datetime.now(UTC))  # fmt: skip
    daemon = Daemon(db, settings)
    daemon.start()
    try:
        for _ in range(40):
            assert fetched.acquire(timeout=60)
        restart = subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restart.returncode == 0, restart.stderr

        def all_recorded_and_sent() -> bool:
            try:
                with db.session() as session:
                    versions = session.scalar(select(func.count()).select_from(Version))
                    unsent = session.scalar(
                        select(func.count()).select_from(Delivery).where(Delivery.status != "sent")
                    )
            except Exception:  # noqa: BLE001 -- the server is still coming back
                return False
            return versions == stories and unsent == 0

        wait_for(all_recorded_and_sent, 120, "every story's version and alert after the restart")
    finally:
        daemon.stop()
    counts = versions_per_story(db)
    with db.session() as session:
        failed = session.scalar(
            select(func.count()).select_from(Check).where(Check.outcome != "changed")
        )
        deliveries = session.scalar(select(func.count()).select_from(Delivery))
    ids = Counter(r.headers.get("webhook-id") for r in hook.requests)
    received = Counter(
        (b["data"]["story"]["url"], b["data"]["version"]["seq"])
        for b in (json.loads(r.body) for r in hook.requests)
    )
    resent = sum(received.values()) - len(received)
    print(
        f"\nPostgreSQL restart mid-run: {stories} stories → {sum(counts.values())} versions, "
        f"{sum(c > 1 for c in hits.values())} fetched again after the outage cut their check "
        f"short, {failed} failed checks recorded, {deliveries} deliveries, "
        f"{len(received)} distinct alerts received ({resent} re-sent with the same webhook-id)"
    )
    assert len(counts) == stories and set(counts.values()) == {1}
    assert deliveries == stories
    assert len(received) == stories == len(ids)  # a re-send keeps its webhook-id
    db.dispose()

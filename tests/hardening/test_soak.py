"""Soak: 1,000 stories on a local server, a real daemon on a shortened cadence, pages
changing all the while; afterwards every count reconciles exactly.

Every distinct page revision the server actually served (a 200 response) must have become
exactly one version, and every version exactly one alert per matching channel, received
once by a real webhook endpoint. Runs ``TRACKER_SOAK_SECONDS`` (default 15) per backend;
set it higher for a longer soak (e.g. ``TRACKER_SOAK_SECONDS=600 pytest tests/hardening -k soak``).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_support import WebhookReceiver
from conftest import make_settings
from hostile_site import wait_for
from servers import Exchange, LocalServer
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from tracker.notify.webhook import new_secret
from tracker.services.daemon import Daemon
from tracker.services.stories import add_stories
from tracker.store.alert_models import Delivery
from tracker.store.channels import add_channel
from tracker.store.db import Database
from tracker.store.models import Check, Story, Version

pytestmark = pytest.mark.slow

STORIES = 1000
SOAK_SECONDS = float(os.environ.get("TRACKER_SOAK_SECONDS", "15"))
CHANGES_PER_SECOND = 20


class ChangingSite:
    """/s/<n> serves revision ``rev[n]``; odd stories add chrome that changes per request
    and no ETag (full fetch and extraction every time), even ones answer conditionals."""

    def __init__(self, server: LocalServer) -> None:
        self.rev = [0] * STORIES
        self.served: dict[int, set[int]] = defaultdict(set)  # revisions sent in a 200
        self.requests = 0
        self._lock = threading.Lock()
        for n in range(STORIES):
            server.set_handler(f"/s/{n}", self._handler(n))

    def page(self, n: int, rev: int, chrome: int) -> bytes:
        paragraphs = [
            f"Story {n}: the regional council met again to debate the transport plan, which "
            "critics call underfunded; the vote is expected next week."
        ] + [
            f"Revision {r} of story {n}: officials added new figures on the cost of the bus "
            f"routes, now put at {1000 + 37 * r} thousand for the first phase."
            for r in range(1, rev + 1)
        ]
        chrome_html = f"<aside><a href='/x'>Most read, refreshed {chrome}</a></aside>"
        return (
            f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
            + "".join(f"<p>{p}</p>" for p in paragraphs)
            + f"</article>{chrome_html if n % 2 else ''}</body></html>"
        ).encode()

    def _handler(self, n: int):
        def handle(exchange: Exchange) -> None:
            with self._lock:
                rev = self.rev[n]
                self.requests += 1
                chrome = self.requests
                etag = f'"{n}-{rev}"' if n % 2 == 0 else None
                if etag and exchange.request.headers.get("if-none-match") == etag:
                    exchange.send(304, {"ETag": etag})
                    return
                self.served[n].add(rev)
            headers = {"Content-Type": "text/html; charset=utf-8"}
            if etag:
                headers["ETag"] = etag
            exchange.send(200, headers, self.page(n, rev, chrome))

        return handle

    def change(self, n: int) -> None:
        with self._lock:
            self.rev[n] += 1


def test_soak_every_served_change_is_one_version_and_one_alert_per_matching_channel(
    tmp_path: Path, database_url: str, server: LocalServer
):
    settings = make_settings(
        tmp_path / "home",
        database_url,
        cadence_tiers="365d=15s",
        extract_processes=-1,
        per_host_concurrency=16,
        global_concurrency=16,
        dispatch_interval=0.5,
        delivery_interval=0.5,
        delivery_batch=200,
        delivery_concurrency=8,
        summary_interval=10.0,
        fetch_deadline=20.0,
        read_timeout=10.0,
    )
    db = Database(settings)
    site = ChangingSite(server)
    hooks = {
        "all": WebhookReceiver(server, "/hook/all"),
        "even": WebhookReceiver(server, "/hook/even"),
    }
    now = datetime.now(UTC)
    with db.session() as session:
        urls = [server.url(f"/s/{n}") for n in range(STORIES)]
        add_stories(session, urls[0::2], now=now, allow_private_networks=True, tags=["even"])
        add_stories(session, urls[1::2], now=now, allow_private_networks=True)
        add_channel(
            session,
            name="all",
            kind="webhook",
            target=hooks["all"].url,
            secret=new_secret(),
            min_kind=None,
            events=["new", "changed"],
            now=now,
        )
        add_channel(session, name="even", kind="webhook", target=hooks["even"].url,
                    secret=new_secret(), tags=["even"], min_kind="text_edited",
                    events=["changed"], now=now)  # fmt: skip
    story_numbers = {url: n for n, url in enumerate(urls)}

    daemon = Daemon(db, settings)
    rng = random.Random(7)
    changes = 0
    daemon.start()
    started = time.monotonic()
    try:
        # Pages change while the daemon runs.
        while time.monotonic() - started < SOAK_SECONDS:
            for n in rng.sample(range(STORIES), CHANGES_PER_SECOND // 4):
                site.change(n)
                changes += 1
            time.sleep(0.25)
        # Freeze the site; have every story checked once more so the last revisions land.
        frozen_at = datetime.now(UTC)
        for attempt in range(5):
            # Updating every row at once while the daemon records checks can deadlock on
            # PostgreSQL (it then aborts this statement, not the daemon's): just retry.
            try:
                with db.session() as session:
                    session.execute(update(Story).values(next_check_at=frozen_at))
                break
            except OperationalError:
                if attempt == 4:
                    raise

        def all_checked_since_freeze() -> bool:
            # A check that *started* after the freeze saw the final revision; one that only
            # finished after it may have fetched an earlier one (and a later check would
            # then store a version after the outbox looked drained).
            with db.session() as session:
                fresh = select(func.count(func.distinct(Check.story_id))).where(
                    Check.started_at >= frozen_at
                )
                return session.scalar(fresh) == STORIES

        wait_for(all_checked_since_freeze, 180, "a check of every story after the freeze")

        def outbox_drained() -> bool:
            with db.session() as session:
                waiting = select(func.count()).where(Delivery.status != "sent")
                return session.scalar(waiting.select_from(Delivery)) == 0

        wait_for(outbox_drained, 120, "every alert to be delivered")
    finally:
        daemon.stop()
    elapsed = time.monotonic() - started

    with db.session() as session:
        version_counts = {
            story_numbers[url]: count
            for url, count in session.execute(select(Story.url, Story.version_count))
        }
        versions = session.execute(
            select(Story.url, Version.seq, Version.kinds).join(Story, Story.id == Version.story_id)
        ).all()
        checks = Counter(session.scalars(select(Check.outcome)))
        deliveries = dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        )
        delivery_total = session.scalar(select(func.count()).select_from(Delivery))
    db.dispose()

    # Every revision served became exactly one version.
    expected_versions = {n: len(site.served[n]) for n in range(STORIES)}
    lost = {n: (expected_versions[n], version_counts[n]) for n in range(STORIES)
            if version_counts[n] != expected_versions[n]}  # fmt: skip
    assert len(versions) == sum(version_counts.values())
    assert len({(url, seq) for url, seq, _ in versions}) == len(versions)

    # Every version: one alert on "all"; every later version of an "even" story: one on "even".
    expected = {
        "all": Counter((url, seq) for url, seq, _ in versions),
        "even": Counter(
            (url, seq) for url, seq, _ in versions if story_numbers[url] % 2 == 0 and seq > 1
        ),
    }
    received = {}
    for name, hook in hooks.items():
        bodies = [json.loads(r.body) for r in hook.requests]
        received[name] = Counter(
            (b["data"]["story"]["url"], b["data"]["version"]["seq"]) for b in bodies
        )
    duplicates = {name: sum(c - 1 for c in received[name].values() if c > 1) for name in hooks}
    served_changes = sum(expected_versions.values())
    print(
        f"\nsoak: {STORIES} stories, {elapsed:.0f} s ({SOAK_SECONDS:g} s of changes), "
        f"{changes} changes made, {served_changes} revisions served → "
        f"{len(versions)} versions; checks {dict(checks)} "
        f"({sum(checks.values()) / elapsed:.0f}/s); server requests {site.requests}; "
        f"alerts received all={sum(received['all'].values())} "
        f"even={sum(received['even'].values())}; deliveries {dict(deliveries)}; "
        f"lost {len(lost)}, duplicated {duplicates}"
    )
    assert lost == {}, f"stories whose versions do not match what was served: {lost}"
    assert received == expected
    assert delivery_total == sum(expected["all"].values()) + sum(expected["even"].values())
    assert checks["internal"] == 0 and checks["error"] == 0

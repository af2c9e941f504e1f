"""Atom feeds carry each change's diff; /metrics and /healthz report from the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from test_web_support import insert_story, make_client, track_demo_story

from tracker.store.models import Story

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


def entries(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return etree.fromstring(response.content).findall(f"{ATOM}entry")


def test_feeds_all_per_story_and_per_tag_carry_the_diff(client, db, settings, server):
    story = track_demo_story(db, settings, server, tags=("iraq",))
    other = insert_story(db, "https://example.com/other", ["a", "b"], tags=("sport",))

    everything = entries(client.get("/feeds/all.atom"))
    assert len(everything) == 7
    per_story = entries(client.get(f"/feeds/stories/{story}.atom"))
    assert len(per_story) == 5
    newest = per_story[0]
    assert "v5" in newest.findtext(f"{ATOM}title")
    content = newest.findtext(f"{ATOM}content")
    # The change in words a reader without styles keeps ("four → seven"), struck/underlined.
    assert ">four</del> → <ins style=" in content and ">seven</ins>" in content
    link = newest.find(f"{ATOM}link").get("href")
    assert link.endswith(f"/stories/{story}/diff/4/5")
    assert [c.get("term") for c in newest.findall(f"{ATOM}category")] == ["text_edited"]

    sport = entries(client.get("/feeds/tags/sport.atom"))
    assert len(sport) == 2
    assert all(f"/stories/{other}/" in e.find(f"{ATOM}link").get("href") for e in sport)
    assert entries(client.get("/feeds/tags/none-such.atom")) == []
    assert client.get("/feeds/stories/999.atom").status_code == 404


def test_feeds_survive_hostile_control_characters(client, db):
    insert_story(db, "https://example.com/ctl", ["bad \x0b\x1b chars <script>", "more \x0c"])
    [_second, first] = entries(client.get("/feeds/all.atom"))
    assert "<script>" not in (first.findtext(f"{ATOM}content") or "").replace("&lt;", "")


def test_metrics_expose_stories_versions_checks_lag_and_latency(client, db, settings, server):
    track_demo_story(db, settings, server, stages=2)
    insert_story(db, "https://example.com/p", ["x"], status="paused")
    text = client.get("/metrics").text
    assert 'tracker_stories{status="active"} 1.0' in text
    assert 'tracker_stories{status="paused"} 1.0' in text
    assert "tracker_versions 3.0" in text
    assert 'tracker_checks{outcome="changed"} 2.0' in text
    assert 'tracker_checks{outcome="error"} 0.0' in text
    assert 'tracker_fetch_duration_seconds_bucket{le="+Inf"} 2.0' in text
    assert "tracker_fetch_duration_seconds_count 2.0" in text
    assert "tracker_queue_lag_seconds" in text


def test_healthz_reports_a_stalled_queue(client, db):
    healthy = client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json()["status"] == "ok"
    story = insert_story(db, "https://example.com/overdue", [])
    with db.session() as session:
        session.get(Story, story).next_check_at = datetime.now(UTC) - timedelta(hours=1)
    stalled = client.get("/healthz")
    assert stalled.status_code == 503
    assert stalled.json()["scheduler"] == "stalled"
    assert stalled.json()["queue_lag_seconds"] >= 3600

"""Lifecycle events where people read them: the story page, the changes view (web, API,
`tracker changes`), `tracker events`, the events API, and both exports. The events come from
real checks of a real local site; the pagination test mixes events and versions captured
in the same instants."""

from __future__ import annotations

import csv
import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest
from alert_support import Rig
from conftest import cli_runner
from servers import LocalServer
from test_changes_view import NOW, add_story, write_version
from test_web_support import make_client

from tracker.demo.site import STAGES, render_page
from tracker.services.changes_feed import changes_page, make_filter
from tracker.store.db import Database
from tracker.store.models import Event, StoryTag


def check(rig: Rig):
    rig.clock.advance(minutes=1)
    [report] = rig.engine.check_now([rig.story_id])
    return report


@pytest.fixture
def unpublished(rig: Rig, server: LocalServer) -> Rig:
    """A story with one version whose page then answered 404."""
    rig.publish(0)
    server.set(rig.path, "<h1>Gone</h1>", status=404)
    assert check(rig).events == ["unpublished"]
    return rig


def test_the_story_page_says_the_story_is_unpublished_and_lists_the_event(unpublished: Rig):
    with make_client(unpublished.db, unpublished.settings) as client:
        page = client.get(f"/stories/{unpublished.story_id}").text
    assert 'id="lifecycle-notice"' in page
    assert "Unpublished since" in page
    assert "The history keeps the article as it was last published" in page
    assert '<li class="event-unpublished">' in page
    assert "<strong>Unpublished: the page answered 404</strong>" in page


def test_the_story_page_says_a_paywalled_story_keeps_its_last_full_version(
    rig: Rig, server: LocalServer
):
    from test_lifecycle_pipeline import paywalled_page

    rig.publish(0)
    server.set(rig.path, paywalled_page())
    assert check(rig).events == ["paywalled"]
    with make_client(rig.db, rig.settings) as client:
        page = client.get(f"/stories/{rig.story_id}").text
        story = client.get(f"/api/v1/stories/{rig.story_id}").json()
    assert "Paywalled since" in page
    assert "the history keeps the last full article (version 1)" in page
    assert story["lifecycle"] == "paywalled"


def test_the_changes_page_and_api_list_the_event_among_versions(unpublished: Rig):
    with make_client(unpublished.db, unpublished.settings) as client:
        html = client.get("/changes").text
        api = client.get("/api/v1/changes").json()
        only_events = client.get("/api/v1/changes", params={"kind": "unpublished"}).json()
        only_versions = client.get("/api/v1/changes", params={"kind": "first"}).json()
        events = client.get("/api/v1/events", params={"story_id": unpublished.story_id}).json()
    assert 'class="change lifecycle event-unpublished"' in html
    assert "Unpublished: the page answered 404" in html
    assert 'name="kind" value="paywalled"' in html  # a filter people can tick
    [event, version] = api["items"]
    assert (event["event"], event["summary"]) == (
        "unpublished",
        "Unpublished: the page answered 404",
    )
    assert event["kinds_in_words"] == ["Unpublished"]
    assert event["event_data"]["status"] == 404
    assert event["change_path"] == f"/stories/{unpublished.story_id}#events"
    assert (version["event"], version["seq"]) == (None, 1)
    assert [item["event"] for item in only_events["items"]] == ["unpublished"]
    assert [item["event"] for item in only_versions["items"]] == [None]
    [lifecycle] = [item for item in events["items"] if item["kind"] == "unpublished"]
    assert lifecycle["data"] == {
        "status": 404,
        "from": unpublished.server.url("/news/story"),
        "to": None,
    }


def test_tracker_events_and_changes_print_the_event(unpublished: Rig, tmp_path: Path):
    run = cli_runner(tmp_path / "cli-home", unpublished.settings.database_url)
    events = run("events").stdout
    assert "unpublished" in events and "Unpublished: the page answered 404" in events
    as_json = json.loads(run("events", "--json").stdout)
    assert any(row["kind"] == "unpublished" and row["data"]["status"] == 404 for row in as_json)
    changes = run("changes").stdout
    assert "Unpublished: the page answered 404" in changes
    only = json.loads(run("changes", "--kind", "unpublished", "--json").stdout)
    assert [item["event"] for item in only["items"]] == ["unpublished"]
    assert "! unpublished" in run("list").stdout
    [listed] = json.loads(run("list", "--json").stdout)
    assert listed["lifecycle"] == "unpublished"


def test_the_atom_feeds_carry_the_event_as_an_entry_after_the_version(
    unpublished: Rig, server: LocalServer
):
    """A story taken down is news to a feed reader: the all, story and tag feeds each have
    an entry saying so, newest first, linking the story's history."""
    from lxml import etree

    atom = "{http://www.w3.org/2005/Atom}"
    with unpublished.db.session() as session:
        session.add(StoryTag(story_id=unpublished.story_id, tag="politics"))
    story_path = f"/stories/{unpublished.story_id}"
    with make_client(unpublished.db, unpublished.settings) as client:
        feeds = {
            path: etree.fromstring(client.get(path).content)
            for path in (
                "/feeds/all.atom",
                f"/feeds{story_path}.atom",
                "/feeds/tags/politics.atom",
            )
        }
        other_tag = client.get("/feeds/tags/sport.atom").content
    for path, feed in feeds.items():
        [event, version] = feed.findall(f"{atom}entry")
        assert event.findtext(f"{atom}title").endswith(" — Unpublished"), path
        assert event.find(f"{atom}category").get("term") == "unpublished", path
        assert event.find(f"{atom}link").get("href").endswith(story_path), path
        content = event.findtext(f"{atom}content")
        assert "Unpublished: the page answered 404" in content, path
        assert server.url("/news/story") in content, path  # where it was
        assert event.findtext(f"{atom}id") != version.findtext(f"{atom}id")
        assert version.find(f"{atom}category").get("term") == "first", path
        assert feed.findtext(f"{atom}updated") == event.findtext(f"{atom}updated"), path
    assert etree.fromstring(other_tag).findall(f"{atom}entry") == []


def test_both_exports_carry_the_lifecycle(unpublished: Rig, tmp_path: Path):
    run = cli_runner(tmp_path / "cli-home", unpublished.settings.database_url)
    exported = tmp_path / "export.json"
    run("export", "-o", str(exported))
    [story] = json.loads(exported.read_text(encoding="utf-8"))["stories"]
    assert story["lifecycle"] == "unpublished"
    [event] = [e for e in story["events"] if e["kind"] == "unpublished"]
    assert event["data"]["status"] == 404

    research = tmp_path / "research"
    run("export", "--format", "csv", "-o", str(research))
    with (research / "lifecycle.csv").open(encoding="utf-8", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["event"], row["http_status"], row["from_url"]) == (
        "unpublished",
        "404",
        unpublished.server.url("/news/story"),
    )

    # The JSON export brings the story back as it stood, its events' facts included.
    other = cli_runner(tmp_path / "other-home", f"sqlite:///{tmp_path / 'other.db'}")
    other("import", str(exported))
    again = json.loads(other("events", "--json").stdout)
    assert any(row["kind"] == "unpublished" and row["data"]["status"] == 404 for row in again)


def test_pages_of_versions_and_events_follow_one_another_without_gaps_or_repeats(db: Database):
    """Versions and lifecycle events of three stories captured in the very same instants:
    pages of every size visit each row once, older and newer, events first at a tie."""
    stories = [add_story(db, f"https://example.net/tie/{n}") for n in range(3)]
    same = NOW - timedelta(hours=2)
    for round_ in range(3):
        for story in stories:
            write_version(db, story, f"Tie {story}", f"Round {round_} of story {story}.", same)
    with db.session() as session:
        for story in stories:
            for kind in ("unpublished", "republished"):
                session.add(Event(story_id=story, kind=kind, created_at=same, detail=kind))
        session.add(Event(story_id=stories[0], kind="paywalled", created_at=NOW, detail="wall"))
        # Other events are not rows of the changes view.
        session.add(Event(story_id=stories[1], kind="promise_made", created_at=NOW, detail="x"))
    with db.read_session() as session:
        everything = [(row.event, row.version_id) for row in changes_page(session, limit=100).rows]
        assert len(everything) == 9 + 6 + 1
        assert everything[0] == ("paywalled", everything[0][1])
        assert [event for event, _ in everything[1:7]] == ["republished", "unpublished"] * 3
        for size in (1, 2, 4, 5):
            pages, cursor = [], None
            while True:
                page = changes_page(session, limit=size, before=cursor)
                pages.append(page)
                if page.older is None:
                    break
                cursor = page.older
            seen = [(row.event, row.version_id) for page in pages for row in page.rows]
            assert seen == everything, size
            # "Newer" from each page gives back exactly the page before it.
            for earlier, later in itertools.pairwise(pages):
                back = changes_page(session, limit=size, after=later.newer)
                assert [(r.event, r.version_id) for r in back.rows] == [
                    (r.event, r.version_id) for r in earlier.rows
                ]
        lifecycle_only = make_filter(kinds=["unpublished,paywalled"], now=NOW)
        rows = changes_page(session, lifecycle_only, limit=100).rows
        assert [row.event for row in rows] == [
            "paywalled",
            "unpublished",
            "unpublished",
            "unpublished",
        ]
        site = make_filter(site="example.net", kinds=["paywalled"], now=NOW)
        assert len(changes_page(session, site).rows) == 1
        elsewhere = make_filter(site="example.org", kinds=["paywalled"], now=NOW)
        assert changes_page(session, elsewhere).rows == []


def test_a_story_page_of_a_live_story_has_no_lifecycle_notice(rig: Rig, server: LocalServer):
    rig.publish(0)
    server.set(rig.path, render_page(STAGES[0], 1))
    check(rig)
    with make_client(rig.db, rig.settings) as client:
        assert 'id="lifecycle-notice"' not in client.get(f"/stories/{rig.story_id}").text

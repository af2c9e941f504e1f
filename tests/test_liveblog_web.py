"""A live blog in the web UI, the JSON API, the Atom feed and the CLI: entries as a timeline,
diffs aligned entry by entry (an entry inserted at the top never misaligns the rest)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import cli_runner
from liveblog_pages import NEW_ENTRY, guardian_like, sample_entries
from servers import LocalServer
from test_web_support import check_now, make_client, utcnow

from tracker.services.stories import add_stories

PATH = "/live/quake"


@pytest.fixture
def live_story(db, settings, server: LocalServer) -> int:
    """v1: three entries; v2: a new entry on top and an edit in the (old) second entry."""
    entries = sample_entries()
    server.set(PATH, guardian_like(entries))
    with db.session() as session:
        [added] = add_stories(
            session, [server.url(PATH)], now=utcnow(), allow_private_networks=True
        )
    assert check_now(db, settings, added.story_id).version_seq == 1
    edited = replace(entries[1], paragraphs=(entries[1].paragraphs[0].replace("14", "17"),))
    server.set(PATH, guardian_like([NEW_ENTRY, entries[0], edited, entries[2]]))
    report = check_now(db, settings, added.story_id)
    assert report.version_seq == 2
    assert set(report.kinds) == {"entry_added", "entry_edited"}
    return added.story_id


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


def test_the_story_page_shows_the_entries_as_a_timeline(client, live_story):
    page = client.get(f"/stories/{live_story}").text
    assert "Live blog: 4 entries" in page
    items = re.findall(r'<li class="entry[^"]*" id="entry-\d+">(.*?)</li>', page, re.S)
    assert len(items) == 4
    assert '<time datetime="2026-12-04T10:12:00Z">10:12 a.m.</time>' in items[0]
    assert "Aftershock felt in the capital" in items[0]
    assert "key event" in items[2]  # the pinned entry


def _units(page: str) -> list[tuple[str, str]]:
    """(status, caption) of each unit of an inline entry diff."""
    return re.findall(
        r'<section class="unit unit-(\w+)"[^>]*>\s*<h3 class="unit-caption">([^<]*)', page
    )


def test_the_inline_diff_pairs_each_entry_with_itself(client, live_story):
    page = client.get(f"/stories/{live_story}/diff/1/2").text
    assert _units(page) == [
        ("equal", "Summary"),
        ("added", "10:12 a.m. · new entry"),
        ("equal", "9:40 a.m."),
        ("edited", "9:05 a.m. · entry edited"),
        ("equal", "8:30 a.m."),
    ]
    edited = page.split("9:05 a.m. · entry edited")[1].split("</section>")[0]
    assert '<del class="del">14</del>' in edited and '<ins class="ins">17</ins>' in edited
    # The old top entry is shown unchanged, never as deleted and re-added.
    assert "<del" not in page.split("9:40 a.m.</h3>")[1].split("</section>")[0]


def test_the_side_by_side_diff_aligns_entries_row_by_row(client, live_story):
    page = client.get(f"/stories/{live_story}/diff/1/2", params={"view": "side"}).text
    heads = re.findall(
        r'<tr class="unit-head unit-(\w+)"[^>]*><th colspan="2"[^>]*>([^<]*)</th>', page
    )
    assert [status for status, _ in heads] == ["equal", "added", "equal", "edited", "equal"]
    # Each entry's rows face the same entry: the airport paragraph faces itself.
    rows = re.findall(r'<td class="before">(.*?)</td><td class="after">(.*?)</td>', page, re.S)
    airport = [(old, new) for old, new in rows if "airport reopened" in old + new]
    assert airport and all(old == new for old, new in airport)
    new_entry = [(old, new) for old, new in rows if "strong aftershock" in new]
    assert new_entry and all(old == "" for old, _ in new_entry)


def test_the_api_carries_entries_and_the_entry_aligned_diff(client, live_story):
    version = client.get(f"/api/v1/stories/{live_story}/versions/2").json()
    assert [e["key"] for e in version["entries"]] == [
        "block-d4",
        "block-c3",
        "block-b2",
        "block-a1",
    ]
    assert version["entries"][0]["label"] == "10:12 a.m."
    diff = client.get(f"/api/v1/stories/{live_story}/diff", params={"from": 1, "to": 2}).json()
    assert [(u["key"], u["status"]) for u in diff["entries"]] == [
        (None, "equal"),
        ("block-d4", "added"),
        ("block-c3", "equal"),
        ("block-b2", "edited"),
        ("block-a1", "equal"),
    ]
    html = client.get(
        f"/api/v1/stories/{live_story}/diff", params={"from": 1, "to": 2, "format": "html"}
    ).text
    assert "10:12 a.m. · new entry" in html


def test_the_atom_entry_shows_only_the_changed_entries(client, live_story):
    feed = client.get(f"/feeds/stories/{live_story}.atom").text
    newest = feed.split("<entry>")[1].split("</entry>")[0]  # version 2's change
    assert "10:12 a.m. · new entry" in newest
    assert "9:05 a.m. · entry edited" in newest
    assert "8:30 a.m." not in newest and "9:40 a.m." not in newest  # unchanged: left out


def test_the_cli_shows_a_versions_entries_as_json(tmp_path: Path, database_url, live_story, db):
    # The same database as the web tests' story, through the command line.
    cli = cli_runner(tmp_path / "cli-home", database_url)
    shown = json.loads(cli("show", str(live_story), "--json").stdout)
    assert shown["entries"][0]["headline"] == "Aftershock felt in the capital"


def test_the_cli_diff_shows_the_changed_entries_under_their_times(
    tmp_path: Path, database_url, live_story
):
    cli = cli_runner(tmp_path / "cli-home", database_url)
    plain = cli("diff", str(live_story), "--no-color").stdout
    assert "── 10:12 a.m. · new entry ──" in plain
    assert "{+10:12 a.m. · Aftershock felt in the capital" in plain
    assert "── 9:05 a.m. · entry edited ──" in plain and "[-14-]{+17+}" in plain
    assert "Airport reopens" not in plain  # an unchanged entry is not shown
    units = json.loads(cli("diff", str(live_story), "--json").stdout)["entries"]
    assert [u["status"] for u in units] == ["equal", "added", "equal", "edited", "equal"]


def test_the_entry_diff_can_be_read_changes_only_with_jump_links(client, live_story):
    page = client.get(f"/stories/{live_story}/diff/1/2", params={"show": "changes"}).text
    # Five entries, two changes with their context: nothing to fold in so short a blog.
    assert len(_units(page)) == 5 and 'class="fold"' not in page
    assert page.index('id="change-1"') < page.index("10:12 a.m. · new entry")
    assert page.index('id="change-2"') < page.index("9:05 a.m. · entry edited")
    assert '<strong aria-current="true">Changes only</strong>' in page
    full = client.get(f"/stories/{live_story}/diff/1/2").text  # five entries: opens whole
    assert '<strong aria-current="true">Full text</strong>' in full

"""The changes page: every story's versions newest first, filtered and paginated, each row
saying what changed (kinds in words, the replaced headline, the first changed sentence).

Versions are written through the pipeline's own `store_version` after the pipeline's own
`compare`, so the excerpts and kind rows under test are the ones a live check stores.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import cli_runner
from test_web_support import make_client

from tracker.core.extract import Article
from tracker.net.fetcher import FetchResult, Outcome
from tracker.pipeline.check import (
    Analysis,
    compare,
    latest_version,
    store_version,
    version_as_article,
)
from tracker.services.changes_feed import (
    ChangeFilter,
    ChangesError,
    changes_page,
    make_filter,
)
from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Story, VersionKind

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def add_story(db: Database, url: str, *, tags: tuple[str, ...] = ()) -> int:
    with db.session() as session:
        [added] = add_stories(
            session, [url], now=NOW - timedelta(days=30), tags=tags, allow_private_networks=True
        )
    return added.story_id


def write_version(
    db: Database,
    story_id: int,
    title: str,
    text: str,
    at: datetime,
    *,
    kinds: tuple[str, ...] | None = None,
) -> int:
    """The story's next version, compared and stored as a check stores it; `kinds` overrides
    what `compare` found (for kinds plain texts cannot make, such as live entries)."""
    with db.session() as session:
        story = session.get(Story, story_id)
        assert story is not None
        previous = latest_version(session, story_id)
        before = version_as_article(previous) if previous is not None else None
        article = Article(
            title=title,
            byline=None,
            published=None,
            modified=None,
            text=text,
            canonical_url=None,
            lang=None,
            headlines=(title,),
        )
        comparison = compare(before, article)
        if kinds is not None:  # a live blog's entry kinds: not typed, as in the pipeline
            comparison = replace(comparison, kinds=frozenset(kinds), edit_types=None)
        fetched = FetchResult(
            Outcome.OK,
            story.url,
            story.url,
            200,
            {},
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            0.0,
            0,
        )
        analysis = Analysis(article, f"{story_id}-{at.timestamp()}-{title}", None)
        version = store_version(session, story, fetched, analysis, comparison, now=at, capture=None)
        return version.id


BODY = (
    "Rescuers reached the village on Tuesday. The mayor said 212 people were hurt.\n\n"
    "Roads remain closed. A press office statement is expected."
)


@pytest.fixture
def desk(db: Database) -> dict[str, int]:
    """Three stories on two sites, changing over a day."""
    flood = add_story(db, "https://www.example.com/news/flood", tags=("weather",))
    vote = add_story(db, "https://news.example.org/politics/vote", tags=("politics",))
    live = add_story(db, "http://example.com/live/storm", tags=("weather",))
    write_version(db, flood, "Flood hits village", BODY, NOW - timedelta(hours=20))
    write_version(
        db,
        vote,
        "Parliament votes",
        "The vote is at noon. Members gathered.",
        NOW - timedelta(hours=19),
    )
    write_version(
        db, live, "Storm live", "09:00 The storm made landfall.", NOW - timedelta(hours=18)
    )
    write_version(
        db, flood, "Flood hits village", BODY.replace("212", "284"), NOW - timedelta(hours=6)
    )
    write_version(
        db,
        vote,
        "Parliament rejects the bill",
        "The vote is at noon. Members gathered.",
        NOW - timedelta(hours=5),
    )
    write_version(
        db,
        live,
        "Storm live",
        "10:00 Power is out in the north.\n\n09:00 The storm made landfall.",
        NOW - timedelta(hours=4),
        kinds=("entry_added",),
    )
    write_version(
        db,
        flood,
        "Flood hits village",
        BODY.replace("212", "284")
        + "\n\nCorrection: an earlier version misspelt the mayor's name.",
        NOW - timedelta(hours=1),
    )
    return {"flood": flood, "vote": vote, "live": live}


def seqs(page) -> list[tuple[int, int]]:
    return [(row.story_id, row.seq) for row in page.rows]


def test_every_version_of_every_story_is_listed_newest_first(db, desk):
    with db.read_session() as session:
        page = changes_page(session)
    flood, vote, live = desk["flood"], desk["vote"], desk["live"]
    assert seqs(page) == [
        (flood, 3),
        (live, 2),
        (vote, 2),
        (flood, 2),
        (live, 1),
        (vote, 1),
        (flood, 1),
    ]
    assert page.older is None and page.newer is None  # one page holds them all


def test_a_row_says_what_changed_in_words(db, desk):
    with db.read_session() as session:
        rows = {(row.story_id, row.seq): row for row in changes_page(session).rows}
    edited = rows[(desk["flood"], 2)]
    assert edited.headline == "Flood hits village"
    assert edited.site == "example.com"  # "www." is not part of the site's name
    # The kind, then what a desk calls it: 212 → 284 with no correction note.
    assert edited.kinds == ("text_edited",)
    assert edited.edit_types == ("number_changed", "silent_correction")
    assert edited.kind_labels == ["text edited", "figure changed", "silent correction"]
    assert edited.previous_title is None  # the headline did not change
    # The first changed sentence, its changed words marked, not the whole article.
    assert edited.excerpt == (
        ("=", "The mayor said "),
        ("-", "212"),
        ("+", "284"),
        ("=", " people were hurt."),
    )
    assert edited.excerpt_text == "The mayor said [-212-] {+284+} people were hurt."
    assert edited.change_path == f"/stories/{desk['flood']}/diff/1/2"

    retitled = rows[(desk["vote"], 2)]
    assert retitled.kinds == ("headline",)
    assert (retitled.previous_title, retitled.title) == (
        "Parliament votes",
        "Parliament rejects the bill",
    )
    assert retitled.headline == "Parliament rejects the bill"
    assert retitled.excerpt == ()  # only the headline changed: no sentence to show

    corrected = rows[(desk["flood"], 3)]
    assert "correction" in corrected.kinds
    assert corrected.excerpt == (
        ("+", "Correction: an earlier version misspelt the mayor's name."),
    )

    first = rows[(desk["vote"], 1)]
    assert first.kind_labels == ["first version"]
    assert first.excerpt == (("=", "The vote is at noon."),)  # its first sentence, unmarked
    assert first.change_path == f"/stories/{desk['vote']}/versions/1"

    entry = rows[(desk["live"], 2)]
    assert entry.kind_labels == ["live entry added"]
    assert entry.excerpt == (("+", "10:00 Power is out in the north."),)


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (("headline",), [("vote", 2)]),
        (("correction",), [("flood", 3)]),
        (("entry_added",), [("live", 2)]),
        (("first",), [("live", 1), ("vote", 1), ("flood", 1)]),
        (("headline", "entry_added"), [("live", 2), ("vote", 2)]),  # any of them
        (("paragraphs_removed",), []),
    ],
)
def test_the_kind_filter_keeps_versions_with_any_of_the_kinds(db, desk, kinds, expected):
    with db.read_session() as session:
        page = changes_page(session, ChangeFilter(kinds=kinds))
    assert seqs(page) == [(desk[name], seq) for name, seq in expected]


def test_the_tag_filter_keeps_the_tagged_stories(db, desk):
    with db.read_session() as session:
        page = changes_page(session, ChangeFilter(tag="politics"))
    assert seqs(page) == [(desk["vote"], 2), (desk["vote"], 1)]


def test_the_site_filter_matches_the_domain_whatever_the_scheme_and_www(db, desk):
    with db.read_session() as session:
        example = changes_page(session, make_filter(site="https://example.com/x", now=NOW))
        org = changes_page(session, make_filter(site="NEWS.example.org", now=NOW))
    assert {row.story_id for row in example.rows} == {desk["flood"], desk["live"]}
    assert {row.story_id for row in org.rows} == {desk["vote"]}


def test_since_and_until_take_times_ago_and_iso_dates(db, desk):
    with db.read_session() as session:
        recent = changes_page(session, make_filter(since="5h", now=NOW))
        earlier = changes_page(session, make_filter(since="2026-12-03T16:30", until="5h", now=NOW))
        combined = changes_page(
            session,
            make_filter(since="24h", kinds=["text_edited", "correction"], tag="weather", now=NOW),
        )
    assert seqs(recent) == [(desk["flood"], 3), (desk["live"], 2), (desk["vote"], 2)]
    assert seqs(earlier) == [(desk["flood"], 2), (desk["live"], 1), (desk["vote"], 1)]
    assert seqs(combined) == [(desk["flood"], 3), (desk["flood"], 2)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kinds": ["headlines"]}, "unknown kind 'headlines'"),
        ({"since": "yesterday"}, "invalid time 'yesterday'"),
        ({"until": "2026-13-01"}, "invalid time '2026-13-01'"),
        ({"site": "not a site"}, "invalid site"),
        ({"site": "[::1"}, "invalid site"),
    ],
)
def test_filters_that_cannot_be_used_are_refused_with_the_reason(arguments, message):
    with pytest.raises(ChangesError, match=message):
        make_filter(now=NOW, **arguments)


def test_kinds_may_be_given_in_words_or_comma_separated():
    assert make_filter(kinds=["Live entry added,headline", "text-edited"], now=NOW).kinds == (
        "entry_added",
        "headline",
        "text_edited",
    )


def test_pages_follow_one_another_without_gaps_or_repeats_across_ties(db):
    """Twelve versions captured in the very same instant, three stories: pages of five
    visit each exactly once, older and newer, in (time, id) order."""
    stories = [add_story(db, f"https://example.net/tie/{n}") for n in range(3)]
    same = NOW - timedelta(hours=2)
    for round_ in range(4):
        for story in stories:
            write_version(db, story, f"Tie {story}", f"Round {round_} of story {story}.", same)
    write_version(db, stories[0], "Later", "Round 4, later.", NOW)
    with db.read_session() as session:
        everything = [row.version_id for row in changes_page(session, limit=100).rows]
        assert len(everything) == 13
        pages, cursor = [], None
        while True:
            page = changes_page(session, limit=5, before=cursor)
            pages.append(page)
            if page.older is None:
                break
            cursor = page.older
        assert [len(page.rows) for page in pages] == [5, 5, 3]
        assert [row.version_id for page in pages for row in page.rows] == everything
        assert pages[0].newer is None and pages[1].newer is not None
        # "Newer" from the last page gives back exactly the page before it.
        back = changes_page(session, limit=5, after=pages[2].newer)
        assert [row.version_id for row in back.rows] == [row.version_id for row in pages[1].rows]
        assert back.older == pages[1].older
        # A version stored after a page was read does not shift the next page.
        write_version(db, stories[1], "Newest", "Round 5, newest.", NOW + timedelta(minutes=1))
        again = changes_page(session, limit=5, before=pages[0].older)
        assert [row.version_id for row in again.rows] == [row.version_id for row in pages[1].rows]


def test_a_bad_cursor_is_refused(db):
    with db.read_session() as session, pytest.raises(ChangesError, match="invalid cursor"):
        changes_page(session, before="yesterday")


def test_kind_rows_follow_the_versions_kinds(db, desk):
    with db.read_session() as session:
        rows = session.query(VersionKind.kind).filter(VersionKind.kind == "entry_added").all()
    assert len(rows) == 1


# -- web page ---------------------------------------------------------------------------------


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


def test_the_changes_page_shows_each_change_and_is_in_the_nav(client, desk):
    response = client.get("/changes")
    assert response.status_code == 200
    html = response.text
    assert '<a href="/changes" aria-current="page">Changes</a>' in html  # in the nav, current
    assert 'The mayor said <del><span class="visually-hidden">removed: </span>212</del>' in html
    assert '<ins><span class="visually-hidden">added: </span>284</ins>' in html
    assert (
        "<del>Parliament votes</del>" in html and "<ins>Parliament rejects the bill</ins>" in html
    )
    assert f'href="/stories/{desk["flood"]}/diff/1/2"' in html
    assert "live entry added" in html and "first version" in html
    assert "news.example.org" in html


def test_the_changes_page_filters_and_pages_without_javascript(client, desk):
    html = client.get("/changes", params={"kind": ["headline", "correction"]}).text
    assert "Parliament rejects the bill" in html and "misspelt" in html
    assert "The mayor said" not in html
    assert 'value="headline" checked' in html  # the form shows the filter in force
    first = client.get("/changes", params={"tag": "weather"}).text
    assert "Parliament" not in first
    paged = client.get("/changes?before=" + _older_cursor(client))
    assert paged.status_code == 200 and "← Newer" in paged.text


def test_every_filter_the_page_offers_is_accepted_by_the_page_and_the_api(client, desk):
    html = client.get("/changes").text
    offered = re.findall(r'<input type="checkbox" name="kind" value="([a-z_]+)"', html)
    assert {"headline", "number_changed", "silent_correction", "unpublished"} <= set(offered)
    for kind in offered:
        assert client.get("/changes", params={"kind": kind}).status_code == 200, kind
        assert client.get("/api/v1/changes", params={"kind": kind}).status_code == 200, kind


def test_the_edit_type_filter_keeps_the_versions_of_that_type(client, desk):
    html = client.get("/changes", params={"kind": "number_changed"}).text
    assert "The mayor said" in html and "Parliament rejects the bill" not in html
    rows = client.get("/api/v1/changes", params={"kind": "number_changed"}).json()["items"]
    assert rows and all("number_changed" in row["edit_types"] for row in rows)


def _older_cursor(client) -> str:
    return client.get("/api/v1/changes", params={"limit": 2}).json()["next"]


def test_the_changes_page_refuses_a_bad_filter_with_the_form_and_a_reason(client, desk):
    response = client.get("/changes", params={"since": "last week"})
    assert response.status_code == 400
    assert "invalid time &#39;last week&#39;" in response.text
    assert 'name="since" value="last week"' in response.text  # kept for correcting


def test_the_story_timeline_shows_the_headline_change_and_the_changed_sentence(client, desk):
    html = client.get(f"/stories/{desk['vote']}").text
    assert "<del>Parliament votes</del>" in html
    flood = client.get(f"/stories/{desk['flood']}").text
    assert '<ins><span class="visually-hidden">added: </span>284</ins>' in flood
    # The compare selectors name each version by number, date and kinds.
    assert '<option value="2" selected>v2 · 2026-12-04 06:00 UTC · text edited</option>' in flood
    assert '<option value="1" >v1 · 2026-12-03 16:00 UTC · first version</option>' in flood


# -- API --------------------------------------------------------------------------------------


def test_the_api_lists_changes_with_a_next_cursor(client, desk):
    first = client.get("/api/v1/changes", params={"limit": 3}).json()
    assert [item["seq"] for item in first["items"]] == [3, 2, 2]
    top = first["items"][0]
    assert top["story_id"] == desk["flood"]
    assert (top["kinds"], top["edit_types"]) == (["correction"], ["correction_note"])
    assert top["kinds_in_words"] == ["correction", "correction note"]
    assert top["excerpt"] == [
        {"op": "insert", "text": "Correction: an earlier version misspelt the mayor's name."}
    ]
    assert top["site"] == "example.com"
    assert top["change_path"] == f"/stories/{desk['flood']}/diff/2/3"
    assert first["newer"] is None
    second = client.get("/api/v1/changes", params={"limit": 3, "before": first["next"]}).json()
    assert [item["seq"] for item in second["items"]] == [2, 1, 1]
    third = client.get("/api/v1/changes", params={"limit": 3, "before": second["next"]}).json()
    assert [item["seq"] for item in third["items"]] == [1] and third["next"] is None
    filtered = client.get(
        "/api/v1/changes", params={"kind": "headline", "site": "news.example.org"}
    )
    assert [item["previous_title"] for item in filtered.json()["items"]] == ["Parliament votes"]


def test_the_api_refuses_bad_filters_with_400_or_422(client):
    assert client.get("/api/v1/changes", params={"since": "soon"}).status_code == 400
    assert (
        "invalid time" in client.get("/api/v1/changes", params={"since": "soon"}).json()["detail"]
    )
    assert client.get("/api/v1/changes", params={"kind": "nonsense"}).status_code == 422
    assert client.get("/api/v1/changes", params={"before": "x"}).status_code == 400


def test_the_openapi_document_describes_the_changes_endpoint(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/changes"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "kind",
        "tag",
        "site",
        "since",
        "until",
        "before",
        "after",
        "limit",
    }


# -- CLI --------------------------------------------------------------------------------------


def test_tracker_changes_prints_each_change_with_plain_markers(
    tmp_path: Path, database_url, db, desk
):
    run = cli_runner(tmp_path / "cli-home", database_url)
    out = run("changes", "--limit", "4").stdout
    assert "The mayor said [-212-] {+284+} people were hurt." in out
    assert "headline: Parliament votes → Parliament rejects the bill" in out
    assert "live entry added" in out
    filtered = run("changes", "--kind", "headline", "--site", "news.example.org").stdout
    assert "Parliament rejects the bill" in filtered and "mayor" not in filtered
    data = json.loads(run("changes", "--json", "--limit", "2").stdout)
    assert [item["seq"] for item in data["items"]] == [3, 2]
    assert data["next"] is not None
    older = json.loads(run("changes", "--json", "--limit", "2", "--before", data["next"]).stdout)
    assert [item["seq"] for item in older["items"]] == [2, 2]
    refused = run("changes", "--since", "someday", ok=False)
    assert refused.exit_code == 1 and "invalid time 'someday'" in refused.stderr


@pytest.mark.parametrize("share", [0.0, 2.0], ids=["walk-every-version", "gather-the-stories"])
def test_tag_and_site_filters_give_the_same_pages_however_many_stories_they_allow(
    db, desk, monkeypatch, share
):
    """A tag or site shared by many stories is tested version by version, one with few
    gathers its stories' versions: either way the same rows, in the same order."""
    monkeypatch.setattr("tracker.services.changes_feed.BROAD_SHARE", share)
    with db.read_session() as session:
        weather = changes_page(session, make_filter(tag="weather", now=NOW), limit=2)
        older = changes_page(session, make_filter(tag="weather", now=NOW), before=weather.older)
        on_site = changes_page(
            session, make_filter(site="example.com", kinds=["text_edited", "first"], now=NOW)
        )
        both = changes_page(session, make_filter(tag="politics", site="news.example.org", now=NOW))
        nothing = changes_page(
            session, make_filter(tag="weather", site="news.example.org", now=NOW)
        )
    flood, vote, live = desk["flood"], desk["vote"], desk["live"]
    assert seqs(weather) + seqs(older) == [
        (flood, 3), (live, 2), (flood, 2), (live, 1), (flood, 1)
    ]  # fmt: skip
    assert seqs(on_site) == [(flood, 2), (live, 1), (flood, 1)]
    assert seqs(both) == [(vote, 2), (vote, 1)]
    assert seqs(nothing) == []

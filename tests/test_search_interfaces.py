"""Search through every interface: the JSON API, the web page (as HTML), `tracker search`;
and the migration that builds the index from the versions already stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from conftest import cli_runner
from sqlalchemy import MetaData, inspect
from test_web_support import insert_story, make_client

from tracker.services.search import search
from tracker.store.db import Database, alembic_config, upgrade

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
API = "/api/v1"


@pytest.fixture
def stories(db: Database) -> Database:
    insert_story(
        db,
        "https://news.example/mayor",
        ["The mayor faces questions.", "The mayor resigned on Tuesday at city hall."],
        titles=["Mayor under pressure", "Mayor resigns amid scandal"],
        start=START,
    )
    # Its headline changed since: "scandal" is only in a past headline now.
    with db.session() as session:
        from tracker.store.models import Story

        story = session.query(Story).filter_by(url="https://news.example/mayor").one()
        story.title = "Deputy steps in"
    insert_story(
        db,
        "https://weather.example/storm",
        ["The storm reached city hall by noon."],
        titles=["Storm arrives"],
        start=START + timedelta(hours=1),
        tags=("weather",),
    )
    return db


# -- the API -----------------------------------------------------------------------------


def test_the_api_answers_which_stories_said_it_with_versions_and_snippets(stories, settings):
    client = make_client(stories, settings)
    body = client.get(f"{API}/search", params={"q": '"city hall"'}).json()
    assert body["total"] == 2
    assert body["terms"] == ["city hall"]
    assert [item["story"]["url"] for item in body["items"]] == [
        "https://weather.example/storm",
        "https://news.example/mayor",
    ]
    mayor = body["items"][1]
    assert [version["seq"] for version in mayor["versions"]] == [2]
    version = mayor["versions"][0]
    # (PostgreSQL's fragments may leave out a short first word; SQLite's keep the sentence.)
    assert "mayor resigned on Tuesday at city hall" in version["snippet"]
    matched = [piece["text"] for piece in version["snippet_marked"] if piece["match"]]
    assert " ".join(matched).lower().split() == ["city", "hall"]


def test_the_api_names_past_headlines_that_matched(stories, settings):
    client = make_client(stories, settings)
    [item] = client.get(f"{API}/search", params={"q": "scandal"}).json()["items"]
    assert item["story"]["title"] == "Deputy steps in"
    assert [(h["headline"], h["current"]) for h in item["headlines"]] == [
        ("Mayor resigns amid scandal", False)
    ]


def test_the_api_pages_and_filters(stories, settings):
    client = make_client(stories, settings)
    first = client.get(f"{API}/search", params={"q": "city", "limit": 1}).json()
    assert (first["total"], first["next_offset"], len(first["items"])) == (2, 1, 1)
    second = client.get(f"{API}/search", params={"q": "city", "limit": 1, "offset": 1}).json()
    assert second["next_offset"] is None
    assert first["items"][0]["story"]["id"] != second["items"][0]["story"]["id"]
    tagged = client.get(f"{API}/search", params={"q": "city", "tag": "weather"}).json()
    assert [item["story"]["url"] for item in tagged["items"]] == ["https://weather.example/storm"]
    on_site = client.get(f"{API}/search", params={"q": "city", "site": "news.example"}).json()
    assert [item["story"]["url"] for item in on_site["items"]] == ["https://news.example/mayor"]


@pytest.mark.parametrize("typed", ['"', "AND", "*", "NEAR(", "-", "'", "a:b", "市長 🙂"])
def test_the_api_answers_hostile_queries_with_200(stories, settings, typed):
    client = make_client(stories, settings)
    response = client.get(f"{API}/search", params={"q": typed})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


def test_the_api_refuses_bad_parameters_with_a_clear_4xx(stories, settings):
    client = make_client(stories, settings)
    assert client.get(f"{API}/search", params={"q": "x", "limit": 0}).status_code == 422
    response = client.get(f"{API}/search", params={"q": "x", "site": "%"})
    assert response.status_code == 400
    assert "not a site" in response.json()["detail"]


def test_search_is_in_the_openapi_schema(stories, settings):
    document = make_client(stories, settings).get(f"{API}/openapi.json").json()
    operation = document["paths"][f"{API}/search"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {
        "q",
        "limit",
        "offset",
        "tag",
        "site",
    }
    assert "SearchOut" in document["components"]["schemas"]


# -- the web page ------------------------------------------------------------------------


def test_the_page_shows_the_form_and_marks_the_matches(stories, settings):
    client = make_client(stories, settings)
    empty = client.get("/search")
    assert empty.status_code == 200
    assert 'role="search"' in empty.text and 'name="q"' in empty.text
    page = client.get("/search", params={"q": "scandal"})
    assert page.status_code == 200
    assert "1 story said" in page.text
    assert "Past headline:" in page.text
    assert "Mayor resigns amid <mark>scandal</mark>" in page.text
    assert 'href="/stories/1/versions/2"' in page.text


def test_the_page_escapes_what_was_typed_and_what_was_stored(db, settings):
    insert_story(db, "https://x.example/a", ["<script>alert(1)</script> evil words"])
    client = make_client(db, settings)
    page = client.get("/search", params={"q": "<script>evil"})
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;" in page.text


def test_the_page_says_a_bad_filter_in_words(stories, settings):
    page = make_client(stories, settings).get("/search", params={"q": "x", "site": "%"})
    assert page.status_code == 400
    assert "not a site" in page.text
    assert 'name="q"' in page.text  # the form stays, to fix it


def test_the_nav_links_to_search(stories, settings):
    assert '<a href="/search">Search</a>' in make_client(stories, settings).get("/").text


# -- the CLI -----------------------------------------------------------------------------


def test_the_cli_prints_stories_versions_and_past_headlines(stories, tmp_path, database_url):
    run = cli_runner(tmp_path / "home", database_url)
    out = run("search", "scandal").output
    assert "1 story said scandal" in out
    assert "Deputy steps in" in out
    assert "past headline: Mayor resigns amid scandal" in out
    assert "v2" in out


def test_the_cli_joins_its_words_and_keeps_phrases(stories, tmp_path, database_url):
    run = cli_runner(tmp_path / "home", database_url)
    out = run("search", '"city hall"', "storm").output
    assert "https://weather.example/storm" in out
    assert "https://news.example/mayor" not in out


def test_the_cli_json_is_the_apis(stories, tmp_path, database_url, settings):
    run = cli_runner(tmp_path / "home", database_url)
    data = json.loads(run("search", "city", "--json").output)
    api = make_client(stories, settings).get(f"{API}/search", params={"q": "city"}).json()
    assert [item["story"]["id"] for item in data["items"]] == [
        item["story"]["id"] for item in api["items"]
    ]
    assert data["items"][0]["versions"][0]["captured_at"].startswith("2026-11-02T10:00:00")


def test_the_cli_says_an_empty_query_in_one_line(stories, tmp_path, database_url):
    run = cli_runner(tmp_path / "home", database_url)
    result = run("search", '"', ok=False)
    assert result.exit_code == 1
    assert "nothing to search for" in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    result = run("search", "x", "--site", "%", ok=False)
    assert result.exit_code == 1
    assert "not a site" in result.stderr


def test_the_cli_says_when_nothing_was_said(stories, tmp_path, database_url):
    run = cli_runner(tmp_path / "home", database_url)
    result = run("search", "zeppelin")
    assert "no story ever said zeppelin" in result.stderr


# -- the migration -----------------------------------------------------------------------


def insert_story_of_that_schema(db: Database, url: str, text: str) -> None:
    """A story with one version, written with only the columns versions had before 0013
    (the models have more: later migrations added them)."""
    from datetime import UTC, datetime

    from sqlalchemy import Table, insert

    now = datetime.now(UTC)
    at = now.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else now
    # The story too, through the table as it is: the models' stories have later columns.
    stories = Table("stories", MetaData(), autoload_with=db.engine)
    versions = Table("versions", MetaData(), autoload_with=db.engine)
    with db.engine.begin() as connection:
        story_id = connection.execute(
            insert(stories)
            .values(
                url=url,
                status="active",
                added_at=at,
                first_seen_at=at,
                next_check_at=at,
                developing=False,
                promise_state="none",
                consecutive_failures=0,
                consecutive_gone=0,
                version_count=0,
                ignore_patterns=[],
            )
            .returning(stories.c.id)
        ).scalar_one()
        connection.execute(
            insert(versions).values(
                story_id=story_id,
                seq=1,
                captured_at=at,
                fingerprint="0" * 64,
                title="Headline 1",
                headlines=["Headline 1"],
                text=text,
                kinds=["first"],
                words_added=len(text.split()),
                words_removed=0,
                chars_added=0,
                chars_removed=0,
                diff_coarse=False,
            )
        )


def test_the_migration_indexes_the_versions_stored_before_it(db: Database, tmp_path: Path):
    config = alembic_config(db.engine)
    before = ScriptDirectory.from_config(config).get_revision("0013").down_revision
    assert isinstance(before, str)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, before)
    # Downgraded: no index objects left behind.
    inspector = inspect(db.engine)
    assert "versions_fts" not in inspector.get_table_names()
    assert "search_vector" not in {column["name"] for column in inspector.get_columns("versions")}

    insert_story_of_that_schema(
        db, "https://old.example/a", "Stored before search existed: a walrus."
    )
    upgrade(db.engine)

    with db.read_session() as session:
        results = search(session, "walrus")
    assert [hit.story.url for hit in results.stories] == ["https://old.example/a"]
    # And it keeps up with what comes after.
    insert_story(db, "https://new.example/b", ["Stored after: another walrus."])
    with db.read_session() as session:
        assert search(session, "walrus").total == 2

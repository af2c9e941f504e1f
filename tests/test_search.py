"""Full-text search: which stories ever said something, and the versions that said it.

Every test runs on SQLite (FTS5) and PostgreSQL (tsvector + GIN): the index is kept by the
database itself, so these tests write versions through the ORM, through bulk inserts and
raw SQL, and delete them both ways.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update
from test_web_support import insert_story

from tracker.core.search import fts5_match, parse_query
from tracker.services.search import (
    SNIPPETS_PER_STORY,
    SearchError,
    SearchResults,
    has_match,
    plain,
    search,
)
from tracker.services.stories import remove_story
from tracker.store.db import Database
from tracker.store.models import Story, Version

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def find(db: Database, typed: str, **options: object) -> SearchResults:
    with db.read_session() as session:
        return search(session, typed, **options)  # type: ignore[arg-type]


def found_urls(db: Database, typed: str, **options: object) -> list[str]:
    return [hit.story.url for hit in find(db, typed, **options).stories]


def matched_words(marked) -> list[str]:
    return [piece.lower() for piece, matched in marked if matched]


@pytest.fixture
def newsroom(db: Database) -> Database:
    """Three stories: a mayor who resigned (the headline said so, then changed), a storm
    whose death toll rose, and a budget story tagged and on another site."""
    insert_story(
        db,
        "https://news.example/mayor",
        [
            "The mayor of Springfield faces questions over the stadium contract.",
            "The mayor of Springfield resigned on Tuesday. City hall was quiet.",
            "The mayor of Springfield resigned on Tuesday. A deputy takes over at city hall.",
        ],
        titles=["Mayor under pressure", "Mayor resigns amid stadium scandal", "Deputy steps in"],
        start=START,
    )
    insert_story(
        db,
        "https://www.weather.example/storm",
        [
            "The storm has killed 12 people in Zürich, officials said.",
            "The storm has killed 21 people in Zürich, officials said on Monday.",
        ],
        titles=["Storm kills 12", "Storm kills 21"],
        start=START + timedelta(hours=2),
        tags=("weather",),
    )
    insert_story(
        db,
        "https://budget.example/2027",
        ["The budget for 2027 was passed by city hall after a long night."],
        titles=["Budget passed"],
        start=START + timedelta(hours=4),
        tags=("politics",),
    )
    return db


# -- what a search finds -----------------------------------------------------------------


def test_a_word_finds_every_story_that_said_it_newest_first(newsroom: Database):
    # The budget story is newest, the mayor's oldest; the storm never said "hall".
    assert found_urls(newsroom, "hall") == [
        "https://budget.example/2027",
        "https://news.example/mayor",
    ]


def test_each_story_comes_with_the_versions_that_said_it_newest_first(newsroom: Database):
    [mayor] = find(newsroom, "resigned").stories
    assert [version.seq for version in mayor.versions] == [3, 2]
    assert mayor.newest_at == START + timedelta(minutes=60)
    for version in mayor.versions:
        assert version.snippet is not None
        assert matched_words(version.snippet) == ["resigned"]
        assert "resigned on Tuesday" in plain(version.snippet)


def test_a_quoted_phrase_must_appear_as_written(newsroom: Database):
    assert found_urls(newsroom, '"city hall"') == [
        "https://budget.example/2027",
        "https://news.example/mayor",
    ]
    # Both words are in the mayor's story, but never as this phrase.
    assert found_urls(newsroom, '"hall city"') == []
    [mayor] = find(newsroom, '"deputy takes over"').stories
    assert [version.seq for version in mayor.versions] == [3]
    assert matched_words(mayor.versions[0].snippet) == ["deputy", "takes", "over"] or (
        matched_words(mayor.versions[0].snippet) == ["deputy takes over"]
    )


def test_every_term_must_be_said_by_the_same_version(newsroom: Database):
    assert found_urls(newsroom, 'storm "21 people"') == ["https://www.weather.example/storm"]
    # "12" and "Monday" were each said, but never by one version.
    assert found_urls(newsroom, "12 Monday") == []


def test_case_does_not_matter(newsroom: Database):
    assert found_urls(newsroom, "SPRINGFIELD") == ["https://news.example/mayor"]


def test_a_past_headline_no_longer_current_is_found_and_named(newsroom: Database):
    # Only version 2's headline said "scandal"; the story is now "Deputy steps in".
    [mayor] = find(newsroom, "scandal").stories
    assert mayor.story.title == "Deputy steps in"
    assert [version.seq for version in mayor.versions] == [2]
    assert [(headline.text, headline.current) for headline in mayor.headlines] == [
        ("Mayor resigns amid stadium scandal", False)
    ]
    assert matched_words(mayor.headlines[0].headline) == ["scandal"]
    # The text never said it: the version's snippet is the headline that did.
    assert plain(mayor.versions[0].snippet) == "Mayor resigns amid stadium scandal"


def test_the_current_headline_is_marked_current(newsroom: Database):
    [storm] = find(newsroom, "storm kills").stories
    assert [(headline.text, headline.current) for headline in storm.headlines] == [
        ("Storm kills 21", True),
        ("Storm kills 12", False),
    ]


def test_every_headline_a_page_stated_is_searched_not_only_the_title(db: Database):
    story_id = insert_story(db, "https://og.example/a", ["Body text."], titles=["Main title"])
    with db.session() as session:
        version = session.scalars(select(Version).where(Version.story_id == story_id)).one()
        version.headlines = ["Main title", "Social headline about lighthouses"]
    [hit] = find(db, "lighthouses").stories
    assert [headline.text for headline in hit.headlines] == ["Social headline about lighthouses"]


def test_unicode_words_are_found(newsroom: Database):
    assert found_urls(newsroom, "Zürich") == ["https://www.weather.example/storm"]
    assert found_urls(newsroom, "zürich") == ["https://www.weather.example/storm"]


def test_only_the_newest_versions_of_a_story_get_snippets(db: Database):
    insert_story(
        db, "https://long.example/a", [f"Update {n}: rescuers searched." for n in range(8)]
    )
    [hit] = find(db, "rescuers").stories
    assert [version.seq for version in hit.versions] == [8, 7, 6, 5, 4, 3, 2, 1]
    with_snippets = [version.seq for version in hit.versions if version.snippet is not None]
    assert with_snippets == [8, 7, 6][:SNIPPETS_PER_STORY]


# -- what a person may type --------------------------------------------------------------


HOSTILE_QUERIES = [
    '"',
    '""',
    "AND",
    "OR",
    "NOT",
    "*",
    "NEAR(",
    "NEAR(a b",
    "-",
    "-mayor",
    "a:b",
    "^",
    "(",
    ")",
    "'",
    "' OR 1=1 --",
    "!",
    "&",
    "|",
    "<->",
    ":*",
    "mayor*",
    "\\",
    "\u200b",
    "🙂",
    "市長",
    "headlines: mayor",
    "{text}: mayor",
    '"unclosed mayor',
    "x" * 5000,
    "a\x00b",
    "\ue000mayor\ue001",
]


def test_hostile_and_malformed_queries_are_answered_not_crashed(newsroom: Database):
    for typed in HOSTILE_QUERIES:
        results = find(newsroom, typed)
        assert results.total >= len(results.stories), typed


QUERY_PIECES = [
    '"',
    "AND",
    "OR",
    "NOT",
    "NEAR(",
    "*",
    "-",
    "^",
    ":",
    "(",
    ")",
    "'",
    "{",
    "}",
    "+",
    "&",
    "|",
    "!",
    "<->",
    ":*",
    "mayor",
    "city",
    "hall",
    "“",
    "\x00",
    ",",
]


def test_no_typed_query_is_ever_an_error(newsroom: Database):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    typed_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
    typed_pieces = st.lists(st.sampled_from(QUERY_PIECES), max_size=8).map(" ".join)

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(typed=typed_text | typed_pieces)
    def answered(typed: str) -> None:
        results = find(newsroom, typed)
        assert results.total is None or results.total >= len(results.stories)

    answered()


def test_operators_are_words_not_syntax(newsroom: Database):
    # FTS5 would read these as operators; here they are words nobody wrote.
    assert found_urls(newsroom, "mayor NOT") == []
    assert found_urls(newsroom, "mayor OR storm") == []
    # A star is not a prefix search, and a minus not an exclusion: "mayor" is found.
    assert found_urls(newsroom, "mayor*") == ["https://news.example/mayor"]
    assert found_urls(newsroom, "-mayor") == ["https://news.example/mayor"]


def test_a_query_with_no_words_finds_nothing_rather_than_everything(newsroom: Database):
    for typed in ["", "   ", '"', "*", "-", "&|!"]:
        results = find(newsroom, typed)
        assert results.query.is_empty
        assert (results.total, results.stories) == (0, ())


def test_the_query_parser_keeps_words_and_phrases_and_drops_the_rest():
    query = parse_query('Mayor "city  hall" mayor * - NEAR( "unclosed phrase')
    assert query.terms == ("Mayor", "city hall", "NEAR(", "unclosed phrase")
    assert fts5_match(query) == '"Mayor" AND "city hall" AND "NEAR(" AND "unclosed phrase"'
    assert parse_query("“curly quotes” too").terms == ("curly quotes", "too")


# -- filters and pages -------------------------------------------------------------------


def test_filter_by_tag(newsroom: Database):
    assert found_urls(newsroom, "the", tag="weather") == ["https://www.weather.example/storm"]
    assert found_urls(newsroom, "the", tag="nothing-tagged-so") == []


def test_filter_by_site_with_or_without_www(newsroom: Database):
    assert found_urls(newsroom, "the", site="weather.example") == [
        "https://www.weather.example/storm"
    ]
    assert found_urls(newsroom, "the", site="news.example") == ["https://news.example/mayor"]
    with pytest.raises(SearchError):
        find(newsroom, "the", site="%")


def test_pages_cover_every_story_once(newsroom: Database):
    first = find(newsroom, "the", limit=2)
    assert first.total == 3
    assert first.next_offset == 2
    second = find(newsroom, "the", limit=2, offset=first.next_offset or 0)
    assert second.next_offset is None
    urls = [hit.story.url for hit in first.stories + second.stories]
    assert urls == found_urls(newsroom, "the")
    assert len(set(urls)) == 3
    beyond = find(newsroom, "the", limit=2, offset=10)
    assert (beyond.total, beyond.stories, beyond.next_offset) == (3, (), None)


def test_bad_paging_is_a_clear_error(newsroom: Database):
    with pytest.raises(SearchError, match="limit"):
        find(newsroom, "the", limit=0)
    with pytest.raises(SearchError, match="offset"):
        find(newsroom, "the", offset=-1)


# -- the index stays in step with the versions -------------------------------------------


def test_bulk_inserted_versions_are_found(db: Database):
    story_id = insert_story(db, "https://bulk.example/a", [])
    with db.session() as session:
        session.execute(
            insert(Version),
            [
                {
                    "story_id": story_id,
                    "seq": seq,
                    "captured_at": START + timedelta(minutes=seq),
                    "fingerprint": f"{seq:064d}",
                    "title": "Bulk",
                    "headlines": ["Bulk"],
                    "text": f"Bulk text number {seq} mentions aardvarks.",
                }
                for seq in range(1, 4)
            ],
        )
    [hit] = find(db, "aardvarks").stories
    assert [version.seq for version in hit.versions] == [3, 2, 1]


def test_an_edited_version_is_found_by_its_new_words_only(newsroom: Database):
    with newsroom.session() as session:
        session.execute(
            update(Version)
            .where(Version.text.like("%budget for 2027%"))
            .values(
                text="The spending plan was shelved.",
                title="Plan shelved",
                headlines=["Plan shelved"],
            )
        )
    assert found_urls(newsroom, "budget") == []
    assert found_urls(newsroom, "shelved") == ["https://budget.example/2027"]


def test_deleted_versions_and_stories_leave_the_index_consistent(newsroom: Database):
    with newsroom.session() as session:
        story = session.scalars(select(Story).where(Story.url.like("%mayor%"))).one()
        remove_story(session, story)  # the ORM's cascade
        session.execute(delete(Version).where(Version.text.like("%21 people%")))  # bulk
    assert found_urls(newsroom, "mayor") == []
    assert found_urls(newsroom, '"21 people"') == []
    assert found_urls(newsroom, '"12 people"') == ["https://www.weather.example/storm"]
    with newsroom.session() as session:
        # A raw delete through the database's own cascade (no ORM involved at all).
        session.execute(text("DELETE FROM stories WHERE url LIKE '%weather%'"))
    assert found_urls(newsroom, "storm") == []
    assert found_urls(newsroom, "the") == ["https://budget.example/2027"]
    if newsroom.is_sqlite:
        with newsroom.session() as session:
            # FTS5's own check that the index agrees with its content, row for row.
            session.execute(
                text("INSERT INTO versions_fts(versions_fts) VALUES ('integrity-check')")
            )


def test_snippets_mark_what_matched(newsroom: Database):
    [storm] = find(newsroom, '"officials said"').stories
    snippet = storm.versions[0].snippet
    assert snippet is not None and has_match(snippet)
    assert "".join(piece for piece, matched in snippet if matched).replace(" ", "").lower() in (
        "officialssaid",
    )


@pytest.mark.parametrize("batches", [(1,), (2, 3)])
def test_pages_are_the_same_whatever_the_reading_batches(
    newsroom: Database, monkeypatch: pytest.MonkeyPatch, batches: tuple[int, ...]
):
    everything = found_urls(newsroom, "the")
    monkeypatch.setattr("tracker.services.search.SCAN_BATCHES", batches)
    first = find(newsroom, "the", limit=1)
    # Not every match was read to fill one story's page: the total is not known, but there
    # is a next page.
    assert first.total is None
    assert first.next_offset == 1
    urls, offset = [], 0
    while True:
        page = find(newsroom, "the", limit=1, offset=offset)
        urls += [hit.story.url for hit in page.stories]
        if page.next_offset is None:
            break
        offset = page.next_offset
    assert urls == everything
    # The last page read every match: its total is the number of stories.
    assert page.total == 3


def test_vacuum_merges_the_index_and_search_still_finds_everything(newsroom: Database):
    from tracker.services.archive import vacuum

    before = [found_urls(newsroom, typed) for typed in ("the", '"city hall"', "scandal")]
    vacuum(newsroom)
    assert [found_urls(newsroom, typed) for typed in ("the", '"city hall"', "scandal")] == before
    if newsroom.is_sqlite:
        with newsroom.session() as session:
            session.execute(
                text("INSERT INTO versions_fts(versions_fts) VALUES ('integrity-check')")
            )


def test_housekeeping_merges_the_index_a_little_and_search_still_finds_everything(
    newsroom: Database,
):
    from tracker.core.cadence import CadencePolicy
    from tracker.pipeline.housekeeping import run_housekeeping
    from tracker.store.search_index import merge_index_segments

    before = [found_urls(newsroom, typed) for typed in ("the", '"city hall"', "scandal")]
    if newsroom.is_sqlite:
        with newsroom.session() as session:
            segments = session.execute(text("SELECT count(DISTINCT segid) FROM versions_fts_idx"))
            assert segments.scalar() > 1  # one a transaction that wrote versions
    with newsroom.session() as session:
        run_housekeeping(
            session, CadencePolicy(), datetime.now(UTC), check_retention=timedelta(days=30)
        )
        merge_index_segments(session, pages=1)
    assert [found_urls(newsroom, typed) for typed in ("the", '"city hall"', "scandal")] == before
    if newsroom.is_sqlite:
        with newsroom.session() as session:
            segments = session.execute(text("SELECT count(DISTINCT segid) FROM versions_fts_idx"))
            assert segments.scalar() == 1  # three stories' worth of segments, merged
            session.execute(
                text("INSERT INTO versions_fts(versions_fts) VALUES ('integrity-check')")
            )

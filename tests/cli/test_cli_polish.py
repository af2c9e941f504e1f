"""The command line read at a newsroom desk (issue 15): narrow terminals, states in words,
filters that match, times as the rest of the CLI prints them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner, Result
from servers import LocalServer
from sqlalchemy import update

from tracker.cli import main
from tracker.cli._app import stamp
from tracker.cli.stories import fold_url
from tracker.cli.versions import history_lines
from tracker.demo.site import STAGES, render_page
from tracker.store.db import Database
from tracker.store.models import Event, Story, StoryStatus

LONG_PATH = "/news/world/2026/12/04/live-updates-the-developing-story-in-the-city-centre"


@pytest.fixture
def cli(tmp_path: Path, database_url: str):
    env = {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_EXTRACT_PROCESSES": "0",
    }

    def run(*args: str, code: int = 0, columns: int | None = None) -> Result:
        extra = {"COLUMNS": str(columns)} if columns else {}
        result = CliRunner().invoke(main, list(args), env={**env, **extra})
        assert result.exit_code == code, (result.output, result.stderr, result.exception)
        return result

    return run


def story_column(listing: str) -> list[str]:
    """The text of the story column, line by line, from a `tracker list` table."""
    header, *lines = listing.splitlines()
    start = header.index("story")
    return [line[start:].rstrip() for line in lines]


# -- 1. tracker list on a narrow terminal --------------------------------------------------


@pytest.mark.parametrize("columns", [80, 120])
def test_list_folds_a_long_url_at_slashes_within_the_terminal(cli, server: LocalServer, columns):
    url = server.url(LONG_PATH)
    cli("add", url)
    listing = cli("list", columns=columns).stdout
    assert all(len(line) <= columns for line in listing.splitlines()), listing
    url_lines = [line for line in story_column(listing) if line]
    # The lines put together are the URL, and each but the last ends at a path boundary:
    # no line ends in the middle of a word of the slug.
    assert "".join(url_lines) == url
    assert all(line.endswith(("/", "-")) for line in url_lines[:-1]), url_lines
    assert json.loads(cli("list", "--json").stdout)[0]["url"] == url


def test_a_terminal_too_narrow_for_the_table_lists_each_story_as_a_block(cli, server: LocalServer):
    url = server.url(LONG_PATH)
    cli("add", url)
    cli("pause", url)
    lines = cli("list", columns=50).stdout.splitlines()
    assert all(len(line) <= 50 for line in lines), lines
    assert lines[0].split() == ["1", "paused"]
    assert lines[1].strip() == "0 versions · last change — · next check paused"
    url_lines = [line.strip() for line in lines[2:]]
    assert "".join(url_lines) == url
    assert all(line.endswith(("/", "-")) for line in url_lines[:-1]), url_lines


def test_list_shows_a_url_whole_on_a_wide_terminal(cli, server: LocalServer):
    url = server.url(LONG_PATH)
    cli("add", url)
    assert url in cli("list", columns=200).stdout.splitlines()[2]


@pytest.mark.parametrize("width", [10, 24, 33, 80])
def test_a_folded_url_is_the_url_in_lines_that_fit(width: int):
    url = "https://www.example-news.co.uk/news/2026/12/04/police-say-a_very_long_slug?page=2&x=1"
    lines = fold_url(url, width)
    assert "".join(lines) == url
    assert all(len(line) <= width for line in lines)


def test_a_url_is_folded_after_a_slash_before_anywhere_else():
    assert fold_url("https://example.com/news/2026/story-of-the-day", 24) == [
        "https://example.com/",
        "news/2026/",
        "story-of-the-day",
    ]
    # A slug that fits a line of its own goes there whole; one longer than a line is
    # broken between its words.
    assert fold_url("https://example.com/a-slug-of-six-words", 24) == [
        "https://example.com/",
        "a-slug-of-six-words",
    ]
    assert fold_url("https://example.com/the-slug-that-is-longer-than-a-line", 24) == [
        "https://example.com/the-",
        "slug-that-is-longer-",
        "than-a-line",
    ]


# -- 2. the next check of a story that is not checked ----------------------------------------


def test_list_says_paused_retired_and_gone_instead_of_a_next_check(
    cli, db: Database, server: LocalServer
):
    urls = {status: server.url(f"/news/{status}") for status in ("paused", "retired", "gone")}
    active = server.url("/news/active")
    cli("add", active, *urls.values())
    cli("pause", urls["paused"])
    later = datetime.now(UTC) + timedelta(minutes=12, seconds=30)
    with db.session() as session:
        # A time left in the column (as after a pause) must not read as a coming check.
        session.execute(update(Story).values(next_check_at=later))
        for status in (StoryStatus.RETIRED, StoryStatus.GONE):
            session.execute(update(Story).where(Story.url == urls[status]).values(status=status))
    listing = cli("list", columns=200).stdout.splitlines()
    # Each story is two lines: its figures and headline (none yet), then its URL.
    rows = {url.strip(): line for line, url in zip(listing[1::2], listing[2::2], strict=True)}
    assert " in 12m " in rows[active]
    assert rows[urls["paused"]].split()[1:5] == ["paused", "0", "—", "paused"]
    assert "retired (not checked)" in rows[urls["retired"]]
    assert "gone (not checked)" in rows[urls["gone"]]
    for status in ("paused", "retired", "gone"):
        assert " in " not in rows[urls[status]] and "ago" not in rows[urls[status]]


@pytest.fixture
def story(cli, server: LocalServer) -> str:
    """A tracked story with three versions (the demo story's first stages)."""
    url = server.url("/news/story")
    for stage in (0, 1, 2):
        server.set("/news/story", render_page(STAGES[stage], stage))
        if stage == 0:
            cli("add", url)
        cli("check", url)
    return url


# -- 4. tracker history with many kinds -------------------------------------------------------

MANY_KINDS = [
    "headline",
    "paragraphs_added",
    "paragraphs_removed",
    "text_edited",
    "byline",
    "dates",
    "correction",
]


def history_row(seq: int, kinds: list[str], added: int = 120, removed: int = 45) -> dict:
    return {
        "seq": seq,
        "captured_at": f"2026-12-04T14:0{seq}:07.123456+00:00",
        "kinds": kinds,
        "words_added": added,
        "words_removed": removed,
    }


@pytest.mark.parametrize("width", [80, 120])
def test_history_wraps_many_kinds_within_their_column(width: int):
    rows = [
        history_row(1, ["first"], 300, 0),
        history_row(2, MANY_KINDS),
        history_row(3, ["minor"]),
    ]
    lines = history_lines(rows, width)
    assert all(len(line) <= width for line in lines), lines
    # Every version's words stats end its first line, aligned; the kinds of version 2 go on
    # over lines of their own that start under its kinds and hold nothing else.
    firsts = [line for line in lines if line.startswith("  v")]
    assert [line.split()[0] for line in firsts] == ["v1", "v2", "v3"]
    assert len({len(line) for line in firsts}) == 1
    assert firsts[1].endswith("+120/−45 words")
    kinds_start = firsts[1].index("headline")
    continued = lines[lines.index(firsts[1]) + 1 : lines.index(firsts[2])]
    if width == 80:
        assert continued
    for line in continued:
        assert line[:kinds_start].strip() == "" and line[kinds_start] != " "
        assert "words" not in line
    # The kinds are said in words, each whole on one line.
    kinds_text = " ".join(
        [firsts[1][kinds_start:].rsplit("+120", 1)[0].strip()]
        + [line.strip() for line in continued]
    )
    assert kinds_text == (
        "headline, paragraphs added, paragraphs removed, text edited, byline, dates, correction"
    )
    assert "paragraphs_added" not in "\n".join(lines)


def test_history_says_kinds_in_words(cli, story: str):
    listing = cli("history", story, columns=80).stdout
    assert "first version" in listing
    assert "_" not in listing.split(story, 1)[1]
    assert all(len(line) <= 80 for line in listing.splitlines()[2:])


# -- 5. tracker show's times -------------------------------------------------------------------


def test_show_prints_the_capture_time_to_the_second_in_utc(cli, story: str):
    meta = cli("show", story).stdout.splitlines()[1]
    assert re.match(r"version 3 · captured \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC( · |$)", meta), meta
    captured = json.loads(cli("show", story, "--json").stdout)["captured_at"]
    assert stamp(captured) in meta


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-03-01T09:05:09.123456+01:00", "2026-03-01 08:05:09 UTC"),
        ("2026-03-01T08:05:09", "2026-03-01 08:05:09 UTC"),
        (datetime(2026, 3, 1, 8, 5, 9, 999, tzinfo=UTC), "2026-03-01 08:05:09 UTC"),
        ("2026-03-01", "2026-03-01"),
        ("Updated Tuesday morning", "Updated Tuesday morning"),
        (None, "—"),
    ],
)
def test_a_time_reads_in_utc_to_the_second(value, shown: str):
    assert stamp(value) == shown


# -- 3. tracker events URL ---------------------------------------------------------------------


def test_events_of_one_story_as_checks_of_one_story(cli, db: Database):
    first, second = "https://example.com/news/one", "https://example.com/news/two"
    cli("add", first, second)
    at = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
    with db.session() as session:
        ids = {story.url: story.id for story in session.query(Story)}
        session.add_all(
            [
                Event(story_id=ids[first], kind="promise_made", created_at=at, detail="at 3pm"),
                Event(story_id=ids[second], kind="gone", created_at=at + timedelta(minutes=1)),
                Event(
                    story_id=ids[first], kind="promise_overdue", created_at=at + timedelta(hours=1)
                ),
            ]
        )
    everything = json.loads(cli("events", "--json").stdout)
    assert [event["kind"] for event in everything] == ["promise_overdue", "gone", "promise_made"]
    for ref in (first, str(ids[first])):
        mine = json.loads(cli("events", ref, "--json").stdout)
        assert [(event["url"], event["kind"]) for event in mine] == [
            (first, "promise_overdue"),
            (first, "promise_made"),
        ]
    listed = cli("events", second).stdout
    assert "gone" in listed and "promise" not in listed
    assert "is tracked" in cli("events", "99", code=1).stderr
    third = "https://example.com/news/three"
    cli("add", third)
    assert cli("events", third).stderr == "no events for this story yet\n"


# -- 7. tracker diff --format side-by-side -o FILE -----------------------------------------------


def test_a_side_by_side_diff_is_a_standalone_page_written_with_o(cli, story: str, tmp_path: Path):
    target = tmp_path / "diff.html"
    result = cli("diff", story, "1", "3", "--format", "side-by-side", "-o", str(target))
    assert result.stdout == ""
    assert result.stderr == f"wrote {target}\n"
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>\n") and page.rstrip().endswith("</html>")
    document = lxml.html.document_fromstring(page)
    # Its styles are in the file, and nothing in it loads anything from elsewhere.
    [style] = document.xpath("//head/style")
    assert "del {" in style.text and "ins {" in style.text
    assert document.xpath("//link | //script | //img | //iframe | //@src") == []
    assert "default-src 'none'" in document.xpath("//meta[@http-equiv]/@content")[0]
    assert document.xpath("//main//a/@href") == [story]
    assert "version 1" in document.findtext(".//title") and "version 3" in page
    [table] = document.xpath("//table[contains(@class, 'diff')]")
    assert [th.text_content() for th in table.xpath("./thead//th")] == ["Version 1", "Version 3"]
    assert table.xpath(".//del") and table.xpath(".//ins")
    # Printed, it is the same page.
    printed = cli("diff", story, "1", "3", "--format", "side-by-side").stdout
    assert printed == page


def test_o_is_refused_for_the_formats_meant_for_a_terminal_or_a_pipe(cli, story: str, tmp_path):
    result = cli("diff", story, "--format", "unified", "-o", str(tmp_path / "x"), code=1)
    assert result.stderr.startswith("error: -o writes the HTML formats")
    assert not (tmp_path / "x").exists()

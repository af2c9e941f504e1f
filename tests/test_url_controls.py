"""Issue 13, finding 10: control characters in URLs, and what the CLI prints.

A feed item whose link holds a NUL made a story that PostgreSQL cannot store, so every
later poll of that feed failed; an ESC in a URL or title was printed raw by `tracker list`.
Now such URLs are refused everywhere (add, feeds, sitemaps, redirects) - one bad feed item
is reported and skipped, the rest are added - and the CLI escapes control characters in
everything it prints. Runs on SQLite and (with TRACKER_TEST_POSTGRES_URL) PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from servers import LocalServer
from sqlalchemy import select, update
from test_feeds import RSS_TYPE, atom, news_sitemap

from tracker.cli._app import TerminalSafeStream, terminal_safe
from tracker.net.fetcher import FetchOptions, Outcome
from tracker.net.http import HttpFetcher
from tracker.net.urls import has_controls
from tracker.services.feeds import FeedPoller, add_feed
from tracker.services.stories import StoryError, add_stories
from tracker.store.models import Story

NOW = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)

# Control characters as a feed delivers them: XML character references (which the feed
# parser, recovering, turns into the characters) and raw DEL (legal in XML 1.0).
CONTROL_INFIXES = ["&#0;", "&#x1b;]0;owned&#x7;", "&#x1b;[2J", "&#127;", "\x7f", "&#x1;", "&#8;"]
RAW_CONTROLS = [
    "\x00",
    "\x1b]0;owned\x07",
    "\x1b[31m",
    "\x7f",
    "\x9b",
    "\x08",
    "\r",
    "\x0b",
    "\x85",
]


def _rss_raw(*items: tuple[str, str]) -> str:
    body = "".join(f"<item><title>{t}</title><link>{link}</link></item>" for t, link in items)
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>R</title>{body}</channel></rss>'
    )


@pytest.mark.parametrize("infix", CONTROL_INFIXES)
def test_a_feed_item_with_a_control_character_is_skipped_and_the_rest_added(
    db, settings, server, infix
):
    good_a, good_b = server.url("/news/a"), server.url("/news/b")
    bad = server.url("/news/ba") + infix + "d"
    server.set("/rss", _rss_raw(("A", good_a), ("Bad", bad), ("B", good_b)), content_type=RSS_TYPE)
    with db.session() as session:
        add_feed(session, server.url("/rss"), now=NOW)
    for poll in range(2):  # the second poll must not fail on what the first one met
        with FeedPoller(db, settings, clock=lambda p=poll: NOW + timedelta(hours=p)) as poller:
            [report] = poller.poll_due()
        assert report.outcome == "ok", report.error
        if poll == 0:
            assert set(report.added) == {good_a, good_b}
            # Reported: refused by URL vetting, or (its host unreadable) left out as off-site.
            reported = [*report.rejected, getattr(report, "warning", None) or ""]
            assert any("control characters" in r or "skipped" in r for r in reported), report
            assert not any(c in r for r in reported for c in "\x00\x1b\x7f\x01\x08")
        else:
            assert report.added == []
    with db.read_session() as session:
        urls = set(session.scalars(select(Story.url)))
    assert urls == {good_a, good_b}


@pytest.mark.parametrize("raw", RAW_CONTROLS)
def test_atom_and_sitemap_entries_with_control_characters_are_skipped(db, settings, server, raw):
    good = server.url("/news/good")
    # XML 1.0 cannot carry most raw controls: percent-free text after a valid prefix is what
    # a lenient parser may still hand over; whatever it hands over is vetted.
    text = raw.replace("\x00", "&#0;")
    server.set(
        "/atom", atom(good, server.url("/news/x") + text), content_type="application/atom+xml"
    )
    server.set(
        "/news.xml",
        news_sitemap(server.url("/news/y") + text + "z", good),
        content_type="application/xml",
    )
    with db.session() as session:
        add_feed(session, server.url("/atom"), now=NOW)
        add_feed(session, server.url("/news.xml"), now=NOW)
    with FeedPoller(db, settings, clock=lambda: NOW) as poller:
        reports = poller.poll_due()
    with db.read_session() as session:
        urls = list(session.scalars(select(Story.url)))
    assert good in urls
    assert [url for url in urls if has_controls(url)] == []
    assert all(r.outcome in ("ok", "error") for r in reports)


@pytest.mark.parametrize("raw", RAW_CONTROLS)
def test_adding_a_url_with_a_control_character_is_refused(db, raw):
    with db.session() as session, pytest.raises(StoryError, match="control characters") as refused:
        add_stories(session, [f"https://example.com/a{raw}b"], now=NOW)
    assert raw not in str(refused.value)  # the message shows it escaped


@pytest.mark.parametrize("raw", ["\x00", "\x1b[2J", "\x7f", "\x9b"])
def test_a_redirect_to_a_url_with_a_control_character_is_refused(server: LocalServer, raw):
    location = server.url("/moved") + raw
    server.set(
        "/start", "", status=302, headers={"Location": location.encode("utf-8").decode("latin-1")}
    )
    server.set("/moved" + raw, "<html><body><p>moved</p></body></html>")
    with HttpFetcher(FetchOptions(allow_private_networks=True, deadline=3.0)) as fetcher:
        result = fetcher.fetch(server.url("/start"))
    assert result.outcome is Outcome.ERROR
    assert result.error_kind == "bad_url", result.error
    assert raw not in (result.error or "")


# -- what the CLI prints ---------------------------------------------------------------------


def _cli(home: Path, database_url: str):
    from click.testing import CliRunner

    from tracker.cli import main

    env = {
        "TRACKER_HOME": str(home),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_EXTRACT_PROCESSES": "0",
    }

    def run(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return run


HOSTILE = [
    "\x1b]0;owned\x07",  # sets the terminal title
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",  # a hyperlink
    "\x1b[2J\x1b[H",  # clears the screen
    "\x1b[8m",  # hides what follows
    "\x9b31m",  # a one-byte CSI
    "\r overwritten",
    "\u202egnp.exe",  # right-to-left override
    "[link=https://evil.example]x[/link] [/b]",  # rich markup
]


def _unsafe(text: str) -> list[str]:
    return [
        c
        for c in text
        if (ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F or c == "\u202e"
    ]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_tracker_list_and_show_print_control_characters_escaped(tmp_path, database_url, hostile):
    run = _cli(tmp_path / "home", database_url)
    assert run("add", "https://example.com/story").exit_code == 0
    from tracker.config import Settings
    from tracker.store.db import Database

    database = Database(Settings(home=tmp_path / "home", database_url=database_url))
    try:
        with database.session() as session:
            # A title from a page, and a URL stored by an older version without vetting.
            session.execute(
                update(Story).values(
                    title=f"Headline {hostile} end",
                    url=f"https://example.com/story{hostile.replace(chr(0), '')}",
                )
            )
    finally:
        database.dispose()
    for args in (("list",), ("show", "1"), ("list", "--json")):
        result = run(*args)
        # (`show` fails - the story has no versions - and its error quotes the URL.)
        assert result.exit_code == (1 if args[0] == "show" else 0), result.output + result.stderr
        assert _unsafe(result.output + result.stderr) == [], (args, result.output)
        if args == ("list", "--json"):
            [row] = json.loads(result.output)  # still valid JSON, the text intact
            assert row["title"] == f"Headline {hostile} end"
        if args == ("list",):
            assert "Headline" in result.output and "end" in result.output
            if "[link=" in hostile:
                assert "[link=https://evil.example]" in result.output  # shown as written


def test_the_stream_filter_keeps_the_tracker_s_own_colours():
    import io

    raw = io.StringIO()
    stream = TerminalSafeStream(raw)
    stream.write("\x1b[9;31mold\x1b[0m \x1b[4;32mnew\x1b[0m \x1b[1mbold\x1b[0m")
    stream.write("page \x1b[8mhidden\x1b]0;t\x07\x1b[2J")
    assert raw.getvalue() == (
        "\x1b[9;31mold\x1b[0m \x1b[4;32mnew\x1b[0m \x1b[1mbold\x1b[0m"
        "page \\x1b[8mhidden\\x1b]0;t\\x07\\x1b[2J"
    )
    assert terminal_safe("a\tb\nc\x00", one_line=True) == "a\\x09b\\x0ac\\x00"

"""`tracker feed add` follows feeds, not article pages; `tracker feed poll` fails when a poll
does (issue 15). Against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from servers import LocalServer

from tracker.cli import main
from tracker.core.discover import advertised_feeds

RSS_TYPE = "application/rss+xml"


def rss(*links: str) -> str:
    items = "".join(
        f"<item><title>t{i}</title><link>{u}</link></item>" for i, u in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>R</title>{items}</channel></rss>'
    )


def article(*feed_links: str) -> str:
    """An article page whose head advertises `feed_links` (href, type) as feeds."""
    links = "".join(
        f'<link rel="alternate" type="{kind}" href="{href}">' for href, kind in feed_links
    )
    return (
        f"<!DOCTYPE html><html><head><title>Talks</title>{links}</head>"
        "<body><article><h1>Talks</h1><p>The talks began on Tuesday.</p></article></body></html>"
    )


@pytest.fixture
def cli(tmp_path: Path, database_url: str):
    env = {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_EXTRACT_PROCESSES": "0",
    }

    def run(*args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code == code, (result.output, result.stderr, result.exception)
        return result

    return run


def followed(cli) -> list[str]:
    return [feed["url"] for feed in json.loads(cli("feed", "list", "--json").stdout)]


def test_an_article_page_is_refused_with_the_feed_it_advertises(cli, server: LocalServer):
    server.set("/news/talks", article(("/feeds/world.xml", RSS_TYPE)))
    result = cli("feed", "add", server.url("/news/talks"), code=1)
    assert result.stderr == (
        f"error: not following {server.url('/news/talks')}: it is an HTML page, not an "
        f"RSS/Atom feed or a sitemap; it advertises a feed: tracker feed add "
        f"{server.url('/feeds/world.xml')}\n"
    )
    assert followed(cli) == []


def test_a_page_advertising_several_feeds_lists_them_all(cli, server: LocalServer):
    server.set(
        "/",
        article(
            ("/rss", RSS_TYPE),
            ("https://feeds.example.org/atom", "application/atom+xml"),
            ("/comments", "text/html"),  # not a feed
        ),
    )
    result = cli("feed", "add", server.url("/"), code=1)
    assert result.stderr.endswith(
        f"it advertises these feeds: {server.url('/rss')}, https://feeds.example.org/atom\n"
    )


def test_a_page_that_advertises_no_feed_is_refused_with_what_to_do(cli, server: LocalServer):
    server.set("/news/talks", article())
    result = cli("feed", "add", server.url("/news/talks"), code=1)
    assert "it is an HTML page, not an RSS/Atom feed" in result.stderr
    assert result.stderr.endswith(
        "it advertises no feed (to track this page itself: tracker add URL)\n"
    )
    assert followed(cli) == []


def test_a_feed_is_followed_and_one_that_cannot_be_fetched_needs_no_check(cli, server: LocalServer):
    server.set("/feeds/world.xml", rss(server.url("/news/a")), content_type=RSS_TYPE)
    assert cli("feed", "add", server.url("/feeds/world.xml")).stdout == (
        f"following: {server.url('/feeds/world.xml')}\n"
    )
    missing = server.url("/feeds/soon.xml")
    refused = cli("feed", "add", missing, code=1)
    assert refused.stderr.startswith(f"error: not following {missing}: could not fetch it: ")
    assert "404" in refused.stderr and "--no-check" in refused.stderr
    assert cli("feed", "add", missing, "--no-check").stdout == f"following: {missing}\n"
    assert followed(cli) == [server.url("/feeds/world.xml"), missing]
    # Changing a followed feed's options does not fetch it again.
    before = server.count("/feeds/soon.xml")
    assert "updated" in cli("feed", "add", missing, "--tag", "later").stdout
    assert server.count("/feeds/soon.xml") == before


def test_feed_poll_exits_1_with_the_reason_when_a_poll_fails(cli, server: LocalServer):
    server.set("/feeds/a.xml", rss(server.url("/news/a")), content_type=RSS_TYPE)
    server.set("/feeds/b.xml", rss(server.url("/news/b")), content_type=RSS_TYPE)
    cli("feed", "add", server.url("/feeds/a.xml"))
    cli("feed", "add", server.url("/feeds/b.xml"))
    cli("feed", "poll")  # both fine: exit 0

    server.set("/feeds/b.xml", "down for maintenance", status=503, content_type="text/plain")
    result = cli("feed", "poll", code=1)
    assert f"ok           {server.url('/feeds/a.xml')}" in result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: polling {server.url('/feeds/b.xml')} failed: ")
    assert "503" in line
    as_json = cli("feed", "poll", "--json", code=1)
    assert [row["outcome"] for row in json.loads(as_json.stdout)] == ["ok", "error"]
    assert as_json.stderr.startswith(f"error: polling {server.url('/feeds/b.xml')} failed: ")


def test_advertised_feeds_are_absolute_http_urls_once_each_in_page_order():
    page = article(
        ("/rss", RSS_TYPE),
        ("/rss", RSS_TYPE),
        ("atom.xml", "application/atom+xml; charset=utf-8"),
        ("javascript:alert(1)", RSS_TYPE),
        ("/style.css", "text/css"),
    ).encode()
    assert advertised_feeds(page, "https://news.example/world/talks") == [
        "https://news.example/rss",
        "https://news.example/world/atom.xml",
    ]
    assert advertised_feeds(b"", "https://news.example/") == []

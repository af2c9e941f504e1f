"""Discovery, the pure part: canonical URLs, feed and sitemap parsing, filters, OPML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.core.discover import (
    Entry,
    canonicalise_url,
    compile_filter,
    new_entries,
    parse_feed,
    parse_opml,
    tracking_parameters,
)
from tracker.services.stories import normalise_url

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>World news</title>
<item><title>Talks resume</title><link>https://News.example.com/world/talks?utm_source=rss&amp;utm_medium=feed</link>
<pubDate>Tue, 05 Mar 2024 10:30:00 GMT</pubDate></item>
<item><title>Relative link</title><link>/world/relative</link></item>
<item><title>No link at all</title></item>
<item><title>Talks resume (again)</title><link>https://news.example.com/world/talks#comments</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Politics</title>
<entry><title>Budget vote</title><id>tag:example.com,2024:1</id>
<link rel="replies" href="https://news.example.com/politics/budget/comments"/>
<link rel="alternate" href="https://news.example.com/politics/budget"/>
<updated>2024-03-05T09:00:00+01:00</updated></entry>
</feed>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://news.example.com/a</loc>
  <news:news><news:publication><news:name>Example</news:name></news:publication>
   <news:publication_date>2024-03-05T08:15:00Z</news:publication_date>
   <news:title>Storm warning</news:title>
  </news:news></url>
 <url><loc>https://news.example.com/b</loc><lastmod>2024-03-04</lastmod></url>
</urlset>"""

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
 <sitemap><loc>https://news.example.com/sitemap-news.xml</loc></sitemap>
 <sitemap><loc>/sitemap-2.xml</loc></sitemap>
</sitemapindex>"""


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://News.Example.COM/World/Story", "https://news.example.com/World/Story"),
        ("https://example.com/a?utm_source=x&utm_campaign=y", "https://example.com/a"),
        ("https://example.com/a?id=7&fbclid=abc&gclid=def", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1#top", "https://example.com/a?b=2&a=1"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a?UTM_Source=x&page=2", "https://example.com/a?page=2"),
        ("https://example.com/a?q=", "https://example.com/a?q="),
    ],
)
def test_one_article_has_one_url(url: str, canonical: str):
    assert canonicalise_url(url) == canonical
    assert canonicalise_url(canonical) == canonical  # idempotent


def test_extra_tracking_parameters_by_name_and_prefix():
    tracking = tracking_parameters(["src", "pk_*"])
    url = "https://example.com/a?src=home&pk_campaign=x&id=1"
    assert canonicalise_url(url, tracking) == "https://example.com/a?id=1"
    assert canonicalise_url(url) == url  # not stripped by default


def test_stored_story_urls_are_canonical():
    assert (
        normalise_url(" https://Example.com/x?utm_medium=social#frag ") == "https://example.com/x"
    )


def test_rss_entries_resolve_links_drop_linkless_and_duplicates():
    feed = parse_feed(RSS, "https://news.example.com/rss.xml")
    assert feed.kind == "rss"
    assert feed.title == "World news"
    urls = [e.url for e in feed.entries]
    assert urls == [
        "https://News.example.com/world/talks?utm_source=rss&utm_medium=feed",
        "https://news.example.com/world/relative",
    ]
    assert feed.entries[0].title == "Talks resume"
    assert feed.entries[0].published == datetime(2024, 3, 5, 10, 30, tzinfo=UTC)


def test_atom_takes_the_alternate_link_and_converts_time_to_utc():
    feed = parse_feed(ATOM, "https://news.example.com/atom.xml")
    assert feed.kind == "atom"
    [entry] = feed.entries
    assert entry.url == "https://news.example.com/politics/budget"
    assert entry.published == datetime(2024, 3, 5, 8, 0, tzinfo=UTC)


def test_google_news_sitemap_gives_titles_and_publication_dates():
    feed = parse_feed(NEWS_SITEMAP, "https://news.example.com/sitemap-news.xml")
    assert feed.kind == "news-sitemap"
    first, second = feed.entries
    assert (first.url, first.title) == ("https://news.example.com/a", "Storm warning")
    assert first.published == datetime(2024, 3, 5, 8, 15, tzinfo=UTC)
    assert second.published == datetime(2024, 3, 4, tzinfo=UTC)  # from <lastmod>


def test_sitemap_index_lists_sitemaps_not_entries():
    feed = parse_feed(SITEMAP_INDEX, "https://news.example.com/sitemap.xml")
    assert feed.kind == "sitemap-index"
    assert feed.entries == ()
    assert feed.sitemaps == (
        "https://news.example.com/sitemap-news.xml",
        "https://news.example.com/sitemap-2.xml",
    )


def test_junk_is_a_problem_not_an_exception():
    for junk in (b"", b"<html><body>hello</body></html>", b"\x00\x01binary", b"<urlset><url>"):
        feed = parse_feed(junk, "https://example.com/feed")
        assert feed.entries == ()
    assert not parse_feed(b"plain text", "https://example.com/feed").ok


def test_entities_are_not_expanded_in_sitemaps():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://e.com/&lol2;</loc></url></urlset>"""
    feed = parse_feed(bomb, "https://e.com/s.xml")
    assert all("lollol" not in e.url for e in feed.entries)


def test_new_entries_are_canonical_filtered_and_unknown():
    entries = [
        Entry("https://e.com/live/1?utm_source=a"),
        Entry("https://e.com/live/1?utm_source=b"),
        Entry("https://e.com/live/2"),
        Entry("https://e.com/sport/3"),
        Entry("https://e.com/live/4/video"),
    ]
    entry_filter = compile_filter(r"/live/", r"/video$")
    fresh = new_entries(entries, {"https://e.com/live/2"}, entry_filter)
    assert [e.url for e in fresh] == ["https://e.com/live/1"]


def test_bad_patterns_are_reported():
    with pytest.raises(ValueError, match="include pattern"):
        compile_filter("(", None)


def test_opml_feeds_with_categories():
    opml = b"""<?xml version="1.0"?><opml version="2.0"><body>
    <outline text="World"><outline text="A" xmlUrl="https://a.example/rss"/></outline>
    <outline text="B" xmlUrl="https://b.example/atom" category="/politics"/>
    <outline text="no feed here"/></body></opml>"""
    assert parse_opml(opml) == [
        ("https://a.example/rss", "World"),
        ("https://b.example/atom", "politics"),
    ]

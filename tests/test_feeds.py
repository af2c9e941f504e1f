"""Feeds and sitemaps on a real local server, gaining entries over time; duplicate merging.

Runs on SQLite and (with TRACKER_TEST_POSTGRES_URL) PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from servers import LocalServer
from sqlalchemy import select

from tracker.config import Settings
from tracker.pipeline.engine import CheckEngine
from tracker.services.feeds import FeedPoller, add_feed, discovery_job, merge_canonical_duplicates
from tracker.services.stories import StoryError, add_stories
from tracker.store.db import Database
from tracker.store.feed_models import Feed, FeedStory
from tracker.store.models import Story, StoryStatus

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
XML_TYPE = "application/xml"
PUBLISHED = datetime(2024, 3, 5, 10, 30, tzinfo=UTC)


def rss(*items: tuple[str, str]) -> str:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        "<pubDate>Tue, 05 Mar 2024 10:30:00 GMT</pubDate></item>"
        for title, link in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>R</title>{body}</channel></rss>'
    )


def atom(*links: str) -> str:
    entries = "".join(
        f'<entry><title>e{i}</title><id>urn:e{i}</id><link href="{link}"/>'
        "<updated>2024-03-05T11:00:00Z</updated></entry>"
        for i, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>{entries}</feed>'


def news_sitemap(*links: str) -> str:
    urls = "".join(
        f"<url><loc>{link}</loc><news:news><news:publication_date>2024-03-05T12:00:00Z"
        "</news:publication_date><news:title>t</news:title></news:news></url>"
        for link in links
    )
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    )


def story_urls(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(Story.url)))


def story(db: Database, url: str) -> Story:
    with db.session() as session:
        found = session.scalar(select(Story).where(Story.url == url))
        assert found is not None, url
        found.tag_names  # noqa: B018 -- load the tags before the session closes
        return found


def feeds_of(db: Database, url: str) -> set[str]:
    with db.session() as session:
        return set(
            session.scalars(
                select(Feed.url)
                .join(FeedStory, FeedStory.feed_id == Feed.id)
                .join(Story, Story.id == FeedStory.story_id)
                .where(Story.url == url)
            )
        )


def test_feeds_gain_entries_over_time_and_one_article_is_one_story(
    db: Database, settings: Settings, server: LocalServer
):
    a, b, c, d = (server.url(p) for p in ("/a", "/b", "/c", "/d"))
    server.set(
        "/rss",
        rss(("A", f"{a}?utm_source=rss&amp;utm_medium=feed")),
        content_type=RSS_TYPE,
        etag='"r1"',
    )
    server.set("/atom", atom(f"{a}?fbclid=xyz#comments", b), content_type=ATOM_TYPE, etag='"a1"')
    server.set(
        "/news.xml",
        news_sitemap(c, server.url("/video/clip")),
        content_type=XML_TYPE,
    )
    now = datetime.now(UTC)
    with db.session() as session:
        add_feed(session, server.url("/rss"), now=now, tags=["world"])
        add_feed(session, server.url("/atom"), now=now, tags=["politics"])
        add_feed(session, server.url("/news.xml"), now=now, exclude=r"/video/")

    with FeedPoller(db, settings) as poller:
        reports = {r.url.rsplit("/", 1)[1]: r for r in poller.poll_due()}
    assert {name: r.outcome for name, r in reports.items()} == {
        "rss": "ok",
        "atom": "ok",
        "news.xml": "ok",
    }
    assert reports["news.xml"].kind == "news-sitemap"
    # Three articles, whatever tracking parameters and fragments the feeds added.
    assert story_urls(db) == {a, b, c}
    assert feeds_of(db, a) == {server.url("/rss"), server.url("/atom")}
    assert story(db, a).tag_names == ["politics", "world"]
    assert story(db, c).tag_names == []
    # First seen when the feed says it was published.
    assert story(db, a).first_seen_at == PUBLISHED
    assert story(db, c).first_seen_at == datetime(2024, 3, 5, 12, tzinfo=UTC)

    # Nothing is due again until the poll interval has passed.
    with FeedPoller(db, settings) as poller:
        assert poller.poll_due() == []

    # The RSS feed gains an entry; the Atom feed has not changed (304).
    server.set("/rss", rss(("D", d), ("A", a)), content_type=RSS_TYPE, etag='"r2"')
    later = now + timedelta(minutes=16)
    with FeedPoller(db, settings, clock=lambda: later) as poller:
        reports = {r.url.rsplit("/", 1)[1]: r for r in poller.poll_due()}
    assert reports["rss"].added == [d]
    assert reports["atom"].outcome == "not_modified"
    assert server.requests_for("/atom")[-1].headers["if-none-match"] == '"a1"'
    assert reports["news.xml"].added == []
    assert story_urls(db) == {a, b, c, d}
    assert story(db, d).tag_names == ["world"]


def test_a_broken_feed_backs_off_and_reports_why(
    db: Database, settings: Settings, server: LocalServer
):
    server.set("/junk", "<html><body>not a feed</body></html>")
    now = datetime.now(UTC)
    with db.session() as session:
        feed, _ = add_feed(session, server.url("/junk"), now=now)
        feed_id = feed.id
    with FeedPoller(db, settings, clock=lambda: now) as poller:
        [first] = poller.poll_due()
        [second] = poller.poll([feed_id])
    assert first.outcome == second.outcome == "error"
    assert "not an RSS/Atom feed" in (first.error or "")
    with db.session() as session:
        feed = session.get(Feed, feed_id)
        assert feed.consecutive_failures == 2
        assert feed.next_poll_at == now + timedelta(minutes=30)  # 15 min, doubled


def sitemap_index(*links: str) -> str:
    sitemaps = "".join(f"<sitemap><loc>{link}</loc></sitemap>" for link in links)
    return (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{sitemaps}</sitemapindex>"
    )


def test_robots_txt_keeps_feeds_and_sitemaps_it_disallows_unread(
    db: Database, settings: Settings, server: LocalServer
):
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    server.set("/private/rss", rss(("A", server.url("/a"))), content_type=RSS_TYPE)
    server.set("/private/news.xml", news_sitemap(server.url("/b")), content_type=XML_TYPE)
    server.set("/news.xml", news_sitemap(server.url("/c")), content_type=XML_TYPE)
    server.set(
        "/sitemaps.xml",
        sitemap_index(server.url("/private/news.xml"), server.url("/news.xml")),
        content_type=XML_TYPE,
    )
    now = datetime.now(UTC)
    with db.session() as session:
        add_feed(session, server.url("/private/rss"), now=now)
        add_feed(session, server.url("/sitemaps.xml"), now=now)

    with FeedPoller(db, settings, clock=lambda: now) as poller:
        reports = {r.url.rsplit("/", 1)[1]: r for r in poller.poll_due()}

    assert reports["rss"].outcome == "error"
    assert "disallowed by" in (reports["rss"].error or "")
    assert reports["sitemaps.xml"].outcome == "ok"
    assert server.requests_for("/private/rss") == []
    assert server.requests_for("/private/news.xml") == []
    assert story_urls(db) == {server.url("/c")}  # only the allowed child sitemap's entry


def test_feeds_are_read_regardless_of_robots_txt_when_told_to(
    db: Database, settings: Settings, server: LocalServer
):
    server.set("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    server.set("/rss", rss(("A", server.url("/a"))), content_type=RSS_TYPE)
    with db.session() as session:
        add_feed(session, server.url("/rss"), now=datetime.now(UTC))
    ignoring = settings.model_copy(update={"respect_robots_txt": False})
    with FeedPoller(db, ignoring) as poller:
        [report] = poller.poll_due()
    assert report.outcome == "ok"
    assert story_urls(db) == {server.url("/a")}


def test_the_daemon_job_polls_due_feeds(db: Database, settings: Settings, server: LocalServer):
    server.set("/rss", rss(("A", server.url("/a"))), content_type=RSS_TYPE)
    with db.session() as session:
        add_feed(session, server.url("/rss"), now=datetime.now(UTC))
    tick = discovery_job(db, settings)
    tick()
    assert story_urls(db) == {server.url("/a")}


def test_a_feed_gives_its_stories_its_render_mode(
    db: Database, settings: Settings, server: LocalServer
):
    server.set("/rss", rss(("A", server.url("/a"))), content_type=RSS_TYPE)
    server.set("/plain", rss(("B", server.url("/b"))), content_type=RSS_TYPE)
    now = datetime.now(UTC)
    with db.session() as session:
        add_feed(session, server.url("/rss"), now=now, render="browser")
        add_feed(session, server.url("/plain"), now=now)
    with FeedPoller(db, settings, clock=lambda: now) as poller:
        poller.poll_due()
    assert story(db, server.url("/a")).render == "browser"
    assert story(db, server.url("/b")).render is None  # the render setting applies
    with db.session() as session, pytest.raises(StoryError, match="render: choose one of"):
        add_feed(session, server.url("/rss"), now=now, render="javascript")


def page(canonical: str | None, text: str) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(
        f"<p>{text} Sentence number {i} of the report goes here.</p>" for i in range(5)
    )
    return (
        f"<html><head><title>Storm</title>{link}</head>"
        f"<body><article><h1>Storm</h1>{paragraphs}</article></body></html>"
    )


def check_all(db: Database, settings: Settings) -> None:
    with db.session() as session:
        ids = list(session.scalars(select(Story.id).where(Story.status == StoryStatus.ACTIVE)))
    with CheckEngine(db, settings) as engine:
        engine.check_now(ids)


def test_stories_declaring_the_same_canonical_url_are_merged(
    db: Database, settings: Settings, server: LocalServer
):
    main, amp, mobile = server.url("/x"), server.url("/amp/x"), server.url("/m/x")
    server.set("/x", page(main, "The storm reached the coast."))
    server.set("/amp/x", page(main, "The storm reached the coast."))
    # Same article by its canonical link, but the mobile page shows an older text.
    server.set("/m/x", page(main + "?utm_source=m", "The storm is approaching the coast."))
    # The main URL added by hand, the copies found by feeds.
    server.set("/amp.xml", rss(("AMP", amp)), content_type=RSS_TYPE)
    server.set("/mobile.xml", rss(("M", mobile)), content_type=RSS_TYPE)
    now = datetime.now(UTC)
    with db.session() as session:
        add_stories(session, [main], now=now, allow_private_networks=True, tags=["a"])
        add_feed(session, server.url("/amp.xml"), now=now, tags=["b"])
        add_feed(session, server.url("/mobile.xml"), now=now, tags=["c"])
    with FeedPoller(db, settings, clock=lambda: now) as poller:
        poller.poll_due()
    check_all(db, settings)

    with db.session() as session:
        merges = {m.duplicate_url: m for m in merge_canonical_duplicates(session)}
    assert set(merges) == {amp, mobile}
    assert {m.kept_url for m in merges.values()} == {main}
    # Nothing of its own to keep: gone. Versions the kept story lacks: retired, kept.
    assert merges[amp].action == "removed"
    assert merges[mobile].action == "retired"
    assert story_urls(db) == {main, mobile}
    assert story(db, mobile).status == StoryStatus.RETIRED
    assert story(db, mobile).version_count == 1
    assert story(db, main).tag_names == ["a", "b", "c"]
    assert feeds_of(db, main) == {server.url("/amp.xml"), server.url("/mobile.xml")}

    with db.session() as session:  # idempotent
        assert merge_canonical_duplicates(session) == []

    # A URL that a tracked page declared canonical is that story already.
    old, new = server.url("/old"), server.url("/new")
    with db.session() as session:
        [first] = add_stories(session, [old], now=now, allow_private_networks=True)
        session.execute(Story.__table__.update().where(Story.url == old).values(canonical_url=new))
    with db.session() as session:
        [again] = add_stories(
            session, [new + "?utm_campaign=z"], now=now, allow_private_networks=True
        )
    assert not again.created
    assert again.story_id == first.story_id

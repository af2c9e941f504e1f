"""A site speaks for itself only (issue 13, findings 11 and 12), through the real CLI.

- A page's ``<link rel=canonical>`` naming another site's URL never makes the tracked page
  stand in for that URL; a merge of duplicates never removes or retires a story the user
  added by hand.
- A feed adds entries on its own site only (unless ``--any-site``), at most
  ``feed_max_new_per_poll`` new stories a poll (the rest on later polls, reported) and
  ``feed_max_stories`` active ones, with their first checks spread out.

Runs on SQLite and (with TRACKER_TEST_POSTGRES_URL) PostgreSQL. The second site is a server
on 127.0.0.2; names such as victim.example are never fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import cli_runner
from servers import LocalServer
from sqlalchemy import select

from tracker.config import Settings
from tracker.core.discover import canonical_within_site, same_site, site_of
from tracker.store.db import Database
from tracker.store.models import Story, StoryStatus

XML_TYPE = "application/xml"
RSS_TYPE = "application/rss+xml"


@pytest.fixture
def cli(tmp_path: Path, database_url: str):
    return cli_runner(tmp_path / "home", database_url)


@pytest.fixture
def other_site() -> Iterator[LocalServer]:
    """A second site: another loopback address."""
    with LocalServer(host="127.0.0.2") as local:
        yield local


def page(canonical: str | None, text: str) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(f"<p>{text} Sentence {i} of the report goes here.</p>" for i in range(5))
    return (
        f"<html><head><title>Report</title>{link}</head>"
        f"<body><article><h1>Report</h1>{paragraphs}</article></body></html>"
    )


def sitemap(*links: str, dated: bool = True) -> str:
    start = datetime(2024, 3, 5, tzinfo=UTC)
    urls = "".join(
        f"<url><loc>{link}</loc>"
        + (f"<lastmod>{(start + timedelta(minutes=i)).isoformat()}</lastmod>" if dated else "")
        + "</url>"
        for i, link in enumerate(links)
    )
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}</urlset>"
    )


def rss(*links: str) -> str:
    items = "".join(
        f"<item><title>t{i}</title><link>{u}</link></item>" for i, u in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>R</title>{items}</channel></rss>'
    )


def stories(db: Database) -> dict[str, Story]:
    with db.session() as session:
        return {s.url: s for s in session.scalars(select(Story))}


def run_json(cli, *args: str):
    return json.loads(cli(*args, "--json").stdout)


# -- the rule itself -------------------------------------------------------------------------

PAGE = "https://news.example.co.uk/2024/story"


@pytest.mark.parametrize(
    "canonical",
    [
        "https://www.example.co.uk/2024/story",  # another host of the same site
        "https://example.co.uk/story",
        "https://NEWS.Example.CO.UK./2024/story?utm_source=x",  # spelling only
        "https://news.example.co.uk:443/2024/story",  # the default port, written out
    ],
)
def test_a_canonical_link_on_the_same_site_is_honoured(canonical: str):
    assert canonical_within_site(PAGE, canonical) is not None


@pytest.mark.parametrize(
    "canonical",
    [
        "https://victim.example/2024/story",  # another registrable domain
        "https://example.com/2024/story",
        "https://co.uk/2024/story",  # the public suffix itself
        "https://news.example.co.uk.evil.example/x",  # the site's name as a prefix
        "https://evilexample.co.uk/x",
        "http://news.example.co.uk/2024/story",  # https -> http downgrade
        "https://news.example.co.uk:8443/2024/story",  # another port
        "https://93.184.216.34/2024/story",  # an IP literal for a name
        "https://[2606:2800:220:1::]/x",
        "https://news.example.co.uk@victim.example/x",  # userinfo tricks
        "https://victim.example@news.example.co.uk/x",
        "https://news.example.co.uk\\@victim.example/x",  # parser differential
        "https://news.example.co.uk%40victim.example/x",
        "https://ex\u0430mple.co.uk/x",  # Cyrillic a: a lookalike (IDNA)
        "https://xn--exmple-4nf.co.uk/x",
        "https://ex\u00e4mple.co.uk/x",
        "https://2130706433/x",  # numeric IPv4 spellings
        "https://0x7f.1/x",
        "javascript:alert(1)",
        "ftp://news.example.co.uk/x",
        "https:///x",
        "https://news.example.co.uk:99999/x",
        "https://news.exa mple.co.uk/x",
    ],
)
def test_a_canonical_link_on_another_site_is_ignored(canonical: str):
    assert canonical_within_site(PAGE, canonical) is None


def test_sites_of_hosted_platforms_are_their_users_and_ip_addresses_stand_alone():
    # Private suffixes of the Public Suffix List: each user's pages are their own site.
    assert not same_site("https://alice.github.io/a", "https://bob.github.io/b")
    assert not same_site("https://alice.blogspot.com/a", "https://bob.blogspot.com/b")
    assert same_site("https://alice.github.io/a", "https://alice.github.io/b")
    assert same_site("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/b")
    assert same_site("http://[::1]:8000/a", "http://[0:0::1]:8000/b")
    assert not same_site("http://127.0.0.1:8000/a", "http://127.0.0.2:8000/a")
    assert not same_site("http://127.0.0.1:8000/a", "http://localhost:8000/a")
    assert not same_site("http://localhost/a", "http://otherhost/a")
    # Plain http upgraded to https is the same site; the way back is not.
    assert same_site("http://example.com/a", "https://www.example.com/a")
    assert not same_site("https://example.com/a", "http://www.example.com/a")
    assert site_of("https://b\u00fccher.example/x") == site_of("https://xn--bcher-kva.example/y")


# -- finding 11: a canonical link cannot hijack another site's story --------------------------


@pytest.mark.parametrize(
    "victim_kind", ["other address", "other port", "name for the address", "a name"]
)
def test_a_page_cannot_stand_in_for_another_sites_url(
    cli, server: LocalServer, other_site: LocalServer, victim_kind: str
):
    with LocalServer() as same_host_other_port:
        victim = {
            "other address": other_site.url("/news/real"),
            "other port": same_host_other_port.url("/news/real"),
            "name for the address": f"http://localhost:{server.port}/news/real",
            "a name": "https://victim.example/news/real",
        }[victim_kind]
        attacker = server.url("/evil")
        server.set("/evil", page(victim, "The attacker's version of events."))
        cli("add", attacker)
        cli("check", attacker)

        # The real URL is a story of its own: not "already tracked" as the attacker's page.
        assert cli("add", victim).stdout.strip() == f"added: {victim}"
        [row] = [r for r in run_json(cli, "list") if r["url"] == victim]
        assert row["url"] == victim
        shown = cli("show", victim, ok=False)
        assert "attacker" not in shown.stdout  # not the attacker's page standing in
        assert "no story" not in shown.stdout + shown.stderr


def test_a_page_on_the_same_site_still_names_its_canonical_story(cli, server: LocalServer):
    mobile, main = server.url("/m/report"), server.url("/report")
    server.set("/m/report", page(main + "?utm_source=m", "The mobile copy of the report."))
    cli("add", mobile)
    cli("check", mobile)
    assert cli("add", main).stdout.strip() == f"already tracked: {main}"
    # ...and that URL finds it, as adding it said.
    assert "mobile copy" in cli("show", main).stdout


def test_a_merge_never_retires_a_story_added_by_hand(
    cli, db: Database, server: LocalServer, other_site: LocalServer
):
    # The user follows a story on the other site; its page names its canonical URL.
    real = other_site.url("/news/real")
    canonical = other_site.url("/news/canonical")
    other_site.set("/news/real", page(canonical, "What really happened."))
    cli("add", real)
    cli("check", real)
    # A feed brings in an attacker's page claiming the same canonical URL, with more versions.
    server.set("/feed.xml", rss(server.url("/evil")), content_type=RSS_TYPE)
    server.set_versions(
        "/evil", [page(canonical, f"Edit number {n} of a fake report.") for n in range(3)]
    )
    cli("feed", "add", server.url("/feed.xml"))
    cli("feed", "poll")
    for _ in range(3):
        cli("check", server.url("/evil"))
    cli("feed", "poll")  # merges

    found = stories(db)
    assert found[real].status == StoryStatus.ACTIVE
    assert found[real].canonical_url == canonical
    assert found[server.url("/evil")].canonical_url is None  # another site's: not recorded
    assert "What really happened" in cli("show", real).stdout


def test_feed_duplicates_merge_into_the_story_added_by_hand_and_hand_added_ones_stay(
    cli, db: Database, server: LocalServer
):
    main, amp, copy = server.url("/x"), server.url("/amp/x"), server.url("/copy/x")
    canonical = server.url("/canonical/x")  # tracked by nobody
    server.set("/x", page(canonical, "The storm reached the coast."))
    server.set("/amp/x", page(canonical, "The storm reached the coast."))
    server.set("/copy/x", page(canonical, "The storm reached the coast, an earlier text."))
    cli("add", main)
    cli("add", copy)  # by hand too
    server.set("/feed.xml", rss(amp), content_type=RSS_TYPE)
    cli("feed", "add", server.url("/feed.xml"))
    cli("feed", "poll")
    cli("check", "--all")
    merged = cli("feed", "poll").stdout
    assert f"merged: {amp} is {main} (removed)" in merged
    found = stories(db)
    assert set(found) == {main, copy}
    assert found[copy].status == StoryStatus.ACTIVE


def test_a_story_a_feed_added_becomes_the_users_when_the_user_adds_it(
    cli, db: Database, server: LocalServer
):
    main, amp = server.url("/y"), server.url("/amp/y")
    server.set("/amp/y", page(server.url("/canonical/y"), "Text."))
    server.set("/y", page(server.url("/canonical/y"), "Text, the longer one."))
    server.set("/feed.xml", rss(amp), content_type=RSS_TYPE)
    cli("feed", "add", server.url("/feed.xml"))
    cli("feed", "poll")
    assert cli("add", amp).stdout.strip() == f"already tracked: {amp}"
    cli("add", main)
    cli("check", "--all")
    cli("feed", "poll")  # amp is the user's now: not merged into main
    assert {s.status for s in stories(db).values()} == {StoryStatus.ACTIVE}
    assert set(stories(db)) == {main, amp}


# -- finding 12: one feed cannot flood the installation ----------------------------------------


def test_a_huge_sitemap_adds_its_newest_entries_a_poll_at_a_time(
    cli, db: Database, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TRACKER_FEED_MAX_NEW_PER_POLL", "40")
    links = [server.url(f"/news/{i}") for i in range(100)]
    server.set("/sitemap.xml", sitemap(*links), content_type=XML_TYPE, etag='"s1"')
    cli("feed", "add", server.url("/sitemap.xml"))

    [first] = run_json(cli, "feed", "poll")
    assert len(first["added"]) == 40
    assert first["held_back"] == 60
    assert "60 new entries held back" in first["warning"]
    # Newest first (the sitemap's last entries are its newest).
    assert set(first["added"]) == set(links[60:])
    assert "60 new entries held back" in cli("feed", "list").stdout

    # The first checks are spread out, not all due at one instant.
    due = sorted(s.next_check_at for s in stories(db).values())
    assert len(set(due)) == 40
    assert due[-1] - due[0] >= timedelta(minutes=4)
    assert due[-1] - due[0] <= timedelta(minutes=5)

    # The rest come on the next polls, although the sitemap has not changed (same ETag).
    [second] = run_json(cli, "feed", "poll")
    assert second["outcome"] == "ok" and len(second["added"]) == 40
    [third] = run_json(cli, "feed", "poll")
    assert len(third["added"]) == 20 and third["held_back"] == 0
    assert third["warning"] is None
    assert set(stories(db)) == set(links)
    [fourth] = run_json(cli, "feed", "poll")
    assert fourth["outcome"] == "not_modified"
    [row] = run_json(cli, "feed", "list")
    assert row["last_warning"] is None and row["stories_added"] == 100


def test_a_feed_stops_adding_at_its_limit_of_active_stories(
    cli, db: Database, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TRACKER_FEED_MAX_NEW_PER_POLL", "10")
    monkeypatch.setenv("TRACKER_FEED_MAX_STORIES", "15")
    links = [server.url(f"/a/{i}") for i in range(30)]
    server.set("/rss", rss(*links), content_type=RSS_TYPE)
    cli("feed", "add", server.url("/rss"))
    assert len(run_json(cli, "feed", "poll")[0]["added"]) == 10
    [second] = run_json(cli, "feed", "poll")
    assert len(second["added"]) == 5
    assert "feed_max_stories 15" in second["warning"]
    [third] = run_json(cli, "feed", "poll")
    assert third["added"] == [] and third["held_back"] == 15
    assert len(stories(db)) == 15
    # A story no longer followed makes room for one more.
    some = next(iter(stories(db)))
    cli("pause", some)
    assert len(run_json(cli, "feed", "poll")[0]["added"]) == 1


@pytest.mark.parametrize("kind", ["sitemap", "rss"])
def test_a_feed_adds_entries_on_its_own_site_only_unless_told_otherwise(
    cli, db: Database, server: LocalServer, other_site: LocalServer, kind: str
):
    own = [server.url("/own/1"), server.url("/own/2")]
    foreign = [
        other_site.url("/victim/1"),  # another address
        f"http://localhost:{server.port}/victim/2",  # a name for the same address
        "https://victim.example/victim/3",  # another domain
        f"http://127.0.0.1:{other_site.port}/victim/4",  # another port
        f"http://127.0.0.1:{server.port}@127.0.0.2:{other_site.port}/victim/5",  # userinfo
    ]
    body = sitemap(*own, *foreign) if kind == "sitemap" else rss(*own, *foreign)
    server.set("/feed", body, content_type=XML_TYPE if kind == "sitemap" else RSS_TYPE)
    cli("feed", "add", server.url("/feed"))
    [report] = run_json(cli, "feed", "poll")
    assert set(stories(db)) == set(own)
    assert report["off_site"] == len(foreign)
    assert "--any-site" in report["warning"]
    assert "entries on other sites skipped" in cli("feed", "list").stdout

    # Allowed: the other sites' entries come in (the names that never resolve too).
    assert "updated" in cli("feed", "add", server.url("/feed"), "--any-site").stdout
    [report] = run_json(cli, "feed", "poll")
    assert report["off_site"] == 0
    assert other_site.url("/victim/1") in stories(db)
    assert run_json(cli, "feed", "list")[0]["any_site"] is True


def test_a_sitemap_index_reads_child_sitemaps_on_its_own_site_only(
    cli, db: Database, server: LocalServer, other_site: LocalServer
):
    other_site.set("/child.xml", sitemap(other_site.url("/x")), content_type=XML_TYPE)
    server.set("/child.xml", sitemap(server.url("/y")), content_type=XML_TYPE)
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{other_site.url('/child.xml')}</loc></sitemap>"
        f"<sitemap><loc>{server.url('/child.xml')}</loc></sitemap></sitemapindex>"
    )
    server.set("/index.xml", index, content_type=XML_TYPE)
    cli("feed", "add", server.url("/index.xml"))
    cli("feed", "poll")
    assert set(stories(db)) == {server.url("/y")}
    assert other_site.requests_for("/child.xml") == []


def test_the_caps_have_sensible_defaults():
    fields = Settings.model_fields
    assert fields["feed_max_new_per_poll"].default == 100
    assert fields["feed_max_stories"].default == 5000
    assert fields["feed_new_stories_spread"].default == "5m"

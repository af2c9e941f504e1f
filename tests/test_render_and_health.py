"""Never silently wrong: render modes and extraction health through real checks.

A story whose page is an app shell is rendered in a real headless Chromium when its render mode
is "auto" (and the check says why); a story whose stored text is not the article is flagged
suspect on its version, on the story, in the CLI, the web page, the API and /metrics, with one
event and one alert saying what to do - once per story, not on every check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_support import WebhookReceiver
from conftest import cli_runner, make_settings
from servers import LocalServer
from sqlalchemy import select
from test_browser_fetcher import CHROMIUM, needs_chromium
from test_web_support import make_client

from tracker.core.health import Health, Reason
from tracker.notify.payload import DEFAULT_EVENTS
from tracker.pipeline import render
from tracker.pipeline.engine import CheckEngine
from tracker.pipeline.outbox import DeliveryRunner
from tracker.services.stories import add_stories
from tracker.store.alert_models import Delivery
from tracker.store.channels import add_channel
from tracker.store.db import Database
from tracker.store.models import Check, Event, EventKind, Story, Version

NAV = (
    '<header><nav><a href="/">Home</a> <a href="/world">World</a> '
    '<a href="/politics">Politics</a></nav></header>'
)

# The article exists only once a script has run: no data the tracker could read in the HTML.
CLIENT_RENDERED = f"""<!DOCTYPE html>
<html><head><title>Storm reaches the coast | Daily</title></head>
<body>{NAV}<div id="root"></div>
<noscript>You need to enable JavaScript to run this app.</noscript>
<script>
const paragraphs = PARAGRAPHS;
document.getElementById("root").innerHTML = "<article><h1>Storm reaches the coast</h1>" +
  paragraphs.map((text) => "<p>" + text + "</p>").join("") + "</article>";
</script></body></html>"""

PARAGRAPHS = [
    "The storm reached the northern coast early on Tuesday, bringing winds of up to 120 km/h "
    "and heavy rain to towns that had been evacuated overnight.",
    "Emergency services said 14 people had been taken to hospital with minor injuries, and "
    "that power had been cut to about 30,000 homes across the region.",
    "Officials will give a press conference later today; check back for an update.",
]

LONG_ARTICLE = "".join(
    f"<p>Paragraph {n} of the council report says the budget for road repairs will rise "
    f"by {n} percent next year, after a long debate among members of the finance committee.</p>"
    for n in range(1, 9)
)


def client_rendered(paragraphs: list[str]) -> str:
    return CLIENT_RENDERED.replace("PARAGRAPHS", json.dumps(paragraphs))


def article_page(title: str, body: str, chrome: int = 0) -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{NAV}"
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        f"<aside><h2>Most read</h2><ul><li><a href='/a{chrome}'>Other story {chrome}</a></li>"
        "</ul></aside></body></html>"
    )


class Tracker:
    """A database, a check engine and a delivery runner on `server`'s stories."""

    def __init__(self, tmp_path: Path, database_url: str, **settings: object) -> None:
        self.settings = make_settings(tmp_path / "home", database_url, **settings)
        self.db = Database(self.settings)
        self.engine = CheckEngine(self.db, self.settings)
        self.runner = DeliveryRunner(self.db, self.settings, worker="test")

    def add(self, url: str, *, render_mode: str | None = None) -> int:
        from datetime import UTC, datetime

        with self.db.session() as session:
            [result] = add_stories(
                session,
                [url],
                now=datetime.now(UTC),
                allow_private_networks=True,
                render=render_mode,
            )
            return result.story_id

    def check(self, story_id: int):
        [report] = self.engine.check_now([story_id])
        return report

    def story(self, story_id: int) -> Story:
        with self.db.session() as session:
            story = session.get(Story, story_id)
            assert story is not None
            session.expunge(story)
            return story

    def versions(self, story_id: int) -> list[Version]:
        with self.db.session() as session:
            rows = list(
                session.scalars(
                    select(Version).where(Version.story_id == story_id).order_by(Version.seq)
                )
            )
            session.expunge_all()
            return rows

    def checks(self, story_id: int) -> list[Check]:
        with self.db.session() as session:
            rows = list(
                session.scalars(select(Check).where(Check.story_id == story_id).order_by(Check.id))
            )
            session.expunge_all()
            return rows

    def events(self, story_id: int) -> list[str]:
        with self.db.session() as session:
            return [
                str(kind)
                for kind in session.scalars(
                    select(Event.kind).where(Event.story_id == story_id).order_by(Event.id)
                )
            ]

    def close(self) -> None:
        self.runner.close()
        self.engine.close()
        self.db.dispose()


@pytest.fixture
def tracker(tmp_path: Path, database_url: str) -> Iterator[Tracker]:
    rig = Tracker(tmp_path, database_url, browser_executable=str(CHROMIUM))
    yield rig
    rig.close()


# -- the decision, as a table ---------------------------------------------------------------

SHELL = Health("suspect", (Reason("app-shell", "an app shell"),), "use a browser")
THIN = Health("suspect", (Reason("few-words", "a handful"),), "use a selector")


@pytest.mark.parametrize(
    ("mode", "last_fetcher", "fetcher", "may_escalate"),
    [
        ("http", None, "http", False),
        ("http", "browser", "http", False),
        ("browser", None, "browser", False),
        ("auto", None, "http", True),
        ("auto", "http", "http", True),
        ("auto", "browser", "browser", False),  # it needed the browser: straight to it
    ],
)
def test_the_render_mode_picks_the_first_fetcher(mode, last_fetcher, fetcher, may_escalate):
    plan = render.plan_fetch(mode, last_fetcher)
    assert (plan.fetcher, plan.may_escalate) == (fetcher, may_escalate)


def test_only_a_shell_read_from_its_markup_escalates_to_the_browser():
    auto = render.plan_fetch("auto", None)
    reason = render.escalation(auto, "html", SHELL)
    assert reason is not None and "an app shell" in reason
    assert render.escalation(auto, "next-data", SHELL) is None  # the data is the article
    assert render.escalation(auto, "html", THIN) is None  # a selector, not a browser, helps
    assert render.escalation(auto, "html", Health("ok")) is None
    assert render.escalation(render.plan_fetch("http", None), "html", SHELL) is None


# -- auto: a client-rendered page is rendered, and says why ----------------------------------


@needs_chromium
def test_auto_renders_an_app_shell_in_the_browser_and_then_goes_straight_to_it(
    tracker: Tracker, server: LocalServer
):
    server.set("/storm", client_rendered(PARAGRAPHS[:2]))
    story_id = tracker.add(server.url("/storm"))

    first = tracker.check(story_id)
    assert first.outcome == "changed", first.error
    assert first.fetcher == "browser"
    assert "app shell" in first.render_reason
    assert first.extraction_health == "ok"
    [version] = tracker.versions(story_id)
    assert version.fetcher == "browser" and version.text_source == "html"
    assert version.health == "ok" and version.health_reasons == []
    assert "14 people had been taken to hospital" in version.text
    assert "Home World Politics" not in version.text
    story = tracker.story(story_id)
    assert (story.last_fetcher, story.extraction_health) == ("browser", "ok")
    assert story.etag is None and story.last_modified is None  # a rendering has no validators

    # The next check goes to the browser at once: the shell alone never changes.
    server.set("/storm", client_rendered(PARAGRAPHS))
    second = tracker.check(story_id)
    assert second.outcome == "changed"
    assert second.fetcher == "browser"
    assert second.render_reason == "render auto: the latest version needed the browser"
    assert "check back for an update" in tracker.versions(story_id)[-1].text
    assert [c.fetcher for c in tracker.checks(story_id)] == ["browser", "browser"]
    assert "extraction_suspect" not in tracker.events(story_id)


def test_without_a_browser_an_app_shell_is_stored_as_suspect_with_the_reason(
    tmp_path: Path, database_url: str, server: LocalServer
):
    rig = Tracker(tmp_path, database_url, browser_executable=str(tmp_path / "no-chromium"))
    try:
        server.set("/storm", client_rendered(PARAGRAPHS))
        story_id = rig.add(server.url("/storm"))
        report = rig.check(story_id)
        # The plain page is kept, flagged, and the check says the browser failed and why.
        assert report.fetcher == "http"
        assert "the browser failed" in report.render_reason
        assert "no-chromium" in report.render_reason
        assert report.extraction_health == "suspect"
        assert "extraction_suspect" in report.events
    finally:
        rig.close()


def test_render_browser_without_chromium_is_a_clear_error_not_a_crash(
    tmp_path: Path, database_url: str, server: LocalServer
):
    rig = Tracker(tmp_path, database_url, browser_executable=str(tmp_path / "no-chromium"))
    try:
        server.set("/story", article_page("Talks resume", LONG_ARTICLE))
        story_id = rig.add(server.url("/story"), render_mode="browser")
        report = rig.check(story_id)
        assert report.outcome == "error"
        assert report.fetcher == "browser"
        assert "no-chromium" in report.error
        assert server.count("/story") == 0  # never fetched some other way behind its back
    finally:
        rig.close()


# -- suspect extractions: flagged, told once ----------------------------------------------------


def test_a_suspect_extraction_is_flagged_and_alerted_once_per_story(
    tmp_path: Path, database_url: str, server: LocalServer
):
    rig = Tracker(tmp_path, database_url)
    receiver = WebhookReceiver(server)
    try:
        from datetime import UTC, datetime

        with rig.db.session() as session:
            add_channel(
                session,
                name="hook",
                kind="webhook",
                target=receiver.url,
                now=datetime.now(UTC),
                events=DEFAULT_EVENTS,
                min_kind="text_edited",
            )
        server.set("/storm", client_rendered(PARAGRAPHS))
        story_id = rig.add(server.url("/storm"), render_mode="http")

        report = rig.check(story_id)
        assert report.outcome == "changed"  # the nav is stored: the user must be told
        assert report.events == ["extraction_suspect"]
        [version] = rig.versions(story_id)
        assert version.text == "Home World Politics"
        assert version.health == "suspect"
        codes = [reason["code"] for reason in version.health_reasons]
        assert {"mostly-links", "app-shell", "javascript-required"} <= set(codes)

        # Later checks of the same shell say nothing new.
        for _ in range(2):
            assert rig.check(story_id).events == []
        assert rig.events(story_id) == ["extraction_suspect"]
        assert rig.story(story_id).extraction_health == "suspect"

        assert rig.runner.tick().sent == 1
        [request] = receiver.requests
        payload = json.loads(request.body)
        assert payload["type"] == "story.extraction_suspect"
        detail = payload["data"]["detail"]
        assert "app shell" in detail
        assert "--render browser" in detail  # what to do about it
    finally:
        rig.close()


def test_the_same_short_text_as_another_story_of_the_site_is_suspect(
    tracker: Tracker, server: LocalServer
):
    teaser = (
        "<p>Subscribe to read this story. Already a subscriber? Sign in to continue reading "
        "our award-winning journalism today.</p>"
    )
    server.set("/one", article_page("First story", teaser))
    server.set("/two", article_page("Second story", teaser))
    first = tracker.add(server.url("/one"), render_mode="http")
    second = tracker.add(server.url("/two"), render_mode="http")
    assert tracker.check(first).extraction_health == "ok"  # nothing to compare with yet
    report = tracker.check(second)
    assert report.extraction_health == "suspect"
    [version] = tracker.versions(second)
    [reason] = version.health_reasons
    assert reason["code"] == "same-as-other-stories"
    assert server.url("/one") in reason["message"]


def test_a_long_article_that_collapses_after_a_redesign_is_reported(
    tracker: Tracker, server: LocalServer
):
    server.set("/council", article_page("Council budget", LONG_ARTICLE))
    story_id = tracker.add(server.url("/council"), render_mode="http")
    assert tracker.check(story_id).extraction_health == "ok"

    # The redesign moves the body out of the article; what is left is a standfirst.
    redesign = article_page(
        "Council budget",
        "<p>The council met on Monday to discuss the budget for road repairs next year.</p>",
    )
    server.set("/council", redesign)
    report = tracker.check(story_id)
    assert report.outcome == "changed"
    assert report.events == ["extraction_suspect"]
    codes = [reason["code"] for reason in tracker.versions(story_id)[-1].health_reasons]
    assert codes == ["collapse"]

    # The site fixes it: the story is healthy again, without another alert.
    server.set("/council", article_page("Council budget", LONG_ARTICLE))
    report = tracker.check(story_id)
    assert (report.extraction_health, report.events) == ("ok", [])


def test_a_suspect_story_shows_in_the_cli_the_web_page_the_api_and_metrics(
    tmp_path: Path, database_url: str, server: LocalServer
):
    cli = cli_runner(tmp_path / "home", database_url)
    server.set("/storm", client_rendered(PARAGRAPHS))
    url = server.url("/storm")
    cli("add", url, "--render", "http")
    cli("check", url)

    listing = cli("list").stdout
    assert "suspect text" in listing
    shown = cli("show", url).stdout
    assert "Suspect extraction" in shown
    assert "tracker set URL --render browser" in shown
    [row] = json.loads(cli("list", "--json").stdout)
    assert row["extraction_health"] == "suspect"

    settings = make_settings(tmp_path / "home", database_url)
    db = Database(settings)
    with make_client(db, settings) as client:
        page = client.get(f"/stories/{row['id']}")
        assert page.status_code == 200
        assert 'id="suspect-extraction"' in page.text
        assert "app shell" in page.text
        assert "suspect text" in client.get("/").text
        story = client.get(f"/api/v1/stories/{row['id']}").json()
        assert story["extraction_health"] == "suspect"
        versions = client.get(f"/api/v1/stories/{row['id']}/versions").json()["items"]
        assert versions[0]["health"] == "suspect"
        assert versions[0]["fetcher"] == "http"
        assert {r["code"] for r in versions[0]["health_reasons"]} >= {"app-shell"}
        metrics = client.get("/metrics").text
        assert "tracker_suspect_extractions 1.0" in metrics
    db.dispose()


def test_deliveries_table_is_untouched_by_healthy_first_versions(
    tracker: Tracker, server: LocalServer
):
    """A healthy story makes no extraction event at all (and so no alert)."""
    server.set("/council", article_page("Council budget", LONG_ARTICLE))
    story_id = tracker.add(server.url("/council"), render_mode="http")
    report = tracker.check(story_id)
    assert (report.extraction_health, report.events) == ("ok", [])
    with tracker.db.session() as session:
        assert session.scalars(select(Delivery)).all() == []
    assert EventKind.EXTRACTION_SUSPECT not in tracker.events(story_id)


# -- screenshots: evidence of what the browser showed -----------------------------------------


@needs_chromium
def test_a_rendered_version_keeps_a_screenshot_as_evidence_when_asked(
    tmp_path: Path, database_url: str, server: LocalServer
):
    from datetime import UTC, datetime, timedelta

    from tracker.store.captures import load_body, prune_captures

    rig = Tracker(
        tmp_path, database_url, browser_executable=str(CHROMIUM), browser_screenshots=True
    )
    try:
        server.set("/storm", client_rendered(PARAGRAPHS[:2]))
        story_id = rig.add(server.url("/storm"), render_mode="browser")
        assert rig.check(story_id).outcome == "changed"
        server.set("/storm", client_rendered(PARAGRAPHS))
        assert rig.check(story_id).outcome == "changed"
        first, second = rig.versions(story_id)
        assert first.screenshot_sha256 and second.screenshot_sha256
        assert first.screenshot_sha256 != second.screenshot_sha256  # the page looked different
        with rig.db.session() as session:
            png = load_body(session, second.screenshot_sha256)
        assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")

        with make_client(rig.db, rig.settings) as client:
            shot = client.get(f"/stories/{story_id}/versions/2/screenshot.png")
            assert shot.status_code == 200
            assert shot.headers["content-type"] == "image/png"
            assert shot.content == png
            assert "screenshot.png" in client.get(f"/stories/{story_id}/versions/2").text
            [api] = client.get(f"/api/v1/stories/{story_id}/versions").json()["items"][:1]
            assert api["screenshot_sha256"] == second.screenshot_sha256

        # Retention treats screenshots like raw pages: the latest version's stays.
        with rig.db.session() as session:
            assert prune_captures(session, datetime.now(UTC) + timedelta(days=1)) == 2
        first, second = rig.versions(story_id)
        assert first.screenshot_sha256 is None
        assert second.screenshot_sha256 is not None
    finally:
        rig.close()


def test_plain_fetches_and_browser_fetches_without_the_setting_keep_no_screenshot(
    tracker: Tracker, server: LocalServer
):
    server.set("/council", article_page("Council budget", LONG_ARTICLE))
    story_id = tracker.add(server.url("/council"), render_mode="http")
    tracker.check(story_id)
    [version] = tracker.versions(story_id)
    assert version.screenshot_sha256 is None

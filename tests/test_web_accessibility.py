"""Every page of the web UI, filled with real content, passes axe-core (no serious or critical
violation) in light and dark mode, and is photographed at desktop and phone widths.

The content comes from the real pipeline: a story served by a local HTTP server evolves
through the demo stages and is checked after each one (its alerts go to a webhook receiver
on 127.0.0.1 that fails, so the delivery log has failures and retries); then the server
breaks and the next check is an error. A live blog gets two checks, and a story whose page
is gone gets a 410.

To audit a new page, add it to PAGES: a name (for the screenshots), its path (where
``{story}``, ``{live}`` and the other names of `Newsroom` are filled in), the status it
answers, and what to do on it first if a part is folded or needs a form sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from alert_support import Rig, WebhookReceiver
from browser_support import (
    ARTIFACTS,
    DESKTOP,
    NEEDS_CHROMIUM,
    PHONE,
    assert_accessible,
    free_port,
    screenshot_matrix,
)
from liveblog_pages import NEW_ENTRY, guardian_like, sample_entries
from playwright.sync_api import expect
from servers import LocalServer
from test_web_support import insert_story

from tracker.config import Settings
from tracker.services.stories import add_stories
from tracker.web.security import Guard

pytestmark = NEEDS_CHROMIUM


@dataclass(frozen=True)
class AuditedPage:
    name: str  # screenshots are test-artifacts/a11y-<name>-<width>-<scheme>.png
    path: str  # formatted with the fields of Newsroom
    status: int = 200  # what the page must answer: a wrong path must not pass as a 404 page
    # What a reader does on the page before it is checked (axe skips what is hidden, such
    # as a folded form): a function of the Playwright page.
    prepare: Callable[[Any], None] | None = None


def open_settings(page: Any) -> None:
    page.click("details.settings summary")


def refuse_settings(page: Any) -> None:
    """Submit the story's settings with a minimum above the maximum: a 400 with the reason."""
    page.click("details.settings summary")
    page.fill("#min_interval", "2h")
    page.fill("#max_interval", "30m")
    page.click("#save-settings")
    expect(page.locator("#settings-error")).to_be_visible()


# Every page the web UI has. Add new pages here: each is checked with axe-core in light and
# dark mode and photographed at desktop and phone widths.
PAGES = [
    AuditedPage("stories", "/"),
    AuditedPage("stories-filtered", "/?tag=iraq&sort=versions"),
    AuditedPage("changes", "/changes"),
    AuditedPage("search", "/search?q=exchange"),
    AuditedPage("search-no-match", "/search?q=zebra%20crossing"),
    AuditedPage("changes-filtered", "/changes?kind=headline&kind=text_edited&since=7d"),
    AuditedPage("story", "/stories/{story}"),
    AuditedPage("story-live-blog", "/stories/{live}"),
    AuditedPage("story-gone", "/stories/{gone}"),
    AuditedPage("story-two-days", "/stories/{two_days}"),
    AuditedPage("story-settings-form", "/stories/{story}", prepare=open_settings),
    AuditedPage("story-settings-refused", "/stories/{story}", prepare=refuse_settings),
    AuditedPage("version", "/stories/{story}/versions/2"),
    AuditedPage("diff-inline", "/stories/{story}/diff/1/3"),
    AuditedPage("diff-side-by-side", "/stories/{story}/diff/1/3?view=side"),
    AuditedPage("diff-full-text", "/stories/{story}/diff/1/3?show=all"),
    AuditedPage("diff-one-change-with-card", "/stories/{story}/diff/2/3"),
    AuditedPage("diff-live-blog", "/stories/{live}/diff/1/2"),
    AuditedPage("diff-live-blog-side-by-side", "/stories/{live}/diff/1/2?view=side"),
    AuditedPage("add", "/add"),
    AuditedPage("remove", "/stories/{story}/remove"),
    AuditedPage("checks", "/checks"),
    AuditedPage("checks-errors", "/checks?errors=true"),
    AuditedPage("events", "/events"),
    AuditedPage("channels", "/channels"),
    AuditedPage("followed-feeds", "/followed"),
    AuditedPage("deliveries", "/deliveries"),
    AuditedPage("delivery", "/deliveries/{failed_delivery}"),
    AuditedPage("not-found", "/stories/999999", status=404),
]

# The same pages before anything is tracked: the empty states.
EMPTY_PAGES = [
    AuditedPage("stories-empty", "/"),
    AuditedPage("checks-empty", "/checks"),
    AuditedPage("events-empty", "/events"),
    AuditedPage("channels-empty", "/channels"),
    AuditedPage("changes-empty", "/changes"),
    AuditedPage("search-form", "/search"),
    AuditedPage("followed-feeds-empty", "/followed"),
    AuditedPage("deliveries-empty", "/deliveries"),
]


@dataclass(frozen=True)
class Newsroom:
    story: int  # the demo story: 4 versions, a failed check, deliveries
    live: int  # a live blog with two versions
    gone: int  # a story whose page answers 410
    two_days: int  # nine versions over two days: a chart with an hour-and-date axis
    failed_delivery: int


@pytest.fixture
def newsroom(tmp_path: Path, database_url: str, server: LocalServer) -> Iterator[Newsroom]:
    rig = Rig(tmp_path, database_url, server)
    receiver = WebhookReceiver(server)
    rig.add_channel("newsdesk", "webhook", receiver.url + "?token=hunter2", tags=["iraq"])
    receiver.answer(500, 500)
    rig.publish(0)
    rig.publish(1)
    rig.runner.tick()  # the alert for v2 fails: a delivery with an attempt and an error
    rig.publish(2)
    rig.publish(3)
    server.set(rig.path, "upstream broke", status=500)
    rig.clock.advance(minutes=5)
    rig.engine.check_now([rig.story_id])
    [failed, *_] = rig.deliveries()

    live_path = "/live/quake"
    server.set(live_path, guardian_like(sample_entries()))
    gone_path = "/news/withdrawn"
    server.set(gone_path, guardian_like(sample_entries(), title="Withdrawn story"))
    with rig.db.session() as session:
        live, gone = add_stories(
            session,
            [server.url(live_path), server.url(gone_path)],
            now=rig.clock(),
            allow_private_networks=True,
            tags=["quake"],
        )
    rig.engine.check_now([live.story_id, gone.story_id])
    server.set(live_path, guardian_like([NEW_ENTRY, *sample_entries()]))
    server.set(gone_path, "gone", status=410)
    rig.clock.advance(minutes=20)
    rig.engine.check_now([live.story_id, gone.story_id])
    # Versions written directly: the pipeline's clock cannot spread checks over days.
    two_days = insert_story(
        rig.db,
        "https://example.com/news/two-days",
        [f"Paragraph one of nine.\n\nUpdate {n}: " + "more words " * n for n in range(9)],
        titles=[f"Storm makes landfall: update {n}" for n in range(9)],
        start=rig.clock() - timedelta(days=2),
        step=timedelta(hours=6),
        tags=("storm",),
    )
    yield Newsroom(rig.story_id, live.story_id, gone.story_id, two_days, failed.id)
    rig.close()


def audit(page, site: str, audited: AuditedPage, newsroom: Newsroom | None = None) -> None:
    path = audited.path.format(**(newsroom.__dict__ if newsroom else {}))
    response = page.goto(site + path)
    assert response.status == audited.status, path
    if audited.prepare:
        audited.prepare(page)
    assert_accessible(page)
    screenshot_matrix(page, f"a11y-{audited.name}")


@pytest.mark.parametrize("audited", EMPTY_PAGES, ids=lambda audited: audited.name)
def test_empty_pages_are_accessible(site, page, audited):
    audit(page, site, audited)


def test_every_page_with_content_is_accessible(site, page, newsroom, subtests):
    for audited in PAGES:
        with subtests.test(audited.name):
            audit(page, site, audited, newsroom)


def test_the_first_tab_shows_a_skip_link_past_the_navigation(site, page):
    page.goto(f"{site}/add")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.bounding_box()["x"] < 0  # off screen until focused
    page.keyboard.press("Tab")
    assert focused(page, "element.textContent") == "Skip to content"
    assert skip.bounding_box()["x"] >= 0 and skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused(page, "element.id") == "urls"  # the form's first field: the nav is skipped


# -- the chart: keyboard, screen reader, time axis --------------------------------------------


def accessibility_tree_links(page) -> list[str]:
    """The names of the links in Chromium's accessibility tree: what a screen reader gets."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    session.detach()
    return [
        node["name"]["value"]
        for node in nodes
        if not node.get("ignored") and node.get("role", {}).get("value") == "link"
    ]


def focused(page, script: str):
    return page.evaluate(
        f"(() => {{ const element = document.activeElement; return {script}; }})()"
    )


def test_the_chart_s_versions_are_reached_by_tab_announced_and_followed(site, page, newsroom):
    page.goto(f"{site}/stories/{newsroom.story}")
    page.focus("a.button[href*='/feeds/stories/']")  # the last control before the chart
    names = []
    for _ in range(4):
        page.keyboard.press("Tab")
        assert focused(page, "element.closest('svg.chart') !== null")
        names.append(focused(page, "element.getAttribute('aria-label')"))
    assert names[0] == "Version 1, 27 Nov 08:01 UTC: first version, 230 words"
    assert re.fullmatch(
        r"Version 2, 27 Nov 08:02 UTC: paragraphs added, paragraphs removed; "
        r"\d+ words added, \d+ removed",
        names[1],
    ), names[1]
    assert names[2].startswith("Version 3, 27 Nov 08:03 UTC: headline")
    assert names[3].startswith("Version 4, 27 Nov 08:04 UTC: paragraphs removed")
    # Screen readers get the same names (role="img" on the SVG used to hide these links).
    assert [name for name in accessibility_tree_links(page) if name.startswith("Version ")] == (
        names
    )
    # The focused version is outlined: a column in the accent colour, 3 px wide.
    ring = focused(page, "getComputedStyle(element.querySelector('rect.hit'))")
    assert focused(page, "getComputedStyle(element.querySelector('rect.hit')).stroke") == (
        page.evaluate("getComputedStyle(document.querySelector('a')).color")  # --accent
    ), ring
    assert focused(page, "getComputedStyle(element.querySelector('rect.hit')).strokeWidth") == "3px"
    unfocused = page.locator("svg.chart a").first.locator("rect.hit")
    assert unfocused.evaluate("rect => getComputedStyle(rect).stroke") == "none"
    for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.locator("figure.chart").screenshot(
                path=str(ARTIFACTS / f"a11y-chart-focus-{width_name}-{scheme}.png")
            )
    page.set_viewport_size(DESKTOP)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/stories/{newsroom.story}/versions/4")


def test_the_time_axis_labels_fit_without_overlapping(site, page, newsroom):
    page.goto(f"{site}/stories/{newsroom.two_days}")
    for viewport, layout in ((DESKTOP, "wide"), (PHONE, "narrow")):
        page.set_viewport_size(viewport)
        labels = page.locator("svg.chart g.ticks text:visible")
        expect(page.locator(f"svg.chart g.ticks-{layout}")).to_be_visible()
        assert labels.count() >= 2
        boxes = [labels.nth(index).bounding_box() for index in range(labels.count())]
        chart = page.locator("svg.chart").bounding_box()
        for left, right in pairwise(boxes):
            assert left["x"] + left["width"] < right["x"], (viewport, left, right)
        assert boxes[0]["x"] >= chart["x"]
        assert boxes[-1]["x"] + boxes[-1]["width"] <= chart["x"] + chart["width"]
    texts = page.locator("svg.chart g.ticks text:visible").all_text_contents()
    assert any(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}( \d\d:\d\d)?", text) for text in texts), texts


# -- the login page ---------------------------------------------------------------------------

TOKEN = "correct horse battery staple"


@pytest.fixture
def guarded_site(db, settings) -> Iterator[tuple[str, Settings]]:
    """The web app with a token configured: every page but the login form needs a session."""
    from tracker.web import start_in_thread

    guarded = settings.model_copy(update={"web_port": free_port(), "web_token": TOKEN})
    server = start_in_thread(db, guarded)
    yield f"http://127.0.0.1:{guarded.web_port}", guarded
    server.should_exit = True


def links_on(page) -> list[str]:
    return page.eval_on_selector_all(
        "a[href], link[href]", "elements => elements.map(e => e.getAttribute('href'))"
    )


def test_the_login_page_offers_a_stranger_no_links_and_no_credentials(guarded_site, page):
    site, settings = guarded_site
    feed_key = Guard.from_settings(settings).feed_key
    assert feed_key
    page.goto(f"{site}/checks")
    assert page.url == f"{site}/login?next=%2Fchecks"
    expect(page.locator("nav")).to_have_count(0)
    assert links_on(page) == ["/static/style.css", "#main"]  # the skip link to the form
    assert feed_key not in page.content()  # feed links carry it; a stranger must not see one
    assert_accessible(page)
    screenshot_matrix(page, "a11y-login")

    page.fill("#token", "not the token")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text() == "wrong token"
    assert_accessible(page)
    screenshot_matrix(page, "a11y-login-wrong-token")

    # An error page shown to a stranger is as bare.
    page.goto(f"{site}/login/nowhere")
    assert page.locator("h1").inner_text() == "404: not found"
    assert page.locator("nav").count() == 0 and feed_key not in page.content()

    page.goto(f"{site}/login?next=%2Fchecks")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    assert page.url == f"{site}/checks"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Checks").get_attribute("aria-current") == "page"
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    assert f"key={feed_key}" in nav.get_by_role("link", name="Feed", exact=True).get_attribute(
        "href"
    )

"""Lifecycle events in a real headless Chromium: a tracked story taken down (404) reads as
unpublished at the top of its page, in its events and among the changes."""

from __future__ import annotations

from browser_support import NEEDS_CHROMIUM, assert_accessible, screenshot_matrix
from playwright.sync_api import expect
from test_web_support import check_now, track_demo_story

pytestmark = NEEDS_CHROMIUM


def test_an_unpublished_story_says_so_on_its_page_and_among_the_changes(
    site, page, server, db, settings
):
    story = track_demo_story(db, settings, server, stages=2, tags=("iraq",))
    server.set("/news/us-iran-talks", "<h1>Not found</h1>", status=404)
    assert check_now(db, settings, story).events == ["unpublished"]

    page.goto(f"{site}/stories/{story}")
    notice = page.locator("#lifecycle-notice")
    expect(notice).to_be_visible()
    assert notice.inner_text().startswith("Unpublished since")
    assert "the page answered 404" in notice.inner_text()
    assert (
        page.locator("ul.events li.event-unpublished")
        .inner_text()
        .endswith("Unpublished: the page answered 404")
    )
    screenshot_matrix(page, "story-unpublished")

    page.goto(f"{site}/changes")
    rows = page.locator("ol.changes li.change")
    expect(rows).to_have_count(3)  # the event, newest, above the two versions
    assert rows.nth(0).locator(".kind").inner_text() == "Unpublished"
    page.check("input[name=kind][value=unpublished]")
    page.click("form.changes-filters button[type=submit]")
    expect(page.locator("ol.changes li.change")).to_have_count(1)
    screenshot_matrix(page, "changes-lifecycle")

    for path in (f"/stories/{story}", "/changes"):
        page.goto(site + path)
        assert_accessible(page)

"""A real headless Chromium manages alerts and feeds through the forms, reads the logs on a
phone, and is told when no daemon is checking. Screenshots (desktop and 390 px, light and
dark) go to test-artifacts/; axe-core must find nothing serious on each page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from browser_support import NEEDS_CHROMIUM, PHONE, assert_accessible, screenshot_matrix
from playwright.sync_api import expect
from test_web_support import check_now

from tracker.demo.site import STAGES, render_page
from tracker.services.stories import add_stories

pytestmark = NEEDS_CHROMIUM

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>World desk</title>'
    "<item><title>One</title><link>{one}</link></item>"
    "<item><title>Two</title><link>{two}</link></item></channel></rss>"
)


def backend_of(database_url: str) -> str:
    return database_url.split(":", 1)[0].split("+")[0]


def assert_fits_a_phone(page) -> None:
    """At 390 px the page scrolls down, never sideways."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"


def test_a_channel_is_added_through_the_form_and_a_mistake_keeps_the_input(
    site, page, database_url
):
    page.goto(f"{site}/channels")
    assert "No daemon is running" in page.locator(".no-daemon").inner_text()
    page.fill("#ch-name", "desk")
    page.select_option("#ch-kind", "email")
    page.fill("#ch-targets", "not an address")
    page.fill("#ch-tags", "politics")
    page.click("form.manage button[type=submit]")
    assert page.input_value("#ch-name") == "desk"
    expect(page.locator("#channel-error")).to_be_visible()
    assert page.input_value("#ch-tags") == "politics"

    page.fill("#ch-targets", "desk@example.org")
    page.select_option("#ch-min-kind", "any")
    page.check("input[name=kinds][value=headline]")
    page.check("input[name=kinds][value=correction]")
    page.click("form.manage button[type=submit]")
    assert "Added channel desk" in page.locator("#channel-added").inner_text()
    row = page.locator("table.channels tbody tr", has_text="desk")
    assert "only headline, correction" in row.inner_text()
    assert "active" in row.inner_text()

    page.goto(f"{site}/channels")  # the listing without the one-off notice
    screenshot_matrix(page, f"manage-channels-{backend_of(database_url)}")
    assert_accessible(page)
    assert_fits_a_phone(page)

    page.click("table.channels button:has-text('Pause')")
    assert "paused" in page.locator("table.channels tbody tr", has_text="desk").inner_text()
    page.click("table.channels a:has-text('Remove')")
    assert "Remove channel desk?" in page.locator("h1").inner_text()
    assert_accessible(page)
    page.click("button.danger")
    expect(page.locator("table.channels")).to_have_count(0)
    assert page.dialogs == []


def test_a_feed_is_followed_and_polled_through_the_form(site, page, server, database_url):
    for path in ("/world/one", "/world/two"):
        server.set(path, render_page(STAGES[0], 0))
    server.set(
        "/world/rss",
        RSS.format(one=server.url("/world/one"), two=server.url("/world/two")),
        headers={"Content-Type": "application/rss+xml"},
    )
    page.goto(f"{site}/followed")
    page.fill("#feed-url", server.url("/world/rss"))
    page.fill("#feed-tags", "world")
    page.click("form.manage button[type=submit]")
    assert "Following" in page.locator("#feed-notice").inner_text()
    page.click("table.followed button:has-text('Poll now')")
    assert "2 entries, 2 new stories" in page.locator("#poll-result").inner_text()

    page.goto(f"{site}/followed")
    row = page.locator("table.followed tbody tr").first
    assert "World desk" in row.inner_text() and "HTTP 200" in row.inner_text()
    screenshot_matrix(page, f"manage-feeds-{backend_of(database_url)}")
    assert_accessible(page)
    assert_fits_a_phone(page)


def test_the_logs_name_stories_by_headline_and_fit_a_phone(
    site, page, server, db, settings, database_url
):
    # An address far wider than a phone: it must wrap, not widen the page.
    path = "/news/" + "a-story-with-a-rather-long-address-" * 6
    server.set(path, render_page(STAGES[0], 0))
    with db.session() as session:
        [added] = add_stories(
            session, [server.url(path)], now=datetime.now(UTC), allow_private_networks=True
        )
    check_now(db, settings, added.story_id)

    for log in ("checks", "events", "deliveries"):
        page.goto(f"{site}/{log}")
        assert "No daemon is running" in page.locator(".no-daemon").inner_text()
        if log == "checks":
            first = page.locator("table.checks tbody tr").first.locator("td.story")
            assert first.locator("a").inner_text().startswith("US-Iran")  # the headline first
            assert "/news/" in first.locator(".url").inner_text()  # the URL under it
            screenshot_matrix(page, f"manage-checks-{backend_of(database_url)}")
        assert_accessible(page)
        assert_fits_a_phone(page)

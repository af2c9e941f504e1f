"""Search in a real headless Chromium: the nav's link, the form, the results, on a phone
and in dark mode, with no serious accessibility violations (fixtures: browser_support.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from browser_support import NEEDS_CHROMIUM, assert_accessible, screenshot_matrix
from playwright.sync_api import expect
from test_web_support import insert_story

from tracker.store.db import Database
from tracker.store.models import Story

pytestmark = NEEDS_CHROMIUM

START = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def newsroom(db: Database) -> None:
    """Stories a desk would search: a headline since rewritten, a toll that rose."""
    insert_story(
        db,
        "https://news.example/2026/12/03/springfield-mayor",
        [
            "Springfield's mayor faced questions on Wednesday over the stadium contract, "
            "which the city council approved last spring without a public tender.",
            "Springfield's mayor resigned on Wednesday evening after a week of questions over "
            "the stadium contract. Her deputy, Ana Ruiz, takes over at city hall on Thursday.",
            "Springfield's mayor resigned on Wednesday evening after a week of questions over "
            "the stadium contract. Her deputy, Ana Ruiz, took over at city hall on Thursday "
            "and promised an independent review of the contract.",
        ],
        titles=[
            "Springfield mayor under pressure over stadium deal",
            "Springfield mayor resigns amid stadium scandal",
            "Deputy takes over in Springfield, promises review",
        ],
        start=START,
        step=timedelta(hours=3),
        tags=("politics",),
    )
    insert_story(
        db,
        "https://www.weather.example/storm-ellen",
        [
            "Storm Ellen has killed 12 people, officials said, as rivers rose across the "
            "region and the stadium was opened as a shelter.",
            "Storm Ellen has killed 21 people, officials said on Thursday; the stadium is "
            "sheltering 3,000 residents.",
        ],
        titles=["Storm Ellen kills 12", "Storm Ellen kills 21"],
        start=START + timedelta(hours=4),
        tags=("weather",),
    )
    with db.session() as session:
        assert session.query(Story).count() == 2


def test_search_finds_what_was_said_through_the_real_page(site, page, db):
    newsroom(db)
    page.goto(site)
    page.click("nav >> text=Search")
    assert page.url.endswith("/search")
    assert_accessible(page)

    page.fill("input[name=q]", 'stadium "city hall"')
    page.click("form[role=search] button[type=submit]")
    assert "q=stadium" in page.url
    results = page.locator("ol.search-results > li")
    expect(results).to_have_count(1)
    hit = results.first
    assert hit.locator("h2").inner_text() == "Deputy takes over in Springfield, promises review"
    expect(hit.locator(".search-versions > li")).to_have_count(2)  # versions 3 and 2 said it
    # Marked in the snippet (SQLite marks the phrase, PostgreSQL each of its words).
    assert hit.locator(".search-snippet mark", has_text="city").count() >= 1

    # A word said only in a headline since rewritten: the story is found, the headline named.
    page.fill("input[name=q]", "scandal")
    page.click("form[role=search] button[type=submit]")
    hit = page.locator("ol.search-results > li").first
    assert (
        "Springfield mayor resigns amid stadium scandal"
        in hit.locator(".search-headlines").inner_text()
    )

    page.fill("input[name=q]", "stadium")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("ol.search-results > li")).to_have_count(2)
    assert "2 stories said" in page.locator(".search-summary").inner_text()
    assert_accessible(page)
    screenshot_matrix(page, "search")

    page.locator("ol.search-results > li").first.locator(".search-versions a").first.click()
    assert "/versions/" in page.url
    assert page.dialogs == []

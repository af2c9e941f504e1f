"""The changes page and the story timeline in a real headless Chromium, after real checks of
a local site whose story evolves (the demo story: figures revised, a paragraph added, the
headline rewritten)."""

from __future__ import annotations

from browser_support import NEEDS_CHROMIUM, assert_accessible, screenshot_matrix
from playwright.sync_api import expect
from test_web_support import track_demo_story

pytestmark = NEEDS_CHROMIUM


def test_the_desk_reads_what_changed_across_stories(site, page, server, db, settings):
    story = track_demo_story(db, settings, server, stages=5, tags=("iraq",))

    page.goto(f"{site}/")
    page.click("nav a[href='/changes']")
    assert page.url == f"{site}/changes"
    rows = page.locator("ol.changes li.change")
    expect(rows).to_have_count(5)  # every version, newest first
    newest = rows.nth(0)
    assert newest.locator(".change-kinds a").inner_text() == "see the change (version 5)"
    assert rows.nth(4).locator(".kind").inner_text() == "first version"
    # The rewritten headline reads old → new, and edits show their changed words.
    assert page.locator(".headline-change del").count() >= 1
    assert page.locator(".excerpt ins").count() >= 1
    screenshot_matrix(page, "changes")

    # Filtering by kind happens in the form, without JavaScript.
    page.check("input[name=kind][value=headline]")
    page.click("form.changes-filters button[type=submit]")
    assert "kind=headline" in page.url
    expect(page.locator("ol.changes li.change")).to_have_count(1)
    expect(page.locator("ol.changes .kind", has_text="headline")).to_have_count(1)
    page.locator("ol.changes .change-kinds a").click()
    assert "/diff/" in page.url

    page.goto(f"{site}/stories/{story}")
    timeline = page.locator("ol.timeline")
    assert timeline.locator(".headline-change del").count() >= 1
    assert timeline.locator(".excerpt").count() >= 3
    options = page.locator("select[name=from] option")
    expect(options).to_have_count(5)
    first_choice = options.nth(4).inner_text()
    assert first_choice.startswith("v1 · ") and first_choice.endswith("· first version")
    screenshot_matrix(page, "story-timeline")

    # Last, so the screenshots above are taken whatever axe-core finds.
    for path in ("/changes", "/changes?kind=headline", f"/stories/{story}"):
        page.goto(site + path)
        assert_accessible(page)

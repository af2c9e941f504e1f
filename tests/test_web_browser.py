"""A real headless Chromium drives the web UI: add, check, read a diff, toggle, stay safe.

Uses Debian's /usr/bin/chromium through Playwright (never a downloaded browser build);
the fixtures are in browser_support.py.
"""

from __future__ import annotations

from browser_support import NEEDS_CHROMIUM
from browser_support import screenshot as _screenshot
from playwright.sync_api import expect
from test_web_support import insert_story

from tracker.demo.site import STAGES, render_page

pytestmark = NEEDS_CHROMIUM


def test_add_check_and_read_a_diff_in_a_real_browser(site, page, server, database_url):
    backend = database_url.split(":", 1)[0].split("+")[0]
    path = "/news/us-iran-talks"
    server.set(path, render_page(STAGES[0], 0))

    page.goto(f"{site}/add")
    page.fill("#urls", server.url(path))
    page.fill("#tags", "iraq")
    page.click("button[type=submit]")
    assert "/stories/" in page.url
    story_url = page.url
    assert page.locator("h1").inner_text() == server.url(path)  # no headline before a check

    page.click("#check-now")
    expect(page.locator("ol.timeline li")).to_have_count(1)
    assert "Heated Exchange" in page.locator("h1").inner_text()
    for stage, chrome_round in ((1, 4), (2, 5), (3, 6), (4, 7)):
        server.set(path, render_page(STAGES[stage], chrome_round))
        page.click("#check-now")
    assert page.url == story_url
    expect(page.locator("ol.timeline li")).to_have_count(5)
    assert page.locator("svg.chart rect.added").count() >= 1
    _screenshot(page, f"story-{backend}")

    page.click("a[href$='/diff/4/5']")
    expect(page.locator("del.del", has_text="four")).to_have_count(1)
    expect(page.locator("ins.ins", has_text="seven")).to_have_count(1)
    page.click("#view-side")
    assert "view=side" in page.url
    expect(page.locator("table.diff td.before del", has_text="four")).to_have_count(1)
    expect(page.locator("table.diff td.after ins", has_text="seven")).to_have_count(1)
    _screenshot(page, f"diff-side-by-side-{backend}")
    page.click("#prev-diff")
    assert page.url.endswith("/diff/3/4?view=side")
    page.click("#view-inline")
    assert page.url.endswith("/diff/3/4")
    assert page.dialogs == []


def test_a_hostile_article_executes_nothing(site, page, db, database_url):
    hostile = (
        "<script>window.__pwned = 1; alert('script')</script>\n\n"
        '"><img src=x onerror="window.__pwned=2; alert(\'img\')">\n\n'
        '" onmouseover="window.__pwned=3" autofocus onfocus="window.__pwned=4" x="\n\n'
        '<svg onload="window.__pwned=5"></svg> <iframe src="javascript:alert(\'frame\')">'
    )
    story = insert_story(
        db,
        "https://example.com/hostile",
        [hostile, hostile + "\n\nAnd <b onmouseover=alert(1)>more</b>."],
        titles=["<script>window.__pwned=6</script>", '"><img src=x onerror=alert(7)>'],
        promise_text="<img src=x onerror=alert(8)>",
        promise_state="pending",
    )
    for path in (
        "/",
        f"/stories/{story}",
        f"/stories/{story}/versions/1",
        f"/stories/{story}/diff/1/2",
        f"/stories/{story}/diff/1/2?view=side",
    ):
        page.goto(site + path)
        page.hover("main")
        assert page.evaluate("window.__pwned") is None, path
        expect(page.locator("main img, main iframe, main b"), path).to_have_count(0)
    assert "<script>window.__pwned = 1" in page.locator("article").inner_text()
    _screenshot(page, "hostile-diff-" + database_url.split(":", 1)[0].split("+")[0])
    assert page.dialogs == []


def test_change_a_story_s_settings_with_the_form(site, page, db, database_url):
    backend = database_url.split(":", 1)[0].split("+")[0]
    story = insert_story(db, "https://example.com/live", ["text"], ignore_patterns=["^Updated"])
    page.goto(f"{site}/stories/{story}")
    assert page.locator("#settings-form").is_hidden()  # folded until asked for
    page.click("details.settings summary")
    page.fill("#interval", "5m")
    page.select_option("#robots", "ignore")
    assert page.input_value("#ignore_patterns") == "^Updated"
    page.fill("#ignore_patterns", "^Updated\n^Share")
    page.click("#save-settings")
    assert page.url == f"{site}/stories/{story}#settings"  # the form's fragment is kept
    notice = page.locator("#settings-notice").inner_text()
    assert "interval: - → 5 min" in notice and "robots: default → ignore" in notice
    assert page.locator("#setting-interval").inner_text() == "5 min"
    assert page.locator("#setting-ignore code").all_inner_texts() == ["^Updated", "^Share"]
    _screenshot(page, f"story-settings-{backend}")

    page.click("details.settings summary")
    page.fill("#min_interval", "2h")
    page.fill("#max_interval", "30m")
    page.click("#save-settings")
    assert (
        "min_interval is larger than max_interval" in page.locator("#settings-error").inner_text()
    )
    expect(page.locator("#settings-form")).to_be_visible()  # open again, with what was typed
    assert page.input_value("#min_interval") == "2h"
    assert page.locator("#setting-min-interval").inner_text().startswith("global setting")
    _screenshot(page, f"story-settings-error-{backend}")
    assert page.dialogs == []

"""A long article in a real browser: the diff opens on the changes, the folds open the full
text, the jump links and the j/k keys move between changes, and no inline script runs.

Uses Debian's /usr/bin/chromium through Playwright; fixtures in browser_support.py.
"""

from __future__ import annotations

from browser_support import NEEDS_CHROMIUM, assert_accessible, screenshot_matrix
from playwright.sync_api import expect
from test_diff_reading_interfaces import BYLINES, long_story

pytestmark = NEEDS_CHROMIUM


def in_view(page, selector: str) -> bool:
    """Whether the element's top is on screen (a short page cannot scroll it to the top)."""
    return page.evaluate(
        f"(() => {{ const top = document.querySelector({selector!r}).getBoundingClientRect().top;"
        " return top >= 0 && top < window.innerHeight; })()"
    )


def test_a_long_diff_opens_on_its_changes_and_j_moves_to_the_next(site, page, db):
    story = long_story(db, fields=BYLINES)
    page.goto(f"{site}/stories/{story}/diff/1/2")
    # Changes only: 40 paragraphs, two changes, ten paragraphs shown, three folds.
    expect(page.locator("article p[id^='p']")).to_have_count(10)
    assert page.locator("article p.fold").all_inner_texts() == [
        "… 9 unchanged paragraphs …",
        "… 16 unchanged paragraphs …",
        "… 5 unchanged paragraphs …",
    ]
    expect(page.locator("article del", has_text="212")).to_have_count(1)
    expect(page.locator("article ins", has_text="284")).to_have_count(1)
    assert "Byline: Jane Doe and John Roe" in page.locator("p.line-change").first.inner_text()
    expect(page.locator(".keys-hint")).to_be_visible()  # the script file ran
    screenshot_matrix(page, "diff-long")

    # j from the top: the first change, then the second; k back to the first.
    page.keyboard.press("j")
    assert page.evaluate("location.hash") == "#change-1"
    assert in_view(page, "#change-1")
    page.keyboard.press("j")
    assert page.evaluate("location.hash") == "#change-2"
    assert in_view(page, "#change-2") and page.evaluate("window.scrollY") > 0
    page.keyboard.press("j")  # no third change: stays
    assert page.evaluate("location.hash") == "#change-2"
    page.keyboard.press("k")
    assert page.evaluate("location.hash") == "#change-1"

    # Keys typed into the version picker are not navigation.
    page.focus("select[name=from]")
    page.keyboard.press("j")
    assert page.evaluate("location.hash") == "#change-1"

    # The links do the same without a script.
    page.click("#change-1 a[rel=next]")
    assert page.url.endswith("#change-2")

    # A fold opens the full text where it was.
    page.click("article p.fold >> nth=1")
    assert page.url.endswith(f"/stories/{story}/diff/1/2?show=all#p15")
    expect(page.locator("article p[id^='p']")).to_have_count(40)
    assert in_view(page, "#p15") and not in_view(page, "#p1")
    expect(page.locator("#show-changes")).to_be_visible()
    assert page.dialogs == []
    page.goto(f"{site}/stories/{story}/diff/1/2")
    assert_accessible(page)


def test_side_by_side_folds_and_navigates_on_a_phone(site, page, db):
    story = long_story(db)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site}/stories/{story}/diff/1/2?view=side")
    expect(page.locator("tr.fold")).to_have_count(3)
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.evaluate("location.hash") == "#change-2"
    assert in_view(page, "#change-2")
    screenshot_matrix(page, "diff-long-side")
    assert_accessible(page)


def test_the_page_runs_its_own_script_file_but_no_inline_script(site, page, db):
    inject = """() => {
        const inline = document.createElement('script');
        inline.textContent = 'window.__inline = 1';
        document.body.append(inline);
        const handler = document.createElement('div');
        handler.innerHTML = '<img src="data:," onerror="window.__handler = 1">';
        document.body.append(handler);
        const data = document.createElement('script');
        data.src = 'data:text/javascript,window.__data = 1';
        document.body.append(data);
    }"""
    probe = "[window.__inline, window.__handler, window.__data]"
    count_violations = """() => {
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (event) => {
            window.__violations.push(event.violatedDirective);
        });
    }"""
    # Where no policy forbids them, these run: the probe can tell.
    page.set_content("<p>no policy</p>")
    page.evaluate(inject)
    page.wait_for_function("window.__inline === 1 && window.__handler === 1")

    story = long_story(db)
    page.goto(f"{site}/stories/{story}/diff/1/2")
    expect(page.locator(".keys-hint")).to_be_visible()  # /static/diff-keys.js ran
    page.evaluate(count_violations)
    page.evaluate(inject)
    # The browser reports each blocked script; once all three are, none of them ran.
    page.wait_for_function("window.__violations.length >= 3")
    assert page.evaluate(probe) == [None, None, None]
    assert all(d.startswith("script-src") for d in page.evaluate("window.__violations"))
    assert page.dialogs == []

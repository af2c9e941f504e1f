"""A real browser on the diff page: "Download image" gives the change as a 1200×675 PNG, and the
alt text stands beside it to copy. Screenshots of the page (desktop and phone, light and
dark) and the card itself land in test-artifacts/ for a person to look at."""

from __future__ import annotations

from pathlib import Path

from browser_support import ARTIFACTS, NEEDS_CHROMIUM, assert_accessible, screenshot_matrix
from playwright.sync_api import expect
from test_card import figure_story, png_size

pytestmark = NEEDS_CHROMIUM


def test_download_image_from_a_diff_page(site, page, db, database_url):
    backend = database_url.split(":", 1)[0].split("+")[0]
    story_id = figure_story(db)
    page.goto(f"{site}/stories/{story_id}/diff/1/2")

    link = page.locator("#download-card")
    assert link.inner_text() == "Download image"
    alt = page.locator("#card-alt")
    assert alt.input_value().startswith("Example News changed the headline of a story")
    expect(page.locator("label[for=card-alt]")).to_be_visible()
    screenshot_matrix(page, "diff-card-link")

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"story-{story_id}-example.com-v2.png"
    png = Path(download.path()).read_bytes()
    assert png_size(png) == (1200, 675)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"diff-card{'' if backend == 'sqlite' else '-' + backend}.png").write_bytes(png)
    assert page.dialogs == []
    # Last, so that the image above is checked and kept whatever axe finds on the page.
    assert_accessible(page)

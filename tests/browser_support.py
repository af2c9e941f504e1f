"""What every browser test shares: Debian's Chromium through Playwright, the web app on a
free port, a tab that records dialogs, screenshots at the widths and colour schemes a
newsroom uses, and an axe-core accessibility check.

conftest.py loads this module as a plugin, so its fixtures (`browser`, `site`, `page`)
are there for every test; a browser test module marks itself::

    from browser_support import NEEDS_CHROMIUM, screenshot_matrix, assert_accessible
    pytestmark = NEEDS_CHROMIUM

Screenshots land in test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}

NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"browser tests need Chromium at {CHROMIUM} (apt install chromium)",
)

# Assertions on what a click brought wait for it (`expect(...)`), as the page may still be
# loading; a busy CI machine with two test workers and Chromium gets more than the 5 s default.
expect.set_options(timeout=15_000)

# axe-core impacts that fail a test; "moderate" and "minor" findings are left to review.
FAILING_IMPACTS = frozenset({"serious", "critical"})


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def site(db, settings) -> Iterator[str]:
    """The web app (`tracker serve`) over the test database, on a free loopback port."""
    from tracker.web import start_in_thread

    port = free_port()
    server = start_in_thread(db, settings.model_copy(update={"web_port": port}))
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True


@pytest.fixture
def page(browser) -> Iterator[Any]:
    """A desktop-sized tab; `page.dialogs` lists every alert/confirm it was shown."""
    context = browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.dialogs = dialogs
    yield tab
    context.close()


def screenshot(page: Any, name: str) -> None:
    """One full-page screenshot of the tab as it is."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def screenshot_matrix(page: Any, name: str) -> None:
    """Screenshots at desktop and 390 px phone widths, in light and dark mode:
    `name-desktop-light.png` ... `name-phone-dark.png`. Leaves the tab as it found it."""
    for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            screenshot(page, f"{name}-{width_name}-{scheme}")
    page.set_viewport_size(DESKTOP)
    page.emulate_media(color_scheme="light")


def serious_a11y_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in FAILING_IMPACTS:
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"]][:5]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def assert_accessible(page: Any) -> None:
    """Fail on serious or critical axe-core violations, in light and in dark mode."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = serious_a11y_violations(page)
        assert violations == [], f"{page.url} ({scheme}):\n" + "\n".join(violations)
    page.emulate_media(color_scheme="light")

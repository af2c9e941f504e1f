"""A self-contained HTML document drawn to a PNG by headless Chromium, with no network and
no scripts: how the diff card (`tracker card`, the web's "Download image") becomes an image.

The document carries page text, which is hostile. The template escapes it, and the browser
is set up so that even markup that slipped through could do nothing:

- JavaScript is off in the browser context (`java_script_enabled=False`);
- every request is intercepted: the document itself is answered from memory at a reserved
  ``.invalid`` address, everything else (an image, a stylesheet, a frame, a font, a
  navigation) is aborted and listed in `Rendering.refused`;
- the document carries a Content-Security-Policy that allows no source but inline styles;
- Chromium is launched with the browser fetcher's flags (`launch_chromium`): its own network
  stack resolves no host name and knows only a closed proxy port.

Each call launches a browser and closes it (about a second): renders are rare (a card is
drawn once and cached by the caller), and a browser kept for them would hold ~150 MB in
every web process. Playwright runs on a thread of its own, so this can be called from any
thread, one with a running event loop included.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracker.net.browser import BrowserUnavailableError, find_browser, launch_chromium

if TYPE_CHECKING:
    from playwright.async_api import Page

__all__ = ["DOCUMENT_CSP", "RenderError", "Rendering", "html_to_png"]

# Where the document is served from: `.invalid` can never be a real host (RFC 2606).
DOCUMENT_URL = "http://card.invalid/"
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
RENDER_TIMEOUT = 60.0


class RenderError(Exception):
    """The browser started but could not draw the document; the message says why."""


@dataclass
class Rendering:
    """The PNG and every request the document tried to make (all refused)."""

    png: bytes
    refused: list[str] = field(default_factory=list)


def html_to_png(
    html: str,
    *,
    width: int,
    height: int,
    executable: str | None = None,
    timeout: float = RENDER_TIMEOUT,
) -> Rendering:
    """Draw `html` at `width`×`height` CSS pixels (one device pixel each) to a PNG.

    Raises BrowserUnavailableError when Chromium or Playwright is missing (the message says
    what to install), RenderError when the browser fails or takes longer than `timeout`."""
    path, problem = find_browser(executable)
    if path is None:
        raise BrowserUnavailableError(problem or "no Chromium found")
    outcome: list[Rendering | BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(_render(html, path, width, height, timeout)))
        except BaseException as exc:  # noqa: BLE001 -- handed to the calling thread
            outcome.append(exc)

    thread = threading.Thread(target=run, name="html-image", daemon=True)
    thread.start()
    thread.join(timeout + 15)
    if not outcome:
        raise RenderError(f"the browser did not finish drawing within {timeout:g} s")
    result = outcome[0]
    if isinstance(result, Rendering):
        return result
    if isinstance(result, BrowserUnavailableError | RenderError):
        raise result
    if isinstance(result, TimeoutError):
        raise RenderError(f"the browser did not finish drawing within {timeout:g} s")
    first_line = (str(result).strip().splitlines() or [type(result).__name__])[0]
    raise RenderError(f"the browser could not draw the image ({path}): {first_line}") from result


async def _loaded(page: Page) -> None:
    """Wait for the document's readyState to be "complete", asking it every 50 ms.

    Not `page.wait_for_function`: with scripts off, a navigation the document starts (a meta
    refresh, which the route handler cancels) while that wait runs left it hanging until the
    overall timeout, about one drawing in four. Each question is bounded too, and one cut
    short by such a navigation is asked again: the document is still there."""
    from playwright.async_api import Error

    while True:
        try:
            state = await asyncio.wait_for(page.evaluate("document.readyState"), 1.0)
        except TimeoutError:
            continue
        except Error as exc:
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            state = None
        if state == "complete":
            return
        await asyncio.sleep(0.05)


async def _render(html: str, executable: str, width: int, height: int, timeout: float) -> Rendering:
    from playwright.async_api import Request, Route, async_playwright

    refused: list[str] = []
    served = False
    body = html.encode("utf-8")

    async def answer(route: Route, request: Request) -> None:
        nonlocal served
        if not served and request.url == DOCUMENT_URL and request.is_navigation_request():
            served = True
            await route.fulfill(
                status=200,
                headers={
                    "content-type": "text/html; charset=utf-8",
                    "content-security-policy": DOCUMENT_CSP,
                },
                body=body,
            )
            return
        refused.append(request.url)
        # A navigation (a meta refresh, a link's target) is cancelled quietly, leaving the
        # document in place; "blockedbyclient" would replace it with an error page.
        await route.abort("aborted" if request.is_navigation_request() else "blockedbyclient")

    async with asyncio.timeout(timeout), async_playwright() as playwright:
        try:
            browser = await launch_chromium(
                playwright, executable, marker=uuid.uuid4().hex, timeout=timeout
            )
        except Exception as exc:
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise BrowserUnavailableError(
                f"the browser could not start ({executable}): {first_line}"
            ) from exc
        try:
            context = await browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=1,
                java_script_enabled=False,
                service_workers="block",
                accept_downloads=False,
            )
            await context.route("**/*", answer)
            page = await context.new_page()
            context.set_default_timeout(timeout * 1000)
            # readyState, not Playwright's load event: a navigation the document starts (a
            # meta refresh) and that is cancelled leaves Playwright waiting for the load
            # event of a document that never comes, while this one has loaded (as in the
            # browser fetcher). Playwright's own evaluation runs with page scripts off.
            await page.goto(DOCUMENT_URL, wait_until="commit")
            await _loaded(page)
            png = await page.screenshot(
                type="png",
                clip={"x": 0, "y": 0, "width": width, "height": height},
                animations="disabled",
            )
        finally:
            await browser.close()
    return Rendering(png=png, refused=refused)

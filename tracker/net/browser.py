"""The headless-browser fetcher ("browser"): pages whose article a script inserts, rendered by
Chromium (Playwright driving the system's browser, never a downloaded build).

How one fetch goes, and why:

1. The document itself is fetched by the plain HTTP fetcher (`HttpFetcher.fetch`), in the
   calling thread, before any browser is involved: redirects are followed hop by hop through
   the private-network guard, the size and time limits and the proxy apply, and a conditional
   GET that comes back 304 (or any error: 404, not HTML, too large) ends the fetch there, as
   it would for a plain fetch, without rendering anything.
2. The browser then navigates to the document's final URL in a fresh context (no cookies,
   cache or storage carried over from another page), and **every** request it makes is
   intercepted (`context.route("**/*")`): the document is answered from step 1; a subresource
   the page may load is fetched through the same guarded HTTP stack and handed to the browser;
   everything else is refused. So the guard, limits and proxy apply to each request exactly as
   they do to plain fetches. (Redirects of subresources are followed by the HTTP stack too:
   a redirect answered to the browser would be followed by the browser itself, unguarded.)
   Chromium's own networking is also switched off (every host name resolves to nothing and
   the proxy is a closed port), so what interception cannot see - preconnects, WebSockets,
   DNS prefetch - reaches nobody.
3. When `document.readyState` is "complete" and no request has been in flight for half a
   second (waited for at most `SETTLE_SECONDS`), the rendered DOM (`page.content()`) is the
   page: stored like any other capture, as UTF-8.

Refused requests: images, media and fonts (never part of the text); third-party requests (a
host outside the page's registrable domain, by the public suffix list: `www.bbc.co.uk` may
load from `static.bbc.co.uk`, not from an ad server); frames (their content is not part of
the main document's HTML); anything but GET (the tracker reads pages; a POST is an analytics
beacon or a form, with effects on the site); and navigations of the main frame after the
first (a script or meta refresh that sends the page elsewhere or reloads it: following it
would make the capture depend on timing; the tracked URL is the one the story names, with its
HTTP redirects).

Playwright's sync API is bound to the thread that started it and the engine fetches from many
threads, so its async API runs on one event-loop thread owned by the fetcher, started on the
first fetch; `fetch()` submits a coroutine there and waits. One browser serves all pages; an
`asyncio.Semaphore` bounds the pages at once (`browser_pages`). The browser is relaunched
after `browser_max_pages_per_launch` pages, when its processes hold more than
`browser_max_memory_mb` (their summed Pss, read from /proc after each page: summed VmRSS
would count the memory Chromium's processes share once per process, about double), and on
the next fetch after it crashed or was killed; a retired browser finishes the pages it has
open, then closes.

Without the `playwright` package or a Chromium executable, a fetch is an error of kind
"browser" that says what to install (and `browser_status()` says the same for
`tracker doctor`); nothing here raises to the caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import importlib.util
import ipaddress
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlsplit

from tracker.net import netguard
from tracker.net.charset import decode_html, parse_content_type
from tracker.net.fetcher import (
    BROWSER_FETCHER,
    MB,
    ROBOTS_MAX_BYTES,
    FetchOptions,
    FetchResult,
    Outcome,
    format_size,
    not_fetched,
    register_fetcher,
)
from tracker.net.http import HttpFetcher

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright, Request, Route

logger = logging.getLogger("tracker.fetch.browser")

# Looked for on PATH, in this order, when `browser_executable` is not set.
BROWSER_COMMANDS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "install Chromium (apt-get install chromium) or set browser_executable "
    "(TRACKER_BROWSER_EXECUTABLE) to a Chromium or Chrome executable"
)

# Flags for a browser that renders untrusted pages unattended. Playwright adds --headless and
# its own automation flags; Chromium's renderer sandbox is off (Playwright's default, and
# needed when running as root in a container): pages run with the tracker's privileges, one
# more reason to run it as an unprivileged user.
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # Docker's 64 MB /dev/shm crashes renderers of big pages
    # The browser's own network stack reaches nobody: every request is answered through the
    # route handler, and what the handler never sees (preconnects, WebSockets, DNS prefetch,
    # a redirect it did not answer) finds no host name resolving and only a closed proxy port.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)
# A switch Chromium ignores, with a value unique to each launch: how the browser's process
# is found in /proc (Playwright does not say which process it started).
MARKER_SWITCH = "--tracker-browser-launch"

# Never part of an article's text; the most bytes of a page by far.
BLOCKED_RESOURCE_TYPES = frozenset({"image", "media", "font"})
# After the load event, wait at most this long for the page's scripts to finish fetching...
SETTLE_SECONDS = 3.0
# A screenshot (browser_screenshots) shows at most this many pixels of the page from its top.
SCREENSHOT_MAX_HEIGHT = 8000
# ...which is when no request has been in flight for this long (as Playwright's networkidle).
IDLE_SECONDS = 0.5
# Subresource fetches run on threads (the HTTP stack blocks); a browser opens up to six
# connections per host, so six per page keeps it from waiting on us.
REQUEST_THREADS_PER_PAGE = 6
# How long fetch() waits past the deadline for the page's cleanup before giving up on it.
CLEANUP_GRACE = 5.0
# Launching takes ~1 s on a quiet machine; this bounds a browser that hangs while starting.
LAUNCH_TIMEOUT = 60.0
# Response headers that describe the bytes on the wire, not the body handed to the browser
# (already decompressed) or stored (the rendered page).
_WIRE_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}
)


class BrowserUnavailableError(Exception):
    """The browser cannot be started; the message says what to install or set."""


# -- finding the browser -----------------------------------------------------------------------


def find_browser(configured: str | None = None) -> tuple[str | None, str | None]:
    """(executable path, None) or (None, why there is none and what to install).

    `configured` (the `browser_executable` setting) is a path or a command on PATH; without
    it the first of `BROWSER_COMMANDS` on PATH is used."""
    if importlib.util.find_spec("playwright") is None:
        return None, (
            "the playwright Python package is not installed (pip install playwright; "
            "no browser download is needed: it drives the system's Chromium)"
        )
    if configured:
        found = shutil.which(configured)
        if found is None:
            return None, f"browser_executable {configured!r} is not an executable; {INSTALL_HINT}"
        return found, None
    for command in BROWSER_COMMANDS:
        found = shutil.which(command)
        if found is not None:
            return found, None
    return None, f"no Chromium found on PATH ({', '.join(BROWSER_COMMANDS)}); {INSTALL_HINT}"


def browser_status(executable: str | None = None, *, timeout: float = 60.0) -> tuple[bool, str]:
    """Can the browser start? (True, "Chromium <version> (<path>)") or (False, what to do).

    Launches the browser once and closes it (about a second), on a thread of its own, so it
    can be called from anywhere, a running event loop included."""
    path, problem = find_browser(executable)
    if path is None:
        return False, problem or INSTALL_HINT
    outcome: list[tuple[bool, str]] = []

    async def probe() -> None:
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await launch_chromium(
                playwright, path, marker=uuid.uuid4().hex, timeout=timeout
            )
            version = browser.version
            await browser.close()
        outcome.append((True, f"Chromium {version} ({path})"))

    def run() -> None:
        try:
            asyncio.run(probe())
        except Exception as exc:  # noqa: BLE001 -- whatever stops it, the answer is "no"
            outcome.append((False, f"{path} could not start: {_first_line(exc)}"))

    thread = threading.Thread(target=run, name="browser-probe", daemon=True)
    thread.start()
    thread.join(timeout + 10)
    if not outcome:
        return False, f"{path} did not start within {timeout:g} s"
    return outcome[0]


# -- the fetcher -----------------------------------------------------------------------------


class BrowserFetcher:
    """Renders pages in headless Chromium; a `PageFetcher`; thread-safe; never raises."""

    def __init__(
        self,
        options: FetchOptions | None = None,
        *,
        address_allowed: netguard.AddressPolicy | None = None,
        resolver: netguard.Resolver = netguard.resolve,
    ) -> None:
        """`address_allowed` and `resolver`: as for `HttpFetcher`, which makes every request
        of the page (the document, its redirects, its subresources)."""
        self.options = options or FetchOptions()
        self._http = HttpFetcher(self.options, address_allowed=address_allowed, resolver=resolver)
        self._lock = threading.Lock()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        # Used on the loop's thread only.
        self._playwright: Playwright | None = None
        self._launch: _Launch | None = None
        self._launches: set[_Launch] = set()  # the current one and retired ones still open
        self._launch_lock: asyncio.Lock | None = None
        self._page_slots: asyncio.Semaphore | None = None
        self.launches = 0  # browsers started so far (restarts show here)

    # -- PageFetcher -------------------------------------------------------------------------

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET and render an HTML page, conditionally if validators are given."""
        started = time.monotonic()
        executable, problem = find_browser(self.options.browser_executable)
        if executable is None:
            return not_fetched(url, error=problem or INSTALL_HINT, error_kind="browser")
        document = self._http.fetch(url, etag=etag, last_modified=last_modified)
        if document.outcome is not Outcome.OK:
            return document  # 304, or an error the plain fetch would report the same way
        deadline_at = started + self.options.deadline
        try:
            loop = self._running_loop()
        except BrowserUnavailableError as exc:
            return _failed(document, started, "browser", str(exc))
        future = asyncio.run_coroutine_threadsafe(
            self._render(document, executable, started, deadline_at), loop
        )
        try:
            return future.result(timeout=max(0.0, deadline_at - time.monotonic()) + CLEANUP_GRACE)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return _failed(document, started, "timeout", self._deadline_message(document, "ending"))
        except Exception as exc:  # a bug of ours: the coroutine turns everything into results
            logger.exception("unexpected error rendering %s", url)
            message = f"unexpected error rendering {url}: {type(exc).__name__}: {exc}"
            return _failed(document, started, "internal", message)

    def fetch_resource(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Feeds and sitemaps need no rendering: the plain fetch, with the same limits."""
        return self._http.fetch_resource(url, etag=etag, last_modified=last_modified)

    def get_text(self, url: str, *, max_bytes: int = ROBOTS_MAX_BYTES) -> FetchResult:
        """robots.txt and the like: the plain fetch."""
        return self._http.get_text(url, max_bytes=max_bytes)

    def close(self) -> None:
        """Close the pages, the browser, Playwright and the loop's thread; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
            except Exception:
                logger.warning("the browser did not close cleanly", exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            if not thread.is_alive():
                loop.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def __enter__(self) -> BrowserFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- observation (tests, benchmarks, the memory ceiling) ----------------------------------

    def browser_pids(self) -> list[int]:
        """The processes of the current browser (its main process first), or [] if none."""
        launch = self._launch
        return browser_process_tree(launch.marker) if launch is not None else []

    # -- the loop's thread ---------------------------------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise BrowserUnavailableError("the browser fetcher is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                loop.set_exception_handler(_log_loop_exception)
                self._launch_lock = asyncio.Lock()
                self._page_slots = asyncio.Semaphore(self.options.browser_pages)
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.options.browser_pages * REQUEST_THREADS_PER_PAGE,
                    thread_name_prefix="browser-requests",
                )
                thread = threading.Thread(
                    target=_run_forever, args=(loop,), name="browser-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _shutdown(self) -> None:
        for launch in list(self._launches):
            await launch.close()
        self._launches.clear()
        self._launch = None
        await self._stop_playwright()
        # What is left (a route handler still waiting for a subresource, Playwright's own
        # tasks) ends here, not when the stopped loop is collected.
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _stop_playwright(self) -> None:
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            with contextlib.suppress(Exception):  # the driver may be gone already
                await playwright.stop()

    # -- one page --------------------------------------------------------------------------

    async def _render(
        self, document: FetchResult, executable: str, started: float, deadline_at: float
    ) -> FetchResult:
        """The rendered page as a result (never raises but when cancelled)."""
        step = ["waiting for a browser page"]  # what the deadline interrupted, for its message
        launch: _Launch | None = None
        assert self._page_slots is not None
        try:
            async with asyncio.timeout(deadline_at - time.monotonic()):
                async with self._page_slots:
                    step[0] = "starting the browser"
                    launch = await self._current_launch(executable)
                    return await self._render_page(launch, document, started, deadline_at, step)
        except TimeoutError:
            message = self._deadline_message(document, step[0])
            return _failed(document, started, "timeout", message)
        except BrowserUnavailableError as exc:
            return _failed(document, started, "browser", str(exc))
        except Exception as exc:
            url = document.final_url or document.url
            if not _is_playwright_error(exc):
                logger.exception("unexpected error rendering %s", url)
                message = f"unexpected error rendering {url}: {type(exc).__name__}: {exc}"
                return _failed(document, started, "internal", message)
            if launch is not None and not launch.connected:
                message = (
                    f"the browser closed while rendering {url} (crashed or killed; it is "
                    "started again for the next page)"
                )
            else:
                message = f"the browser failed rendering {url}: {_first_line(exc)}"
            return _failed(document, started, "browser", message)

    async def _render_page(
        self,
        launch: _Launch,
        document: FetchResult,
        started: float,
        deadline_at: float,
        step: list[str],
    ) -> FetchResult:
        loop = asyncio.get_running_loop()
        document_url = urldefrag(document.final_url or document.url).url
        page_state = _PageState(
            document=document,
            document_url=document_url,
            site=site_of(urlsplit(document_url).hostname or ""),
            last_activity=loop.time(),
        )
        launch.open_pages += 1
        launch.pages_started += 1
        context: BrowserContext | None = None
        try:
            context = await launch.browser.new_context(
                user_agent=self.options.user_agent,
                service_workers="block",  # a worker's requests would escape the route handler
                accept_downloads=False,
            )
            context.set_default_timeout(0)  # the fetch's deadline bounds every step instead

            async def route(route: Route, request: Request) -> None:
                await self._answer(page_state, route, request)

            await context.route("**/*", route)
            page = await context.new_page()
            step[0] = "loading the page"
            await page.goto(document_url, wait_until="commit")
            # readyState, not Playwright's load event: a navigation the route handler refuses
            # (a script sending the page elsewhere) leaves Playwright waiting for a load event
            # of a document that never comes, while this one has loaded.
            await page.wait_for_function("document.readyState === 'complete'", polling=50)
            step[0] = "waiting for the page's requests to finish"
            # Bounded so that a page that has loaded is not lost to the deadline by waiting
            # on requests that may never end (a second is left for reading the DOM).
            settle_limit = min(SETTLE_SECONDS, deadline_at - time.monotonic() - 1.0)
            await page_state.settle(loop, settle_limit)
            step[0] = "reading the rendered page"
            html = await page.content()
            screenshot = None
            if self.options.browser_screenshots:
                step[0] = "taking the screenshot"
                screenshot = await _screenshot(page)
        finally:
            if context is not None:
                with contextlib.suppress(Exception):  # the browser may be gone
                    await asyncio.shield(context.close())
            launch.open_pages -= 1
            await self._after_page(launch)
        logger.debug(
            "rendered %s: %d requests fetched, %d refused",
            document_url,
            page_state.fetched,
            page_state.refused,
        )
        rendered = self._rendered(document, html, started, page_state.bytes_read)
        return dataclasses.replace(rendered, screenshot=screenshot) if screenshot else rendered

    def _rendered(
        self, document: FetchResult, html: str, started: float, subresource_bytes: int
    ) -> FetchResult:
        body = html.encode("utf-8", errors="replace")
        if len(body) > self.options.max_bytes:
            message = f"rendered page larger than {format_size(self.options.max_bytes)} cap"
            return _failed(document, started, "too_large", message)
        # Decoded back as any capture is re-read later (the contract: text is what
        # decode_html makes of body), so a re-extraction reads exactly what this one did.
        text, encoding = decode_html(body, "utf-8")
        headers = {k: v for k, v in document.headers.items() if k not in _WIRE_HEADERS}
        mime, _ = parse_content_type(document.headers.get("content-type"))
        # The stored body is the rendered DOM in UTF-8, whatever the server sent.
        headers["content-type"] = f"{mime or 'text/html'}; charset=utf-8"
        return dataclasses.replace(
            document,
            headers=headers,
            body=body,
            text=text,
            encoding=encoding,
            elapsed=time.monotonic() - started,
            bytes_read=document.bytes_read + subresource_bytes,
        )

    # -- the route handler: every request the page makes ----------------------------------------

    async def _answer(self, page_state: _PageState, route: Route, request: Request) -> None:
        loop = asyncio.get_running_loop()
        page_state.begin(loop)
        try:
            await self._answer_request(page_state, route, request)
        except Exception as exc:  # noqa: BLE001 -- page or browser gone: nobody to answer
            logger.debug("request %s not answered: %s", request.url, _first_line(exc))
        finally:
            page_state.end(loop)

    async def _answer_request(self, page_state: _PageState, route: Route, request: Request) -> None:
        url = request.url
        main_frame = _is_main_frame(request)
        if request.is_navigation_request() and main_frame:
            if not page_state.document_served:
                # The page's first navigation is ours (a new page starts at about:blank).
                # Matched by order, not by URL: Chromium normalises the URL (an IDN host in
                # punycode, a path percent-encoded), and the site is taken from its form.
                page_state.document_served = True
                page_state.site = site_of(urlsplit(url).hostname or "")
                document = page_state.document
                await route.fulfill(
                    status=document.status or 200,
                    headers=_browser_headers(document.headers),
                    body=document.body or b"",
                )
                return
            # Any later navigation of the page (see the module's docstring). "aborted" cancels
            # it quietly, leaving the document in place ("failed" would show an error page).
            page_state.refused += 1
            await route.abort("aborted")
            return
        reason = self._refusal(page_state, request, main_frame)
        if reason is not None:
            page_state.refused += 1
            logger.debug("refused %s (%s)", url, reason)
            await route.abort("blockedbyclient")
            return
        executor = self._executor
        assert executor is not None
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(executor, self._http.fetch_resource, url)
        page_state.bytes_read += result.bytes_read
        final_host = urlsplit(result.final_url or url).hostname or ""
        if result.final_url and not same_site(final_host, page_state.site):
            # Redirected off the page's site: the HTTP stack followed it (guarded), but the
            # answer is a third party's, refused like a direct third-party request.
            page_state.refused += 1
            await route.abort("blockedbyclient")
            return
        if result.body is not None and result.status is not None:
            page_state.fetched += 1
            await route.fulfill(
                status=result.status, headers=_browser_headers(result.headers), body=result.body
            )
        elif result.error_kind == "http_status" and result.status is not None:
            page_state.fetched += 1  # the page sees the status (a 404 its script may handle)
            await route.fulfill(
                status=result.status, headers=_browser_headers(result.headers), body=b""
            )
        else:
            page_state.refused += 1
            logger.debug("could not fetch %s for the page: %s", url, result.error)
            refused = result.error_kind in ("private_network", "bad_url")
            await route.abort("blockedbyclient" if refused else "failed")

    @staticmethod
    def _refusal(page_state: _PageState, request: Request, main_frame: bool) -> str | None:
        """Why the page may not make this request, or None if it may."""
        if request.method != "GET":
            return f"{request.method} request"
        if request.resource_type in BLOCKED_RESOURCE_TYPES:
            return request.resource_type
        if request.resource_type == "document" or not main_frame:
            return "frame"
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            return f"{parts.scheme}: URL"
        if not same_site(parts.hostname or "", page_state.site):
            return "third party"
        return None

    # -- the browser's life ----------------------------------------------------------------

    async def _current_launch(self, executable: str) -> _Launch:
        assert self._launch_lock is not None
        async with self._launch_lock:
            launch = self._launch
            if launch is not None and launch.connected and not launch.retired:
                return launch
            if launch is not None:
                self._launch = None
                await self._retire(launch)
            self._launch = await self._start_browser(executable)
            return self._launch

    async def _start_browser(self, executable: str) -> _Launch:
        try:
            from playwright.async_api import async_playwright
        except ImportError as exc:
            raise BrowserUnavailableError(f"the playwright package cannot be used: {exc}") from exc
        marker = uuid.uuid4().hex
        browser: Browser | None = None
        while browser is None:
            fresh = self._playwright is None
            try:
                if self._playwright is None:
                    self._playwright = await async_playwright().start()
                browser = await launch_chromium(self._playwright, executable, marker=marker)
            except Exception as exc:
                # The driver may have died with the browser (a signal to the process group):
                # start it afresh, once, before calling the browser broken.
                await self._stop_playwright()
                if fresh:
                    raise BrowserUnavailableError(
                        f"the browser could not start ({executable}): {_first_line(exc)}"
                    ) from exc
        launch = _Launch(browser=browser, marker=marker)
        self.launches += 1
        browser.on("disconnected", lambda _browser: launch.lost())
        self._launches.add(launch)
        logger.info("browser started: Chromium %s (%s)", browser.version, executable)
        return launch

    async def _after_page(self, launch: _Launch) -> None:
        if not launch.retired and launch.connected:
            if launch.pages_started >= self.options.browser_max_pages_per_launch:
                logger.info("restarting the browser after %d pages", launch.pages_started)
                launch.retired = True
            elif self.options.browser_max_memory_mb > 0:
                loop = asyncio.get_running_loop()
                pids = await loop.run_in_executor(None, browser_process_tree, launch.marker)
                held = await loop.run_in_executor(None, memory_bytes, pids)
                if held > self.options.browser_max_memory_mb * MB:
                    logger.info(
                        "restarting the browser: its processes hold %s, over the %d MB ceiling",
                        format_size(held),
                        self.options.browser_max_memory_mb,
                    )
                    launch.retired = True
        if launch.retired or not launch.connected:
            if launch is self._launch and launch.open_pages == 0:
                self._launch = None  # the next page starts a new one
            if launch is not self._launch:
                await self._retire(launch)

    async def _retire(self, launch: _Launch) -> None:
        """Close `launch` now if no page is open in it; else its last page will."""
        launch.retired = True
        if launch.open_pages == 0:
            self._launches.discard(launch)
            await launch.close()

    def _deadline_message(self, document: FetchResult, step: str) -> str:
        url = document.final_url or document.url
        return f"gave up after the {self.options.deadline:g} s deadline {step} ({url})"


@dataclass(eq=False)
class _Launch:
    """One browser process and what is known about it."""

    browser: Browser
    marker: str  # the value of MARKER_SWITCH on its command line
    pages_started: int = 0
    open_pages: int = 0
    retired: bool = False  # no new pages; closed when its open pages are done
    disconnected: bool = False

    @property
    def connected(self) -> bool:
        return not self.disconnected and self.browser.is_connected()

    def lost(self) -> None:
        self.disconnected = True

    async def close(self) -> None:
        if self.connected:
            with contextlib.suppress(Exception):
                await self.browser.close()


@dataclass(eq=False)
class _PageState:
    """What the route handler knows about the page it serves."""

    document: FetchResult
    document_url: str  # where the browser is sent: the final URL, without a fragment
    site: str  # see site_of()
    last_activity: float  # loop time a request last began or ended
    document_served: bool = False
    in_flight: int = 0
    fetched: int = 0
    refused: int = 0
    bytes_read: int = 0  # subresource bodies

    def begin(self, loop: asyncio.AbstractEventLoop) -> None:
        self.in_flight += 1
        self.last_activity = loop.time()

    def end(self, loop: asyncio.AbstractEventLoop) -> None:
        self.in_flight -= 1
        self.last_activity = loop.time()

    async def settle(self, loop: asyncio.AbstractEventLoop, limit: float) -> None:
        """Wait until no request has been in flight for IDLE_SECONDS, or `limit` seconds.

        Counted from the route handler, which sees every request the page makes; a page that
        polls for ever just waits out the limit."""
        give_up_at = loop.time() + limit
        while loop.time() < give_up_at:
            if self.in_flight == 0 and loop.time() - self.last_activity >= IDLE_SECONDS:
                return
            await asyncio.sleep(0.05)


# -- helpers ---------------------------------------------------------------------------------


async def _screenshot(page: Page) -> bytes:
    """A PNG of the page from its top, at most `SCREENSHOT_MAX_HEIGHT` pixels tall (a long live
    blog would otherwise make an image of tens of megabytes)."""
    height = await page.evaluate(
        "Math.max(document.documentElement.scrollHeight, "
        "document.body ? document.body.scrollHeight : 0)"
    )
    width = page.viewport_size["width"] if page.viewport_size else 1280
    clip_height = max(1, min(int(height or 0), SCREENSHOT_MAX_HEIGHT))
    return await page.screenshot(
        type="png",
        full_page=True,
        clip={"x": 0, "y": 0, "width": width, "height": clip_height},
        animations="disabled",
    )


async def launch_chromium(
    playwright: Playwright, executable: str, *, marker: str, timeout: float = LAUNCH_TIMEOUT
) -> Browser:
    """Start headless Chromium with the fetcher's flags (`LAUNCH_ARGS`: no network of its
    own, no background services); shared by everything here that renders with it."""
    return await playwright.chromium.launch(
        executable_path=executable,
        args=[*LAUNCH_ARGS, f"{MARKER_SWITCH}={marker}"],
        headless=True,
        # The tracker decides when the browser closes (close(), at shutdown), not a signal
        # that reaches the driver.
        handle_sigint=False,
        handle_sigterm=False,
        handle_sighup=False,
        timeout=timeout * 1000,
    )


def site_of(host: str) -> str:
    """The registrable domain of `host` ("bbc.co.uk" for "www.bbc.co.uk"), by the public
    suffix list; the host itself for IP addresses and names without a public suffix."""
    host = host.lower().rstrip(".").strip("[]")
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return host
    try:
        from tld import get_fld  # the public suffix list, installed with trafilatura (courlan)
    except ImportError:  # pragma: no cover - without it: the host, less a leading "www."
        return host.removeprefix("www.")
    return get_fld(host, fix_protocol=True, fail_silently=True) or host


def same_site(host: str, site: str) -> bool:
    """Is `host` the page's site or a subdomain of it?"""
    host = host.lower().rstrip(".").strip("[]")
    return host == site or host.endswith("." + site)


def browser_process_tree(marker: str) -> list[int]:
    """The browser launched with `marker` and all its descendants (Linux /proc; [] elsewhere)."""
    proc = Path("/proc")
    parents: dict[int, int] = {}
    root: int | None = None
    needle = f"{MARKER_SWITCH}={marker}".encode()
    try:
        entries = [entry for entry in os.listdir(proc) if entry.isdigit()]
    except OSError:
        return []
    for entry in entries:
        pid = int(entry)
        try:
            stat = (proc / entry / "stat").read_text()
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
            if root is None and needle in (proc / entry / "cmdline").read_bytes():
                root = pid
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    if root is None:
        return []
    tree = [root]
    for pid in tree:  # grows while iterating: breadth-first over the children
        tree.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def resident_bytes(pids: Iterable[int]) -> int:
    """The summed VmRSS of `pids`. Chromium's processes share much of their memory (its
    code, shared memory between them), which this counts once per process: about twice the
    tree's real footprint. See `memory_bytes` for the footprint."""
    return sum(_proc_field(pid, "status", "VmRSS:") or 0 for pid in pids)


def memory_bytes(pids: Iterable[int]) -> int:
    """The memory `pids` hold together: the summed proportional set size (Pss, where shared
    pages are split between the processes sharing them), or VmRSS for a process whose
    smaps_rollup cannot be read (a kernel before 4.14)."""
    total = 0
    for pid in pids:
        pss = _proc_field(pid, "smaps_rollup", "Pss:")
        total += pss if pss is not None else _proc_field(pid, "status", "VmRSS:") or 0
    return total


def _proc_field(pid: int, name: str, field: str) -> int | None:
    """A "<field> <n> kB" line of /proc/<pid>/<name>, in bytes; None if unreadable."""
    try:
        with open(f"/proc/{pid}/{name}", encoding="ascii", errors="replace") as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None  # the process ended, or another user's
    return None


def _browser_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in _WIRE_HEADERS}


def _is_main_frame(request: Request) -> bool:
    try:
        return request.frame.parent_frame is None
    except Exception:  # noqa: BLE001 -- a request of no frame (a worker's): not the page
        return False


def _is_playwright_error(exc: BaseException) -> bool:
    try:
        from playwright.async_api import Error
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, Error)


def _failed(document: FetchResult, started: float, kind: str, message: str) -> FetchResult:
    """An error result that keeps what the document's fetch established (status, URLs)."""
    return dataclasses.replace(
        document,
        outcome=Outcome.ERROR,
        body=None,
        text=None,
        encoding=None,
        etag=None,
        last_modified=None,
        error=message,
        error_kind=kind,
        retry_after=None,
        elapsed=time.monotonic() - started,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _log_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A browser killed mid-page leaves Playwright futures nobody awaits any more; that is
    # expected here (the page's result already says so), not worth an error in the log.
    logger.debug("browser loop: %s", context.get("message"), exc_info=context.get("exception"))


register_fetcher(BROWSER_FETCHER, BrowserFetcher)

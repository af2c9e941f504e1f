"""Fetching behind one interface: what a fetch returns, the `PageFetcher` protocol, the registry.

Everything that fetches - the check engine (pages), the feed poller (feeds and sitemaps) and
the robots.txt cache - holds a `PageFetcher`, never a concrete class. Fetchers are found by
name in a registry, so another way of fetching (a headless browser) is one new module that
calls `register_fetcher()` at import, plus its line in `FETCHER_MODULES`; the plain HTTP
fetcher (`tracker.net.http`) is "http", the default.

The contract every fetcher keeps (callers rely on it, and do not check):

* it never raises for anything a site or the network does: every failure is a `FetchResult`
  with outcome ERROR, a stable `error_kind` from `ERROR_KINDS` (the scheduler backs off,
  retires on 404/410 and honours Retry-After by it) and one readable `error` line for people
  ("internal" is a bug of the fetcher's own, logged with its traceback);
* every request it makes, each redirect hop and sub-resource included, passes the
  private-network guard (`tracker.net.netguard`) unless `options.allow_private_networks`;
* it honours its `FetchOptions`: the overall deadline, `max_bytes`, `max_redirects`, the
  user agent and the proxy;
* no state follows from one fetch to the next (no cookie jar: metered paywalls count visits
  by cookie, and a paywall appearing would look like an edit);
* a page's `text` is decoded from its `body` as `tracker.net.charset.decode_html` does, so an
  old capture re-read later reads the same;
* it is thread-safe: the engine calls `fetch()` from many threads at once.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol, get_args, runtime_checkable

from tracker import __version__

# How a story's (or feed's) pages are fetched: plain HTTP, the headless browser, or "auto"
# (plain HTTP, the browser only when the page turns out to be an app shell).
RenderMode = Literal["auto", "http", "browser"]
RENDER_MODES: tuple[str, ...] = get_args(RenderMode)

DEFAULT_USER_AGENT = f"tracker/{__version__} (live-story update tracker)"
MB = 1024 * 1024
# RFC 9309 asks crawlers to parse at least the first 500 KiB of a robots.txt.
ROBOTS_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class FetchOptions:
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0
    max_redirects: int = 5
    max_bytes: int = 10 * MB
    allow_private_networks: bool = False
    # An HTTP proxy for every request (the environment's proxy variables are never read).
    # Left out of the repr: it may carry the proxy's password.
    proxy: str | None = field(default=None, repr=False)
    # The "browser" fetcher (tracker.net.browser): which Chromium (None: found on PATH), pages
    # rendered at once, and when the browser is restarted (after that many pages, or when its
    # processes hold more than that many MB; 0: no ceiling).
    browser_executable: str | None = None
    browser_pages: int = 2
    browser_max_pages_per_launch: int = 200
    browser_max_memory_mb: int = 1024
    browser_screenshots: bool = False  # a PNG of each rendered page (FetchResult.screenshot)


class Outcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


@dataclass(frozen=True)
class FetchResult:
    outcome: Outcome
    url: str  # as requested
    final_url: str | None  # after redirects (the last URL requested)
    status: int | None
    headers: dict[str, str]  # of the final response, names lower-cased
    body: bytes | None  # decompressed body bytes, for the capture store
    text: str | None  # decoded body (the HTML page, for fetch())
    encoding: str | None  # Python codec name used for `text`
    etag: str | None  # validator to send next time (on 304: the server's, else the one sent)
    last_modified: str | None
    error: str | None  # one human-readable line
    error_kind: str | None  # stable code, see ERROR_KINDS
    retry_after: float | None  # seconds, from Retry-After on 429/503
    elapsed: float  # seconds
    bytes_read: int  # decompressed body bytes received (what max_bytes limits)
    redirects: tuple[str, ...] = ()  # URLs that answered with a redirect, in order
    screenshot: bytes | None = field(default=None, repr=False)  # PNG, rendered pages only

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


ERROR_KINDS = frozenset(
    {
        "timeout",
        "dns",
        "tls",
        "connection",
        "http_status",
        "not_html",
        "too_large",
        "redirects",
        "private_network",
        "bad_url",
        "decode",
        "proxy",  # the proxy_url proxy could not be reached or failed the request
        "robots",  # not fetched: robots.txt disallows it (see not_fetched)
        "browser",  # the headless browser is missing (what to install is said) or failed
        "extraction",  # fetched, but reading the page ran out of its time budget
        "internal",  # a bug in the tracker, not a property of the site; logged with traceback
    }
)


def not_fetched(url: str, *, error: str, error_kind: str) -> FetchResult:
    """The result of a fetch that was never made (robots.txt disallows it, say)."""
    return FetchResult(
        outcome=Outcome.ERROR,
        url=url,
        final_url=None,
        status=None,
        headers={},
        body=None,
        text=None,
        encoding=None,
        etag=None,
        last_modified=None,
        error=error,
        error_kind=error_kind,
        retry_after=None,
        elapsed=0.0,
        bytes_read=0,
    )


def archived_response(
    url: str, *, status: int, headers: dict[str, str], body: bytes, text: str, encoding: str
) -> FetchResult:
    """A response read from an archive (a WARC record) instead of the network."""
    return FetchResult(
        outcome=Outcome.OK,
        url=url,
        final_url=url,
        status=status,
        headers=headers,
        body=body,
        text=text,
        encoding=encoding,
        etag=None,
        last_modified=None,
        error=None,
        error_kind=None,
        retry_after=None,
        elapsed=0.0,
        bytes_read=len(body),
    )


def format_size(n: int) -> str:
    """A byte count as error messages give it ("10 MB", "1.5 KB", "12 bytes")."""
    for unit, size in (("MB", MB), ("KB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


# -- the interface ---------------------------------------------------------------------------


@runtime_checkable
class PageFetcher(Protocol):
    """Fetches pages, feeds and robots.txt files; keeps the contract in this module's docstring.

    Made by a factory from `FetchOptions` (see `register_fetcher`); closed once, by its owner,
    when no fetch is running any more.
    """

    options: FetchOptions  # the limits it enforces (the engine compares old captures with them)

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET an HTML page, conditionally if validators are given: OK with the decoded page
        in `text`, NOT_MODIFIED, or ERROR ("not_html" for anything that is not a page)."""
        ...

    def fetch_resource(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET any text resource (a feed, a sitemap), conditionally, with the page limits:
        no HTML check; the body is refused, not truncated, past `options.max_bytes`."""
        ...

    def get_text(self, url: str, *, max_bytes: int = ROBOTS_MAX_BYTES) -> FetchResult:
        """GET a small text resource such as robots.txt: any content type, UTF-8 unless
        declared otherwise, body truncated (not refused) at `max_bytes`."""
        ...

    def close(self) -> None:
        """Release what the fetcher holds (connections, processes)."""
        ...


# -- the registry ----------------------------------------------------------------------------

FetcherFactory = Callable[[FetchOptions], PageFetcher]

DEFAULT_FETCHER = "http"
# The fetcher that renders pages in a headless browser: render mode "browser", and what
# "auto" escalates to when the plain page is an app shell.
BROWSER_FETCHER = "browser"
# The modules that register fetchers, imported on first use of the registry rather than with
# this module: what a fetcher needs loads only in processes that fetch. A fetcher module must
# import cheaply; an optional or heavy dependency (a browser) belongs in its factory.
FETCHER_MODULES: tuple[str, ...] = ("tracker.net.http", "tracker.net.browser")

# A name is stored with each story that chooses its fetcher, so it is kept short and plain.
_FETCHER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_FACTORIES: dict[str, FetcherFactory] = {}
_FACTORIES_LOCK = threading.Lock()
_modules_loaded = False


class UnknownFetcherError(ValueError):
    """No fetcher is registered under the name asked for."""


def register_fetcher(name: str, factory: FetcherFactory) -> None:
    """Make `factory` (called with the `FetchOptions` to honour) the fetcher named `name`.

    Called by a fetcher module when it is imported. Registering the same factory again is
    harmless; another factory under a name already taken is refused."""
    if not _FETCHER_NAME.fullmatch(name):
        raise ValueError(
            f"fetcher name {name!r}: up to 32 lower-case letters, digits, '-' or '_', "
            "starting with a letter"
        )
    with _FACTORIES_LOCK:
        registered = _FACTORIES.get(name)
        if registered is not None and registered is not factory:
            raise ValueError(f"a fetcher named {name!r} is already registered: {registered!r}")
        _FACTORIES[name] = factory


def fetcher_names() -> tuple[str, ...]:
    """The names of the registered fetchers, sorted."""
    _load_fetcher_modules()
    with _FACTORIES_LOCK:
        return tuple(sorted(_FACTORIES))


def new_fetcher(name: str, options: FetchOptions) -> PageFetcher:
    """A new fetcher of the kind registered as `name`, honouring `options`; the caller closes
    it. Raises UnknownFetcherError, naming the known fetchers, if there is no such kind."""
    _load_fetcher_modules()
    with _FACTORIES_LOCK:
        factory = _FACTORIES.get(name)
    if factory is None:
        known = ", ".join(fetcher_names()) or "none"
        raise UnknownFetcherError(f"unknown fetcher {name!r} (known fetchers: {known})")
    return factory(options)


def _load_fetcher_modules() -> None:
    # Not under the lock: a module being imported by another thread registers under it, and
    # importing twice is harmless (the second import finds the module already loaded).
    global _modules_loaded
    if _modules_loaded:
        return
    for module in FETCHER_MODULES:
        importlib.import_module(module)
    _modules_loaded = True

"""Which fetcher checks a story: its render mode, decided without I/O.

A story (or its feed, or the `render` setting) says how its pages are fetched:

- ``http``: a plain fetch, always;
- ``browser``: rendered in headless Chromium, always (no conditional GET: the shell a browser
  starts from says nothing about the data its scripts fetch);
- ``auto`` (the default): a plain fetch; when the page turns out to be an app shell that only
  a browser would read (its extraction health says ``app-shell`` or ``javascript-required``,
  and the article was not found in the data the page carries), the same check renders it in
  the browser and keeps the rendered article. A story whose latest version needed the browser
  goes straight to it from then on.

Every choice made by ``auto`` carries a reason, stored with the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.net.fetcher import BROWSER_FETCHER, DEFAULT_FETCHER

if TYPE_CHECKING:  # a verdict is handed in; reading one (extraction) is not needed here
    from tracker.core.health import Health

__all__ = ["FetchPlan", "escalation", "plan_fetch", "rendered_is_better"]


@dataclass(frozen=True)
class FetchPlan:
    """The fetcher to start with, and why (None: the mode left no choice)."""

    fetcher: str
    reason: str | None
    may_escalate: bool  # "auto" on a plain fetch: a shell may still be rendered


def plan_fetch(mode: str, last_fetcher: str | None) -> FetchPlan:
    """The first fetch of a check of a story in render `mode` whose latest version was got by
    `last_fetcher`."""
    if mode == "browser":
        return FetchPlan(BROWSER_FETCHER, None, may_escalate=False)
    if mode == "auto" and last_fetcher == BROWSER_FETCHER:
        return FetchPlan(
            BROWSER_FETCHER,
            "render auto: the latest version needed the browser",
            may_escalate=False,
        )
    return FetchPlan(DEFAULT_FETCHER, None, may_escalate=mode == "auto")


def escalation(plan: FetchPlan, source: str | None, verdict: Health | None) -> str | None:
    """Why the plain page of an "auto" story should be rendered in a browser; None if not.

    Only a page read from its markup escalates: an article found in the page's data is the
    article, however bare the markup around it."""
    if not plan.may_escalate or verdict is None or not verdict.wants_browser:
        return None
    if source not in (None, "html"):
        return None
    signs = "; ".join(reason.message for reason in verdict.reasons)
    return f"render auto: the plain page needs a browser ({signs}): rendered in the browser"


def rendered_is_better(plain_words: int, rendered: Health | None, rendered_words: int) -> bool:
    """Keep the browser's article over the plain one? When it reads as an article, or at least
    holds more words than the shell gave."""
    if rendered is None or rendered_words == 0:
        return False
    return not rendered.suspect or rendered_words > plain_words

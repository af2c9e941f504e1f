"""An article's life after publication: unpublished, redirected, moved, paywalled, back. Pure.

A story's page can stop being the article without the article being edited: the site takes
it down (404/410), sends its URL somewhere else (the section front, the home page, another
site), moves it to a new slug, or hides it behind a paywall and leaves a teaser. Each is an
event a desk wants to know about, and none of them is a version: a home page or a teaser
stored as the next version would read as "every paragraph deleted".

`observe` takes what the story was (`LifecycleState`), what one check saw (`Observation`)
and `now`, and returns the events to record and the story's new state. The states:

- ``live``: the page is the article (the normal case);
- ``unpublished``: it answered 404 or 410 after the story had a version; the event comes
  with the first such answer (the existing ``story_gone`` comes after several, when the
  tracker gives up);
- ``redirected``: it redirects to a page that is not the article (the target is recorded);
- ``paywalled``: the article collapsed to a short teaser on a page that shows a paywall
  marker (see `paywall_marker`).

``republished`` is the way back to ``live`` from any of the three; its detail says what
ended ("the page answers with the article again after being unpublished", "the paywall was
lifted"). ``slug_changed`` is not a state: the same article at a new address on the same site
(a redirect to it, or the page declaring a new canonical URL) is one story whose address
moved; the story's canonical URL follows it.

While a story is redirected or paywalled, what the page shows is withheld (`Step.withhold`):
no version is stored, so the history keeps the last full article and the story page says
what happened instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from tracker.core.discover import canonical_within_site, canonicalise_url, same_site


class Lifecycle(StrEnum):
    """Where a story's page stands (stored in ``stories.lifecycle``)."""

    LIVE = "live"
    UNPUBLISHED = "unpublished"
    REDIRECTED = "redirected"
    PAYWALLED = "paywalled"


class LifecycleEvent(StrEnum):
    """The lifecycle events; each is also an alert a channel can subscribe to."""

    UNPUBLISHED = "unpublished"
    REDIRECTED = "redirected"
    SLUG_CHANGED = "slug_changed"
    PAYWALLED = "paywalled"
    REPUBLISHED = "republished"


LIFECYCLE_EVENTS: Final = tuple(str(kind) for kind in LifecycleEvent)
# How each reads in a list of events and in the changes view.
EVENT_LABELS: Final = {
    LifecycleEvent.UNPUBLISHED: "Unpublished",
    LifecycleEvent.REDIRECTED: "Redirected",
    LifecycleEvent.SLUG_CHANGED: "Moved",
    LifecycleEvent.PAYWALLED: "Paywalled",
    LifecycleEvent.REPUBLISHED: "Republished",
}

GONE_STATUSES: Final = frozenset({404, 410})
# The page still has at least this share of the previous version's words: the same article
# (edited, perhaps), not another page. A home page or a section front keeps almost none.
SAME_ARTICLE_SHARE: Final = 0.5
# A paywalled teaser keeps less than this share of the article's words.
TEASER_SHARE: Final = 0.5


@dataclass(frozen=True)
class LifecycleState:
    """What a story was before this check."""

    state: Lifecycle = Lifecycle.LIVE
    # The article's address as last seen live: its canonical URL, or where a redirect led.
    # None: not seen yet (set by the first live check, which records no event).
    live_url: str | None = None
    # Whether the story has a version: before the first one there is no article to lose.
    has_version: bool = True


@dataclass(frozen=True)
class Observation:
    """What one check saw of the story's page."""

    url: str  # the story's URL, as requested
    status: int | None  # the final response's HTTP status; None: no response
    # Whether the page answered (2xx, or 304: the page as last stored). False for errors.
    answered: bool = False
    # Whether it gave article text (or was not read again: 304, or the article's region as
    # last read). False for a page with no article in it.
    article: bool = True
    final_url: str | None = None  # after redirects
    canonical_url: str | None = None  # as the page declared it; None: none, or not read
    # The share of the previous version's words the page still has (1.0: the very same
    # article); None when there is nothing to compare.
    kept_share: float | None = None
    # What shows the page is behind a paywall (see `paywall_marker`); None: nothing does.
    paywall: str | None = None


@dataclass(frozen=True)
class Happening:
    """One lifecycle event to record."""

    kind: LifecycleEvent
    detail: str  # in words, for people
    data: dict[str, str | int | None]  # the facts: from, to, status


@dataclass(frozen=True)
class Step:
    """What `observe` decided."""

    state: LifecycleState
    events: tuple[Happening, ...] = ()
    # The page is not the article now (redirected elsewhere, paywalled): store no version.
    withhold: bool = False


def observe(previous: LifecycleState, seen: Observation, now: datetime) -> Step:
    """The lifecycle events one check makes, and the story's state after it. Pure.

    `now` is taken for the contract every core decision keeps; the events are stamped with
    it by the caller."""
    del now  # no decision here depends on the time; the caller dates the events
    if not previous.has_version:
        # No article to lose yet; only where it is, once it is read.
        if seen.answered and seen.article and previous.live_url is None:
            where = _address(seen, _redirect_target(seen)) or _canonical(seen.url)
            return Step(LifecycleState(previous.state, where, has_version=False))
        return Step(previous)
    if seen.status in GONE_STATUSES:
        if previous.state is Lifecycle.UNPUBLISHED:
            return Step(previous)  # once per episode, not once per check
        event = Happening(
            LifecycleEvent.UNPUBLISHED,
            f"Unpublished: the page answered {seen.status}",
            {"status": seen.status, "from": previous.live_url or seen.url, "to": None},
        )
        return Step(_with(previous, Lifecycle.UNPUBLISHED), (event,))
    if not seen.answered:
        return Step(previous)  # a network error or an empty page says nothing about this

    redirect = _redirect_target(seen)
    same_article = seen.article and (
        seen.kept_share is None or seen.kept_share >= SAME_ARTICLE_SHARE
    )
    if (
        seen.paywall is not None
        and seen.article
        and seen.kept_share is not None
        and seen.kept_share < TEASER_SHARE
    ):
        if previous.state is Lifecycle.PAYWALLED:
            return Step(previous, withhold=True)
        event = Happening(
            LifecycleEvent.PAYWALLED,
            f"Paywalled: the article collapsed to a teaser ({seen.paywall})",
            {"status": seen.status, "from": None, "to": None, "marker": seen.paywall},
        )
        return Step(_with(previous, Lifecycle.PAYWALLED), (event,), withhold=True)
    if redirect is not None and not (same_article and same_site(seen.url, redirect)):
        if previous.state is Lifecycle.REDIRECTED:
            return Step(previous, withhold=True)
        elsewhere = "another site" if not same_site(seen.url, redirect) else "another page"
        event = Happening(
            LifecycleEvent.REDIRECTED,
            f"Redirected to {elsewhere}: {redirect}",
            {"status": seen.status, "from": seen.url, "to": redirect},
        )
        return Step(_with(previous, Lifecycle.REDIRECTED), (event,), withhold=True)

    if not seen.article:
        return Step(previous)  # an empty page at the story's address: not a lifecycle matter
    # The page is the article.
    events: list[Happening] = []
    if previous.state is not Lifecycle.LIVE:
        events.append(
            Happening(
                LifecycleEvent.REPUBLISHED,
                _REPUBLISHED[previous.state],
                {"status": seen.status, "from": None, "to": None, "after": str(previous.state)},
            )
        )
    address = _address(seen, redirect)
    live_url = previous.live_url
    if live_url is None:
        # First sight (a story tracked before lifecycles were): where the article is now,
        # nothing moved.
        live_url = address or _canonical(seen.url)
    elif address is not None and address != live_url and same_article:
        events.append(
            Happening(
                LifecycleEvent.SLUG_CHANGED,
                f"Moved to {address} (was {live_url})",
                {"status": seen.status, "from": live_url, "to": address},
            )
        )
        live_url = address
    return Step(LifecycleState(Lifecycle.LIVE, live_url, True), tuple(events))


_REPUBLISHED: Final = {
    Lifecycle.UNPUBLISHED: "Republished: the page answers with the article again",
    Lifecycle.REDIRECTED: "Republished: the page no longer redirects away from the article",
    Lifecycle.PAYWALLED: "Republished: the paywall was lifted, the full article is back",
}


def _with(previous: LifecycleState, state: Lifecycle) -> LifecycleState:
    return LifecycleState(state, previous.live_url, previous.has_version)


def _canonical(url: str) -> str | None:
    try:
        return canonicalise_url(url)
    except ValueError:
        return None


def _redirect_target(seen: Observation) -> str | None:
    """Where the page's redirects led, if they led to another address than the story's."""
    if not seen.final_url:
        return None
    target = _canonical(seen.final_url)
    return target if target != _canonical(seen.url) else None


def _address(seen: Observation, redirect: str | None) -> str | None:
    """The article's address as this check shows it: the canonical URL the page declared
    (on its own site), else where a redirect led; None when the check shows neither (no
    canonical link and no redirect, or a page not read again), which is no evidence of a
    move."""
    declared = canonical_within_site(seen.url, seen.canonical_url, seen.final_url)
    return declared or redirect


def kept_share(previous_words: int, words_removed: int) -> float:
    """The share of the previous version's words a new text kept, from a word diff's
    counts (no second diff)."""
    if previous_words <= 0:
        return 1.0
    return max(0.0, previous_words - words_removed) / previous_words


# Signs of a paywall a newsroom engineer would accept, cheapest first. Looked for only when
# the article text collapsed, so a marker on a free page (a meter counting free reads)
# never makes a full article "paywalled".
_NOT_FREE = re.compile(r"""["']?isAccessibleForFree["']?\s*:\s*["']?false\b""", re.IGNORECASE)
_WALL_ELEMENT = re.compile(
    r"""\b(?:class|id)\s*=\s*["'][^"']*?"""
    r"""\b(paywall|pay-wall|regwall|subscriber-only|subscribers-only|subscriber-content"""
    r"""|premium-content|meter|metered|piano-offer)\b""",
    re.IGNORECASE,
)
_WALL_TEXT = re.compile(
    r"subscribe\s+(?:now\s+)?to\s+(?:continue\s+reading|read\s+(?:the\s+full|more|this))"
    r"|(?:this\s+(?:article|story|content)\s+is\s+(?:only\s+)?(?:for|available\s+to)\s+subscribers)"
    r"|(?:to\s+continue\s+reading,?\s+(?:please\s+)?(?:subscribe|log\s+in|sign\s+in))"
    r"|(?:already\s+a\s+subscriber\?)",
    re.IGNORECASE,
)
_SCAN_CHARS = 2_000_000  # a page's first 2 MB: markers sit in the head and around the teaser


def paywall_marker(html: str | None) -> str | None:
    """What on `html` says it is behind a paywall, in words; None: nothing does.

    Generic signals: schema.org's ``isAccessibleForFree: false`` (Google's paywalled-content
    markup, often with ``hasPart.cssSelector`` naming the hidden part), an element whose class
    or id names a paywall, a subscriber-only block or a meter, and the words of a wall
    ("Subscribe to continue reading")."""
    if not html:
        return None
    page = html[:_SCAN_CHARS]
    if _NOT_FREE.search(page):
        return "schema.org isAccessibleForFree: false"
    element = _WALL_ELEMENT.search(page)
    if element:
        return f"a '{element.group(1).lower()}' element"
    words = _WALL_TEXT.search(page)
    if words:
        return f"“{' '.join(words.group(0).split())}”"
    return None

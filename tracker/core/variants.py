"""Headline A/B tests and paragraphs that come and go: when a change is only a flip. Pure.

Many sites serve two or more headlines at random, and some show a paragraph to some readers
only (personalisation, geo variants). Each flip looks like an edit; stored as one, it would
make a version and an alert every few checks while nothing was written. The rule, documented
once here (and for users in docs/developing-stories.md, "Headline variants"):

- A change is a *candidate flip* when, against the latest version, nothing moved but the
  headline and/or whole paragraphs that appeared or disappeared, the other paragraphs still
  in the same order, and the byline, dates, canonical URL and live-blog entries unchanged.
- A *return* is a flip back to a state the story had earlier in its recent history: the
  headline back to one an earlier version had (A → B → A), a paragraph present again after
  it was gone, or gone again after it came back (present → absent → present → absent).
- The recent history is the last `WINDOW_VERSIONS` versions stored within `WINDOW`, taken
  from the newest back while they read the same apart from the flipping parts (a real edit
  ends it). At the *second* return in that history (counting this check) the headlines that
  were served at least twice are recognised as the story's headline variants, and the
  paragraph as a varying paragraph. The check that recognises them stores no version; its
  one event ("variants detected") is an alert of its own kind, once per story.
- From then on a candidate flip between *known* variants (the latest version's headline and
  the new one both known, every paragraph that came or went known) stores no version and
  sends no alert: it counts the serving. Anything else is a version as before: a new
  headline, a body edit, a byline change, a paragraph never seen to flip.

Limits: the first return (A → B → A) is still a version, as a revert may well be news; a
desk that really rewrites a headline back and forth twice within the window is taken for a
test; live blogs (compared entry by entry) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final


class VariantKind(StrEnum):
    HEADLINE = "headline"
    PARAGRAPH = "paragraph"


# The recent history a return is looked for in, and how many returns make a test.
WINDOW_VERSIONS: Final = 10
WINDOW: Final = timedelta(days=7)
RETURNS_TO_RECOGNISE: Final = 2


@dataclass(frozen=True)
class Reading:
    """A version, or a page just read, as the variant rules see it."""

    headline: str | None
    paragraphs: tuple[str, ...]
    # What else a version stores that must not have moved (byline, dates, canonical URL,
    # live-blog entries): a flip changes nothing but the headline and whole paragraphs.
    rest: tuple[object, ...]
    at: datetime
    # Checks that read it: a version's own check and the unchanged ones until the next.
    served: int = 1


@dataclass(frozen=True)
class Known:
    """A story's recognised variants."""

    headlines: frozenset[str] = frozenset()
    paragraphs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Recognised:
    """A variant recognised by this check, with what its history showed of it."""

    kind: VariantKind
    text: str
    first_seen_at: datetime
    last_seen_at: datetime
    # Versions of the history that served it (this check is counted by the caller).
    served: int


@dataclass(frozen=True)
class Flip:
    """The change is a flip between variants: no version, no alert; `recognised` lists the
    variants this check recognised (empty when they were all known already)."""

    recognised: tuple[Recognised, ...] = ()


def judge(history: Sequence[Reading], current: Reading, known: Known, now: datetime) -> Flip | None:
    """Whether `current` is only a flip from `history[0]` (the latest version; `history` is
    newest first). None: it is a change like any other, to be stored and alerted."""
    if not history:
        return None
    latest = history[0]
    if latest.rest != current.rest:
        return None
    headline_moved = latest.headline != current.headline
    came_or_went = frozenset(latest.paragraphs).symmetric_difference(current.paragraphs)
    if _steady(latest.paragraphs, came_or_went) != _steady(current.paragraphs, came_or_went):
        return None  # the paragraphs that stayed were edited or moved: a real edit
    if not headline_moved and not came_or_went:
        return None
    headline_known = not headline_moved or {latest.headline, current.headline} <= known.headlines
    new_paragraphs = came_or_went - known.paragraphs
    if headline_known and not new_paragraphs:
        return Flip()
    run = _recent_run(history, current, known, came_or_went, headline_moved, now)
    recognised: list[Recognised] = []
    if not headline_known:
        states = [reading.headline for reading in run]
        if _returns(states) < RETURNS_TO_RECOGNISE:
            return None
        served_twice = {h for h in states if h is not None and states.count(h) >= 2}
        if not {latest.headline, current.headline} <= served_twice | known.headlines:
            return None
        for headline in sorted(served_twice - known.headlines):
            recognised.append(_recognised(VariantKind.HEADLINE, headline, run[:-1], now))
    for paragraph in sorted(new_paragraphs):
        if _returns([paragraph in reading.paragraphs for reading in run]) < RETURNS_TO_RECOGNISE:
            return None
        recognised.append(_recognised(VariantKind.PARAGRAPH, paragraph, run[:-1], now))
    return Flip(tuple(recognised))


def served(known: Known, reading: Reading) -> list[tuple[VariantKind, str]]:
    """The known variants a page shows."""
    shown: list[tuple[VariantKind, str]] = []
    if reading.headline in known.headlines and reading.headline is not None:
        shown.append((VariantKind.HEADLINE, reading.headline))
    shown.extend(
        (VariantKind.PARAGRAPH, p) for p in sorted(known.paragraphs & set(reading.paragraphs))
    )
    return shown


def _steady(paragraphs: Sequence[str], varying: frozenset[str]) -> tuple[str, ...]:
    return tuple(p for p in paragraphs if p not in varying)


def _recent_run(
    history: Sequence[Reading],
    current: Reading,
    known: Known,
    came_or_went: frozenset[str],
    headline_moved: bool,
    now: datetime,
) -> list[Reading]:
    """The recent versions that read as `current` does but for its flipping parts, oldest
    first, then `current`: from the newest back to the first that differs otherwise."""
    varying = came_or_went | known.paragraphs

    def shape(reading: Reading) -> tuple[object, ...]:
        if headline_moved:
            headline: object = None
        elif reading.headline in known.headlines:
            headline = known.headlines  # any known variant reads as the same
        else:
            headline = reading.headline
        return (reading.rest, _steady(reading.paragraphs, varying), headline)

    wanted = shape(current)
    run: list[Reading] = []
    for reading in history[:WINDOW_VERSIONS]:
        if reading.at < now - WINDOW or shape(reading) != wanted:
            break
        run.append(reading)
    run.reverse()
    run.append(current)
    return run


def _returns(states: Sequence[object]) -> int:
    """How often the state came back to one it had before the one it left (A B A: once)."""
    return sum(
        1
        for i in range(2, len(states))
        if states[i] != states[i - 1] and states[i] in states[: i - 1]
    )


def _recognised(
    kind: VariantKind, text: str, history: Sequence[Reading], now: datetime
) -> Recognised:
    def shows(reading: Reading) -> bool:
        if kind is VariantKind.HEADLINE:
            return reading.headline == text
        return text in reading.paragraphs

    showing = [reading for reading in history if shows(reading)]
    return Recognised(
        kind,
        text,
        first_seen_at=min((r.at for r in showing), default=now),
        last_seen_at=max((r.at for r in showing), default=now),
        served=sum(r.served for r in showing),
    )

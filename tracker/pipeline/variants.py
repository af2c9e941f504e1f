"""A check's part in headline variants and paragraphs that come and go (tracker.core.variants).

`flip` decides, inside the check's transaction, whether a changed page is only a flip between
a story's variants (recognising them from its recent versions when they have flipped often
enough); `count_served` counts the variants a page shows, for stories that have them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core import changes
from tracker.core.article import Article
from tracker.core.diffing import DiffStats
from tracker.core.kinds import is_substantive
from tracker.core.variants import (
    WINDOW,
    WINDOW_VERSIONS,
    Known,
    Reading,
    Recognised,
    VariantKind,
    judge,
    served,
)
from tracker.store.models import Check, CheckOutcome, Story, Version
from tracker.store.variant_models import StoryVariant

# What a flip can look like to `compare`: a headline, paragraphs in or out, or a paragraph
# swapped for another (paired by similarity as an edit). Anything else is never a flip, and
# such checks need not read the history at all.
_FLIP_KINDS = frozenset(
    {
        changes.ChangeKind.HEADLINE,
        changes.ChangeKind.PARAGRAPHS_ADDED,
        changes.ChangeKind.PARAGRAPHS_REMOVED,
        changes.ChangeKind.TEXT_EDITED,
    }
)


@dataclass(frozen=True)
class FlipRecorded:
    """A flip, recorded: `detected` says what this check recognised in a story that had no
    variants before (the event's detail); None when the story already had them."""

    detected: str | None = None


def flip(
    session: Session, story: Story, article: Article | None, kinds: Iterable[str], now: datetime
) -> FlipRecorded | None:
    """Whether `article` (a changed page of `story`) is only a flip between variants; if so,
    the variants it recognised are stored. None: store a version as for any change."""
    kinds = frozenset(kinds)
    if article is None or article.entries or not kinds or not kinds <= _FLIP_KINDS:
        return None
    rows = session.execute(
        select(
            Version.title,
            Version.text,
            Version.byline,
            Version.published,
            Version.canonical_url,
            Version.entries,
            Version.captured_at,
        )
        .where(Version.story_id == story.id)
        .order_by(Version.seq.desc())
        .limit(WINDOW_VERSIONS)
    ).all()
    history = [
        _reading(
            r.title, r.text, r.byline, r.published, r.canonical_url, bool(r.entries), r.captured_at
        )
        for r in rows
    ]
    variants = _variants(session, story) if story.variants_since is not None else []
    reading, known = _article_reading(article, now), _known(variants)
    verdict = judge(history, reading, known, now)
    if verdict is None:
        return None
    if verdict.recognised:  # rare: only now are the servings worth reading from the checks
        verdict = judge(_with_checks(session, story, history, now), reading, known, now)
        assert verdict is not None  # the servings do not change the decision
    for found in verdict.recognised:
        session.add(_row(story, found))
    if not verdict.recognised or story.variants_since is not None:
        return FlipRecorded()
    story.variants_since = now
    return FlipRecorded(detected=describe(verdict.recognised))


def beside_variants(session: Session, story: Story, article: Article | None, comparison: C) -> C:
    """The change a version of a story with headline variants makes, without the headline
    when it only went from one known variant to another (the latest version had A, the page
    serves B and its body was edited): the edit is news, the A/B test is not. Otherwise
    `comparison` as it is."""
    replaced = comparison.previous_title
    if story.variants_since is None or article is None or replaced is None:
        return comparison
    known = _known(_variants(session, story)).headlines
    if replaced not in known or article.title not in known:
        return comparison
    kinds = comparison.kinds - {changes.ChangeKind.HEADLINE}
    return dataclasses.replace(
        comparison,  # type: ignore[type-var]
        kinds=kinds,
        summary=changes.describe(kinds, comparison.stats),
        substantive=is_substantive(kinds),
        previous_title=None,
    )


class _ComparisonLike(Protocol):
    """The fields of `tracker.pipeline.check.Comparison` read here (it imports this module)."""

    @property
    def kinds(self) -> frozenset[str]: ...
    @property
    def stats(self) -> DiffStats: ...
    @property
    def previous_title(self) -> str | None: ...


C = TypeVar("C", bound=_ComparisonLike)


def _with_checks(
    session: Session, story: Story, history: list[Reading], now: datetime
) -> list[Reading]:
    """`history` (newest first) with each version's servings: its own check and the checks
    after it that read the page and found it unchanged, until the next version. Only checks
    before the story had variants: later ones may have been flips, counted live."""
    if not history:
        return history
    query = select(Check.started_at).where(
        Check.story_id == story.id,
        Check.outcome == CheckOutcome.UNCHANGED,
        Check.started_at >= max(history[-1].at, now - WINDOW),
    )
    if story.variants_since is not None:
        query = query.where(Check.started_at < story.variants_since)
    extra = [0] * len(history)
    for started_at in session.scalars(query):
        # The newest version captured before the check: the page it found unchanged.
        for index, reading in enumerate(history):
            if reading.at <= started_at:
                extra[index] += 1
                break
    return [replace(r, served=1 + n) for r, n in zip(history, extra, strict=True)]


def count_served(session: Session, story: Story, article: Article | None, now: datetime) -> None:
    """Count a serving of each variant the page shows; without `article` (the page was not
    read again: it is as last read) the ones shown last time."""
    variants = _variants(session, story)
    if article is not None:
        shown = set(served(_known(variants), _article_reading(article, now)))
        for variant in variants:
            variant.present = (VariantKind(variant.kind), variant.text) in shown
    for variant in variants:
        if variant.present:
            variant.times_served += 1
            variant.last_seen_at = now


def describe(recognised: Sequence[Recognised]) -> str:
    """The event's detail: what was recognised, in words."""
    headlines = [r.text for r in recognised if r.kind is VariantKind.HEADLINE]
    paragraphs = [r.text for r in recognised if r.kind is VariantKind.PARAGRAPH]
    parts = []
    if headlines:
        quoted = " | ".join(f"“{h}”" for h in headlines)
        parts.append(f"Headline variants detected (an A/B test): {quoted}.")
    if paragraphs:
        first = paragraphs[0] if len(paragraphs[0]) <= 200 else paragraphs[0][:199] + "…"
        more = f" and {len(paragraphs) - 1} more" if len(paragraphs) > 1 else ""
        parts.append(f"A paragraph comes and goes: “{first}”{more}.")
    parts.append("Flips between them make no versions or alerts from now on.")
    return " ".join(parts)[:4000]


def variant_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _variants(session: Session, story: Story) -> list[StoryVariant]:
    return list(
        session.scalars(
            select(StoryVariant).where(StoryVariant.story_id == story.id).order_by(StoryVariant.id)
        )
    )


def _known(variants: Sequence[StoryVariant]) -> Known:
    return Known(
        headlines=frozenset(v.text for v in variants if v.kind == VariantKind.HEADLINE),
        paragraphs=frozenset(v.text for v in variants if v.kind == VariantKind.PARAGRAPH),
    )


def _row(story: Story, found: Recognised) -> StoryVariant:
    return StoryVariant(
        story_id=story.id,
        kind=found.kind,
        digest=variant_digest(found.text),
        text=found.text,
        first_seen_at=found.first_seen_at,
        last_seen_at=found.last_seen_at,
        times_served=found.served,
        present=False,  # count_served sets it from the page
    )


def _article_reading(article: Article, now: datetime) -> Reading:
    return _reading(
        article.title,
        article.text,
        article.byline,
        article.published,
        article.canonical_url,
        bool(article.entries),
        now,
    )


def _reading(
    title: str | None,
    text: str,
    byline: str | None,
    published: str | None,
    canonical_url: str | None,
    live: bool,
    at: datetime,
) -> Reading:
    return Reading(
        headline=title,
        paragraphs=tuple(changes.paragraphs(text)),
        rest=(byline, published, canonical_url, live),
        at=at,
    )

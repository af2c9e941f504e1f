"""Byline and date changes as lines of the diff: "Byline: Jane Doe → Jane Doe and John Roe".

A change kind badge says *that* the byline or a date changed; a reader wants to see *what*
it was and what it became, where the rest of the change is shown. Each changed field is a
small diff of its own, shown above the article's: the byline word by word (a co-author
added reads as an insertion), a date whole (half a timestamp struck out reads as noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

from tracker.core.diffing import (
    DELETE,
    EQUAL,
    INSERT,
    DiffStats,
    Op,
    WordDiff,
    count_words,
    diff_to_json,
    word_diff,
)

# (attribute, what a reader calls it), in the order shown.
FIELDS: Final = (("byline", "Byline"), ("published", "Published"), ("modified", "Updated"))


class HasFields(Protocol):
    """What a version (or an extracted article) offers: its byline and dates."""

    @property
    def byline(self) -> str | None: ...

    @property
    def published(self) -> str | None: ...

    @property
    def modified(self) -> str | None: ...


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions, and its diff."""

    field: str  # "byline", "published" or "modified"
    label: str  # "Byline", "Published", "Updated"
    before: str | None
    after: str | None
    diff: WordDiff

    def labelled(self) -> WordDiff:
        """The diff with its label in front, as one line reads: "Byline: Jane [+and John+]"."""
        return WordDiff(
            ops=((EQUAL, f"{self.label}: "), *self.diff.ops),
            stats=self.diff.stats,
            coarse=self.diff.coarse,
            coarse_reason=self.diff.coarse_reason,
        )


def field_changes(before: HasFields, after: HasFields) -> tuple[FieldChange, ...]:
    """The byline and dates that changed from `before` to `after`, in FIELDS order."""
    changes = []
    for field, label in FIELDS:
        old = (getattr(before, field) or "").strip()
        new = (getattr(after, field) or "").strip()
        if old == new:
            continue
        diff = word_diff(old, new) if field == "byline" else _replacement(old, new)
        changes.append(FieldChange(field, label, old or None, new or None, diff))
    return tuple(changes)


def _replacement(old: str, new: str) -> WordDiff:
    ops: tuple[Op, ...] = tuple(op for op in ((DELETE, old), (INSERT, new)) if op[1])
    stats = DiffStats(count_words(new), count_words(old), len(new), len(old))
    return WordDiff(ops=ops, stats=stats, coarse=False)


def field_change_to_json(change: FieldChange) -> dict[str, Any]:
    """A JSON-ready dict: the field, its label, both values and the diff's ops."""
    return {
        "field": change.field,
        "label": change.label,
        "before": change.before,
        "after": change.after,
        "diff": diff_to_json(change.diff),
    }

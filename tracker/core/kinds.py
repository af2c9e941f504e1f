"""The vocabulary of change: what kinds of change and edit types there are, their order and
their names in words. Pure data and ranking, nothing that reads a text.

Kept apart from `tracker.core.changes` (which classifies) and `tracker.core.edit_types`
(which reads sentences) so that settings, channel filters and the CLI's start-up can name
kinds without importing the classifiers and their compiled patterns (issue 14: `tracker list`
and `tracker --version` import only what they need).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

NUMBER_CHANGED: Final = "number_changed"
QUOTE_ADDED: Final = "quote_added"
QUOTE_REMOVED: Final = "quote_removed"
QUOTE_CHANGED: Final = "quote_changed"
NAME_ADDED: Final = "name_added"
NAME_REMOVED: Final = "name_removed"
CORRECTION_NOTE: Final = "correction_note"
WORDING: Final = "wording"
SILENT_CORRECTION: Final = "silent_correction"  # of a version, not of one sentence

# Every type, facts first: what channels may subscribe to (with the change kinds).
EDIT_TYPES: Final[tuple[str, ...]] = (
    NUMBER_CHANGED,
    QUOTE_CHANGED,
    QUOTE_REMOVED,
    QUOTE_ADDED,
    NAME_REMOVED,
    NAME_ADDED,
    CORRECTION_NOTE,
    SILENT_CORRECTION,
    WORDING,
)

# The types that change what a story states, as opposed to how it says it.
FACT_TYPES: Final = frozenset(
    {NUMBER_CHANGED, QUOTE_ADDED, QUOTE_REMOVED, QUOTE_CHANGED, NAME_ADDED, NAME_REMOVED}
)


class ChangeKind(StrEnum):
    FIRST = "first"  # first version of a story
    HEADLINE = "headline"
    PARAGRAPHS_ADDED = "paragraphs_added"
    PARAGRAPHS_REMOVED = "paragraphs_removed"
    TEXT_EDITED = "text_edited"
    BYLINE = "byline"
    DATES = "dates"  # published/modified changed
    CORRECTION = "correction"  # a correction/clarification note appended
    MINOR = "minor"  # punctuation/whitespace/case only
    # A live blog's entries (tracker.core.liveblog), compared entry by entry.
    ENTRY_ADDED = "entry_added"
    ENTRY_EDITED = "entry_edited"
    ENTRY_REMOVED = "entry_removed"


# Each kind in words, for people (web pages, the CLI, e-mail, feeds); machines get the value.
KIND_LABELS: Final[dict[str, str]] = {
    ChangeKind.FIRST: "first version",
    ChangeKind.HEADLINE: "headline",
    ChangeKind.PARAGRAPHS_ADDED: "paragraphs added",
    ChangeKind.PARAGRAPHS_REMOVED: "paragraphs removed",
    ChangeKind.TEXT_EDITED: "text edited",
    ChangeKind.BYLINE: "byline",
    ChangeKind.DATES: "dates",
    ChangeKind.CORRECTION: "correction",
    ChangeKind.MINOR: "minor",
    ChangeKind.ENTRY_ADDED: "live entry added",
    ChangeKind.ENTRY_EDITED: "live entry edited",
    ChangeKind.ENTRY_REMOVED: "live entry removed",
    # The edit types (tracker.core.edit_types), which channels filter on with the kinds.
    "number_changed": "figure changed",
    "quote_changed": "quote changed",
    "quote_removed": "quote removed",
    "quote_added": "quote added",
    "name_removed": "name removed",
    "name_added": "name added",
    "correction_note": "correction note",
    "silent_correction": "silent correction",
    "wording": "wording",
}


def kind_label(kind: ChangeKind | str) -> str:
    """A kind in words ("paragraphs removed"); an unknown value as it is."""
    return KIND_LABELS.get(str(kind), str(kind))


# Least to most significant, for "alert me from kind X up" filters. Removals rank above
# additions: a quietly deleted paragraph is the stealth edit readers most want to know of.
# FIRST ranks top so a "minimum kind" filter never drops the first version of a new story;
# a channel that wants no first versions should exclude FIRST explicitly.
KIND_ORDER: Final[tuple[ChangeKind, ...]] = (
    ChangeKind.MINOR,
    ChangeKind.DATES,
    ChangeKind.BYLINE,
    ChangeKind.TEXT_EDITED,
    ChangeKind.ENTRY_EDITED,
    ChangeKind.PARAGRAPHS_ADDED,
    ChangeKind.ENTRY_ADDED,
    ChangeKind.PARAGRAPHS_REMOVED,
    ChangeKind.ENTRY_REMOVED,
    ChangeKind.CORRECTION,
    ChangeKind.HEADLINE,
    ChangeKind.FIRST,
)
_RANK: Final = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

_NOT_SUBSTANTIVE: Final = frozenset({ChangeKind.MINOR, ChangeKind.DATES, ChangeKind.BYLINE})


def severity(kind: ChangeKind | str) -> int:
    """Rank of a kind in `KIND_ORDER` (0 = least significant)."""
    return _RANK[ChangeKind(kind)]


def most_severe(kinds: Iterable[ChangeKind | str]) -> ChangeKind | None:
    ranked = [ChangeKind(kind) for kind in kinds]
    return max(ranked, key=severity) if ranked else None


def meets_minimum(kinds: Iterable[ChangeKind | str], minimum: ChangeKind | str) -> bool:
    """True when any of `kinds` is at least as significant as `minimum`."""
    top = most_severe(kinds)
    return top is not None and severity(top) >= severity(minimum)


def is_substantive(kinds: Iterable[ChangeKind | str]) -> bool:
    """False for no change and for changes that are only MINOR, DATES and/or BYLINE."""
    return any(ChangeKind(kind) not in _NOT_SUBSTANTIVE for kind in kinds)

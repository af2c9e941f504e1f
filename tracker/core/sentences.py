"""Sentences of an article, and how two versions' sentences line up. Pure functions.

Research on how news is revised (NewsEdits and its predecessors) counts edits sentence by
sentence: a sentence is *added*, *removed*, *changed* (a revision of a sentence still
there) or *moved* (the same sentence elsewhere). :func:`align` finds them:

1. identical sentences are matched first, in order, wherever they are;
2. of those pairs, the longest run that kept its relative order stayed put; every other
   identical pair **moved**;
3. the sentences left on both sides are paired by word similarity, best pairs first, when
   at least :data:`CHANGED_MIN_SIMILARITY` of their words agree: **changed**;
4. what remains was **removed** (before) or **added** (after).

Sentence boundaries come from `sentencex` (rules for ~300 languages, abbreviations and
quotes included), paragraph by paragraph: a sentence never spans a paragraph break.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Final

__all__ = ["CHANGED_MIN_SIMILARITY", "Operation", "SentenceEdit", "align", "split_sentences"]

# Two sentences with at least this share of their words in common (difflib's ratio over
# word sequences) are one sentence revised, not one removed and another added.
CHANGED_MIN_SIMILARITY: Final = 0.5

_PARAGRAPHS = re.compile(r"\n\s*\n")
_WORDS = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class Operation(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class SentenceEdit:
    """One sentence-level edit. Indexes count sentences from 0 in each version."""

    operation: Operation
    before_index: int | None
    after_index: int | None
    before: str | None
    after: str | None
    similarity: float  # 1.0 for a moved sentence, 0.0 for an added or removed one


def split_sentences(text: str, language: str | None = "en") -> list[str]:
    """The sentences of an article's text, paragraph by paragraph, stripped."""
    from sentencex import segment

    language = (language or "en").split("-")[0].lower() or "en"
    sentences: list[str] = []
    for paragraph in _PARAGRAPHS.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        sentences.extend(s.strip() for s in segment(language, paragraph) if s.strip())
    return sentences


def _longest_increasing(values: Sequence[int]) -> set[int]:
    """Positions (into `values`) of one longest strictly increasing subsequence."""
    tails: list[int] = []  # the smallest tail value of an increasing run of each length
    tail_at: list[int] = []  # the position of that tail
    parent = [-1] * len(values)
    for position, value in enumerate(values):
        length = bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(position)
        else:
            tails[length] = value
            tail_at[length] = position
        parent[position] = tail_at[length - 1] if length else -1
    kept: set[int] = set()
    position = tail_at[-1] if tail_at else -1
    while position != -1:
        kept.add(position)
        position = parent[position]
    return kept


def _similarity(before: list[str], after: list[str]) -> float:
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    if matcher.real_quick_ratio() < CHANGED_MIN_SIMILARITY:
        return 0.0
    if matcher.quick_ratio() < CHANGED_MIN_SIMILARITY:
        return 0.0
    return matcher.ratio()


def align(before: Sequence[str], after: Sequence[str]) -> list[SentenceEdit]:
    """The edits that turn the sentences `before` into `after` (unchanged ones left out),
    in the order of the new version, removals where the sentence stood."""
    unused: dict[str, deque[int]] = defaultdict(deque)
    for index, sentence in enumerate(before):
        unused[sentence].append(index)
    identical: list[tuple[int, int]] = []  # (after index, before index), in after order
    for index, sentence in enumerate(after):
        if unused[sentence]:
            identical.append((index, unused[sentence].popleft()))
    in_order = _longest_increasing([b for _, b in identical])
    edits: list[SentenceEdit] = [
        SentenceEdit(Operation.MOVED, b, a, before[b], after[a], 1.0)
        for position, (a, b) in enumerate(identical)
        if position not in in_order
    ]

    matched_before = {b for _, b in identical}
    matched_after = {a for a, _ in identical}
    left_before = [i for i in range(len(before)) if i not in matched_before]
    left_after = [i for i in range(len(after)) if i not in matched_after]
    words_before = {i: _WORDS.findall(before[i].lower()) for i in left_before}
    words_after = {i: _WORDS.findall(after[i].lower()) for i in left_after}
    candidates = sorted(
        (
            (score, a, b)
            for a in left_after
            for b in left_before
            if (score := _similarity(words_before[b], words_after[a])) >= CHANGED_MIN_SIMILARITY
        ),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    paired_before: set[int] = set()
    paired_after: set[int] = set()
    for score, a, b in candidates:
        if a in paired_after or b in paired_before:
            continue
        paired_after.add(a)
        paired_before.add(b)
        edits.append(SentenceEdit(Operation.CHANGED, b, a, before[b], after[a], round(score, 3)))
    edits.extend(
        SentenceEdit(Operation.ADDED, None, a, None, after[a], 0.0)
        for a in left_after
        if a not in paired_after
    )
    edits.extend(
        SentenceEdit(Operation.REMOVED, b, None, before[b], None, 0.0)
        for b in left_before
        if b not in paired_before
    )

    def position(edit: SentenceEdit) -> tuple[float, int]:
        if edit.after_index is not None:
            return (edit.after_index, 1)
        # A removed sentence sits where its predecessor's match is in the new version.
        assert edit.before_index is not None
        return (_after_position_of(edit.before_index, identical, edits), 0)

    return sorted(edits, key=position)


def _after_position_of(
    before_index: int, identical: list[tuple[int, int]], edits: list[SentenceEdit]
) -> float:
    """Where a removed sentence stood, in the new version's numbering: just after the new
    place of the nearest earlier sentence that survived (identical or changed)."""
    best = -1.0
    survivors = [(b, a) for a, b in identical] + [
        (e.before_index, e.after_index)
        for e in edits
        if e.operation is Operation.CHANGED and e.before_index is not None
    ]
    for b, a in survivors:
        if b is not None and a is not None and b < before_index and a > best:
            best = a
    return best + 0.5

"""Changes-only reading of a diff: unchanged paragraphs folded away around the changes.

A diff of a 40-paragraph article where one figure changed is 39 paragraphs of nothing; the
change is easy to miss. Folding keeps `context` unchanged paragraphs on each side of every
change and replaces each longer unchanged run with one "… 14 unchanged paragraphs …" line.

These are decisions on a sequence of "did this paragraph change?" flags, so the same rule
serves every renderer: inline paragraphs, side-by-side rows, terminal paragraphs, feed
entries. Two rules beyond the context:

- A fold never hides a single paragraph: its separator would take that paragraph's place
  and save nothing, so a lone unchanged paragraph between two contexts is shown instead.
  Neighbouring changes whose contexts touch or nearly touch thus read as one passage.
- A change is a run of consecutive changed paragraphs: what "next change" jumps to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# Paragraphs of context on each side of a change. News paragraphs are long (two or three
# sentences); two of them on each side say where a change sits, more is reading the article.
CONTEXT_PARAGRAPHS: Final = 2
# Longer articles open folded. A news paragraph runs 40-60 words: twelve fill about two
# desktop screens (four on a phone), beyond which a one-word change is easily scrolled
# past; and one change with its context (5 paragraphs) is then under half of what is read.
# Shorter articles are shown whole: the fold would save less than a screen.
LONG_ARTICLE_PARAGRAPHS: Final = 12
# The shortest unchanged run worth a separator line (see the module docstring).
MIN_FOLD: Final = 2


@dataclass(frozen=True)
class Span:
    """Paragraphs `start` to `stop` (exclusive) of a diff: shown, or folded into one line."""

    start: int
    stop: int
    folded: bool

    def __len__(self) -> int:
        return self.stop - self.start


def fold_unchanged(changed: Sequence[bool], context: int | None) -> tuple[Span, ...]:
    """Which paragraphs to show and which to fold, in order, covering every paragraph.

    `changed[i]` says whether paragraph i holds a change. `context` is how many unchanged
    paragraphs to keep on each side of a change (0: the changes alone); None folds nothing.
    A diff without any change folds whole (a headline-only edit shows one separator).
    """
    count = len(changed)
    if context is not None and context < 0:
        raise ValueError(f"context must be 0 or more paragraphs, not {context}")
    if count == 0:
        return ()
    if context is None:
        return (Span(0, count, folded=False),)
    # Distance from each paragraph to the nearest change, in two passes (no context loops).
    far = count + context + 1
    distance = [far] * count
    last = -far
    for index, flag in enumerate(changed):
        if flag:
            last = index
        distance[index] = index - last
    last = 2 * far
    for index in range(count - 1, -1, -1):
        if changed[index]:
            last = index
        distance[index] = min(distance[index], last - index)
    shown = [d <= context for d in distance]
    # Runs too short to fold are shown after all.
    spans: list[Span] = []
    start = 0
    for index in range(1, count + 1):
        if index == count or shown[index] != shown[start]:
            folded = not shown[start] and index - start >= MIN_FOLD
            if spans and not spans[-1].folded and not folded:
                spans[-1] = Span(spans[-1].start, index, folded=False)
            else:
                spans.append(Span(start, index, folded=folded))
            start = index
    return tuple(spans)


def change_runs(changed: Sequence[bool]) -> tuple[range, ...]:
    """The changes, as runs of consecutive changed paragraphs, in order."""
    runs: list[range] = []
    start: int | None = None
    for index, flag in enumerate([*changed, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append(range(start, index))
            start = None
    return tuple(runs)


def folds_by_default(paragraphs: int) -> bool:
    """Whether a diff of this many paragraphs opens in changes-only mode."""
    return paragraphs > LONG_ARTICLE_PARAGRAPHS


def fold_label(hidden: int, nouns: tuple[str, str] = ("paragraph", "paragraphs")) -> str:
    """The separator's words: "… 14 unchanged paragraphs …" (or entries, for a live blog)."""
    noun = nouns[0] if hidden == 1 else nouns[1]
    return f"… {hidden} unchanged {noun} …"

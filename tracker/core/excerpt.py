"""A change in one line: the first changed sentence, with its changed words marked. Pure.

The changes page lists thousands of versions a page; diffing two article texts for each row
would cost far more than the page may. So the excerpt is decided once, when a version is
written (`change_excerpt`), and stored with it as segments: ``[op, text]`` pairs where op is
``"="`` (unchanged), ``"-"`` (removed) or ``"+"`` (added). Interfaces render the segments:
``<del>``/``<ins>`` on the web, ``[-removed-]{+added+}`` (wdiff's markers) in a terminal.

Decisions:

- Sentences are the unit (``tracker.core.changes.sentences``, a line break always ends
  one): the common run of sentences at the start and at the end is set aside, and the first
  sentence that differs in what is left is the one shown. An edited sentence is shown as a
  word diff of its old and new forms; an added one whole as added, a removed one whole as
  removed.
- A first version has no change: its excerpt is its first sentence, unmarked.
- A version whose text did not change (a headline, byline or date edit) has no excerpt;
  its headline change is told by the previous headline stored beside it.
- Long sentences are cut around the first change ("…" on either side), so one line stays
  one line.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Final

from tracker.core.changes import paragraphs, sentences
from tracker.core.diffing import DELETE, INSERT, word_diff

UNCHANGED: Final = "="
REMOVED: Final = "-"
ADDED: Final = "+"

# How much of a change's sentence an excerpt keeps, and how much of it before the change.
EXCERPT_CHARS: Final = 240
LEAD_CHARS: Final = 60
ELLIPSIS: Final = "…"

Segment = tuple[str, str]
_OPS: Final = {DELETE: REMOVED, INSERT: ADDED}


def text_sentences(text: str) -> list[str]:
    """The sentences of an article's text, in order; a line break always ends one."""
    return [
        sentence
        for paragraph in paragraphs(text)
        for line in paragraph.splitlines()
        if line.strip()
        for sentence in sentences(line.strip())
    ]


def change_excerpt(
    before: str | None, after: str, *, limit: int = EXCERPT_CHARS
) -> list[Segment] | None:
    """The first changed sentence from `before` to `after`, as segments (see the module);
    `before` None: a first version, whose excerpt is its first sentence. None when the
    text did not change (or there is no text)."""
    new = text_sentences(after)
    if before is None:
        return _cut([(UNCHANGED, new[0])], limit) if new else None
    old = text_sentences(before)
    head = 0
    while head < len(old) and head < len(new) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < len(old) - head and tail < len(new) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_middle = old[head : len(old) - tail]
    new_middle = new[head : len(new) - tail]
    if not old_middle and not new_middle:
        return None
    return _cut(_first_change(old_middle, new_middle), limit)


def _first_change(old: Sequence[str], new: Sequence[str]) -> list[Segment]:
    if not old:
        return [(ADDED, new[0])]
    if not new:
        return [(REMOVED, old[0])]
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, _i2, j1, _j2 in matcher.get_opcodes():
        if tag == "insert":
            return [(ADDED, new[j1])]
        if tag == "delete":
            return [(REMOVED, old[i1])]
        if tag == "replace":
            return _sentence_diff(old[i1], new[j1])
    return [(ADDED, new[0])]  # unreachable: the middles differ at their first sentence


def _sentence_diff(old: str, new: str) -> list[Segment]:
    ops = word_diff(old, new, timeout=None).ops
    return [(_OPS.get(op, UNCHANGED), text) for op, text in ops if text]


def _cut(segments: list[Segment], limit: int) -> list[Segment]:
    """At most about `limit` characters, starting shortly before the first change."""
    first_change = next((i for i, (op, _) in enumerate(segments) if op != UNCHANGED), None)
    if first_change is not None and first_change > 0:
        lead = "".join(text for _, text in segments[:first_change])
        if len(lead) > LEAD_CHARS:
            kept = lead[-LEAD_CHARS:]
            kept = kept[kept.find(" ") + 1 :] if " " in kept else kept
            segments = [(UNCHANGED, ELLIPSIS + kept), *segments[first_change:]]
    out: list[Segment] = []
    room = limit
    for op, text in segments:
        if len(text) <= room:
            out.append((op, text))
            room -= len(text)
            continue
        piece = text[:room]
        if " " in piece.strip():
            piece = piece[: piece.rstrip().rfind(" ")]
        if piece.strip():
            out.append((op, piece.rstrip()))
        out.append((UNCHANGED, ELLIPSIS))
        break
    return out


def excerpt_to_json(segments: Sequence[Segment] | None) -> list[list[str]] | None:
    """Segments as stored (a JSON list of ``[op, text]``)."""
    return [[op, text] for op, text in segments] if segments else None


def excerpt_from_json(value: object) -> list[Segment]:
    """Stored segments back; anything malformed is left out rather than shown wrong."""
    if not isinstance(value, list):
        return []
    return [
        (str(item[0]), str(item[1]))
        for item in value
        if isinstance(item, list | tuple)
        and len(item) == 2
        and item[0] in (UNCHANGED, REMOVED, ADDED)
        and isinstance(item[1], str)
    ]


def excerpt_plain(segments: Sequence[Segment]) -> str:
    """One line for a terminal or a log: removed words as ``[-…-]``, added as ``{+…+}``."""
    marks = {UNCHANGED: ("", ""), REMOVED: ("[-", "-]"), ADDED: ("{+", "+}")}
    parts = []
    previous = UNCHANGED
    for op, text in segments:
        if op == UNCHANGED or not text.strip():
            parts.append(text)
            previous = op
            continue
        if previous == REMOVED and op == ADDED:
            parts.append(" ")  # as wdiff prints a replacement: "[-212-] {+284+}"
        previous = op
        # Spaces outside the markers: "[-old-] {+new+}", never "[-old -]".
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        parts.append(lead + marks[op][0] + text.strip() + marks[op][1] + trail)
    return " ".join("".join(parts).split())


def previous_headline(before: str | None, after: str | None) -> str | None:
    """The headline a version replaced, when it replaced one; None otherwise."""
    if before is None or after is None or before.strip() == after.strip():
        return None
    return before

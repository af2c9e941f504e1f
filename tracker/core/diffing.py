"""Word-level diffs between two versions of an article, and the ways we show them.

The diff engine is Google's diff-match-patch. It diffs characters; we make it diff *words*
with its own "lines to chars" trick applied to word tokens: every distinct token (a word, a
run of whitespace, or one punctuation mark) is mapped to one character, the encoded strings
are diffed, and the result is decoded back. Because every edit boundary then falls between
tokens, a diff never splits a word ("cat" -> "cats" shows as a whole word replaced).

Speed comes from anchoring, as diff-match-patch's own line mode does: paragraphs are diffed
first, then sentences inside changed paragraph runs, then words inside changed sentence runs.
A 50 KB article with a few edits thus costs milliseconds instead of a full Myers diff over
~20k tokens. At the word level only the changed middle of a pair is tokenised and diffed
(see `_trimmed_token_diff`), small diffs run in diff-match-patch's compiled C++ port, and
a semantic cleanup that would change nothing is skipped: each gives exactly the answer of
the plain path, which the tests check.

diff-match-patch gives up silently at its deadline (it reports "delete everything, insert
everything" for the part it had not finished). We detect that and flag the diff as *coarse*;
every renderer says so, so nobody mistakes a timed-out diff for a real rewrite.
"""

from __future__ import annotations

import difflib
import html
import itertools
import operator
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from diff_match_patch import diff_match_patch

from tracker.core import folding

try:  # a declared dependency; without it (no wheel for a platform) diffs are just slower
    from fast_diff_match_patch import diff as native_diff
except ImportError:  # pragma: no cover
    native_diff = None

DELETE: Final = -1
EQUAL: Final = 0
INSERT: Final = 1

Op = tuple[int, str]

# A word keeps inner apostrophes ("don't") and separators between digits ("1,000", "3.5",
# "10:44"), so a corrected figure shows as one replaced number, not as a changed digit.
_WORD = r"\w+(?:(?:['’]|(?<=\d)[.,:](?=\d))\w+)*"
_TOKEN_RE: Final = re.compile(rf"{_WORD}|\s+|[^\w\s]")
_WORD_RE: Final = re.compile(_WORD)
_LINE_RE: Final = re.compile(r"[^\n]*\n|[^\n]+")
_PARAGRAPH_BREAK_RE: Final = re.compile(r"\n[^\S\n]*\n\s*")
_TRAILING_BREAK_RE: Final = re.compile(r"\n[^\S\n]*\n\s*\Z")

# One token per character: Python's chr() stops at U+10FFFF.
MAX_DISTINCT_TOKENS: Final = sys.maxunicode + 1

COARSE_TIMEOUT: Final = "timeout"
COARSE_TOO_MANY_TOKENS: Final = "too_many_tokens"

_COARSE_NOTES: Final = {
    COARSE_TIMEOUT: "coarse diff: timed out, some changes are shown as whole-block replacements",
    COARSE_TOO_MANY_TOKENS: "coarse diff: text too large for a word-level diff, diffed by line",
}


@dataclass(frozen=True)
class DiffStats:
    words_added: int
    words_removed: int
    chars_added: int
    chars_removed: int


@dataclass(frozen=True)
class WordDiff:
    """A diff as diff-match-patch ops: (-1 delete | 0 equal | 1 insert, text)."""

    ops: tuple[Op, ...]
    stats: DiffStats
    coarse: bool
    coarse_reason: str | None = None  # COARSE_TIMEOUT or COARSE_TOO_MANY_TOKENS

    @property
    def before(self) -> str:
        return "".join(text for op, text in self.ops if op != INSERT)

    @property
    def after(self) -> str:
        return "".join(text for op, text in self.ops if op != DELETE)

    @property
    def changed(self) -> bool:
        return any(op != EQUAL for op, _ in self.ops)

    @property
    def coarse_note(self) -> str | None:
        if not self.coarse:
            return None
        return _COARSE_NOTES.get(self.coarse_reason or "", _COARSE_NOTES[COARSE_TIMEOUT])


def count_words(text: str) -> int:
    """Words as the diff counts them (the unit of `DiffStats.words_added`)."""
    return len(_WORD_RE.findall(text))


def word_diff(
    before: str,
    after: str,
    *,
    timeout: float | None = 1.0,
    max_tokens: int = MAX_DISTINCT_TOKENS,
) -> WordDiff:
    """Diff two texts word by word.

    `timeout` (seconds, None for no limit) bounds the work: past it the rest of the diff is
    coarser and `coarse` is set. `max_tokens` is the budget of distinct tokens (one character
    each) for one word-level pass; beyond it that pass works line by line (also flagged coarse).
    """
    engine = _Engine(timeout, max(2, max_tokens))
    deadline = None if timeout is None else time.time() + timeout
    ops = _coalesce(_anchored_diff(engine, before, after, 0, deadline))
    coarse_reason = None
    if engine.too_many_tokens:
        coarse_reason = COARSE_TOO_MANY_TOKENS
    elif engine.timed_out:
        coarse_reason = COARSE_TIMEOUT
    return WordDiff(
        ops=ops,
        stats=_stats(ops),
        coarse=coarse_reason is not None,
        coarse_reason=coarse_reason,
    )


# Off only in tests, which check that the compiled diff answers exactly as this one.
_NATIVE = native_diff is not None
_NATIVE_OPS: Final = {"-": DELETE, "=": EQUAL, "+": INSERT}
# Its worst case (every character a change) at this size takes milliseconds.
_NATIVE_MAX_CHARS: Final = 4_000
_NATIVE_MIN_SECONDS: Final = 0.01


class _Engine(diff_match_patch):
    """diff-match-patch that remembers whether it had to give up precision."""

    def __init__(self, timeout: float | None, max_tokens: int) -> None:
        super().__init__()
        # A positive Diff_Timeout also enables the half-match speedup; 0 means "no limit".
        self.Diff_Timeout = timeout if timeout is not None and timeout > 0 else 0
        self.max_tokens = max_tokens
        self.timed_out = False
        self.too_many_tokens = False

    def diff_main(
        self, text1: str, text2: str, checklines: bool = True, deadline: float | None = None
    ) -> list[Op]:
        # The same algorithm compiled (fast-diff-match-patch wraps the C++ port; the tests
        # check it answers as this one does), for small problems only: a large one stays
        # here, where a silent give-up is seen (diff_bisect below). A small one finishes long
        # before a deadline; were it to end past it anyway, it is done again here, so that
        # what gave up is known and flagged as before.
        if not _NATIVE or checklines or len(text1) + len(text2) > _NATIVE_MAX_CHARS:
            return super().diff_main(text1, text2, checklines, deadline)
        if self.Diff_Timeout <= 0:  # no time limit, and (as here) no half-match speedup
            if deadline is not None:
                return super().diff_main(text1, text2, checklines, deadline)
            limit = 0.0
        else:
            if deadline is None:
                deadline = time.time() + self.Diff_Timeout
            limit = deadline - time.time()
            if limit < _NATIVE_MIN_SECONDS:
                return super().diff_main(text1, text2, checklines, deadline)
        diffs = native_diff(
            text1, text2, timelimit=limit, checklines=False, cleanup="No", counts_only=False
        )
        if deadline is not None and time.time() > deadline:
            return super().diff_main(text1, text2, checklines, deadline)
        return [(_NATIVE_OPS[op], text) for op, text in diffs]

    def diff_bisect(self, text1: str, text2: str, deadline: float) -> list[Op]:
        diffs = super().diff_bisect(text1, text2, deadline)
        # diff_bisect answers "delete all, insert all" both when it bailed at the deadline and
        # when the texts share nothing; only the first is coarse.
        if (
            len(diffs) == 2
            and time.time() > deadline
            and diffs[0] == (DELETE, text1)
            and not set(text1).isdisjoint(text2)
        ):
            self.timed_out = True
        return diffs

    def diff_cleanupSemantic(self, diffs: list[Op]) -> None:
        if not _SHORTCUTS or _semantic_cleanup_would_change(diffs):
            super().diff_cleanupSemantic(diffs)

    def diff_cleanupSemanticLossless(self, diffs: list[Op]) -> None:
        # Its scoring reads characters as letters, spaces and line breaks; ours are token ids,
        # so its shifts would be arbitrary. Edits already sit on token boundaries.
        return None


def _semantic_cleanup_would_change(diffs: list[Op]) -> bool:
    """Whether diff_cleanupSemantic (as _Engine runs it) could change these diffs.

    Most word diffs it leaves alone, and saying so costs less than its run: it changes a
    diff only where an equality is no longer than the edits on both sides of it (its first
    pass, followed here to its first hit) or where a deletion and the insertion after it
    overlap (which needs the first character of one inside the other).
    """
    inserted_before = deleted_before = inserted_after = deleted_after = 0
    last_equality = ""
    for op, text in diffs:
        if op == EQUAL:
            inserted_before, deleted_before = inserted_after, deleted_after
            inserted_after = deleted_after = 0
            last_equality = text
            continue
        if op == INSERT:
            inserted_after += len(text)
        else:
            deleted_after += len(text)
        if (
            last_equality
            and len(last_equality) <= max(inserted_before, deleted_before)
            and len(last_equality) <= max(inserted_after, deleted_after)
        ):
            return True
    for (op1, deleted), (op2, inserted) in itertools.pairwise(diffs):
        if (
            op1 == DELETE
            and op2 == INSERT
            and (not deleted or not inserted or inserted[0] in deleted or deleted[0] in inserted)
        ):
            return True
    return False


# Anchoring levels, coarse to fine. A unit ends with the whitespace after it, so unit
# boundaries are always token boundaries and never split a word.
_PARAGRAPH_UNIT_RE: Final = re.compile(r"[^\n]*\n\s*|[^\n]+")
_SENTENCE_UNIT_RE: Final = re.compile(r".*?[.!?…]+[\"'”’»)\]]*(?:\s+|$)|.+", re.DOTALL)
_LEVELS: Final = (_PARAGRAPH_UNIT_RE, _SENTENCE_UNIT_RE)
# Below this size a word-level diff is cheaper than splitting into units first.
_DIRECT_DIFF_CHARS: Final = 1_000


def _anchored_diff(
    engine: _Engine, text1: str, text2: str, level: int, deadline: float | None
) -> list[Op]:
    """Diff two texts, anchoring on paragraphs first, then sentences, then words.

    Only the units that changed go down a level, so unchanged text is never tokenised.
    """
    if text1 == text2:
        return [(EQUAL, text1)] if text1 else []
    if not text1 or not text2:
        return [(DELETE, text1)] if text1 else [(INSERT, text2)]
    if deadline is not None and time.time() > deadline:
        engine.timed_out = True  # out of time: not even worth tokenising
        return [(DELETE, text1), (INSERT, text2)]
    if level == len(_LEVELS) or len(text1) + len(text2) < _DIRECT_DIFF_CHARS:
        return _token_diff(engine, text1, text2, deadline)
    units1 = _LEVELS[level].findall(text1)
    units2 = _LEVELS[level].findall(text2)
    if len(units1) <= 1 and len(units2) <= 1:
        return _anchored_diff(engine, text1, text2, level + 1, deadline)

    result: list[Op] = []
    old: list[str] = []  # the current run of replaced units
    new: list[str] = []

    def flush() -> None:
        # One unit for one: paired or not, they are diffed together one level down.
        pairs = _pair_units(old, new) if old and new and len(old) + len(new) > 2 else None
        if pairs is None:
            result.extend(_anchored_diff(engine, "".join(old), "".join(new), level + 1, deadline))
        else:
            # Units left unpaired between two pairs are diffed together, one level down.
            gap_old: list[str] = []
            gap_new: list[str] = []
            for i, j in [*pairs, (None, None)]:
                if i is not None and j is None:
                    gap_old.append(old[i])
                elif j is not None and i is None:
                    gap_new.append(new[j])
                else:
                    if gap_old or gap_new:
                        gap = _anchored_diff(
                            engine, "".join(gap_old), "".join(gap_new), level + 1, deadline
                        )
                        result.extend(gap)
                        gap_old.clear()
                        gap_new.clear()
                    if i is not None and j is not None:
                        result.extend(_anchored_diff(engine, old[i], new[j], level + 1, deadline))
        old.clear()
        new.clear()

    for op, unit in _unit_diff(engine, units1, units2, deadline):
        if op == DELETE:
            old.append(unit)
        elif op == INSERT:
            new.append(unit)
        else:
            flush()
            result.append((EQUAL, unit))
    flush()
    return result


def _unit_diff(
    engine: _Engine, units1: list[str], units2: list[str], deadline: float | None
) -> list[Op]:
    """Diff two sequences of units: one (op, unit) per unit, in order.

    Units found on one side only cannot be part of any match, so they are set aside before
    the diff and put back after (GNU diff's "discard confusing lines"): when most paragraphs
    were edited, the diff proper then only sees the few that were not.
    """
    common = set(units1).intersection(units2)
    ids = {unit: chr(index) for index, unit in enumerate(common)}  # fewer units than chars
    table = {char: unit for unit, char in ids.items()}
    kept1 = [index for index, unit in enumerate(units1) if unit in common]
    kept2 = [index for index, unit in enumerate(units2) if unit in common]
    encoded = engine.diff_main(
        "".join([ids[units1[index]] for index in kept1]),
        "".join([ids[units2[index]] for index in kept2]),
        False,
        deadline,
    )

    out: list[Op] = []
    position1 = position2 = 0  # next unit of units1 / units2 not yet in `out`
    k1 = k2 = 0  # next kept unit of each side
    for op, chars in encoded:
        for char in chars:
            if op != INSERT:
                target = kept1[k1]
                out.extend((DELETE, unit) for unit in units1[position1:target])
                position1 = target + 1
                k1 += 1
            if op != DELETE:
                target = kept2[k2]
                out.extend((INSERT, unit) for unit in units2[position2:target])
                position2 = target + 1
                k2 += 1
            out.append((op, table[char]))
    out.extend((DELETE, unit) for unit in units1[position1:])
    out.extend((INSERT, unit) for unit in units2[position2:])
    return out


_SIMILAR: Final = 0.3  # Dice coefficient of word bigrams above which units "are the same, edited"
_MAX_ALIGNMENT_CELLS: Final = 1_000


def _bigrams(unit: str) -> frozenset[tuple[str, ...]]:
    words = unit.split()
    return frozenset(itertools.pairwise(words)) or frozenset((word,) for word in words)


def _similar(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def _similar_units(a: str, b: str) -> bool:
    """`_similar(_bigrams(a), _bigrams(b)) >= _SIMILAR`, mostly without making the bigrams.

    Units with as many words, most of them equal in place (an edited unit), share at least
    the bigrams at the places where two equal words follow each other, of which there are
    at least as many as the distinct words starting them; if those alone make the units
    similar (with a margin, against rounding), they are.
    """
    words1, words2 = a.split(), b.split()
    if len(words1) == len(words2) > 1:
        equal = list(map(str.__eq__, words1, words2))
        kept = set(itertools.compress(words1, map(operator.and_, equal, equal[1:])))
        # |A| + |B| <= 2 (n - 1); 2 |A & B| / (|A| + |B|) >= 0.31 > _SIMILAR
        if 200 * len(kept) >= 31 * 2 * (len(words1) - 1):
            return True
    return _similar(_bigrams(a), _bigrams(b)) >= _SIMILAR


def _pair_units(old: list[str], new: list[str]) -> list[tuple[int | None, int | None]] | None:
    """Align a run of replaced units with the units replacing them.

    Most runs are units edited in place, so pairing them one to one (and diffing each pair
    at the finer level) is both what a reader expects and far cheaper than diffing the whole
    run as one. Unpaired units are plain deletions and insertions. A run too long to align
    is not aligned (None): the finer level diffs it as one.
    """
    rows, cols = len(old), len(new)
    if rows == cols and all(map(_similar_units, old, new)):
        return [(i, i) for i in range(rows)]
    if rows * cols > _MAX_ALIGNMENT_CELLS:
        return None
    grams_old = [_bigrams(unit) for unit in old]
    grams_new = [_bigrams(unit) for unit in new]
    # _similar for every cell, counting shared bigrams through an index of the new units':
    # most pairs share none, and are then not visited at all.
    units_with: dict[tuple[str, ...], list[int]] = {}
    for j, grams in enumerate(grams_new):
        for gram in grams:
            units_with.setdefault(gram, []).append(j)
    similarity = []
    for a in grams_old:
        row = [0.0] * cols
        shared = Counter(
            itertools.chain.from_iterable(map(units_with.get, a, itertools.repeat(())))
        )
        for j, count in shared.items():
            row[j] = 2 * count / (len(a) + len(grams_new[j]))
        similarity.append(row)
    # score[i][j]: best total similarity of a monotone pairing of old[i:] with new[j:].
    score = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        below, here, similar = score[i + 1], score[i], similarity[i]
        for j in range(cols - 1, -1, -1):
            best = below[j] if below[j] >= here[j + 1] else here[j + 1]
            if similar[j] >= _SIMILAR and similar[j] + below[j + 1] > best:
                best = similar[j] + below[j + 1]
            here[j] = best
    pairs: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < rows and j < cols:
        if similarity[i][j] >= _SIMILAR and score[i][j] == similarity[i][j] + score[i + 1][j + 1]:
            pairs.append((i, j))
            i += 1
            j += 1
        elif score[i][j] == score[i + 1][j]:
            pairs.append((i, None))
            i += 1
        else:
            pairs.append((None, j))
            j += 1
    pairs.extend((k, None) for k in range(i, rows))
    pairs.extend((None, k) for k in range(j, cols))
    return pairs


def _token_diff(engine: _Engine, text1: str, text2: str, deadline: float | None) -> list[Op]:
    """The word level: diff-match-patch over token strings, one character per token."""
    # Every token fits the budget when there are no more tokens than characters.
    if _SHORTCUTS and len(text1) + len(text2) <= engine.max_tokens:
        return _trimmed_token_diff(engine, text1, text2, deadline)
    encoded = _encode(_TOKEN_RE.findall(text1), _TOKEN_RE.findall(text2), engine.max_tokens)
    if encoded is None:
        engine.too_many_tokens = True
        lines1, lines2 = _LINE_RE.findall(text1), _LINE_RE.findall(text2)
        encoded = _encode(lines1, lines2, engine.max_tokens) or _encode_with_tail(
            lines1, lines2, engine.max_tokens
        )
    chars1, chars2, table = encoded
    diffs = engine.diff_main(chars1, chars2, False, deadline)
    engine.diff_cleanupSemantic(diffs)
    decode = table.__getitem__
    return [(op, "".join(map(decode, map(ord, text)))) for op, text in diffs]


# Off only in tests, which check that the shortcuts answer exactly what the full path does.
_SHORTCUTS = True

# Cutting a text where whitespace meets a non-space character never changes how it is
# tokenised: the whitespace run ends there, and no token looks back across it.
_LAST_CUT_RE: Final = re.compile(r".*\s(?=\S)", re.DOTALL)
_FIRST_CUT_RE: Final = re.compile(r"\s(?=\S)")


def _is_cut(text: str, position: int) -> bool:
    return position in (0, len(text)) or (
        text[position - 1].isspace() and not text[position].isspace()
    )


def _trimmed_token_diff(
    engine: _Engine, text1: str, text2: str, deadline: float | None
) -> list[Op]:
    """`_token_diff`'s answer, for the price of the part that changed.

    diff-match-patch trims the common prefix and suffix, diffs the middle, then cleans up.
    The cleanups read an outer equality (the prefix or the suffix) only to ask whether the
    edit next to it ends (starts) with all of it, to slide the edit over it; an edit is never
    longer than the longer middle. So diffing the middle with the outer equalities cut down
    to one token more than that gives the same answer. The common ends are first found on
    characters and moved back to cuts that tokenise the same either way, so unchanged text
    is mostly not even tokenised. A single edit (one run of tokens replaced, inserted or
    removed) needs no diff at all.
    """
    if text1 == text2:
        return [(EQUAL, text1)] if text1 else []
    length1, length2 = len(text1), len(text2)
    common = engine.diff_commonPrefix(text1, text2)
    if _is_cut(text1, common) and _is_cut(text2, common):
        start = common
    else:
        match = _LAST_CUT_RE.match(text1, 0, common)
        start = match.end() if match else 0
    common = min(engine.diff_commonSuffix(text1, text2), length1 - start, length2 - start)
    if _is_cut(text1, length1 - common) and _is_cut(text2, length2 - common):
        end1 = length1 - common
    else:
        match = _FIRST_CUT_RE.search(text1, length1 - common)
        end1 = match.end() if match else length1
    end2 = end1 - length1 + length2
    tokens1 = _TOKEN_RE.findall(text1, start, end1)
    tokens2 = _TOKEN_RE.findall(text2, start, end2)

    # diff-match-patch's trimming, on tokens: the longest common prefix, then the longest
    # common suffix of what is left.
    prefix = 0
    limit = min(len(tokens1), len(tokens2))
    while prefix < limit and tokens1[prefix] == tokens2[prefix]:
        prefix += 1
    if prefix == limit and end1 < length1:
        # A side used up: the common prefix may run on into the text after the cut. Rare
        # enough to tokenise everything.
        start, end1, end2 = 0, length1, length2
        tokens1, tokens2 = _TOKEN_RE.findall(text1), _TOKEN_RE.findall(text2)
        prefix = 0
        limit = min(len(tokens1), len(tokens2))
        while prefix < limit and tokens1[prefix] == tokens2[prefix]:
            prefix += 1
    count1, count2 = len(tokens1), len(tokens2)
    suffix = 0
    limit -= prefix
    while suffix < limit and tokens1[count1 - 1 - suffix] == tokens2[count2 - 1 - suffix]:
        suffix += 1
    middle1 = tokens1[prefix : count1 - suffix]
    middle2 = tokens2[prefix : count2 - suffix]
    head = text1[:start] + "".join(tokens1[:prefix])
    tail = "".join(tokens1[count1 - suffix :]) + text1[end1:]

    edits = _single_edit(middle1, middle2, head, tail)
    if edits is not None:
        return [*([(EQUAL, head)] if head else []), *edits, *([(EQUAL, tail)] if tail else [])]

    keep = max(len(middle1), len(middle2)) + 1
    head_tokens = tokens1[max(0, prefix - keep) : prefix]
    if len(head_tokens) < keep and start:
        head_tokens = [*_TOKEN_RE.findall(text1, 0, start), *head_tokens][-keep:]
    tail_tokens = tokens1[count1 - suffix : count1 - suffix + keep]
    if len(tail_tokens) < keep and end1 < length1:
        more = itertools.islice(_TOKEN_RE.finditer(text1, end1), keep - len(tail_tokens))
        tail_tokens += [match.group() for match in more]
    # One character per distinct token (fewer than characters, so within the budget).
    table = list(dict.fromkeys(itertools.chain(head_tokens, middle1, middle2, tail_tokens)))
    char_of = dict(zip(table, map(chr, range(len(table))), strict=True)).__getitem__
    head_chars = "".join(map(char_of, head_tokens))
    tail_chars = "".join(map(char_of, tail_tokens))
    diffs = engine.diff_main(
        head_chars + "".join(map(char_of, middle1)) + tail_chars,
        head_chars + "".join(map(char_of, middle2)) + tail_chars,
        False,
        deadline,
    )
    engine.diff_cleanupSemantic(diffs)
    decode = table.__getitem__
    ops = [(op, "".join(map(decode, map(ord, text)))) for op, text in diffs]
    # Put back what was cut off the outer equalities: being longer than any edit, they are
    # still the first and last ops.
    cut_head = head[: len(head) - sum(map(len, head_tokens))]
    if cut_head:
        ops[0] = (EQUAL, cut_head + ops[0][1])
    cut_tail = tail[sum(map(len, tail_tokens)) :]
    if cut_tail:
        ops[-1] = (EQUAL, ops[-1][1] + cut_tail)
    return ops


def _single_edit(middle1: list[str], middle2: list[str], head: str, tail: str) -> list[Op] | None:
    """diff-match-patch's edits when the middles make a single edit, else None.

    Its diff_compute answers a pure insertion or deletion, or a replacement where one side is
    a single token that the other lacks, as such; none of its cleanups changes that, except
    a lone edit sliding over an equal neighbour ("a<ins>b a</ins> c"), left to it.
    """
    if not middle1 or not middle2:
        op, edit = (INSERT, "".join(middle2)) if middle2 else (DELETE, "".join(middle1))
        if head and tail and (edit.endswith(head) or edit.startswith(tail)):
            return None
        return [(op, edit)]
    if (len(middle1) == 1 and middle1[0] not in middle2) or (
        len(middle2) == 1 and middle2[0] not in middle1
    ):
        return [(DELETE, "".join(middle1)), (INSERT, "".join(middle2))]
    return None


def _encode(
    tokens1: list[str], tokens2: list[str], limit: int
) -> tuple[str, str, list[str]] | None:
    table = list(dict.fromkeys(itertools.chain(tokens1, tokens2)))
    if len(table) > limit:
        return None
    char_of = dict(zip(table, map(chr, range(len(table))), strict=True)).__getitem__
    return "".join(map(char_of, tokens1)), "".join(map(char_of, tokens2)), table


def _encode_with_tail(
    tokens1: list[str], tokens2: list[str], limit: int
) -> tuple[str, str, list[str]]:
    # Last resort, as diff-match-patch's own linesToChars: once a text's share of the
    # alphabet is used up, the rest of that text becomes a single token.
    ids: dict[str, int] = {}
    table: list[str] = []
    out: list[str] = []
    for tokens, cap in ((tokens1, max(1, limit * 2 // 3)), (tokens2, limit)):
        chars = []
        for position, token in enumerate(tokens):
            index = ids.get(token)
            if index is None:
                if len(table) >= cap - 1:
                    table.append("".join(tokens[position:]))
                    chars.append(chr(len(table) - 1))
                    break
                index = len(table)
                ids[token] = index
                table.append(token)
            chars.append(chr(index))
        out.append("".join(chars))
    return out[0], out[1], table


def _coalesce(ops: Iterable[Op]) -> tuple[Op, ...]:
    """Drop empty ops; merge each run of changes into one deletion then one insertion."""
    out: list[Op] = []
    deleted: list[str] = []
    inserted: list[str] = []
    equal: list[str] = []

    def flush_changes() -> None:
        if deleted:
            out.append((DELETE, "".join(deleted)))
        if inserted:
            out.append((INSERT, "".join(inserted)))
        deleted.clear()
        inserted.clear()

    for op, text in ops:
        if not text:
            continue
        if op == EQUAL:
            flush_changes()
            equal.append(text)
            continue
        if equal:
            out.append((EQUAL, "".join(equal)))
            equal.clear()
        (deleted if op == DELETE else inserted).append(text)
    flush_changes()
    if equal:
        out.append((EQUAL, "".join(equal)))
    return tuple(out)


def _stats(ops: Iterable[Op]) -> DiffStats:
    words_added = words_removed = chars_added = chars_removed = 0
    for op, text in ops:
        if op == INSERT:
            words_added += count_words(text)
            chars_added += len(text)
        elif op == DELETE:
            words_removed += count_words(text)
            chars_removed += len(text)
    return DiffStats(words_added, words_removed, chars_added, chars_removed)


# --- renderers ---------------------------------------------------------------------------

_OP_NAMES: Final = {DELETE: "delete", EQUAL: "equal", INSERT: "insert"}
_OP_CODES: Final = {name: code for code, name in _OP_NAMES.items()}

_ANSI_DELETE: Final = "\x1b[9;31m"  # red, struck through
_ANSI_INSERT: Final = "\x1b[4;32m"  # green, underlined (readable without colour vision too)
_ANSI_NOTE: Final = "\x1b[2;33m"
_ANSI_RESET: Final = "\x1b[0m"


def render_terminal(diff: WordDiff, *, color: bool = True, context: int | None = None) -> str:
    """The diff as a string for a terminal.

    With `color`, ANSI escapes: deletions red and struck through, insertions green and
    underlined. Without, git's plain word-diff markers: ``[-deleted-]`` and ``{+inserted+}``.
    With `context`, changes-only: unchanged paragraphs further than `context` paragraphs
    from a change fold into one "… 14 unchanged paragraphs …" line (see core.folding).
    """
    parts = []
    note = diff.coarse_note
    if note:
        parts.append(f"{_ANSI_NOTE}[{note}]{_ANSI_RESET}\n" if color else f"[{note}]\n")
    if context is None:
        parts.extend(_terminal_piece(op, text, color) for op, text in diff.ops)
        return "".join(parts)
    paragraphs = _paragraphs(diff, lambda op, text: _terminal_piece(op, text, color))
    shown = []
    for span in folding.fold_unchanged([changed for _, changed in paragraphs], context):
        if span.folded:
            label = folding.fold_label(len(span))
            shown.append(f"{_ANSI_NOTE}{label}{_ANSI_RESET}" if color else label)
        else:
            shown.extend(text for text, _ in paragraphs[span.start : span.stop])
    return "".join(parts) + "\n\n".join(shown)


def _terminal_piece(op: int, text: str, color: bool) -> str:
    if op == EQUAL:
        return text
    if color:
        style = _ANSI_INSERT if op == INSERT else _ANSI_DELETE
        # Styles are closed before each line break so a pager shows no colour bleed.
        return "\n".join(f"{style}{line}{_ANSI_RESET}" if line else "" for line in text.split("\n"))
    return f"{{+{text}+}}" if op == INSERT else f"[-{text}-]"


def render_unified(
    before: str,
    after: str,
    *,
    from_label: str,
    to_label: str,
    context: int = 3,
) -> str:
    """A classic unified diff, line by line (each paragraph of an article is one line).

    Line diffs use difflib, which has no timeout and is exact; it is never coarse.
    """
    lines = difflib.unified_diff(
        before.splitlines(),
        after.splitlines(),
        fromfile=from_label,
        tofile=to_label,
        n=context,
        lineterm="",
    )
    return "".join(f"{line}\n" for line in lines)


def count_paragraphs(text: str) -> int:
    """Paragraphs in a text as the diff renderers cut them (at blank lines)."""
    return sum(1 for part in _PARAGRAPH_BREAK_RE.split(text) if part.strip())


def _paragraph_aligned(ops: Sequence[Op]) -> list[Op]:
    """The ops with each lone edit slid to the paragraph (or sentence) boundary nearest it.

    The word diff may place an added paragraph as "C[+.\n\nNew+]." rather than
    "C.[+\n\nNew.+]": the same text, but cut into paragraphs the first would show "C"
    changed and the new paragraph without its full stop. diff-match-patch's lossless
    cleanup slides an edit between its equal neighbours to the best-scoring boundary
    (blank line, then line break, sentence end, space); it never changes either text.
    """
    aligned = list(ops)
    if len(aligned) < 3:
        return aligned
    diff_match_patch().diff_cleanupSemanticLossless(aligned)
    # Between two equal places it takes the later: "C.\n\n[+New.\n\n+]D." Side by side
    # pairs paragraphs between shared breaks, so the edit must open with its break instead:
    # "C.[+\n\nNew.+]\n\nD.", where "C." is closed on both sides before the new paragraph.
    for index in range(1, len(aligned) - 1):
        (before_op, before), (op, edit), (after_op, after) = aligned[index - 1 : index + 2]
        if op == EQUAL or before_op != EQUAL or after_op != EQUAL:
            continue
        trailing = _TRAILING_BREAK_RE.search(edit)
        if trailing and trailing.start() > 0 and before.endswith(trailing.group()):
            cut = len(trailing.group())
            aligned[index - 1] = (EQUAL, before[:-cut])
            aligned[index] = (op, trailing.group() + edit[:-cut])
            aligned[index + 1] = (EQUAL, trailing.group() + after)
    return [(op, text) for op, text in aligned if text]


def _paragraph_pieces(diff: WordDiff) -> Iterator[tuple[int, str] | None]:
    """The ops cut at paragraph breaks: (op, text) pieces, None where a paragraph ends.

    Single line breaks inside a paragraph stay in the text (rendered as <br>).
    """
    for op, text in _paragraph_aligned(diff.ops):
        position = 0
        for match in _PARAGRAPH_BREAK_RE.finditer(text):
            if match.start() > position:
                yield op, text[position : match.start()]
            yield None
            position = match.end()
        if position < len(text):
            yield op, text[position:]


def _html_piece(op: int, text: str) -> str:
    escaped = html.escape(text).replace("\n", "<br>\n")
    if op == INSERT:
        return f'<ins class="ins">{escaped}</ins>'
    if op == DELETE:
        return f'<del class="del">{escaped}</del>'
    return escaped


def _html_note(diff: WordDiff) -> str:
    note = diff.coarse_note
    return f'<p class="diff-note coarse">{html.escape(note)}</p>\n' if note else ""


def render_html_inline(
    diff: WordDiff,
    *,
    context: int | None = None,
    full_href: str | None = None,
    navigate: bool = False,
) -> str:
    """One column: deletions in <del class="del">, insertions in <ins class="ins">.

    All text is HTML-escaped; paragraphs become <p>, single line breaks <br>. No scripts.
    `context`, `full_href` and `navigate` lay it out for reading (see `_reading_layout`).
    """
    paragraphs = _paragraphs(diff, _html_piece)
    body = _reading_layout(
        paragraphs,
        context=context,
        full_href=full_href,
        navigate=navigate,
        item=lambda html_text, _changed, anchor: f"<p{anchor}>{html_text}</p>\n",
        fold=lambda label: f'<p class="fold">{label}</p>\n',
        change=lambda number, links: f'<p class="change-nav" id="change-{number}">{links}</p>\n',
    )
    return f'<div class="diff diff-inline">\n{_html_note(diff)}{body}</div>\n'


_Cells = TypeVar("_Cells")  # a paragraph's HTML, or a row's two cells


def _paragraphs(diff: WordDiff, piece: Callable[[int, str], str]) -> list[tuple[str, bool]]:
    """The diff's paragraphs as rendered by `piece`, each with whether it holds a change."""
    paragraphs: list[tuple[str, bool]] = []
    current: list[str] = []
    changed = False
    for item in _paragraph_pieces(diff):
        if item is None:
            if current:
                paragraphs.append(("".join(current), changed))
            current = []
            changed = False
        else:
            current.append(piece(*item))
            changed = changed or item[0] != EQUAL
    if current:
        paragraphs.append(("".join(current), changed))
    return paragraphs


def _reading_layout(
    items: Sequence[tuple[_Cells, bool]],
    *,
    context: int | None,
    full_href: str | None,
    navigate: bool,
    item: Callable[[_Cells, bool, str], str],
    fold: Callable[[str], str],
    change: Callable[[int, str], str],
    nouns: tuple[str, str] = ("paragraph", "paragraphs"),
) -> str:
    """Paragraphs (or rows) laid out for reading.

    `context`: changes-only, unchanged runs folded into a separator (core.folding); None
    shows everything. `full_href`: the full view, which a separator links to at the first
    paragraph it hides (`#p7`). `navigate`: every paragraph gets an anchor (`id="p7"`) and
    each change a line before it (`id="change-2"`) with previous/next change links, which
    work without JavaScript.
    """
    changed = [flag for _, flag in items]
    runs = folding.change_runs(changed) if navigate else ()
    starts = {run.start: number for number, run in enumerate(runs, 1)}
    out: list[str] = []
    for span in folding.fold_unchanged(changed, context):
        if span.folded:
            label = html.escape(folding.fold_label(len(span), nouns))
            if full_href is not None:
                label = f'<a href="{html.escape(full_href)}#p{span.start + 1}">{label}</a>'
            out.append(fold(label))
            continue
        for index in range(span.start, span.stop):
            number = starts.get(index)
            if number is not None:
                out.append(change(number, _change_links(number, len(runs))))
            anchor = f' id="p{index + 1}"' if navigate else ""
            out.append(item(*items[index], anchor))
    return "".join(out)


def _change_links(number: int, total: int) -> str:
    links = [f'<span class="change-count">Change {number} of {total}</span>']
    if number > 1:
        links.append(f'<a href="#change-{number - 1}" rel="prev">↑ Previous change</a>')
    if number < total:
        links.append(f'<a href="#change-{number + 1}" rel="next">Next change ↓</a>')
    return " ".join(links)


def render_html_side_by_side(
    diff: WordDiff,
    *,
    before_label: str = "Before",
    after_label: str = "After",
    context: int | None = None,
    full_href: str | None = None,
    navigate: bool = False,
) -> str:
    """Two columns in a table: the old text with deletions, the new text with insertions.

    A row holds paragraphs that correspond; an added or removed paragraph faces an empty
    cell. Rows with a change carry class "changed". All text is HTML-escaped.
    `context`, `full_href` and `navigate` lay it out for reading (see `_reading_layout`).
    """
    body = _side_by_side_rows(diff, context=context, full_href=full_href, navigate=navigate)
    return (
        f'<div class="diff diff-side-by-side">\n{_html_note(diff)}'
        '<table class="diff">\n'
        f"<thead><tr><th>{html.escape(before_label)}</th>"
        f"<th>{html.escape(after_label)}</th></tr></thead>\n"
        f"<tbody>\n{body}</tbody>\n</table>\n</div>\n"
    )


# Portable HTML (feeds, anywhere our stylesheet is not): marked with inline styles, which
# set both colours so a dark reader stays legible, and in words a reader that strips styles
# or tags keeps: "212 → 284", "[removed: …]", "[added: …]".
PORTABLE_DELETE_STYLE: Final = "background:#fde0e0;color:#8f1414;text-decoration:line-through"
PORTABLE_INSERT_STYLE: Final = "background:#d7f5dd;color:#0a5c1f;text-decoration:underline"


def render_html_portable(
    diff: WordDiff, *, context: int | None = None, full_href: str | None = None
) -> str:
    """The diff as <p> paragraphs that read right without any stylesheet, for feeds.

    A replaced passage reads "old → new" (the old struck, the new underlined, by inline
    styles), a deleted one "[removed: …]", an inserted one "[added: …]". Only <p>, <del>,
    <ins>, <br>, <em> and <a>: no block inside a paragraph. With `context`, changes-only as
    on the diff page, each fold linking `full_href` when given. All text is escaped.
    """
    paragraphs: list[tuple[str, bool]] = [
        (portable_line(ops), any(op != EQUAL for op, _ in ops)) for ops in _paragraph_ops(diff)
    ]
    note = diff.coarse_note
    head = f"<p><em>{html.escape(note)}</em></p>\n" if note else ""
    return head + _reading_layout(
        paragraphs,
        context=context,
        full_href=full_href,
        navigate=False,
        item=lambda text, _changed, _anchor: f"<p>{text}</p>\n",
        fold=lambda label: f"<p><em>{label}</em></p>\n",
        change=lambda _number, _links: "",
    )


def portable_line(ops: Sequence[Op]) -> str:
    """One paragraph's ops as portable inline HTML (see `render_html_portable`)."""
    out: list[str] = []
    index = 0
    while index < len(ops):
        op, text = ops[index]
        if op == EQUAL:
            out.append(_escape_lines(text))
        elif not text.strip():  # changed whitespace: nothing a reader could see to mark
            out.append(_escape_lines(text) if op == INSERT else "")
        elif op == DELETE and index + 1 < len(ops) and ops[index + 1][0] == INSERT:
            new = ops[index + 1][1]
            # The spaces either side keep the passage apart from its neighbours' words.
            lead = " " if text[:1].isspace() or new[:1].isspace() else ""
            trail = " " if text[-1:].isspace() or new[-1:].isspace() else ""
            out.append(
                f'{lead}<del style="{PORTABLE_DELETE_STYLE}">{_escape_lines(text.strip())}</del>'
                f' → <ins style="{PORTABLE_INSERT_STYLE}">{_escape_lines(new.strip())}</ins>'
                f"{trail}"
            )
            index += 1
        else:
            # Spaces around the passage stay outside the brackets: "Doe [added: and Roe]".
            lead = text[: len(text) - len(text.lstrip())]
            trail = text[len(text.rstrip()) :]
            words = _escape_lines(text.strip())
            if op == DELETE:
                marked = f'<del style="{PORTABLE_DELETE_STYLE}">[removed: {words}]</del>'
            else:
                marked = f'<ins style="{PORTABLE_INSERT_STYLE}">[added: {words}]</ins>'
            out.append(_escape_lines(lead) + marked + _escape_lines(trail))
        index += 1
    return "".join(out)


def _escape_lines(text: str) -> str:
    return html.escape(text).replace("\n", "<br>\n")


def _paragraph_ops(diff: WordDiff) -> list[list[Op]]:
    """The diff's ops cut into paragraphs (a paragraph break ends one, whatever its op)."""
    paragraphs: list[list[Op]] = []
    current: list[Op] = []
    for piece in _paragraph_pieces(diff):
        if piece is None:
            if current:
                paragraphs.append(current)
            current = []
        else:
            current.append(piece)
    if current:
        paragraphs.append(current)
    return paragraphs


def render_html_phrase(diff: WordDiff) -> str:
    """A one-line diff (a headline) as inline HTML only, to sit inside a heading or <p>."""
    return "".join(_html_piece(op, text) for op, text in _paragraph_aligned(diff.ops))


def render_html_lines(diffs: Sequence[WordDiff], *, side_by_side: bool = False) -> str:
    """Short one-line diffs shown above an article's (its byline and dates, each labelled).

    Inline: one <p class="line-change"> each; side by side: rows of a two-column table, the
    old line with its deletions facing the new with its insertions. All text is escaped.
    """
    if not diffs:
        return ""
    if side_by_side:
        rows = "".join(
            f'<tr class="changed line-change"><td class="before">{old}</td>'
            f'<td class="after">{new}</td></tr>\n'
            for diff in diffs
            for (old, new), _ in _side_by_side_row_list(diff)
        )
        return f'<table class="diff line-changes">\n<tbody>\n{rows}</tbody>\n</table>\n'
    lines = "".join(f'<p class="line-change">{render_html_phrase(diff)}</p>\n' for diff in diffs)
    return f'<div class="line-changes">\n{lines}</div>\n'


@dataclass(frozen=True)
class DiffUnit:
    """One part of a text diffed on its own, e.g. one entry of a live blog.

    `status` says what happened to it ("added", "removed", "edited", "equal"); `caption`
    names it for a reader ("10:12 a.m. · New entry").
    """

    caption: str
    status: str
    diff: WordDiff
    key: str | None = None  # what identifies the unit across versions (an entry's key)


def render_html_units(
    units: Iterable[DiffUnit],
    *,
    side_by_side: bool = False,
    before_label: str = "Before",
    after_label: str = "After",
    context: int | None = None,
    full_href: str | None = None,
    navigate: bool = False,
) -> str:
    """Several diffs, one per unit, each under its caption, in one inline column or in one
    side-by-side table. A unit's paragraphs only ever face its own: an entry added at the
    top of a live blog never pushes the other entries out of line. All text is escaped.

    `context`, `full_href` and `navigate` lay the units out for reading as
    `_reading_layout` does paragraphs: unchanged entries fold, changed ones get anchors."""
    items = [(unit, unit.status != "equal") for unit in units]
    reading: dict[str, Any] = {
        "context": context,
        "full_href": full_href,
        "navigate": navigate,
        "nouns": ("entry", "entries"),
    }
    if side_by_side:
        rows = _reading_layout(
            items,
            **reading,
            item=lambda unit, _changed, anchor: (
                f'<tr class="unit-head unit-{html.escape(unit.status)}"{anchor}>'
                f'<th colspan="2" scope="rowgroup">{html.escape(unit.caption)}</th></tr>\n'
                f"{_html_note_row(unit.diff)}{_side_by_side_rows(unit.diff)}"
            ),
            fold=lambda label: f'<tr class="fold"><td colspan="2">{label}</td></tr>\n',
            change=lambda number, links: (
                f'<tr class="change-nav" id="change-{number}"><td colspan="2">{links}</td></tr>\n'
            ),
        )
        return (
            '<div class="diff diff-side-by-side diff-units">\n<table class="diff">\n'
            f"<thead><tr><th>{html.escape(before_label)}</th>"
            f"<th>{html.escape(after_label)}</th></tr></thead>\n"
            f"<tbody>\n{rows}</tbody>\n</table>\n</div>\n"
        )
    sections = _reading_layout(
        items,
        **reading,
        item=lambda unit, _changed, anchor: (
            f'<section class="unit unit-{html.escape(unit.status)}"{anchor}>\n'
            f'<h3 class="unit-caption">{html.escape(unit.caption)}</h3>\n'
            f"{render_html_inline(unit.diff)}</section>\n"
        ),
        fold=lambda label: f'<p class="fold">{label}</p>\n',
        change=lambda number, links: f'<p class="change-nav" id="change-{number}">{links}</p>\n',
    )
    return f'<div class="diff diff-units">\n{sections}</div>\n'


def _html_note_row(diff: WordDiff) -> str:
    note = diff.coarse_note
    return (
        f'<tr class="diff-note coarse"><td colspan="2">{html.escape(note)}</td></tr>\n'
        if note
        else ""
    )


def _side_by_side_row_list(diff: WordDiff) -> list[tuple[tuple[str, str], bool]]:
    """The rows of a side-by-side diff: (old cell, new cell), and whether it changed."""
    rows: list[tuple[str, str, bool]] = []
    left: list[str] = []  # pieces of the paragraph being built, per side
    right: list[str] = []
    left_done: list[tuple[str, bool]] = []  # finished paragraphs waiting for an anchor
    right_done: list[tuple[str, bool]] = []
    left_changed = right_changed = False

    def close_left() -> None:
        nonlocal left_changed
        if left:
            left_done.append(("".join(left), left_changed))
        left.clear()
        left_changed = False

    def close_right() -> None:
        nonlocal right_changed
        if right:
            right_done.append(("".join(right), right_changed))
        right.clear()
        right_changed = False

    def emit_rows() -> None:
        for index in range(max(len(left_done), len(right_done))):
            old, old_changed = left_done[index] if index < len(left_done) else ("", True)
            new, new_changed = right_done[index] if index < len(right_done) else ("", True)
            rows.append((old, new, old_changed or new_changed))
        left_done.clear()
        right_done.clear()

    def add(op: int, chunk: str) -> None:
        nonlocal left_changed, right_changed
        if op != INSERT:
            left.append(_html_piece(op, chunk))
            left_changed = left_changed or op == DELETE
        if op != DELETE:
            right.append(_html_piece(op, chunk))
            right_changed = right_changed or op == INSERT

    for op, text in _paragraph_aligned(diff.ops):
        position = 0
        for match in _PARAGRAPH_BREAK_RE.finditer(text):
            if match.start() > position:
                add(op, text[position : match.start()])
            if op != INSERT:
                close_left()
            if op != DELETE:
                close_right()
            if op == EQUAL:  # a break both texts share: the columns line up again here
                emit_rows()
            position = match.end()
        if position < len(text):
            add(op, text[position:])
    close_left()
    close_right()
    emit_rows()

    return [((old, new), changed) for old, new, changed in rows]


def _side_by_side_rows(
    diff: WordDiff,
    *,
    context: int | None = None,
    full_href: str | None = None,
    navigate: bool = False,
) -> str:
    return _reading_layout(
        _side_by_side_row_list(diff),
        context=context,
        full_href=full_href,
        navigate=navigate,
        item=lambda cells, changed, anchor: (
            f'<tr{anchor} class="{"changed" if changed else "equal"}">'
            f'<td class="before">{cells[0]}</td><td class="after">{cells[1]}</td></tr>\n'
        ),
        fold=lambda label: f'<tr class="fold"><td colspan="2">{label}</td></tr>\n',
        change=lambda number, links: (
            f'<tr class="change-nav" id="change-{number}"><td colspan="2">{links}</td></tr>\n'
        ),
    )


def diff_to_json(diff: WordDiff) -> dict[str, Any]:
    """A JSON-ready dict: ops as {"op": "equal"|"insert"|"delete", "text": ...}."""
    return {
        "ops": [{"op": _OP_NAMES[op], "text": text} for op, text in diff.ops],
        "stats": {
            "words_added": diff.stats.words_added,
            "words_removed": diff.stats.words_removed,
            "chars_added": diff.stats.chars_added,
            "chars_removed": diff.stats.chars_removed,
        },
        "coarse": diff.coarse,
        "coarse_reason": diff.coarse_reason,
        "note": diff.coarse_note,
    }


def diff_from_json(data: dict[str, Any]) -> WordDiff:
    """The inverse of `diff_to_json` (stats are recomputed from the ops)."""
    ops = tuple((_OP_CODES[item["op"]], str(item["text"])) for item in data["ops"])
    reason = data.get("coarse_reason")
    return WordDiff(ops=ops, stats=_stats(ops), coarse=bool(data["coarse"]), coarse_reason=reason)

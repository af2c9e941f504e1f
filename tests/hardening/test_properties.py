"""Property-based tests of normalisation and diff: for any two texts, no exception, the diff's
patch turns A into B, and the statistics agree with the patch.

tests/test_diffing.py already checks that the ops rebuild both texts and that the word
counts add up; here the diff is fed to diff-match-patch's own patch machinery.
"""

from __future__ import annotations

from diff_match_patch import diff_match_patch
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.diffing import DELETE, EQUAL, INSERT, count_words, word_diff
from tracker.core.normalize import normalize_text

PIECES = ["the", "council", "voted", "7", "1,250", "don't", "é", "e\u0301", "日本", "😀",
          " ", "\u00a0", "\u200b", "\n", "\n\n", "\r\n", "\t", ".", ",", "—", "<", "&",
          "-", "@@"]  # fmt: skip
prose = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)
texts = st.one_of(prose, st.text(max_size=120))

_DMP = {EQUAL: diff_match_patch.DIFF_EQUAL, INSERT: diff_match_patch.DIFF_INSERT,
        DELETE: diff_match_patch.DIFF_DELETE}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(before=texts, after=texts)
def test_the_patch_from_a_to_b_applied_to_a_gives_b(before, after):
    diff = word_diff(before, after)
    dmp = diff_match_patch()
    patches = dmp.patch_make(before, [(_DMP[op], text) for op, text in diff.ops])
    patched, applied = dmp.patch_apply(patches, before)
    assert patched == after
    assert all(applied)
    # The textual form of the patch survives a round trip too (what one would store).
    reparsed = dmp.patch_fromText(dmp.patch_toText(patches))
    assert dmp.patch_apply(reparsed, before)[0] == after


@settings(max_examples=200, deadline=None)
@given(before=texts, after=texts)
def test_stats_are_consistent_with_the_diff_and_symmetric(before, after):
    forward = word_diff(before, after)
    backward = word_diff(after, before)
    stats = forward.stats
    assert min(stats.words_added, stats.words_removed, stats.chars_added) >= 0
    assert stats.chars_added - stats.chars_removed == len(after) - len(before)
    assert stats.words_added - stats.words_removed == count_words(after) - count_words(before)
    # Reversing a diff swaps what was added and removed, in characters at least.
    assert backward.stats.chars_added - backward.stats.chars_removed == -(
        stats.chars_added - stats.chars_removed
    )
    if before == after:
        assert (stats.words_added, stats.words_removed, stats.chars_added) == (0, 0, 0)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_normalisation_is_idempotent_and_never_fails(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "\r" not in once and "\u200b" not in once


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_normalised_texts_diff_cleanly(text):
    normal = normalize_text(text)
    diff = word_diff(text, normal)
    assert (diff.before, diff.after) == (text, normal)

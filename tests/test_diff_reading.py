"""Changes-only diffs: which paragraphs a reader sees around each change, and which fold.

`fold_unchanged` decides on "did paragraph i change?" flags; every renderer (inline,
side-by-side, terminal, feed) follows it, so the rule is specified here once.
"""

from __future__ import annotations

import itertools

import pytest

from tracker.core.folding import (
    LONG_ARTICLE_PARAGRAPHS,
    Span,
    change_runs,
    fold_label,
    fold_unchanged,
    folds_by_default,
)


def flags(pattern: str) -> list[bool]:
    """ "..x.." -> [False, False, True, False, False]: x marks a changed paragraph."""
    return [char == "x" for char in pattern]


def picture(pattern: str, context: int | None) -> str:
    """The plan drawn over the pattern: shown paragraphs as they are, each fold as [n]."""
    out = []
    for span in fold_unchanged(flags(pattern), context):
        out.append(f"[{len(span)}]" if span.folded else pattern[span.start : span.stop])
    return "".join(out)


def test_a_change_keeps_its_context_paragraphs_and_the_rest_folds():
    assert picture("....................x...................", 2) == "[18]..x..[17]"
    assert picture("....................x...................", 1) == "[19].x.[18]"


def test_the_plan_covers_every_paragraph_once_in_order():
    plan = fold_unchanged(flags("......x.......x......"), 2)
    assert plan[0].start == 0 and plan[-1].stop == 21
    assert all(a.stop == b.start for a, b in itertools.pairwise(plan))
    assert [span.folded for span in plan] == [True, False, True, False, True]


def test_neighbouring_changes_whose_contexts_meet_read_as_one_passage():
    # Contexts overlap: one passage.
    assert picture("......x..x......", 2) == "[4]..x..x..[4]"
    # Contexts touch (a gap of exactly 2 x context): still one passage.
    assert picture("......x....x......", 2) == "[4]..x....x..[4]"


def test_a_fold_never_hides_a_single_paragraph():
    # A gap of 2 x context + 1 would fold one paragraph behind a separator as long as it.
    assert picture("......x.....x......", 2) == "[4]..x.....x..[4]"
    assert picture("...x...", 2) == "...x..."  # a lone paragraph at either end is shown
    assert picture("....x....", 2) == "[2]..x..[2]"


def test_changes_further_apart_fold_between_them():
    assert picture("x..........x", 2) == "x..[6]..x"


def test_a_change_in_the_first_or_last_paragraph_has_context_on_one_side_only():
    assert picture("x..........", 2) == "x..[8]"
    assert picture("..........x", 2) == "[8]..x"
    assert picture("x", 2) == "x"


def test_a_diff_without_a_change_folds_whole():
    assert picture("........", 2) == "[8]"
    assert picture(".", 2) == "."  # one paragraph: its separator would save nothing
    assert fold_unchanged([], 2) == ()


def test_zero_context_shows_the_changes_alone():
    assert picture("....x....x....", 0) == "[4]x[4]x[4]"
    assert picture("....xx.x....", 0) == "[4]xx.x[4]"  # one unchanged paragraph stays


def test_no_context_limit_folds_nothing():
    assert fold_unchanged(flags("....x...."), None) == (Span(0, 9, folded=False),)


def test_a_context_larger_than_the_article_shows_it_whole():
    assert picture("..x..", 1000) == "..x.."


def test_negative_context_is_refused_with_words():
    with pytest.raises(ValueError, match="0 or more"):
        fold_unchanged(flags("x"), -1)


def test_changes_are_runs_of_consecutive_changed_paragraphs():
    assert change_runs(flags("..xx...x.x")) == (range(2, 4), range(7, 8), range(9, 10))
    assert change_runs(flags("....")) == ()


def test_long_articles_open_folded_short_ones_whole():
    assert not folds_by_default(LONG_ARTICLE_PARAGRAPHS)
    assert folds_by_default(LONG_ARTICLE_PARAGRAPHS + 1)


def test_the_separator_says_how_many_paragraphs_it_hides():
    assert fold_label(14) == "… 14 unchanged paragraphs …"
    assert fold_label(1) == "… 1 unchanged paragraph …"


def test_an_added_paragraph_is_its_own_paragraph_in_every_layout():
    from tracker.core import diffing

    # The word diff finds "C[+.\n\nNew paragraph+]." here; shown that way, "C" would look
    # edited and the new paragraph would lose its full stop, and side by side would pair
    # the new paragraph with "D.".
    diff = diffing.word_diff("A.\n\nC.\n\nD.", "A.\n\nC.\n\nNew paragraph.\n\nD.")
    inline = diffing.render_html_inline(diff)
    assert '<p>C.</p>\n<p><ins class="ins">New paragraph.</ins></p>\n<p>D.</p>' in inline
    side = diffing.render_html_side_by_side(diff)
    assert (
        '<tr class="changed"><td class="before"></td>'
        '<td class="after"><ins class="ins">New paragraph.</ins></td></tr>\n'
        '<tr class="equal"><td class="before">D.</td><td class="after">D.</td></tr>'
    ) in side
    assert diffing.render_terminal(diff, color=False, context=0) == (
        "… 2 unchanged paragraphs …\n\n{+New paragraph.+}\n\nD."  # a lone "D." is kept
    )


def test_a_live_blog_folds_its_unchanged_entries():
    from tracker.core import diffing

    def unit(number: int, status: str) -> diffing.DiffUnit:
        text = f"Entry {number}."
        after = text + " Updated." if status == "edited" else text
        return diffing.DiffUnit(f"{number}:00", status, diffing.word_diff(text, after))

    units = [unit(n, "edited" if n == 8 else "equal") for n in range(1, 21)]
    inline = diffing.render_html_units(units, context=1, full_href="/d?show=all", navigate=True)
    assert inline.count("<section") == 3  # entries 7, 8, 9
    assert '<a href="/d?show=all#p1">… 6 unchanged entries …</a>' in inline
    assert '<a href="/d?show=all#p10">… 11 unchanged entries …</a>' in inline
    assert '<p class="change-nav" id="change-1">' in inline
    assert '<section class="unit unit-edited" id="p8">' in inline
    side = diffing.render_html_units(units, side_by_side=True, context=1)
    assert side.count('class="unit-head') == 3
    assert side.count('<tr class="fold">') == 2

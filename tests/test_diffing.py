"""Word-level diffs: what a reader sees changed, and the ways it is shown."""

import json
import random
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core import diffing
from tracker.core.diffing import (
    COARSE_TIMEOUT,
    COARSE_TOO_MANY_TOKENS,
    DELETE,
    EQUAL,
    INSERT,
    DiffStats,
    WordDiff,
    count_words,
    diff_from_json,
    diff_to_json,
    render_html_inline,
    render_html_side_by_side,
    render_terminal,
    render_unified,
    word_diff,
)

ARTICLE = (
    "The United States and Iran began their second round of talks on Tuesday.\n\n"
    "Iraqi Prime Minister Nuri al-Maliki brought together US Ambassador Ryan Crocker "
    "with his Iranian counterpart. After the first exchange back in May, the countries "
    "agreed that a second meeting would be arranged.\n\n"
    "Qomi dismissed the allegations, saying the Americans had no proof, the official said."
)


def changes(diff: WordDiff) -> list[tuple[int, str]]:
    return [(op, text) for op, text in diff.ops if op != EQUAL]


# --- granularity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected_changes"),
    [
        # a changed word is replaced whole, never patched letter by letter
        ("the cat sat", "the cats sat", [(DELETE, "cat"), (INSERT, "cats")]),
        # a corrected number is one token, separators included
        ("killed 1,250 people", "killed 1,520 people", [(DELETE, "1,250"), (INSERT, "1,520")]),
        ("rose 3.5 percent", "rose 3.7 percent", [(DELETE, "3.5"), (INSERT, "3.7")]),
        # contractions are words
        ("we don't know", "we didn't know", [(DELETE, "don't"), (INSERT, "didn't")]),
        # punctuation is its own token
        ("He left.", "He left!", [(DELETE, "."), (INSERT, "!")]),
        ("a new word", "a brand new word", [(INSERT, "brand ")]),
        ("remove this word please", "remove word please", [(DELETE, "this ")]),
    ],
)
def test_edits_fall_on_word_boundaries(before, after, expected_changes):
    assert changes(word_diff(before, after)) == expected_changes


def test_identical_texts_have_no_changes():
    diff = word_diff(ARTICLE, ARTICLE)
    assert diff.ops == ((EQUAL, ARTICLE),)
    assert not diff.changed
    assert diff.stats == DiffStats(0, 0, 0, 0)


def test_empty_texts():
    assert word_diff("", "").ops == ()
    assert word_diff("", "New text.").ops == ((INSERT, "New text."),)
    assert word_diff("Old text.", "").ops == ((DELETE, "Old text."),)


def test_untouched_paragraphs_stay_equal_between_edits():
    after = ARTICLE.replace("Tuesday", "Monday").replace("no proof", "little proof")
    diff = word_diff(ARTICLE, after)
    assert changes(diff) == [
        (DELETE, "Tuesday"),
        (INSERT, "Monday"),
        (DELETE, "no"),
        (INSERT, "little"),
    ]
    middle = ARTICLE.split("\n\n")[1]
    assert any(op == EQUAL and middle in text for op, text in diff.ops)


def test_added_paragraph_is_one_insertion():
    added = "Crocker told reporters the talks were serious and frank."
    after = ARTICLE + "\n\n" + added
    diff = word_diff(ARTICLE, after)
    assert changes(diff) == [(INSERT, "\n\n" + added)]
    assert diff.stats.words_added == count_words(added) == 9


def test_a_paragraph_edited_in_a_changed_run_is_diffed_word_by_word():
    paragraphs = ARTICLE.split("\n\n")
    edited = [
        paragraphs[0].replace("second", "third"),
        paragraphs[1].replace("May", "June"),
        paragraphs[2].replace("official", "diplomat"),
    ]
    diff = word_diff(ARTICLE, "\n\n".join(edited))
    assert changes(diff) == [
        (DELETE, "second"),
        (INSERT, "third"),
        (DELETE, "May"),
        (INSERT, "June"),
        (DELETE, "official"),
        (INSERT, "diplomat"),
    ]


def test_stats_count_words_and_characters():
    diff = word_diff("one two three", "one 2 three four")
    assert diff.stats == DiffStats(words_added=2, words_removed=1, chars_added=6, chars_removed=3)


# --- bounded work: timeouts and huge vocabularies ----------------------------------------


def unrelated_texts(words: int) -> tuple[str, str]:
    first = " ".join(f"w{(i * 7919) % 1009}" for i in range(words))
    second = " ".join(f"w{(i * 104729) % 1013}" for i in range(words))
    return first, second


def test_a_diff_that_runs_out_of_time_is_flagged_coarse_and_still_exact():
    before, after = unrelated_texts(3000)
    diff = word_diff(before, after, timeout=1e-6)
    assert diff.coarse
    assert diff.coarse_reason == COARSE_TIMEOUT
    assert (diff.before, diff.after) == (before, after)


def test_the_same_diff_without_a_time_limit_is_not_coarse():
    before, after = unrelated_texts(300)
    diff = word_diff(before, after, timeout=None)
    assert not diff.coarse
    assert diff.coarse_reason is None
    assert (diff.before, diff.after) == (before, after)


def test_texts_sharing_nothing_are_not_mistaken_for_a_timeout():
    diff = word_diff("alpha beta", "gamma-delta!", timeout=None)
    assert not diff.coarse


def test_more_distinct_words_than_the_token_budget_degrades_to_lines():
    before = "alpha beta gamma\ndelta epsilon zeta\n"
    after = "alpha beta gamma\ndelta epsilon eta\n"
    diff = word_diff(before, after, max_tokens=4)
    assert diff.coarse
    assert diff.coarse_reason == COARSE_TOO_MANY_TOKENS
    assert changes(diff) == [(DELETE, "delta epsilon zeta\n"), (INSERT, "delta epsilon eta\n")]


def test_more_distinct_lines_than_the_budget_still_gives_an_exact_diff():
    before = "".join(f"line {i}\n" for i in range(40))
    after = before.replace("line 30", "line thirty")
    diff = word_diff(before, after, max_tokens=8)
    assert diff.coarse
    assert (diff.before, diff.after) == (before, after)


# --- renderers ---------------------------------------------------------------------------

HOSTILE_BEFORE = "Safe paragraph & friends.\n\n<script>alert('x')</script> stays."
HOSTILE_AFTER = 'Safe paragraph & friends.\n\n<script>alert("y")</script> stays.\n\n<b>bold</b>'


@pytest.mark.parametrize("render", [render_html_inline, render_html_side_by_side])
def test_html_renderers_escape_all_article_text(render):
    html = render(word_diff(HOSTILE_BEFORE, HOSTILE_AFTER))
    assert "<script" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp; friends" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_inline_html_marks_insertions_and_deletions_and_keeps_paragraphs():
    after = ARTICLE.replace("Tuesday", "Monday") + "\n\nA new paragraph."
    html = render_html_inline(word_diff(ARTICLE, after))
    assert '<del class="del">Tuesday</del><ins class="ins">Monday</ins>' in html
    assert '<p><ins class="ins">A new paragraph.</ins></p>' in html
    assert html.count("<p>") == 4
    assert "\n\n" not in re.sub(r"</p>\n<p>", "", html)


def test_inline_html_keeps_single_line_breaks():
    html = render_html_inline(word_diff("line one\nline two", "line one\nline 2"))
    assert "line one<br>" in html


def test_side_by_side_puts_old_and_new_text_in_facing_cells():
    after = ARTICLE.replace("Tuesday", "Monday") + "\n\nA new paragraph."
    html = render_html_side_by_side(word_diff(ARTICLE, after))
    rows = re.findall(
        r"<tr class=\"(\w+)\"><td class=\"before\">(.*?)</td>"
        r"<td class=\"after\">(.*?)</td></tr>",
        html,
    )
    assert len(rows) == 4
    first_class, first_old, first_new = rows[0]
    assert first_class == "changed"
    assert '<del class="del">Tuesday</del>' in first_old and "Monday" not in first_old
    assert '<ins class="ins">Monday</ins>' in first_new and "Tuesday" not in first_new
    assert rows[1][0] == "equal"
    assert rows[3] == ("changed", "", '<ins class="ins">A new paragraph.</ins>')


def test_terminal_rendering_with_and_without_colour():
    diff = word_diff("the cat sat", "the dog sat")
    assert render_terminal(diff, color=False) == "the [-cat-]{+dog+} sat"
    coloured = render_terminal(diff)
    assert "\x1b[9;31mcat\x1b[0m" in coloured
    assert "\x1b[4;32mdog\x1b[0m" in coloured


def test_every_rendering_says_when_a_diff_is_coarse():
    before, after = unrelated_texts(3000)
    diff = word_diff(before, after, timeout=1e-6)
    assert "coarse diff" in render_terminal(diff, color=False)
    assert "coarse diff" in render_html_inline(diff)
    assert "coarse diff" in render_html_side_by_side(diff)
    assert "coarse diff" in diff_to_json(diff)["note"]
    exact = word_diff("a b", "a c")
    assert "coarse" not in render_html_inline(exact)


def test_unified_rendering_is_line_by_line():
    after = ARTICLE.replace("Tuesday", "Monday")
    text = render_unified(ARTICLE, after, from_label="version 1", to_label="version 2")
    lines = text.splitlines()
    assert lines[:2] == ["--- version 1", "+++ version 2"]
    assert "-" + ARTICLE.splitlines()[0] in lines
    assert "+" + after.splitlines()[0] in lines
    assert render_unified(ARTICLE, ARTICLE, from_label="a", to_label="b") == ""


def test_json_form_round_trips():
    diff = word_diff(ARTICLE, ARTICLE.replace("May", "June"))
    data = json.loads(json.dumps(diff_to_json(diff)))
    assert data["stats"] == {
        "words_added": 1,
        "words_removed": 1,
        "chars_added": 4,
        "chars_removed": 3,
    }
    assert {"op": "delete", "text": "May"} in data["ops"]
    assert data["coarse"] is False
    assert diff_from_json(data) == diff


# --- properties --------------------------------------------------------------------------

PIECES = [
    "the",
    "cat",
    "cats",
    "Iran",
    "1,250",
    "3.5",
    "don't",
    "é",
    "日本",
    "😀",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    ".",
    ",",
    "!",
    "?",
    "'",
    "”",
    "<",
    "&",
    "-",
]
prose = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
texts = st.one_of(prose, st.text(max_size=80))


@settings(max_examples=200, deadline=None)
@given(before=texts, after=texts, max_tokens=st.sampled_from([2, 5, 50, 1_114_112]))
def test_ops_reconstruct_both_texts_and_stats_agree(before, after, max_tokens):
    diff = word_diff(before, after, max_tokens=max_tokens)
    assert diff.before == before
    assert diff.after == after
    assert all(text for _, text in diff.ops)
    inserted = "".join(text for op, text in diff.ops if op == INSERT)
    deleted = "".join(text for op, text in diff.ops if op == DELETE)
    assert diff.stats.chars_added == len(inserted)
    assert diff.stats.chars_removed == len(deleted)
    # Ops split at word boundaries, so every word of a text is in exactly one op: the words
    # of the equal runs plus those added (removed) are the words of after (before).
    # (Concatenating the inserted runs would be wrong: "the" + "the" reads as one word.)
    equal_words = sum(count_words(text) for op, text in diff.ops if op == EQUAL)
    assert equal_words + diff.stats.words_added == count_words(after)
    assert equal_words + diff.stats.words_removed == count_words(before)
    # words are never cut in two, so the counts add up across the ops
    assert diff.stats.words_added - diff.stats.words_removed == count_words(after) - count_words(
        before
    )


@settings(max_examples=100, deadline=None)
@given(before=texts, after=texts)
def test_even_an_instantly_expired_diff_is_exact_and_renders(before, after):
    diff = word_diff(before, after, timeout=0)
    assert (diff.before, diff.after) == (before, after)
    for render in (render_html_inline, render_html_side_by_side, render_terminal):
        render(diff)
    assert diff_from_json(diff_to_json(diff)) == diff


# --- shortcuts: the same answer as diffing every token -------------------------------------


def full_path_diff(before: str, after: str, **kwargs) -> WordDiff:
    """The diff as the plain path gives it: whole texts tokenised, and diff-match-patch's
    Python code on all of them."""
    saved = diffing._SHORTCUTS, diffing._NATIVE
    diffing._SHORTCUTS = diffing._NATIVE = False
    try:
        return word_diff(before, after, **kwargs)
    finally:
        diffing._SHORTCUTS, diffing._NATIVE = saved


def scattered_edit(paragraphs: list[str], seed: int) -> list[str]:
    """Single-word substitutions all over, a sentence dropped, a paragraph added and one
    removed: nearly every paragraph changes, some by more than one edit."""
    rng = random.Random(seed)
    edited = list(paragraphs)
    edited.insert(rng.randrange(len(edited)), "Officials said the figure would be revised.")
    edited.pop(rng.randrange(len(edited)))
    index = rng.randrange(len(edited))
    edited[index] = ". ".join(edited[index].split(". ")[1:]) or "Gone."
    for _ in range(3 * len(edited)):
        index = rng.randrange(len(edited))
        words = edited[index].split(" ")
        words[rng.randrange(len(words))] = rng.choice(["revised", "1,250", "the", "", "a b"])
        edited[index] = " ".join(words)
    return edited


def test_a_scattered_edit_gives_the_same_ops_as_the_full_path():
    rng = random.Random(3)
    words = ["the", "talks", "on", "Tuesday", "Iran", "said", "a", "new", "1,250", "don't"]
    paragraphs = [
        ". ".join(
            " ".join(rng.choice(words) for _ in range(rng.randint(3, 25)))
            for _ in range(rng.randint(1, 6))
        )
        + "."
        for _ in range(120)
    ]
    before = "\n\n".join(paragraphs)
    for seed in range(5):
        after = "\n\n".join(scattered_edit(paragraphs, seed))
        diff = word_diff(before, after, timeout=None)
        assert diff.changed
        assert diff == full_path_diff(before, after, timeout=None)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # an insertion that could slide over the equal text before or after it
        ("x a b c", "x a b a b c"),
        ("a b c y", "a b c b c y"),
        ("a b a b", "a b a b a b"),
        # one side's single changed token is kept inside the other's
        ("x a y", "x b a c y"),
        # a deletion that ends with the whole common tail
        ("one two.\n\nthree.\n\n", "one two.\n\n"),
        # the common prefix runs on past the first character-level cut
        ("a b", "a b b"),
        ("killed 1 people", "killed 1,000 people"),
        # two edits far apart: the diff between them needs diff-match-patch
        (
            "the " * 40 + "cat sat " + "on the mat " * 30,
            "the " * 40 + "dog sat " + "on a mat " * 30,
        ),
        ("a " * 50 + "b a b a b" + " a" * 50, "a " * 50 + "a b b a" + " a" * 50),
    ],
)
def test_shortcuts_give_the_same_ops_as_the_full_path(before, after):
    assert word_diff(before, after, timeout=None) == full_path_diff(before, after, timeout=None)
    assert word_diff(after, before, timeout=None) == full_path_diff(after, before, timeout=None)


# Few distinct pieces make repeats, and so equalities that edits can slide over.
small_prose = st.lists(
    st.sampled_from(["a", "b", "the", " ", "  ", "\n", "\n\n", ".", ". ", "1", ",000", "'s"]),
    max_size=300,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    before=small_prose,
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 6), small_prose.map(lambda s: s[:8])),
        min_size=1,
        max_size=5,
    ),
)
def test_shortcuts_agree_with_the_full_path_on_any_edit(before, edits):
    after = before
    for where, removed, inserted in edits:
        position = int(where * len(after))
        after = after[:position] + inserted + after[position + removed :]
    assert word_diff(before, after, timeout=None) == full_path_diff(before, after, timeout=None)


# --- the compiled diff-match-patch: the same answers as the Python one ----------------------


@settings(max_examples=300, deadline=None)
@given(
    text1=st.text(alphabet="abc \x00\n", max_size=200),
    text2=st.text(alphabet="abcd \x00\n", max_size=200),
    timeout=st.sampled_from([None, 5.0]),
)
def test_the_compiled_diff_answers_as_the_python_one(text1, text2, timeout):
    assert diffing._NATIVE, "fast-diff-match-patch is a dependency"
    # With a time limit diff-match-patch also tries its half-match speedup; without, not.
    engine = diffing._Engine(timeout, diffing.MAX_DISTINCT_TOKENS)
    deadline = None if timeout is None else time.time() + timeout
    native = engine.diff_main(text1, text2, False, deadline)
    python = diffing.diff_match_patch.diff_main(engine, text1, text2, False, deadline)
    assert native == python
    assert not engine.timed_out


def test_a_compiled_diff_that_ends_past_the_deadline_is_redone_and_flagged_coarse(monkeypatch):
    assert diffing._NATIVE, "fast-diff-match-patch is a dependency"
    real = diffing.native_diff

    def slow_native_diff(*args, **kwargs):
        time.sleep(0.2)  # a stall (a busy machine) that takes the diff past its deadline
        return real(*args, **kwargs)

    monkeypatch.setattr(diffing, "native_diff", slow_native_diff)
    before = " ".join(f"w{(i * 7919) % 101}" for i in range(300))
    after = " ".join(f"w{(i * 104729) % 103}" for i in range(300))
    diff = word_diff(before, after, timeout=0.1)
    assert diff.coarse
    assert diff.coarse_reason == COARSE_TIMEOUT
    assert (diff.before, diff.after) == (before, after)


# --- pairing units: the shortcuts give the plain computation's answer ----------------------


def reference_pairs(old: list[str], new: list[str]) -> list[tuple[int | None, int | None]] | None:
    """The pairing as first written: every similarity computed, then the alignment."""
    similar = diffing._similar
    if len(old) == len(new) and all(
        similar(diffing._bigrams(a), diffing._bigrams(b)) >= diffing._SIMILAR
        for a, b in zip(old, new, strict=True)
    ):
        return [(i, i) for i in range(len(old))]
    if len(old) * len(new) > diffing._MAX_ALIGNMENT_CELLS:
        return None
    rows, cols = len(old), len(new)
    sim = [[similar(diffing._bigrams(a), diffing._bigrams(b)) for b in new] for a in old]
    score = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sim[i][j] >= diffing._SIMILAR:
                best = max(best, sim[i][j] + score[i + 1][j + 1])
            score[i][j] = best
    pairs: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < rows and j < cols:
        if sim[i][j] >= diffing._SIMILAR and score[i][j] == sim[i][j] + score[i + 1][j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            pairs.append((i, None))
            i += 1
        else:
            pairs.append((None, j))
            j += 1
    return pairs + [(k, None) for k in range(i, rows)] + [(None, k) for k in range(j, cols)]


few_words = st.lists(st.sampled_from(["a", "b", "c", "the", "cat", "1,250"]), max_size=12).map(
    " ".join
)


@settings(max_examples=300, deadline=None)
@given(a=few_words, b=few_words)
def test_the_quick_similarity_check_agrees_with_the_bigrams(a, b):
    exact = diffing._similar(diffing._bigrams(a), diffing._bigrams(b)) >= diffing._SIMILAR
    assert diffing._similar_units(a, b) == exact


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # one word changed in a long unit: similar without making bigrams
        (" ".join(f"w{i}" for i in range(40)), " ".join(f"w{i}" for i in range(39)) + " x"),
        # the same word repeated: few distinct bigrams, so the bound does not decide
        ("a a a a a a a a b", "a a a a a a a a c"),
        ("Ticketing", "denied"),
    ],
)
def test_the_quick_similarity_check_on_edited_units(a, b):
    exact = diffing._similar(diffing._bigrams(a), diffing._bigrams(b)) >= diffing._SIMILAR
    assert diffing._similar_units(a, b) == exact


units = st.lists(few_words, min_size=1, max_size=7)


@settings(max_examples=300, deadline=None)
@given(
    old=units,
    new=units,
    edit_old=st.booleans(),
    edits=st.lists(st.tuples(st.integers(0, 6), few_words), max_size=3),
)
def test_pairing_agrees_with_the_plain_computation(old, new, edit_old, edits):
    if edit_old:  # the new run an edited copy of the old one, as most runs are
        new = list(old)
        for index, text in edits:
            new[index % len(new)] = text
    assert diffing._pair_units(old, new) == reference_pairs(old, new)


@settings(max_examples=300, deadline=None)
@given(text1=st.text(alphabet="ab c.", max_size=40), text2=st.text(alphabet="abd c.", max_size=40))
def test_the_semantic_cleanup_is_skipped_only_where_it_changes_nothing(text1, text2):
    engine = diffing._Engine(None, diffing.MAX_DISTINCT_TOKENS)
    diffs = engine.diff_main(text1, text2, False)
    quick, plain = list(diffs), list(diffs)
    engine.diff_cleanupSemantic(quick)
    diffing.diff_match_patch.diff_cleanupSemantic(engine, plain)
    assert quick == plain
    if not diffing._semantic_cleanup_would_change(diffs):
        assert plain == diffs


@pytest.mark.parametrize(
    "diffs",
    [
        [
            (EQUAL, "x"),
            (DELETE, "ab"),
            (INSERT, "cca"),
            (EQUAL, "y"),
        ],  # insertion ends as deletion starts
        [(DELETE, "abcxxx"), (INSERT, "xxxdef")],  # deletion ends as insertion starts
        [(EQUAL, "x"), (DELETE, "a"), (EQUAL, "b"), (INSERT, "c"), (EQUAL, "yy")],  # short equality
        [(EQUAL, "xy"), (DELETE, "ab"), (INSERT, "cd"), (EQUAL, "yz")],  # nothing to do
    ],
)
def test_the_semantic_cleanup_shortcut_on_hand_made_diffs(diffs):
    engine = diffing._Engine(None, diffing.MAX_DISTINCT_TOKENS)
    quick, plain = list(diffs), list(diffs)
    engine.diff_cleanupSemantic(quick)
    diffing.diff_match_patch.diff_cleanupSemantic(engine, plain)
    assert quick == plain
    # (it may answer "could change" for a diff the cleanup turns back into itself)
    assert diffing._semantic_cleanup_would_change(diffs) or plain == diffs

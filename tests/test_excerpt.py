"""A change in one line: the first changed sentence, with its changed words marked; and the
times people give the changes page's filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.core.excerpt import (
    change_excerpt,
    excerpt_from_json,
    excerpt_plain,
    excerpt_to_json,
    previous_headline,
)
from tracker.core.when import parse_when

ARTICLE = (
    "Rescuers reached the village on Tuesday. The mayor said 212 people were hurt.\n\n"
    "Roads remain closed. Officials will speak at 3pm."
)


def test_an_edited_sentence_is_shown_with_its_changed_words_marked():
    after = ARTICLE.replace("212", "284")
    assert change_excerpt(ARTICLE, after) == [
        ("=", "The mayor said "),
        ("-", "212"),
        ("+", "284"),
        ("=", " people were hurt."),
    ]


def test_only_the_first_changed_sentence_is_shown():
    after = ARTICLE.replace("212", "284").replace("3pm", "4pm")
    assert excerpt_plain(change_excerpt(ARTICLE, after) or []) == (
        "The mayor said [-212-] {+284+} people were hurt."
    )


def test_an_added_sentence_is_shown_whole_as_added():
    after = ARTICLE + "\n\nCorrection: the mayor's name was misspelt."
    assert change_excerpt(ARTICLE, after) == [("+", "Correction: the mayor's name was misspelt.")]
    inserted = ARTICLE.replace(
        "Roads remain closed.", "A dam broke overnight. Roads remain closed."
    )
    assert change_excerpt(ARTICLE, inserted) == [("+", "A dam broke overnight.")]


def test_a_removed_sentence_is_shown_whole_as_removed():
    after = ARTICLE.replace(" The mayor said 212 people were hurt.", "")
    assert change_excerpt(ARTICLE, after) == [("-", "The mayor said 212 people were hurt.")]


def test_a_first_version_shows_its_first_sentence_unmarked():
    assert change_excerpt(None, ARTICLE) == [("=", "Rescuers reached the village on Tuesday.")]
    assert change_excerpt(None, "") is None


def test_no_text_change_no_excerpt():
    assert change_excerpt(ARTICLE, ARTICLE) is None
    # Paragraph breaks moved, the same sentences: nothing a reader would call changed.
    assert change_excerpt(ARTICLE, ARTICLE.replace("\n\n", " ")) is None


def test_a_long_sentence_is_cut_around_its_change_to_stay_one_line():
    words = " ".join(f"word{n}" for n in range(120))
    before = f"Intro. {words} old ending."
    after = f"Intro. {words} new ending."
    segments = change_excerpt(before, after, limit=120) or []
    text = "".join(piece for _, piece in segments)
    assert text.startswith("…") and len(text) <= 121
    assert ("-", "old") in segments and ("+", "new") in segments
    huge = change_excerpt(None, "A" + " very" * 200 + " long sentence.", limit=80) or []
    assert "".join(piece for _, piece in huge).endswith("…")
    assert len("".join(piece for _, piece in huge)) <= 81


def test_plain_markers_keep_spaces_outside():
    segments = [("=", "He said "), ("-", "no more "), ("+", "yes"), ("=", ".")]
    assert excerpt_plain(segments) == "He said [-no more-] {+yes+}."


def test_stored_segments_round_trip_and_malformed_ones_are_dropped():
    segments = change_excerpt(ARTICLE, ARTICLE.replace("212", "284")) or []
    assert excerpt_from_json(excerpt_to_json(segments)) == segments
    assert excerpt_to_json([]) is None
    assert excerpt_from_json([["?", "x"], ["+", 3], "junk", ["+", "ok"]]) == [("+", "ok")]
    assert excerpt_from_json(None) == []


def test_the_previous_headline_is_kept_only_when_it_changed():
    assert previous_headline("Flood hits village", "Flood kills 3") == "Flood hits village"
    assert previous_headline("Flood hits village", " Flood hits village ") is None
    assert previous_headline(None, "First headline") is None


# -- times in filters (tracker.core.when) -----------------------------------------------------

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01T10:30", datetime(2026, 12, 1, 10, 30, tzinfo=UTC)),
        ("2026-12-01T10:30+01:00", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01T10:30Z", datetime(2026, 12, 1, 10, 30, tzinfo=UTC)),
    ],
)
def test_a_time_in_a_filter_is_a_time_ago_or_an_iso_date(value, expected):
    assert parse_when(value, NOW) == expected


@pytest.mark.parametrize(
    "value", ["", "yesterday", "2026-13-01", "99999999999d", "0001-01-01T00:00+01:00"]
)
def test_a_time_that_cannot_be_read_is_refused_with_what_to_give(value):
    with pytest.raises(ValueError, match="invalid time"):
        parse_when(value, NOW)

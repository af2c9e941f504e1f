"""Counts read as words: "1 version", never "1 versions" (issue 15)."""

from __future__ import annotations

import pytest
from test_web_support import insert_story, make_client

from tracker.core.words import counted, plural


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "version", "1 version"),
        (0, "version", "0 versions"),
        (2, "version", "2 versions"),
        (1, "story", "1 story"),
        (3, "story", "3 stories"),
        (1, "entry", "1 entry"),
        (5, "entry", "5 entries"),
    ],
)
def test_a_count_takes_the_noun_its_number_asks_for(count: int, noun: str, expected: str):
    assert counted(count, noun) == expected
    assert plural(count, noun) == expected.split(" ", 1)[1]


def test_the_remove_page_says_its_one_version_in_the_singular(db, settings):
    one = insert_story(db, "https://example.com/one", ["text"])
    two = insert_story(db, "https://example.com/two", ["text", "more text"])
    with make_client(db, settings) as client:
        assert "Its 1 version and its check log" in client.get(f"/stories/{one}/remove").text
        assert "Its 2 versions and its check log" in client.get(f"/stories/{two}/remove").text

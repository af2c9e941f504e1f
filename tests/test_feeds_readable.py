"""Atom entries show the change, not the article, and read right in any feed reader: with
our inline styles, without styles (the change in words: "212 → 284", "[added: …]"), and as
valid HTML (no block inside a paragraph) inside a valid Atom feed."""

from __future__ import annotations

import feedparser
import pytest
from lxml import etree, html
from test_diff_reading_interfaces import BYLINES, long_story
from test_web_support import insert_story, make_client

BLOCKS = ("div", "p", "table", "section", "ul", "ol", "h1", "h2", "h3", "blockquote")


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


def parsed_feed(client, path: str):
    response = client.get(path)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def well_formed_html(fragment: str) -> etree._Element:
    """The entry's HTML parsed strictly: an end tag a browser would have to repair (a
    </p> after a <div> closed the paragraph early) fails, as does a block inside a <p>."""
    strict = etree.HTMLParser(recover=False)
    root = etree.fromstring(f"<html><body>{fragment}</body></html>", strict)
    for paragraph in root.iter("p"):
        nested = [child.tag for child in paragraph.iterdescendants() if child.tag in BLOCKS]
        assert nested == [], f"a <p> holds {nested}"
    return root


def text_without_styles(fragment: str) -> str:
    """What a reader that drops every tag and style shows."""
    return " ".join(html.fromstring(f"<div>{fragment}</div>").text_content().split())


def test_the_structure_check_rejects_a_div_inside_a_paragraph():
    with pytest.raises(etree.XMLSyntaxError):
        well_formed_html('<p>Headline: <div class="diff"><p>a</p></div></p>')
    well_formed_html("<p>fine <del>a</del> → <ins>b</ins></p>\n<p><em>… 3 …</em></p>")


def test_an_entry_shows_the_changed_paragraphs_with_a_little_context(client, db):
    story = long_story(db, fields=BYLINES)
    feed = parsed_feed(client, f"/feeds/stories/{story}.atom")
    newest = feed.entries[0]
    content = newest.content[0].value
    words = text_without_styles(content)
    assert "Headline: Earthquake kills 212 → 284" in words
    assert "Byline: Jane Doe [added: and John Roe]" in words
    assert "Updated: 2026-12-04T09:00:00+00:00 → 2026-12-04T11:30:00+00:00" in words
    assert "The death toll rose to 212 → 284, officials said." in words
    assert "Rescue teams will resume work in the morning → at dawn." in words
    # One paragraph of context on each side; the rest is folded, linking the full diff.
    assert "Paragraph 11 of the report" in words and "Paragraph 13 of the report" in words
    assert "Paragraph 10 of" not in words and "Paragraph 20 of" not in words
    assert "… 10 unchanged paragraphs … " in words and "… 18 unchanged paragraphs …" in words
    assert f"/stories/{story}/diff/1/2?show=all#p14" in content


def test_deletions_and_insertions_are_styled_inline_and_marked_in_words(client, db):
    story = insert_story(
        db,
        "https://example.com/marks",
        ["Keep this. Drop this sentence. The toll is 212.", "Keep this. The toll is 284. Added."],
    )
    content = parsed_feed(client, f"/feeds/stories/{story}.atom").entries[0].content[0].value
    root = well_formed_html(content)
    deletions, insertions = list(root.iter("del")), list(root.iter("ins"))
    assert deletions and insertions
    assert all("line-through" in d.get("style") and "color:" in d.get("style") for d in deletions)
    assert all(
        "underline" in i.get("style") and "background:" in i.get("style") for i in insertions
    )
    assert root.xpath("//*[@class]") == []  # nothing relies on our stylesheet
    # Without styles: a deletion in words, a replacement as "old → new".
    words = text_without_styles(content)
    assert "Keep this. [removed: Drop this sentence.] The toll is 212 → 284. Added." in words
    added = insert_story(db, "https://example.com/added", ["One.", "One.\n\nA new paragraph."])
    content = parsed_feed(client, f"/feeds/stories/{added}.atom").entries[0].content[0].value
    assert "One. [added: A new paragraph.]" in text_without_styles(content)


def test_every_entry_is_valid_html_in_a_valid_atom_feed(client, db):
    long_story(db, fields=BYLINES)
    insert_story(db, "https://example.com/short", ["One.\n\nTwo.", "One.\n\nTwo!\n\nThree."])
    insert_story(db, "https://example.com/hostile", ["<p>x</p> <div>", "</p><div>y & z"])
    feed = parsed_feed(client, "/feeds/all.atom")
    assert len(feed.entries) == 6
    for entry in feed.entries:
        well_formed_html(entry.content[0].value)
        assert entry.content[0].type == "text/html"


def test_a_first_version_shows_its_opening_not_the_whole_article(client, db):
    story = long_story(db)
    first = parsed_feed(client, f"/feeds/stories/{story}.atom").entries[-1]
    words = text_without_styles(first.content[0].value)
    assert "Paragraph 1 of the report" in words and "Paragraph 2 of the report" in words
    assert "Paragraph 3 of" not in words
    assert "… 38 more paragraphs …" in words
    assert "[added:" not in words  # nothing to compare with: not a change


def test_entry_titles_name_the_kinds_in_words(client, db):
    story = long_story(db)
    titles = [e.title for e in parsed_feed(client, f"/feeds/stories/{story}.atom").entries]
    assert titles[0].endswith("(text edited)")

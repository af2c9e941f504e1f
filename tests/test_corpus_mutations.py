"""On real news pages: page chrome never changes the fingerprint; article edits always do.

Each page from tests/fixtures/corpus (real pages, MIT-licensed corpus) gets the widgets that sit
inside article containers on live sites (related-story block, comment and share counts, an
"Updated ..." stamp, stock/price hover cards in paragraphs, an ad slot, a copyright line). Then:

- chrome outside the article drifts (link lists reordered and replaced, numbers tick, teasers
  change, a "Trending Now" box appears, script nonces and tokens change) -> same fingerprint;
- chrome inside the article drifts -> same fingerprint;
- an editor adds, deletes or edits a paragraph (one word, one number), changes the headline or
  appends a correction -> the fingerprint changes, and the change is the right kind.
"""

from __future__ import annotations

import gzip
import json
import random
from functools import cache
from pathlib import Path

import pytest
from mutations import (
    ARTICLE_MUTATIONS,
    CHROME_MUTATIONS,
    EXPECTED_KINDS,
    LivePage,
)

from tracker.core.extract import Article, extract
from tracker.core.normalize import fingerprint, fingerprint_lines

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
TRUTH = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
PAGES = sorted(TRUTH)

OUTSIDE = [name for name in CHROME_MUTATIONS if name.endswith("_outside")] + [
    "change_tokens",
]
INSIDE = [name for name in CHROME_MUTATIONS if name not in OUTSIDE]

try:  # the change classifier is another module; use it once it exists
    from tracker.core.changes import classify
except ImportError:  # pragma: no cover - depends on the state of the tree
    classify = None


def page_id(key: str) -> str:
    host = TRUTH[key]["url"].split("/")[2].removeprefix("www.")
    return f"{host}-{key[:6]}"


@cache
def live_page(key: str) -> LivePage:
    html = gzip.decompress((CORPUS / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8")
    page = LivePage.from_html(html, TRUTH[key]["articleBody"], seed=int(key[:8], 16))
    page.install_in_article_chrome()
    return page


@cache
def base_article(key: str) -> Article:
    return extract(live_page(key).html(), TRUTH[key]["url"])


def drifted(key: str, names: list[str], rounds: int = 2) -> Article:
    page = live_page(key).copy()
    page.rng = random.Random(key)
    for _ in range(rounds):
        for name in names:
            CHROME_MUTATIONS[name](page)
    return extract(page.html(), TRUTH[key]["url"])


def explain(before: Article, after: Article) -> str:
    old, new = fingerprint_lines(before), fingerprint_lines(after)
    gone = [line for line in old if line not in new]
    came = [line for line in new if line not in old]
    return f"lines gone: {gone[:5]}\nlines new: {came[:5]}"


def test_fixture_pages_are_real_articles() -> None:
    assert len(PAGES) >= 20
    for key in PAGES:
        assert live_page(key).usable(), page_id(key)


@pytest.mark.parametrize("key", PAGES, ids=page_id)
def test_chrome_outside_the_article_creates_no_version(key: str) -> None:
    before = base_article(key)
    assert before.text, "no article extracted from the unmodified page"
    after = drifted(key, OUTSIDE)
    assert fingerprint(after) == fingerprint(before), explain(before, after)


@pytest.mark.parametrize("key", PAGES, ids=page_id)
def test_chrome_inside_the_article_creates_no_version(key: str) -> None:
    before = base_article(key)
    after = drifted(key, INSIDE)
    assert fingerprint(after) == fingerprint(before), explain(before, after)


@pytest.mark.parametrize("name", list(ARTICLE_MUTATIONS))
@pytest.mark.parametrize("key", PAGES, ids=page_id)
def test_article_edit_changes_fingerprint(key: str, name: str) -> None:
    before = base_article(key)
    page = live_page(key).copy()
    page.rng = random.Random(f"{key}-{name}")
    if not ARTICLE_MUTATIONS[name](page):
        pytest.skip(f"{name} has nothing to edit on this page")
    after = extract(page.html(), TRUTH[key]["url"])

    assert fingerprint(after) != fingerprint(before)
    expected = EXPECTED_KINDS[name]
    if classify is not None:
        assert expected in classify(before, after)
    elif expected == "headline":
        assert after.headlines != before.headlines
        assert after.text == before.text
    else:
        assert after.text != before.text
        assert after.headlines == before.headlines
        before_paragraphs, after_paragraphs = before.text.split("\n\n"), after.text.split("\n\n")
        if expected in ("paragraphs_added", "correction"):
            assert len(after_paragraphs) == len(before_paragraphs) + 1
        elif expected == "paragraphs_removed":
            assert len(after_paragraphs) == len(before_paragraphs) - 1
        else:
            assert len(after_paragraphs) == len(before_paragraphs)
        if expected == "correction":
            assert any(p.startswith("Correction:") for p in after_paragraphs)


STORY = [
    "Good morning! This is the tech news you need to know this Tuesday.",
    "The state attorney general is investigating the office-sharing company over its finances.",
    "The mobile carrier's chief executive is stepping down in May after seven years in the job.",
    "A new game in the long-running series is finally coming out after twelve years of waiting.",
]


def test_a_second_rendering_of_the_story_is_not_taken_for_a_paragraph() -> None:
    items = "".join(f"<li>{s}</li>" for s in STORY[1:])
    html = (
        f"<html><body><div class='body'><p>{STORY[0]}</p><ol>{items}</ol></div>"
        f"<div class='teaser'><p>{STORY[0][:45]}...</p><div>{' '.join(STORY)}</div></div>"
        "</body></html>"
    )
    page = LivePage.from_html(html, "\n".join(STORY))
    assert [p.text_content() for p in page.paragraphs] == STORY
    # The intro paragraph before the list is not stray: the container holds it too.
    assert page.container.get("class") == "body"


def test_text_a_reader_cannot_see_is_not_a_paragraph() -> None:
    # A video end card repeats a paragraph's words with display:none.
    html = (
        "<html><body><div class='body'>"
        + "".join(f"<p>{s}</p>" for s in STORY)
        + f"<div style='display:none'><p class='videoTitle'>{STORY[1]}</p></div>"
        + f"<div hidden><p>{STORY[2]}</p></div></div></body></html>"
    )
    page = LivePage.from_html(html, "\n".join(STORY))
    assert [p.text_content() for p in page.paragraphs] == STORY


def test_a_caption_repeating_a_paragraph_is_not_a_second_paragraph() -> None:
    html = (
        f"<html><body><article><figure><figcaption><p>{STORY[0]}</p><p>Photo: Jane Doe</p>"
        "</figcaption></figure><div class='body'>"
        + "".join(f"<p>{s}</p>" for s in STORY)
        + "</div></article></body></html>"
    )
    page = LivePage.from_html(html, "\n".join(STORY))
    assert [p.text_content() for p in page.paragraphs] == STORY
    assert all(p.getparent().get("class") == "body" for p in page.paragraphs)
    # Where the story itself says it twice, both copies are paragraphs.
    twice = LivePage.from_html(html, "\n".join([STORY[0], *STORY]))
    assert len(twice.paragraphs) == len(STORY) + 1


def test_related_story_links_are_not_paragraphs() -> None:
    related = "Scientists map a hidden ocean beneath an icy moon"
    box = ["Storm knocks out power to thousands across the region", "Court blocks voting law"]
    html = (
        "<html><head><link rel='canonical' href='https://www.example.co.uk/news/story'></head>"
        "<body><div class='body'>"
        + "".join(f"<p>{s}</p>" for s in STORY)
        + f"<ul><li><a href='//www.example.com/news/ocean'>{related}</a></li></ul>"
        + "<div class='timeline'><span>Story Timeline</span>"
        + "".join(f"<a href='/news/{i}'>{t}</a>" for i, t in enumerate(box))
        + "</div>"
        # Not related stories: a product the story heads a section with (another site), and
        # a bullet point with a linked phrase.
        + "<h3><a href='https://bit.ly/x'>Satechi 72W USB-C Power Delivery Car Charger</a></h3>"
        + "<ul><li>Your <a href='/create-list'>email list will begin to grow this year</a></li>"
        + "</ul></div></body></html>"
    )
    body = "\n".join(
        [
            *STORY,
            related,
            "Story Timeline",
            *box,
            "Satechi 72W USB-C Power Delivery Car Charger",
            "Your email list will begin to grow this year",
        ]
    )
    page = LivePage.from_html(html, body)
    assert [" ".join(p.text_content().split()) for p in page.paragraphs] == [
        *STORY,
        "Satechi 72W USB-C Power Delivery Car Charger",
        "Your email list will begin to grow this year",
    ]

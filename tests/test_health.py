"""Extraction health: a page the tracker cannot read is called suspect, with reasons and advice.

The issue this answers: an app shell was stored as "Home World Politics" (its nav), and every
later check said "unchanged" while the story changed three times. Nothing warned the user.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tracker.core.article import Article, Block
from tracker.core.extract import extract
from tracker.core.health import CODES, OK, SUSPECT, Health, assess, word_count

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
TRUTH = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))

PARAGRAPHS = [
    "Emergency crews evacuated two neighbourhoods on Tuesday night after the river broke "
    "through a levee that engineers had warned was failing.",
    "About 1,200 residents spent the night in school gyms, the county said, and officials "
    "expect the water to keep rising until Thursday.",
    "The governor declared a state of emergency and asked for federal help, saying the damage "
    "to roads and homes would run into the tens of millions.",
    "Forecasters said more rain was on the way, with up to three inches expected over the "
    "weekend in the hills north of the city.",
]
NAV = """<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/politics">Politics</a></li></ul></nav></header>"""
# A client-side bundle inlined in the page, as many single-page apps ship it.
BUNDLE = "!function(e){var t={};function n(r){if(t[r])return t[r].exports;var o=t[r]={}}}(0);" * 300


def page(body: str, head: str = "") -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>The Daily Planet</title>{head}</head><body>{body}</body></html>"""


def article_page(extra: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return page(
        f"{NAV}<main><article><h1>Floodwaters rise as river breaches levee</h1>"
        f'<div class="story-body">{paragraphs}</div></article>{extra}</main>'
        "<footer><p>© 2024 The Daily Planet</p></footer>"
    )


def corpus_page(key: str) -> str:
    return gzip.decompress((CORPUS / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8")


def test_an_app_shell_read_as_its_nav_is_suspect_and_the_user_is_told_to_render_it() -> None:
    html = page(
        f'{NAV}<div id="__next"></div><script src="/_next/static/chunks/main.js" defer></script>',
        head=f"<script>{BUNDLE}</script>",
    )
    article = extract(html)
    assert article.text == "Home World Politics"  # what the version 1 stored
    health = assess(article, html)
    assert health.verdict == SUSPECT
    assert "app-shell" in health.codes
    assert "div#__next" in next(r.message for r in health.reasons if r.code == "app-shell")
    assert health.wants_browser
    assert health.suggestion is not None and "--render browser" in health.suggestion


def test_a_shell_without_a_known_mount_point_is_told_by_its_script_weight() -> None:
    html = page(f'{NAV}<div class="container"></div>', head=f"<script>{BUNDLE}</script>")
    health = assess(extract(html), html)
    assert "app-shell" in health.codes
    assert "of code and data" in next(r.message for r in health.reasons if r.code == "app-shell")


def test_a_shell_whose_article_came_from_its_data_is_ok() -> None:
    data = {
        "props": {
            "pageProps": {
                "story": {
                    "headline": "Floodwaters rise as river breaches levee",
                    "body": "".join(f"<p>{p}</p>" for p in PARAGRAPHS),
                }
            }
        }
    }
    html = page(
        f'{NAV}<div id="__next"></div><script id="__NEXT_DATA__" type="application/json">'
        f"{json.dumps(data)}</script>",
        head=f"<script>{BUNDLE}</script>",
    )
    article = extract(html)
    assert article.source == "next-data"
    assert assess(article, html) == Health(OK)


def test_nav_only_text_is_suspect_even_without_scripts() -> None:
    html = page(f"{NAV}<main><div class='app'></div></main>")
    article = extract(html)
    assert article.text == "Home World Politics"
    health = assess(article, html)
    assert health.verdict == SUSPECT
    assert health.codes == ("mostly-links",)
    assert "--selector" in (health.suggestion or "")


def test_an_article_of_link_text_is_suspect() -> None:
    links = ["Council approves budget", "Storm knocks out power", "How to watch the meteors"]
    article = Article(
        "Most read", None, None, None, "\n\n".join(links), None, "en",
        blocks=tuple(Block(text, links=(text,), kind="item") for text in links),
    )  # fmt: skip
    health = assess(article, article_page())
    assert "mostly-links" in health.codes
    message = next(r.message for r in health.reasons if r.code == "mostly-links")
    assert message.startswith("100% of the extracted text is link text")


def test_enable_javascript_in_noscript_is_suspect() -> None:
    html = page(
        "<noscript>Please enable JavaScript to read this article.</noscript>"
        "<main><p>Loading the latest story…</p></main>"
    )
    health = assess(extract(html), html)
    assert health.verdict == SUSPECT
    assert "javascript-required" in health.codes
    assert "Please enable JavaScript to read this article." in health.reasons[-1].message
    assert health.wants_browser


def test_javascript_is_required_in_view_is_suspect() -> None:
    html = page("<main><div class='notice'>JavaScript is required to use this site.</div></main>")
    assert "javascript-required" in assess(extract(html), html).codes


def test_a_comments_widget_asking_for_javascript_does_not_make_an_article_suspect() -> None:
    html = article_page(
        '<div id="disqus_thread"></div><noscript>Please enable JavaScript to view the '
        "comments powered by Disqus.</noscript>"
    )
    assert assess(extract(html), html) == Health(OK)


def test_a_normal_article_is_ok() -> None:
    html = article_page()
    article = extract(html)
    assert article.source == "html"
    assert assess(article, html, previous_words=word_count(article.text)) == Health(OK)


@pytest.mark.parametrize("key", sorted(TRUTH), ids=lambda key: key[:12])
def test_real_corpus_articles_are_ok(key: str) -> None:
    html = corpus_page(key)
    article = extract(html, TRUTH[key]["url"])
    health = assess(article, html, previous_words=word_count(article.text))
    assert health.verdict == OK, health.reasons


def test_a_collapse_against_the_previous_version_is_suspect() -> None:
    html = article_page()
    article = extract(html)
    words = word_count(article.text)
    health = assess(article, html, previous_words=1200)
    assert health.codes == ("collapse",)
    assert health.reasons[0].message.startswith(f"The article fell from 1200 words to {words}")
    # An ordinary edit that cuts a third is no collapse, nor is shrinking from a tiny version.
    assert assess(article, html, previous_words=int(words * 1.5)).verdict == OK
    assert assess(article, html, previous_words=30).verdict == OK


def test_a_selector_that_no_longer_matches_the_body_is_suspected_after_a_redesign() -> None:
    html = article_page()
    # After a redesign the story's selector matches only the first paragraph.
    article = extract(html, selector=".story-body p:first-child")
    assert article.source == "selector"
    health = assess(article, html, previous_words=400)
    assert health.verdict == SUSPECT
    assert {"few-words", "collapse"} <= set(health.codes)
    assert "selector may no longer match" in (health.suggestion or "")


def test_no_text_at_all_is_suspect() -> None:
    html = page("<main></main>")
    health = assess(extract(html), html)
    assert health.codes == ("no-text",)


def test_reasons_have_stable_codes_and_sentences_for_storage() -> None:
    html = page(f'{NAV}<div id="root"></div>', head=f"<script>{BUNDLE}</script>")
    health = assess(extract(html), html, previous_words=500)
    stored = health.reasons_json()
    assert stored and all(set(item) == {"code", "message"} for item in stored)
    assert all(item["code"] in CODES for item in stored)
    assert all(item["message"].endswith(".") for item in stored)


@pytest.mark.parametrize(
    "html",
    ["", "   ", "<html>", "\x00\x01 binary", "<div>" * 100_000, "<?xml version='1.0'?><a/>"],
    ids=["empty", "blank", "bare", "binary", "deep", "xml"],
)
def test_hostile_pages_never_raise(html: str) -> None:
    health = assess(extract(html), html, previous_words=-5)
    assert health.verdict in (OK, SUSPECT)

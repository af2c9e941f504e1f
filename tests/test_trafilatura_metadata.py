"""read_metadata(): the fields of trafilatura's metadata pass that extraction uses, read as
trafilatura's own pass (extract_metadata, run by bare_extraction) reads them."""

from __future__ import annotations

import pytest
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Extractor

from tracker.core.extract import _trafilatura_config as trafilatura_config
from tracker.core.extract import parse_page
from tracker.core.trafilatura_metadata import TrafilaturaMetadata, read_metadata

BODY = "<p>" + "The council met on Tuesday and voted on the budget for next year. " * 3 + "</p>"

PAGES = {
    "meta author and dates": f"""<html><head><title>Budget passes | Gazette</title>
<meta name="author" content="Ann Lee"><meta property="og:title" content="Budget passes">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
<link rel="canonical" href="https://example.org/budget"></head>
<body><article><h1>Budget passes</h1>{BODY}</article></body></html>""",
    "one-word meta author, author in the page": f"""<html><head><title>Budget passes</title>
<meta name="author" content="gazette"></head><body><article><h1>Budget passes</h1>
<p class="byline">By <span class="author">Bo Chen</span></p>{BODY}</article></body></html>""",
    "JSON-LD only": """<html><head><script type="application/ld+json">{"@type": "NewsArticle",
"headline": "Budget passes", "author": {"@type": "Person", "name": "Ann Lee"},
"datePublished": "2024-03-05", "url": "https://example.org/ld"}</script></head>
<body><article>"""
    + BODY
    + "</article></body></html>",
    "nothing but a date in the URL and the text": f"""<html><head></head><body><article>
<h1>Budget passes in a long vote</h1><p>March 5, 2024</p>{BODY}</article></body></html>""",
}


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("asked", [(False, False, False), (True, True, True), (True, False, True)])
def test_the_fields_asked_are_trafilaturas(name: str, asked: tuple[bool, bool, bool]) -> None:
    tree = parse_page(PAGES[name])
    assert tree is not None
    url = "https://example.org/2024/03/05/budget-passes"
    title, canonical, date = asked
    found = read_metadata(
        tree, url, trafilatura_config(), title=title, canonical=canonical, date=date
    )
    # What bare_extraction(with_metadata=True) reads: its options' date settings.
    options = Extractor(config=trafilatura_config(), url=url, with_metadata=True)
    full = extract_metadata(tree, url, options.date_params, options.fast)
    assert found == TrafilaturaMetadata(
        author=full.author,
        title=full.title if title else None,
        url=full.url if canonical else None,
        date=full.date if date else None,
    )


def test_reading_leaves_the_tree_as_it_was() -> None:
    tree = parse_page(PAGES["one-word meta author, author in the page"])
    assert tree is not None
    before = lxml_html(tree)
    read_metadata(tree, None, trafilatura_config(), title=True, canonical=True, date=True)
    assert lxml_html(tree) == before


def lxml_html(tree: object) -> bytes:
    import lxml.html

    return lxml.html.tostring(tree)

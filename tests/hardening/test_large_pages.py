"""A page of tens of thousands of elements is read in time linear in its size.

trafilatura's work grows with the square of a page; past `LARGE_PAGE_ELEMENTS` the body is
read from the element holding the most paragraphs instead, furniture left out. (The CPU budget
of each extraction, tests/test_extraction_pool.py, bounds whatever is left.)
"""

from __future__ import annotations

from tracker.core.extract import LARGE_PAGE_ELEMENTS, extract
from tracker.pipeline.check import analyse


def test_a_page_of_tiny_paragraphs_past_the_threshold_is_read_whole():
    count = LARGE_PAGE_ELEMENTS + 5_000
    paragraphs = "".join(f"<p>Item {n} of the list.</p>" for n in range(count))
    html = (
        "<html><body><nav><a href='/'>Home</a></nav><main><article><h1>Long list</h1>"
        f"{paragraphs}</article></main><aside><h2>Most read</h2><a href='/x'>Other</a></aside>"
        "</body></html>"
    )
    article = extract(html, "http://127.0.0.1/long")
    lines = article.text.split("\n\n")
    assert lines[0] == "Item 0 of the list." and lines[-1] == f"Item {count - 1} of the list."
    assert "Most read" not in article.text and "Home" not in article.text
    assert analyse(html, "http://127.0.0.1/long", None, ()).fingerprint

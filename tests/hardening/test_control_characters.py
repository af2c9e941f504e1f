"""One control character in a page never empties its article.

The class: characters XML 1.0 cannot hold (C0 controls but tab/LF/CR, DEL, U+FFFE, U+FFFF)
made trafilatura, which serialises the page as XML, return nothing; the check was "empty" and
the real edit in the same update was lost. Each is served, in one paragraph, together with an
edit elsewhere, through real checks via the CLI, with and without a selector.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli_runner
from servers import LocalServer

from tracker.core.extract import extract

PARAGRAPHS = [
    "The council met on Monday to discuss the budget for road repairs next year.",
    "Members of the finance committee argued for three hours before the vote was taken.",
    "The mayor said the repairs would begin in the spring if the weather allowed it.",
]
CONTROLS = ["\x0c", "\x0b", "\x1b", "\x1b[31m", "\x00", "\x01", "\x08", "\x7f", "\ufffe", "\uffff"]


def page(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return (
        "<!DOCTYPE html><html><head><title>Road repairs</title></head><body>"
        f"<main><article><h1>Road repairs</h1>{body}</article></main></body></html>"
    )


@pytest.mark.parametrize("control", CONTROLS, ids=[repr(c) for c in CONTROLS])
def test_a_control_character_leaves_the_article_readable(control: str):
    dirty = [PARAGRAPHS[0], f"Members of the finance{control} committee argued.", PARAGRAPHS[2]]
    article = extract(page(dirty), "http://127.0.0.1/story")
    assert PARAGRAPHS[0] in article.text and PARAGRAPHS[2] in article.text
    assert "finance" in article.text and "committee argued" in article.text
    assert not any(char in article.text for char in "\x00\x01\x08\x0b\x0c\x1b\x7f\ufffe\uffff")


@pytest.mark.parametrize("selector", [None, "article"])
@pytest.mark.parametrize("control", ["\x0c", "\x1b", "\ufffe", "\x00"], ids=repr)
def test_the_edit_beside_a_control_character_is_a_version(
    tmp_path: Path, database_url: str, server: LocalServer, control: str, selector: str | None
):
    cli = cli_runner(tmp_path / "home", database_url)
    url = server.url("/story")
    server.set("/story", page(PARAGRAPHS))
    cli("add", url, *(["--selector", selector] if selector else []))
    assert json.loads(cli("check", url, "--json").stdout)[0]["outcome"] == "changed"

    # The update: a control character in one paragraph, a corrected figure in another.
    edited = [
        PARAGRAPHS[0],
        PARAGRAPHS[1].replace("three", f"thr{control}ee"),
        "The mayor said the repairs would begin in the summer if the weather allowed it.",
    ]
    server.set("/story", page(edited))
    [report] = json.loads(cli("check", url, "--json").stdout)
    assert report["outcome"] == "changed"
    assert "summer" in cli("show", url).stdout


@pytest.mark.parametrize("reference", ["&#0;", "&#11;", "&#xb;", "&#x1B;", "&#12", "&#xFFFE;"])
def test_a_character_reference_to_such_a_character_is_cleaned_too(reference: str):
    dirty = [PARAGRAPHS[0], f"Members of the finance{reference} committee argued.", PARAGRAPHS[2]]
    article = extract(page(dirty), "http://127.0.0.1/story")
    assert PARAGRAPHS[0] in article.text and "committee argued" in article.text


@pytest.mark.parametrize("depth", [256, 300, 1000, 2000])
def test_an_article_nested_deeper_than_the_parser_allows_by_default_is_read(depth: int):
    body = "<div>" * depth + "".join(f"<p>{text}</p>" for text in PARAGRAPHS) + "</div>" * depth
    html = f"<html><body><article><h1>Road repairs</h1>{body}</article></body></html>"
    article = extract(html, "http://127.0.0.1/story")
    assert all(text in article.text for text in PARAGRAPHS)

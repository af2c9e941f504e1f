"""The article region: a cheap test of "did the article change?" before extraction.

Most checks of a settled story fetch the same article under new chrome: a new comment
count, another set of related links, an ad slot's new id. Extraction costs tens of
milliseconds a page; this test, one parse and one pass over part of the tree, a few.

When a page is fully read, :func:`locate` finds the *region*: the smallest element that
holds every block of the article and, where the page shows them, its headline and byline
(`/html/body/div[2]/main/article`, say). Its :class:`Region` keeps that element's path and
a digest of what the article could have been read from:

- the region's visible text, block boundaries included (a paragraph split in two is an
  edit), after the same hidden elements are dropped as extraction drops; and what sits
  beside the region in its container (unless that is the body), but page furniture
  (asides, navigation, forms) and mostly-link lists: extraction reads the container, so a
  note added beside the text ("Update: …" above it, a correction below) is an edit;
- everything outside the region that extraction reads the headline and byline from: the
  `<title>`, every `<h1>` and `<h2>` (templates that give the h1 to the site's logo show
  the headline in an h2, and extraction reads it there), every `<meta>`, the canonical and
  author links, the page's language, and the JSON data in scripts (JSON-LD, Next.js and
  the like);
- a salt naming what else decides the result: the extraction rules' version, the fetcher,
  the story's selector and ignore patterns. Changing any of them is a full read.

On the next check, :func:`digest_at` computes the digest at the same path; equal means the
article is what was read last time, and the fingerprint stored then stands. Anything else
(the path gone, any text in the region changed, a meta tag changed) is a full read, which
costs what it cost before: the test can make a check slower by a few milliseconds, never
wrong about the visible article. Where the region cannot be drawn (an article read from the
page's data, a live blog, blocks that cannot be found in the markup as written), there is no
region and every check reads the page in full.

What the digest does not see: a markup change that leaves every text and meta as it was
(a class renamed, a paragraph wrapped in a link). Such a change alters no text a reader
sees; extraction would read it at the next change of the region.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from copy import deepcopy

import lxml.etree
from lxml.html import HtmlElement

from tracker.core.article import Article, Region
from tracker.core.extract import BLOCK_TAGS, NOT_SHOWN, comment_tails, drop_hidden, parse_page
from tracker.core.normalize import single_line

# Bump when what the digest reads changes, so that digests stored by older rules miss.
REGION_RULES = 3
# How much of each block the region must be seen to hold: enough to place the block, short
# enough not to cross the points where extraction joins text the markup splits.
_NEEDLE_CHARS = 48
MAX_PATH_CHARS = 1000  # the width of the column that keeps it
_DATA_SCRIPTS = (
    "//script[contains(@type, 'json')]"  # application/ld+json, application/json
    " | //script[@id='__NEXT_DATA__' or @id='__NUXT_DATA__']"
)


def prepare(page: str | HtmlElement | None) -> HtmlElement | None:
    """The page as extraction sees it (hidden elements dropped), for :func:`locate` and
    :func:`digest_at`, which read it without changing it; None when it is no HTML page.

    `page`: the HTML, or the tree `parse_page` made of it, which is copied, not changed."""
    if page is None:
        return None
    tree = parse_page(page) if isinstance(page, str) else deepcopy(page)
    if tree is None:
        return None
    drop_hidden(tree)
    return tree


def locate(tree: HtmlElement | None, article: Article, *, salt: str) -> Region | None:
    """The region of a page (see :func:`prepare`) whose article extraction read as
    `article`; None when it cannot be drawn (then every check of the page reads it in full)."""
    if tree is None or article.source != "html" or article.entries or not article.text:
        return None
    body = tree.find("body")
    if body is None:
        return None
    needles = [_needle(block) for block in article.text.split("\n\n")]
    needles = [needle for needle in needles if needle]
    text, spans = _shown_text(body)
    if not needles or not all(needle in text for needle in needles):
        return None  # blocks not found as written: extraction joined or rewrote them
    # Where the page shows its headline and byline, the region holds them too: a byline
    # shown above the body is read from there. Not a headline the digest reads anyway (an
    # h1 or h2, the <title>, a meta tag): breadcrumbs and share links repeat it all over a page,
    # and holding every copy would make the region the whole body.
    covered = _digested_texts(tree)
    headlines = article.headlines or ((article.title,) if article.title else ())
    shown = [] if all(_is_covered(h, covered) for h in headlines) else [article.title]
    for value in (*shown, article.byline):
        needle = _needle(value or "")
        if needle and needle in text:
            needles.append(needle)
    # Every place any of them appears, not only the first: a pull quote repeats a sentence,
    # and the region must hold the paragraph extraction read as well as the quote.
    first, last = len(text), 0
    for needle in needles:
        at = text.find(needle)
        while at != -1:
            first, last = min(first, at), max(last, at + len(needle))
            at = text.find(needle, at + 1)
    region = body
    while True:
        holding = next(
            (
                child
                for child in region
                if child in spans and spans[child][0] <= first and last <= spans[child][1]
            ),
            None,
        )
        if holding is None:
            break
        region = holding
    path = tree.getroottree().getpath(region)
    if len(path) > MAX_PATH_CHARS:
        return None
    return Region(path, _digest(tree, region, path, salt))


def digest_at(tree: HtmlElement | None, path: str, *, salt: str) -> str | None:
    """The digest of the region at `path` of a page (see :func:`prepare`); None when the
    page has no single element there any more."""
    if tree is None:
        return None
    try:
        found = tree.getroottree().xpath(path)
    except lxml.etree.XPathError:
        return None
    if not isinstance(found, list) or len(found) != 1 or not isinstance(found[0], HtmlElement):
        return None
    return _digest(tree, found[0], path, salt)


def _digest(tree: HtmlElement, region: HtmlElement, path: str, salt: str) -> str:
    digest = hashlib.sha256()

    def add(label: str, value: object) -> None:
        digest.update(f"{label}\x1f{value}\x1e".encode("utf-8", "surrogatepass"))

    add("rules", REGION_RULES)
    add("salt", salt)
    add("path", path)
    add("lang", tree.get("lang"))
    for element in tree.iter("title", "h1", "h2", "meta", "link"):
        if element.tag == "meta":
            add("meta", sorted(element.attrib.items()))
        elif element.tag == "link":
            if (element.get("rel") or "").casefold() in ("canonical", "author"):
                add("link", (element.get("rel"), element.get("href")))
        else:
            add(element.tag, element.text_content())
    for script in tree.xpath(_DATA_SCRIPTS):
        add("data", script.text or "")
    add("region", "".join(_text_with_breaks(region)))
    add("beside", "\x1f".join(_beside(region)))
    return digest.hexdigest()


# Siblings of the region that are page furniture, never the article's text.
_FURNITURE = frozenset({"aside", "nav", "header", "footer", "form", "menu", "dialog"})


def _beside(region: HtmlElement) -> Iterable[str]:
    """What sits beside the region in its container that extraction could read as article
    text: a note added before the text ("Update: …") or after it (a correction) is read,
    since extraction takes the container, not the smallest element that held the blocks
    last time. Not page furniture (asides, navigation, forms…) nor mostly-link lists
    (related stories), whose changes are chrome; not beside a region that is a child of
    <body> (the rest of the page)."""
    container = region.getparent()
    if container is None or container.tag in ("body", "html"):
        return
    yield container.text or ""
    for sibling in container:
        element = sibling is not region and isinstance(sibling.tag, str)  # not a comment
        if element and sibling.tag not in _FURNITURE:
            text = "".join(_text_with_breaks(sibling))
            links = sum(len(link.text_content()) for link in sibling.iter("a"))
            if links * 2 <= len(text.strip()):
                yield text
        yield sibling.tail or ""


def _text_with_breaks(region: HtmlElement) -> Iterable[str]:
    """The region's shown text with a mark at every block boundary."""
    hidden_depth = 0  # inside a script, style, noscript or template
    for event, element in lxml.etree.iterwalk(region, events=("start", "end")):
        if not isinstance(element.tag, str):
            continue  # a comment: its tail is read with comment_tails, its text is not shown
        tag = element.tag
        if event == "start":
            if tag in NOT_SHOWN or hidden_depth:
                hidden_depth += 1
                continue
            if tag in BLOCK_TAGS:  # <br> among them
                yield "\n"
            yield element.text or ""
            if len(element):
                yield from comment_tails(element[0])
            continue
        if hidden_depth:
            hidden_depth -= 1
            if hidden_depth:
                continue
        elif tag in BLOCK_TAGS:
            yield "\n"
        if element is not region:
            yield element.tail or ""
            yield from comment_tails(element.getnext())


def _shown_text(body: HtmlElement) -> tuple[str, dict[HtmlElement, tuple[int, int]]]:
    """The body's shown text on one line (see `single_line`), and where each element's text
    lies in it."""
    parts: list[str] = []
    length = 0
    spaced = True  # the text so far ends with a space (or there is none yet)
    spans: dict[HtmlElement, tuple[int, int]] = {}
    starts: list[int] = []
    hidden_depth = 0  # inside a script, style, noscript or template
    for event, element in lxml.etree.iterwalk(body, events=("start", "end")):
        pieces: Iterable[str | None]
        if not isinstance(element.tag, str):
            continue  # a comment: its tail is read with comment_tails, its text is not shown
        if event == "start":
            if hidden_depth or element.tag in NOT_SHOWN:
                hidden_depth += 1
                continue
            starts.append(length)
            pieces = (element.text, *comment_tails(element[0] if len(element) else None))
        elif hidden_depth:
            hidden_depth -= 1
            if hidden_depth:
                continue
            pieces = (element.tail, *comment_tails(element.getnext()))  # its tail is shown
        else:
            spans[element] = (starts.pop(), length)
            if element is body:
                continue
            pieces = (element.tail, *comment_tails(element.getnext()))
        for piece in pieces:
            if not piece:
                continue
            words = single_line(piece)
            if not spaced and piece[0].isspace():
                words = " " + words
            if words and not words.endswith(" ") and piece[-1].isspace():
                words += " "
            if words:
                parts.append(words)
                length += len(words)
                spaced = words.endswith(" ")
    return "".join(parts), spans


def _digested_texts(tree: HtmlElement) -> list[str]:
    """The texts outside the region that the digest reads: h1s, h2s, the title, meta
    contents."""
    texts = [single_line(element.text_content()) for element in tree.iter("h1", "h2", "title")]
    texts += [single_line(element.get("content") or "") for element in tree.iter("meta")]
    return [text for text in texts if text]


def _is_covered(headline: str, covered: list[str]) -> bool:
    # A <title> adds the site's name ("Headline | The Daily"): a headline inside one counts.
    line = single_line(headline)
    return bool(line) and any(line == text or line in text for text in covered)


def _needle(text: str) -> str:
    return single_line(text)[:_NEEDLE_CHARS]

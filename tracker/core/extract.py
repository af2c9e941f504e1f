"""HTML page -> the article on it: headline, byline, dates and body text.

The body comes from trafilatura (or from a per-story CSS selector). Besides the plain text that
is stored and diffed, the article keeps its body as `Block`s that remember which words were link
text: the fingerprint (tracker.core.normalize) needs that to tell page chrome from prose.

An app shell (a JavaScript-rendered page whose HTML is a nav and an empty mount point) carries its
article as data in a script instead (tracker.core.embedded). When that data holds more than twice
the words of the body the page shows, the page shows less than half of it, and what it does show
is a teaser of it or no story at all, the body comes from the data: `Article.source` then names it
("next-data", "json-ld", ...). A page that shows its article and also carries it as JSON-LD keeps
the HTML reading; so does a page whose data holds some other, longer text.

`extract` never raises on bad HTML: a page with no findable article yields `text == ""`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from configparser import ConfigParser
from copy import deepcopy
from urllib.parse import urljoin

import lxml.etree
import lxml.html
from cssselect import SelectorError
from lxml.html import HtmlElement

from tracker.core.article import MAX_URL_CHARS, Article, Block
from tracker.core.embedded import EmbeddedArticle, embedded_article
from tracker.core.liveblog import live_candidates, read_live_blog
from tracker.core.normalize import is_standalone_chrome, normalize_text, stored_blocks
from tracker.core.trafilatura_metadata import read_metadata

__all__ = ["Article", "Block", "extract", "validate_selector", "visible_text"]


_EMPTY = Article(None, None, None, None, "", None, None)

# Elements a reader never sees. Hover-card bodies and screen-reader-only duplicates live here.
# One pass over the page (a union of five paths walked it five times), the style only read
# where there is one: a third cheaper, the same elements in the same (document) order.
_HIDDEN_XPATH = lxml.etree.XPath(
    "//*[@hidden or @aria-hidden='true' or self::template or self::noscript"
    " or (@style and (contains(translate(@style, ' ', ''), 'display:none')"
    " or contains(translate(@style, ' ', ''), 'visibility:hidden')))]"
)


@functools.cache
def _trafilatura_config() -> ConfigParser:
    # trafilatura (with courlan, htmldate, justext: a quarter of a second of imports) is
    # imported on the first extraction, not with this module: the process that only
    # fetches and records (a pass of 304s, the check engine's main process, whose pages are
    # read in the extraction processes) never needs it.
    from trafilatura.settings import use_config

    config = use_config()
    # A page this big is almost certainly not an article (or is hostile): give up on it.
    config.set("DEFAULT", "MAX_TREE_SIZE", "150000")
    return config


_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\s]*\)")
_SOURCE_BREAK = re.compile(r"\s*\n\s*")
_LIST_MARKER = re.compile(r"^[-*•](?:\s+|$)")  # the "- " xmltotxt puts before list items
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»«~/]\s+|\s*::\s*")


def validate_selector(selector: str) -> None:
    """Raise ValueError when `selector` is not a valid CSS selector (for config-time checks)."""
    try:
        lxml.html.fromstring("<p></p>").cssselect(selector)
    except (SelectorError, lxml.etree.XPathError) as error:
        raise ValueError(f"invalid CSS selector {selector!r}: {error}") from error


def extract(
    page: str | HtmlElement, url: str | None = None, *, selector: str | None = None
) -> Article:
    """Extract the article from a page: its HTML, or its tree as `parse_page` makes it (read
    from a copy: the tree passed in is not changed, so one parse can serve every reader of the
    page). Never raises on malformed or hostile HTML."""
    try:
        tree = _parse(page) if isinstance(page, str) else deepcopy(page)
        if tree is None:
            return _EMPTY
        meta = _page_metadata(tree, url)
        # Read before hidden elements go: a script inside a hidden container still holds data.
        embedded = None if selector else embedded_article(tree)
        _drop_hidden(tree)
        # Read before the body extraction prunes the tree (an entry's time is furniture to it).
        live_blog = None if selector else live_candidates(tree)
        shown_byline = _shown_byline(tree)
        source, extra = "html", dict[str, str]()
        if selector:
            blocks, byline = _selected_blocks(tree, selector), None
            doc_title, source = None, "selector"
        else:
            blocks, byline, doc_title, extra = _trafilatura_blocks(tree, url, meta)
        byline = byline or shown_byline
        kept = tuple(block for block in blocks if block.text)
        if embedded is not None and _is_shell_of(tree, kept, embedded):
            kept = tuple(Block(text=text, kind=kind) for kind, text in embedded.reading_order())
            source, byline = embedded.source, byline or embedded.byline
            # The page's own dates first, then the data's, then trafilatura's guesses.
            dates = {"published": embedded.published, "modified": embedded.modified}
            extra = {**extra, **{key: value for key, value in dates.items() if value}}
        else:
            embedded = None
        meta = {**extra, **{k: v for k, v in meta.items() if v}}
        # A live blog is read as its entries; its body gets each entry's time and title.
        live = read_live_blog(live_blog, kept)
        kept = live.blocks if live else kept
    except Exception:  # noqa: BLE001 -- hostile input must never break a check
        return _EMPTY
    headlines = _headlines(meta, doc_title, embedded.headline if embedded else None)
    headlines = _with_shown_title_part(headlines, kept)
    if len(meta.get("canonical_url") or "") > MAX_URL_CHARS:  # junk, and too long to store
        meta.pop("canonical_url")
    byline = _clean_byline(byline)
    # The body as stored: no chrome, no repeated headline or byline (tracker.core.normalize).
    kept = stored_blocks(
        kept, headlines[0] if headlines else None, meta.get("canonical_url"), byline
    )
    return Article(
        title=headlines[0] if headlines else None,
        byline=byline,
        published=meta.get("published"),
        modified=meta.get("modified"),
        text="\n\n".join(normalize_text(block.text) for block in kept),
        canonical_url=meta.get("canonical_url"),
        lang=meta.get("lang"),
        headlines=headlines,
        blocks=kept,
        source=source,
        entries=live.entries if live else (),
    )


# Counters and follower counts an author box puts after the name ("Ann Lee 5,120 followers",
# "Ann Lee 5"): they tick on every request, and a name never ends in a number.
_BYLINE_COUNTER = re.compile(
    r"(?:[\s·|,;:-]+\d[\d.,\u202f\u00a0 ]*[kKmM]?\b(?:\s*(?:followers?|subscribers?|articles?|"
    r"stories|posts|reads|views|comments?|likes?|shares?)\b)?)+\s*$",
    re.IGNORECASE,
)


_ENDS_WITH_MONTH = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?$",
    re.IGNORECASE,
)


# A credit line as shown: "By Ann Lee", "By Ann Lee and Bo Chen", "By Ann Lee, Bo Chen".
_NAME = r"[A-ZÀ-Þ][\w'’.-]*(?:\s+(?:[A-ZÀ-Þ][\w'’.-]*|de|van|von|da|del|der|la|le|bin|al))*"
_SHOWN_BYLINE = re.compile(rf"^By\s+({_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*)$")
_BYLINE_XPATH = (
    "//body//*[self::span or self::p or self::div or self::a or self::address or self::strong"
    " or self::b][starts-with(normalize-space(.), 'By ')]"
)


def _shown_byline(tree: HtmlElement) -> str | None:
    """The first credit line the page shows ("By Ann Lee"), for when the page's metadata
    names no author: without it a byline change would go unseen."""
    for element in tree.xpath(_BYLINE_XPATH)[:20]:
        text = " ".join(element.text_content().split())
        if len(text) <= 120:
            match = _SHOWN_BYLINE.match(text)
            if match:
                return match.group(1)
    return None


def _clean_byline(byline: str | None) -> str | None:
    if not byline:
        return None
    text = normalize_text(byline)
    cleaned = _BYLINE_COUNTER.sub("", text).strip(" ·|,;:-")
    if _ENDS_WITH_MONTH.search(cleaned):  # "Ann Lee, Dec 4 2026": a date, kept whole
        return text
    return cleaned or text or None


def visible_text(page: str | HtmlElement) -> str:
    """The text a reader sees on the page: no scripts, styles, noscript or hidden elements.

    A tree passed in is copied, not changed. Never raises: a page that cannot be read is "".
    """
    try:
        tree = _parse(page) if isinstance(page, str) else deepcopy(page)
        if tree is None:
            return ""
        _drop_hidden(tree)
        return _page_text(tree)
    except Exception:  # noqa: BLE001 -- hostile input must never break a check
        return ""


def _page_text(tree: HtmlElement) -> str:
    body = next(tree.iter("body"), None)
    return "" if body is None else " ".join(" ".join(shown_text_nodes(body)).split())


# Elements whose text a reader never sees (tracker.core.region reads pages the same way).
NOT_SHOWN = frozenset(["script", "style", "noscript", "template"])


def comment_tails(first: HtmlElement | None) -> Iterator[str]:
    """The text after each comment (or processing instruction) from `first` up to the next
    element: ``b`` in ``<p>a<!-- ad -->b</p>``. lxml's ``iterwalk`` never reports these
    nodes, so a walk over elements must ask for their tails where they stand: the first
    children of an element (``comment_tails(element[0])``), and after each element's own
    tail (``comment_tails(element.getnext())``)."""
    node = first
    while node is not None and not isinstance(node.tag, str):
        if node.tail:
            yield node.tail
        node = node.getnext()


def shown_text_nodes(element: HtmlElement) -> Iterator[str]:
    """The text nodes inside `element` in document order, but those in a script, style,
    noscript or template: what the XPath ``.//text()[not(ancestor::script or ...)]`` selects,
    read in one walk instead of one look up the ancestors per node."""
    hidden_depth = 0  # inside an element whose text is not shown
    for event, node in lxml.etree.iterwalk(element, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue  # a comment: its tail is read with comment_tails, its text is not shown
        if event == "start":
            if hidden_depth or node.tag in NOT_SHOWN:
                hidden_depth += 1
                continue
            if node.text:
                yield node.text
            if len(node):
                yield from comment_tails(node[0])
            continue
        if hidden_depth:
            hidden_depth -= 1
            if hidden_depth:
                continue
        if node is not element:
            if node.tail:
                yield node.tail
            yield from comment_tails(node.getnext())


def page_text(shown: HtmlElement) -> str:
    """`visible_text` of a page already parsed with its hidden elements dropped."""
    return _page_text(shown)


# Characters XML 1.0 does not allow (C0 controls but tab, LF, CR; lone surrogates; U+FFFE,
# U+FFFF), and DEL. One of them anywhere in a page made trafilatura, which serialises the tree
# as XML, return nothing: an "empty" page, and the real edit in the same update lost.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


_HTML_PARSER = threading.local()


def html_parser() -> lxml.html.HTMLParser:
    """The parser for pages: libxml2's, without its nesting limit. By default it silently
    drops everything nested deeper than 255 elements, so a page (hostile, or a CMS gone wrong)
    could hide its whole article from the tracker. The body size is capped before this
    (max_body_bytes), which is the protection huge_tree lifts. One parser per thread.

    Its elements are all plain `HtmlElement`s. lxml.html's own parser picks each element's
    class (FormElement for a <form>, InputElement for an <input>, ...) with a Python callback
    run whenever Python first touches an element: about two million calls over the corpus,
    a twentieth of a full read. Nothing here uses those classes' form helpers."""
    parser = getattr(_HTML_PARSER, "parser", None)
    if parser is None:
        parser = _HTML_PARSER.parser = lxml.html.HTMLParser(huge_tree=True)
        parser.set_element_class_lookup(
            lxml.etree.ElementDefaultClassLookup(
                element=HtmlElement,
                comment=lxml.html.HtmlComment,
                pi=lxml.html.HtmlProcessingInstruction,
                entity=lxml.html.HtmlEntity,
            )
        )
    return parser


_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")


def _safe_reference(match: re.Match[str]) -> str:
    hex_digits, digits = match.groups()
    code = int(hex_digits, 16) if hex_digits else int(digits)
    if code > 0x10FFFF or _NOT_XML.match(chr(code)):
        return " "
    return match.group(0)


def xml_safe(html: str) -> str:
    """`html` with the characters XML cannot hold as spaces, written out or as character
    references ("&#11;"), which the parser would turn into them (a form feed or vertical tab
    reads as the space it stands for; an ESC or U+FFFE is noise either way)."""
    html = _NOT_XML.sub(" ", html)
    if "&#" in html:
        html = _CHARACTER_REFERENCE.sub(_safe_reference, html)
    return html


# Nesting deeper than this is flattened: the extraction's tree walks (ours, trafilatura's)
# recurse, and a page nested thousands deep would exhaust Python's recursion limit.
MAX_NESTING = 150


def _flatten_deep_nesting(tree: HtmlElement) -> None:
    """Unwrap the pure wrappers (no text of their own, one child) below `MAX_NESTING` levels;
    if the page is still nested deeper, unwrap every element there but the leaves' parents.
    A document of ordinary depth is left untouched (one pass to measure it)."""
    depth = _depths(tree)
    for only_wrappers in (True, False):
        if max(depth.values(), default=0) <= MAX_NESTING:
            return
        deep = [el for el, level in depth.items() if level > MAX_NESTING // 2]
        for element in reversed(deep):
            if not isinstance(element.tag, str) or element.getparent() is None:
                continue
            wrapper = len(element) == 1 and not (element.text or "").strip()
            if (wrapper or not only_wrappers) and len(element):
                element.drop_tag()
        depth = _depths(tree)


def _depths(tree: HtmlElement) -> dict[HtmlElement, int]:
    """Each element's nesting level (the root's is 0), in document order."""
    depth: dict[HtmlElement, int] = {}
    for element in tree.iter():
        parent = element.getparent()
        depth[element] = depth[parent] + 1 if parent is not None else 0
    return depth


def _parse(html: str) -> HtmlElement | None:
    if not html or not html.strip():
        return None
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    html = xml_safe(html)
    # lxml refuses str input that declares an encoding; strip the XML declaration.
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)
    try:
        tree = lxml.html.document_fromstring(html, parser=html_parser())
    except (lxml.etree.ParserError, ValueError):
        return None
    _flatten_deep_nesting(tree)
    return tree if tree is not None and tree.tag == "html" else None


def parse_page(html: str) -> HtmlElement | None:
    """The page's tree as extraction parses it; None when there is no HTML document. Parsing
    is a few percent of a read, the characters XML cannot hold and the check for deep nesting
    about as much again: a caller with several readers of a page parses it once, here, and
    hands them the tree (`extract`, tracker.core.region.prepare, tracker.core.health.assess)."""
    return _parse(html)


def drop_hidden(tree: HtmlElement) -> None:
    """Drop what the page does not show, as extraction does before reading it."""
    _drop_hidden(tree)


def _drop_hidden(tree: HtmlElement) -> None:
    for element in _HIDDEN_XPATH(tree):
        if element.getparent() is not None and element.tag not in ("html", "body"):
            element.drop_tree()


# --- body ------------------------------------------------------------------------------------

# The page is an app shell around the article in its data when the data holds more than this
# many times the words of the body read from what the page shows ...
_SHELL_WORD_RATIO = 2.0
# ... and the page shows less than this share of the data's three-word phrases (a page that
# shows its article, and carries it as JSON-LD too, shows nearly all of them) ...
_SHELL_MAX_SHOWN = 0.5
# ... and what the page does show is the data's story (at least this share of its phrases is in
# the data: a teaser of it) or is no story at all (fewer than this many words outside links: a
# nav, a cookie notice, a copyright line).
_SHELL_MIN_SAME = 0.5
_SHELL_MAX_PROSE_WORDS = 50


def _is_shell_of(tree: HtmlElement, blocks: tuple[Block, ...], embedded: EmbeddedArticle) -> bool:
    """Whether the page is an app shell around the article its data carries.

    Every test is relative to what the page shows, so an article the page shows is never
    replaced: the data must hold more than twice the words of the body read from the page's
    visible text (a JSON-LD articleBody cut to a teaser never wins), most of the data's text must
    be missing from the page (a server-rendered page shows its own text), and what the page
    shows must be the data's own story or no story at all (another, longer text in the data
    does not replace the article shown). Blocks trafilatura read from the data itself (it falls
    back to JSON-LD) are not counted as shown.
    """
    visible = _page_text(tree)
    visible_key = _key(visible)
    shown = [block for block in blocks if _key(block.text) and _key(block.text) in visible_key]
    shown_text = " ".join(block.text for block in shown)
    if embedded.word_count <= _SHELL_WORD_RATIO * len(_key(shown_text).split()):
        return False
    wanted = _shingles(embedded.text)
    if wanted and len(wanted & _shingles(visible)) >= _SHELL_MAX_SHOWN * len(wanted):
        return False
    prose = sum(len(_key(b.text).split()) - len(_key(" ".join(b.links)).split()) for b in shown)
    if prose < _SHELL_MAX_PROSE_WORDS:
        return True
    story = _shingles(shown_text)
    return len(story & wanted) >= _SHELL_MIN_SAME * len(story)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + 3]) for i in range(max(0, len(words) - 2))}


# A page of more elements than this is not given to trafilatura, whose work grows with the
# square of the page (200,000 tiny paragraphs took 9 minutes, 60,000 took 15 s): its body is
# read from the element holding the most paragraphs (`_large_page_blocks`). News articles have
# a few thousand elements; only generated or hostile pages reach this.
LARGE_PAGE_ELEMENTS = 20_000


def _trafilatura_blocks(
    tree: HtmlElement, url: str | None, meta: dict[str, str]
) -> tuple[list[Block], str | None, str | None, dict[str, str]]:
    """The body as trafilatura reads it, with its author, title and the dates and canonical
    URL it found that the page's own metadata (`meta`, which wins) does not name."""
    _prepare_layout(tree)
    if sum(1 for _ in tree.iter()) > LARGE_PAGE_ELEMENTS:
        heading = tree.find(".//h1")
        title = " ".join(heading.text_content().split()) if heading is not None else None
        return _large_page_blocks(tree), None, title or None, {}
    from trafilatura.settings import Document

    document = _bare_extraction(tree, prune=True)
    pruned = isinstance(document, Document) and document.body is not None and len(document.body)
    if not pruned:
        # Nothing but furniture on the page (an app shell's nav): read what there is, as
        # before, so that the extraction's health can say what the page is.
        document = _bare_extraction(tree, prune=False)
    # bare_extraction returns a Document unless asked for a dict (as_dict), which it is not.
    if not isinstance(document, Document) or document.body is None:
        return [], None, None, {}
    # The metadata trafilatura would have read first (it copies the tree: this is the same
    # page), before the furniture goes. Only what `meta` leaves open: its date search alone
    # was a tenth of a read. (Its language is never set without a target language.)
    try:
        found = read_metadata(
            tree,
            url,
            _trafilatura_config(),
            title=not (meta.get("og_title") or meta.get("page_title")),
            canonical=not meta.get("canonical_url"),
            date=not meta.get("published"),
        )
    except (TypeError, ValueError):  # what bare_extraction reports as no document
        return [], None, None, {}
    if pruned:
        for element in tree.xpath(_CHROME_XPATH):
            if element.getparent() is not None:
                element.drop_tree()  # its tail stays: that is the text after it
    extra = {
        key: value
        for key, value in (("published", found.date), ("canonical_url", found.url))
        if value
    }
    blocks = _split_run_ons(tree, list(_body_blocks(document.body)))
    blocks = _with_continuations(tree, blocks)
    return blocks, found.author, found.title, extra


def _large_page_blocks(tree: HtmlElement) -> list[Block]:
    """The body of a page too large for trafilatura: the blocks of the element holding the
    most paragraphs, furniture left out. Linear in the page, where trafilatura is not."""
    for element in tree.xpath(_CHROME_XPATH):
        if element.getparent() is not None:
            element.drop_tree()
    parents = Counter(p.getparent() for p in tree.iter("p") if p.getparent() is not None)
    if not parents:
        body = tree.find("body")
        return _inline_blocks(body) if body is not None else []
    container, _ = parents.most_common(1)[0]
    return _inline_blocks(container)


def _bare_extraction(tree: HtmlElement, *, prune: bool) -> object:
    import trafilatura

    # The metadata is read apart, only where it decides something (`read_metadata`). No URL:
    # trafilatura uses it only to make link and image targets absolute (courlan's URL fixing
    # was 2% of a read), and the body keeps link texts, never targets (`_element_blocks`).
    return trafilatura.bare_extraction(
        tree,
        url=None,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        include_links=True,
        prune_xpath=_CHROME_XPATH if prune else None,
        config=_trafilatura_config(),
    )


def _body_blocks(body: lxml.etree._Element) -> Iterator[Block]:
    """Split trafilatura's XML body into blocks, keeping each block's link texts.

    Text trafilatura leaves between its elements (a paragraph it read as the tail of a
    heading) is a paragraph too.
    """
    yield from _loose_blocks(body.text)
    for child in body:
        yield from _child_blocks(child)
        yield from _loose_blocks(child.tail)


def _loose_blocks(text: str | None) -> Iterator[Block]:
    if text and text.strip():
        line = normalize_text(_SOURCE_BREAK.sub(" ", text))
        if line:
            yield Block(text=line)


def _child_blocks(child: lxml.etree._Element) -> Iterator[Block]:
    if child.tag == "list":
        items = [item for item in child.iter("item")] or [child]
        elements = [(item, "item") for item in items if item.getparent() is child] or [
            (child, "item")
        ]
    elif child.tag == "table":
        elements = [(row, "row") for row in child.iter("row")] or [(child, "row")]
    else:
        elements = [(child, child.tag)]
    for element, kind in elements:
        yield from _element_blocks(element, kind)


def _element_blocks(element: lxml.etree._Element, kind: str) -> Iterator[Block]:
    links = [normalize_text(" ".join(ref.itertext())) for ref in element.iter("ref")]
    plain = deepcopy(element)
    plain.tail = None
    lxml.etree.strip_tags(plain, "ref")  # keep link text, drop the markdown link syntax
    if kind != "code":
        # A line break in the page's source renders as a space; only <lb> breaks a line. Left
        # in, it would cut a paragraph at each link the template put on a line of its own.
        for node in plain.iter():
            if node.text and "\n" in node.text:
                node.text = _SOURCE_BREAK.sub(" ", node.text)
            if node is not plain and node.tail and "\n" in node.tail:
                node.tail = _SOURCE_BREAK.sub(" ", node.tail)
    # Fallback extractors can leave links written as markdown in text nodes.
    from trafilatura.xml import xmltotxt

    raw = _MARKDOWN_LINK.sub(r"\1", xmltotxt(plain, False))
    lines = [_LIST_MARKER.sub("", normalize_text(line)) for line in raw.split("\n")]
    for line in filter(None, lines):
        mine = []
        while links and links[0] and links[0] in line:
            mine.append(links.pop(0))
        yield Block(text=line, links=tuple(mine), kind=kind)


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


# trafilatura falls back to a container's whole text, as one paragraph, when its own reading
# of a short page is shorter than its minimum: a story of one to three paragraphs then comes
# back as one run-on block with its headline, byline and stamps in it. Such a block is read
# again from the container it came from, one block per paragraph, as a reader sees it.
_RUN_ON_MAX_BLOCKS = 3
_RUN_ON_MIN_WORDS = 12
_RUN_ON_ENDS = 6  # words at each end of a block that locate its container


def _split_run_ons(tree: HtmlElement, blocks: list[Block]) -> list[Block]:
    if len(blocks) > _RUN_ON_MAX_BLOCKS:
        return blocks
    body = tree.find("body")
    if body is None:
        return blocks
    result: list[Block] = []
    for block in blocks:
        result.extend(_paragraphs_of_run_on(body, block) or [block])
    return result


def _paragraphs_of_run_on(body: HtmlElement, block: Block) -> list[Block] | None:
    words = _key(block.text).split()
    if block.kind != "p" or len(words) < _RUN_ON_MIN_WORDS:
        return None
    first, last = " ".join(words[:_RUN_ON_ENDS]), " ".join(words[-_RUN_ON_ENDS:])
    # The smallest element holding both ends of the block.
    container, found = body, True
    while found:
        found = False
        for child in container:
            if not isinstance(child.tag, str) or child.tag in _SKIP_TAGS:
                continue
            key = _key(" ".join(child.xpath(_OWN_TEXT_XPATH)))
            if first in key and last in key:
                container, found = child, True
                break
    # Its lines from the one the block starts in to the one it ends in.
    paragraphs = _inline_blocks(container)
    keys = [_key(p.text) for p in paragraphs]
    starts, position = [], 0
    for key in keys:
        starts.append(position)
        position += len(key) + 1
    joined = " ".join(keys)
    begin, end = joined.find(first), joined.rfind(last)
    if begin < 0 or end < 0:
        return None
    end += len(last)
    chosen = [
        p
        for p, start, key in zip(paragraphs, starts, keys, strict=True)
        if start + len(key) > begin and start < end
    ]
    if len(chosen) < 2:
        return None
    # The lines must be the block's own, not a page around it.
    if len(_key(" ".join(p.text for p in chosen)).split()) > 1.5 * len(words):
        return None
    return chosen


_OWN_TEXT_XPATH = ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"


def _with_continuations(tree: HtmlElement, blocks: list[Block]) -> list[Block]:
    """Add the paragraphs of the body's own containers that trafilatura left out.

    Two shapes are common. Templates cut long bodies into consecutive containers of one class
    (between ads, pull quotes, newsletter boxes) and trafilatura often keeps only the first.
    And inside the container it read, trafilatura drops paragraphs it judges too unlike the
    rest: embedded tweets, video captions, a short note at the end. A container that holds two
    or more of the extracted paragraphs is the body's, so its other paragraphs are body too
    (the fingerprint still leaves out those that are chrome).
    """
    extracted = {_key(block.text) for block in blocks}
    extracted.discard("")
    everything = " ".join(_key(block.text) for block in blocks)
    matched = [p for p in tree.iter("p") if _key(p.text_content()) in extracted]
    if len(matched) < 2:
        return blocks
    found = _sibling_container_paragraphs(matched, everything)
    found += _same_container_paragraphs(matched, everything)
    if not found:
        return blocks
    position = {el: index for index, el in enumerate(tree.iter())}
    ordered: list[tuple[float, int, Block]] = []
    where = {_key(p.text_content()): position[p] for p in matched}
    last = -1.0
    for index, block in enumerate(blocks):
        last = where.get(_key(block.text), last)
        ordered.append((last, index, block))
    for p in dict.fromkeys(found):
        for block in _inline_blocks(p, "head" if p.tag in _HEADINGS else "p"):
            ordered.append((position[p], len(ordered), block))
    return [block for _, _, block in sorted(ordered, key=lambda item: (item[0], item[1]))]


def _sibling_container_paragraphs(matched: list[HtmlElement], everything: str) -> list[HtmlElement]:
    """Paragraphs of siblings with the tag and class of a container of extracted paragraphs."""
    found: list[HtmlElement] = []
    level = [p.getparent() for p in matched]
    for _ in range(3):
        containers = {el for el in level if el is not None and el.getparent() is not None}
        parents = {el.getparent() for el in containers}
        for parent in parents:
            classes = {(el.tag, el.get("class")) for el in parent if el in containers}
            for sibling in parent:
                if sibling in containers or (sibling.tag, sibling.get("class")) not in classes:
                    continue
                if not sibling.get("class"):
                    continue
                for p in sibling.iter("p"):
                    key = _visible_key(p)
                    if key and key not in everything:
                        found.append(p)
        if found:
            break
        level = [el.getparent() if el is not None else None for el in level]
    return found


# Parts of a body container that are not the story: boxes, lists of links, forms, furniture.
_NOT_BODY_TAGS = frozenset(
    ["aside", "nav", "footer", "header", "form", "figure", "ul", "ol", "table", "button"]
)


def _same_container_paragraphs(matched: list[HtmlElement], everything: str) -> list[HtmlElement]:
    counts = Counter(p.getparent() for p in matched)
    containers = {el for el, n in counts.items() if el is not None and n >= 2}
    # A body cut into chunks of one class: the element holding the chunks is body too.
    chunks = Counter(
        (el.getparent(), el.tag, el.get("class")) for el in containers if el.getparent() is not None
    )
    containers |= {parent for (parent, _, _), n in chunks.items() if n >= 2}
    # Chunks wrapped one by one (grid cells around each part): the element around all of them.
    if len(containers) >= 2 and len({(el.tag, el.get("class")) for el in containers}) == 1:
        first, *others = containers
        for ancestor in list(first.iterancestors())[:3]:
            if all(ancestor in list(el.iterancestors())[:3] for el in others):
                containers.add(ancestor)
                break
    done = set(matched)
    found: list[HtmlElement] = []
    # A note the template puts after the body's wrapper (a correction, an editor's note) is a
    # paragraph of its own next to the wrapper, one or two levels above the main container.
    # So is a summary the template puts above the body in a block of its own ("Three people
    # have died ..." in a <div class="summary">): a div of plain prose, no inner blocks.
    main = counts.most_common(1)[0][0]
    for ancestor in list(main.iterancestors())[:2] if main is not None else []:
        for p in ancestor.iterchildren("p", "div"):
            if p in done or (p.tag == "div" and not _is_prose_leaf(p)):
                continue
            key = _visible_key(p)
            if key and key not in everything:
                found.append(p)
            done.add(p)
    for container in containers:
        # Paragraphs, subheadings (a video's title over its caption) and divs of plain prose
        # (a template's "subheadline" div).
        for p in container.iter("p", "div", *_HEADINGS):
            if p in done or not _is_body_part(p, containers):
                continue
            done.add(p)
            key = _visible_key(p)
            if not key or key in everything:
                continue
            ancestor = p.getparent()
            while ancestor is not None and ancestor is not container:
                if ancestor.tag in _NOT_BODY_TAGS:
                    break
                ancestor = ancestor.getparent()
            else:
                found.append(p)
    return found


def _is_body_part(element: HtmlElement, containers: set[HtmlElement]) -> bool:
    """Whether a div or heading in a body container reads as part of the body.

    A div counts when it is a plain-prose block among the body's paragraphs (a template's
    "subheadline" div); prose divs nested deeper are captions and teaser cards. A heading counts
    when a paragraph follows it (a video's title over its caption): a box's heading is followed
    by its list of links.
    """
    if element.tag == "div":
        return element.getparent() in containers and _is_prose_leaf(element, min_words=4)
    if element.tag in _HEADINGS:
        following = element.getnext()
        return following is not None and following.tag == "p"
    return True


def _is_prose_leaf(element: HtmlElement, min_words: int = 8) -> bool:
    """A block holding only a few sentences of prose: no inner blocks, links or figures."""
    # Direct children first: most divs hold blocks, and this keeps the test linear.
    if any(isinstance(el.tag, str) and el.tag in _NOT_PROSE for el in element):
        return False
    if next(element.iterdescendants(*_NOT_PROSE), None) is not None:
        return False
    text = " ".join(element.text_content().split())
    return len(text.split()) >= min_words and text[-1:] in '.!?…"”’'


_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
        "br",
    ]
)
# The tags that start a line of their own (tracker.core.region reads a page's lines too).
BLOCK_TAGS = _BLOCK_TAGS
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
_NOT_PROSE = _BLOCK_TAGS | {"a", "img"}
_SKIP_TAGS = frozenset(
    ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "button", "select"]
)


# --- the page's own layout: layout tables, loose paragraphs, furniture in the article ----------
#
# Three things a reader sees at a glance, read from the markup's structure and the common
# conventions for naming it (never one site's class names):
#
# - a table that lays out the page (the article in one cell, a sidebar in another) is not a
#   data table: its cells hold paragraphs. Its rows and cells become plain blocks.
# - text standing directly in a container, between blocks or between double line breaks, is a
#   paragraph of its own (a browser renders it as one): it is wrapped in a <p>, so that it can
#   neither run into its neighbours nor be lost as the tail of an element that is dropped.
# - furniture inside the article (times, counters, share and tool bars, ad slots, newsletter
#   boxes, related links, author boxes) is marked and left out of the body. Metadata (byline,
#   dates) is read before it goes.

_CHROME_ATTR = "data-tracker-chrome"
_CHROME_XPATH = f"//*[@{_CHROME_ATTR}]"

# Containers whose loose text is paragraphs (not phrasing elements, lists, tables or headings).
_PARAGRAPH_HOLDERS = frozenset(
    ["article", "blockquote", "body", "center", "div", "font", "form", "main", "section", "span"]
)
# Elements that end a run of inline content.
_RUN_BREAKERS = (_BLOCK_TAGS - {"br"}) | {"iframe", "video", "audio", "object", "embed"}
# Elements whose text a reader does not see as part of a run.
_SILENT = frozenset(["script", "style", "noscript", "template", "svg"])


# Conventional names (in class, id, role, aria-label, data-component) of furniture, by kind,
# with the most words such a thing holds: a container holding more is the body, misnamed.
def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CHROME_NAMES: dict[str, tuple[frozenset[str], int]] = {
    "ad": (
        _names(
            "ad ads adv advert adverts advertisement advertisements advertising adslot adunit"
            " adcontainer adwrapper dfp sponsor sponsored"
        ),
        12,
    ),
    "share": (
        _names(
            "share shares sharing sharebar sharetools social socials socialbar toolbar bookmark"
        ),
        20,
    ),
    # Sign-up boxes, and appeals for money or membership ("1.2M readers supported us...").
    "newsletter": (
        _names(
            "newsletter newsletters subscribe subscription signup optin donate donation"
            " donations contribute contributions membership"
        ),
        60,
    ),
    "related": (
        _names(
            "related relatedposts recommended recommendations readmore popular mostread trending"
            " morestories tags topics keywords categories"
        ),
        40,
    ),
    "bio": (_names("bio bios biography authorbio authorbox authorcard"), 100),
    "byline": (_names("byline bylines author authors writer contributor"), 30),
    "meta": (
        _names(
            "meta metadata dateline timestamp time date published updated modified posted pubdate"
            " readtime commentcount comments comment"
        ),
        20,
    ),
}
# Two-word names ("sign-up", "read-more", "about-the-author").
_NAME_PAIRS = {
    ("sign", "up"): "newsletter",
    ("read", "more"): "related",
    ("also", "read"): "related",
    ("more", "stories"): "related",
    ("most", "read"): "related",
    ("most", "popular"): "related",
    ("more", "on"): "related",
    ("reading", "time"): "meta",
    ("read", "time"): "meta",
    ("about", "author"): "bio",
    ("author", "bio"): "bio",
    ("author", "box"): "bio",
    ("author", "info"): "bio",
    ("author", "card"): "bio",
    ("author", "profile"): "bio",
    ("author", "details"): "bio",
    ("author", "description"): "bio",
    ("author", "about"): "bio",
    ("author", "text"): "bio",
    ("author", "summary"): "bio",
}
_NAME_KIND = {name: kind for kind, (names, _) in _CHROME_NAMES.items() for name in names}
# Related-link and share boxes can be long: any size, when links are most of their words.
_LINK_BOXES = frozenset(["related", "share"])
# Roles that are never the article, and tags that are not its text when inside it.
_CHROME_ROLES = frozenset(["complementary", "navigation", "contentinfo", "search", "toolbar"])
_CHROME_TAGS = frozenset(["aside", "nav", "footer", "button", "dialog", "figure", "figcaption"])
_NAMED_ATTRS = ("class", "id", "role", "aria-label", "data-component", "itemprop")
# Inline elements that can hold a stamp or a counter ("<time>", "<span class=...>").
_INLINE_CHROME_TAGS = frozenset(["time", "span", "small", "a", "b", "strong", "em", "i", "font"])
# A container holding this share of the page's paragraph words is the body, whatever its name.
_BODY_SHARE = 0.4


def _prepare_layout(tree: HtmlElement) -> None:
    """Unwrap layout tables, wrap loose paragraphs, mark furniture (see above)."""
    body = tree.find("body")
    if body is None:
        return
    for table in list(body.iter("table")):
        if _is_layout_table(table):
            _unwrap_table(table)
    for element in list(body.iter(*_PARAGRAPH_HOLDERS)):
        if next(element.iterancestors("p"), None) is None:
            _wrap_loose_paragraphs(element)
    _mark_chrome(body)


def _cells(table: HtmlElement) -> list[HtmlElement]:
    rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
    return [cell for row in rows for cell in row if cell.tag in ("td", "th")]


_PROSE_SENTENCE = re.compile(r"\w[^.!?]{40,}[.!?]")


def _is_layout_table(table: HtmlElement) -> bool:
    """A table that lays out a page: a nested table, or a cell holding paragraphs of prose."""
    if table.get("role") in ("presentation", "none"):
        return True
    for cell in _cells(table):
        if cell.find(".//table") is not None:
            return True
        blocks = cell.find(".//p") is not None or cell.find(".//div") is not None
        if not (blocks or any(_is_double_break(br) for br in cell.iter("br"))):
            continue
        if _PROSE_SENTENCE.search(" ".join(cell.text_content().split())):
            return True
    return False


def _unwrap_table(table: HtmlElement) -> None:
    rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
    for cell in [cell for row in rows for cell in row if cell.tag in ("td", "th")]:
        cell.tag = "div"
    for part in [*rows, *table.xpath("./thead | ./tbody | ./tfoot | ./caption | ./colgroup")]:
        part.tag = "div"
    table.tag = "div"


def _is_double_break(br: HtmlElement) -> bool:
    """A <br> followed (after nothing but spaces) by another: the break between two paragraphs."""
    following = br.getnext()
    return following is not None and following.tag == "br" and not (br.tail or "").strip()


def _has_words(text: str | None, inline: list[HtmlElement]) -> bool:
    if text and re.search(r"\w", text):
        return True
    for child in inline:
        visible = isinstance(child.tag, str) and child.tag not in _SILENT
        if visible and re.search(r"\w", child.text_content()):
            return True
        if child.tail and re.search(r"\w", child.tail):
            return True
    return False


def _wrap_loose_paragraphs(element: HtmlElement) -> None:
    """Wrap each run of inline content that stands between blocks or double breaks in a <p>."""
    children = list(element)
    if not children:
        return
    breaking = [isinstance(c.tag, str) and c.tag in _RUN_BREAKERS for c in children]
    double = [c.tag == "br" and _is_double_break(c) for c in children]
    loose = bool((element.text or "").strip()) or any((c.tail or "").strip() for c in children)
    if not (any(double) or (loose and any(breaking))):
        return
    text = element.text
    element.text = None
    for child in children:
        element.remove(child)  # lxml keeps each child's tail with it
    rebuilt: list[HtmlElement] = []
    run: list[HtmlElement] = []

    def flush(lead: str | None) -> None:
        if _has_words(lead, run):
            paragraph = lxml.html.Element("p")
            paragraph.text = lead
            paragraph.extend(run)
            paragraph.tail = "\n"
            rebuilt.append(paragraph)
        else:
            rebuilt.extend(run)  # empty anchors, scripts: kept where they were
        run.clear()

    index = 0
    while index < len(children):
        child = children[index]
        if double[index]:
            flush(text)
            text = children[index + 1].tail
            index += 2
            continue
        if breaking[index]:
            flush(text)
            text, child.tail = child.tail, "\n"
            rebuilt.append(child)
        else:
            run.append(child)
        index += 1
    flush(text)
    element.extend(rebuilt)


# Matches where _words_in would count more than 16, reading no further than the 17th word:
# asked of every element, counting all of a container's words was a tenth of extraction.
# (Possessive, so that a long run of word characters cannot make it backtrack.)
_MORE_THAN_16_WORDS = re.compile(r"\b(?:\w++\W++){16}\w")


def _words_in(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _named_kind(element: HtmlElement) -> str | None:
    """The kind of furniture an element's conventional names say it is, if any."""
    values = [element.get(attr) for attr in _NAMED_ATTRS]
    named = " ".join(value for value in values if value)
    if not named:
        return None
    tokens = re.findall(r"[a-z]+", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", named).casefold())
    kinds = [_NAME_KIND[token] for token in tokens if token in _NAME_KIND]
    kinds += [_NAME_PAIRS[pair] for pair in itertools.pairwise(tokens) if pair in _NAME_PAIRS]
    if not kinds:
        return None
    return max(kinds, key=lambda kind: _CHROME_NAMES[kind][1])


def _link_word_share(element: HtmlElement, words: int) -> float:
    linked = sum(_words_in(link.text_content()) for link in element.iter("a"))
    return linked / words if words else 0.0


def _mark_chrome(body: HtmlElement) -> None:
    """Mark the furniture in the page (see above) with _CHROME_ATTR."""
    page_words = sum(_words_in(p.text_content()) for p in body.iter("p"))
    stack = list(reversed(body))
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str) or element.tag in _SKIP_TAGS - {"button"}:
            continue
        if _is_chrome(element, page_words):
            element.set(_CHROME_ATTR, "")
            continue
        stack.extend(reversed(element))


def _is_chrome(element: HtmlElement, page_words: int) -> bool:
    tag = element.tag
    kind = _named_kind(element) or _form_box_kind(element)
    role = (element.get("role") or "").strip().casefold()
    if kind is None and tag not in _CHROME_TAGS and role not in _CHROME_ROLES:
        return _is_chrome_line(element) or _is_share_links(element)
    if next(element.iterdescendants("h1"), None) is not None:
        return False  # the headline's container (a header with the date in it)
    if page_words and _is_body_sized(element, page_words):
        return False  # the body, whatever it is called
    if kind is None:
        return True  # an aside, a nav, a footer, a button: any size
    words = _words_in(element.text_content())
    if words <= _CHROME_NAMES[kind][1]:
        return True
    return kind in _LINK_BOXES and _link_word_share(element, words) >= 0.5


def _is_body_sized(element: HtmlElement, page_words: int) -> bool:
    """Whether an element holds much of the page's prose in paragraphs of its own.

    A box (a newsletter sign-up, an author's bio) holds one paragraph, or a few words: on a
    short page that can be much of the page's prose, yet it is no story.
    """
    sentences = [
        words
        for p in element.iter("p")
        if (words := _words_in(text := p.text_content())) >= 8 and text.rstrip()[-1:] in _ENDS
    ]
    return len(sentences) >= 2 and sum(sentences) >= _BODY_SHARE * page_words


_ENDS = '.!?…"”’»)'
# A small box around a form with a text or e-mail field: a sign-up or a search.
_FORM_BOX_WORDS = 60
# Links that share the page: intents of the networks, or a mail with the page as subject.
_SHARE_LINK = re.compile(
    r"^(?:mailto:[^@]*\?|whatsapp:|sms:)|/(?:sharer|share|intent/(?:tweet|post)|sharearticle|"
    r"pin/create|submit)\b|[?&]share=",
    re.IGNORECASE,
)


def _form_box_kind(element: HtmlElement) -> str | None:
    if element.tag not in ("div", "section", "form", "aside"):
        return None
    field = next(element.iterdescendants("input"), None)  # .find(".//input"), without ElementPath
    if field is None or (field.get("type") or "text").casefold() not in ("text", "email"):
        return None
    if _words_in(element.text_content()) > _FORM_BOX_WORDS:
        return None
    return "newsletter"


def _is_share_links(element: HtmlElement) -> bool:
    """A short block whose links all share the page (to a network, by mail)."""
    if element.tag not in _BLOCK_TAGS or element.tag in _TABLE_PARTS:
        return False
    # Stops at the first link that shares nothing: a container's links are mostly other links.
    links = 0
    for link in element.iter("a"):
        if not _SHARE_LINK.search(link.get("href") or ""):
            return False
        links += 1
    if links < 2:
        return False
    linked = sum(_words_in(link.text_content()) for link in element.iter("a"))
    return _words_in(element.text_content()) - linked <= 4


_TABLE_PARTS = frozenset(["table", "thead", "tbody", "tr", "td", "th"])


def _is_breaker(node: object) -> bool:
    return isinstance(node, HtmlElement) and node.tag in _BLOCK_TAGS


def _rest_of_line(element: HtmlElement) -> str | None:
    """The text on the same rendered line as an inline element, without it.

    None in a data table's cell: a figure there is data.
    """
    outer = element
    while (parent := outer.getparent()) is not None and not _is_breaker(parent):
        outer = parent
    parent = outer.getparent()
    if parent is None or parent.tag in _TABLE_PARTS:
        return None
    parts = [outer.text_content().replace(element.text_content(), " ", 1), outer.tail or ""]
    for sibling in outer.itersiblings():
        if _is_breaker(sibling):
            break
        parts += [
            sibling.text_content() if isinstance(sibling.tag, str) else "",
            sibling.tail or "",
        ]
    for sibling in outer.itersiblings(preceding=True):
        if _is_breaker(sibling):
            break
        parts[:0] = [
            sibling.text_content() if isinstance(sibling.tag, str) else "",
            sibling.tail or "",
        ]
    else:
        parts.insert(0, parent.text or "")
    return " ".join(" ".join(parts).split())


def _is_chrome_line(element: HtmlElement) -> bool:
    """A line of the page that is a time stamp, a counter, an ad label or a share bar.

    A block counts when it is nothing else; a <time>, or a counter's <span> or link, when the
    rest of its block is not a sentence ("By Ann Lee · <time>5 minutes ago</time>", but not
    "The meeting ended <time>an hour ago</time>."). A date in other inline text (a quoted
    post's "— Name (@handle) October 9, 2018") is that text's.
    """
    tag = element.tag
    inline = tag in _INLINE_CHROME_TAGS
    if not inline and (tag not in _BLOCK_TAGS or tag in _TABLE_PARTS):
        return False
    # A block inside is no line of its own. Asked first: it is found in C by tag, and it
    # settles most containers before their whole text is built.
    if next(element.iterdescendants(*_BLOCK_TAGS), None) is not None:
        return False
    text = element.text_content()
    if _MORE_THAN_16_WORDS.search(text) or not is_standalone_chrome(text):
        return False
    if not inline:
        return True
    if tag != "time" and is_standalone_chrome(text, stamps=False) is False:
        return False
    rest = _rest_of_line(element)
    if rest is None:
        return False
    words = _words_in(rest)
    return not (words >= 8 or (words >= 3 and rest[-1:] in '.!?…"”’'))


def _selected_blocks(tree: HtmlElement, selector: str) -> list[Block]:
    try:
        matches = tree.cssselect(selector)
    except (SelectorError, lxml.etree.XPathError):
        return []
    return [block for element in matches for block in _inline_blocks(element)]


def _inline_blocks(element: HtmlElement, kind: str = "p") -> list[Block]:
    """The blocks of an element as a reader sees them: no script text, one per line."""
    lines: list[tuple[list[str], list[str], list[str]]] = [([], [], [])]
    _walk_inline(element, lines, in_link=False)
    blocks = []
    # A heading wrapped in a link (a teaser card) is link text throughout.
    linked = next(element.iterancestors("a"), None) is not None
    for parts, links, kinds in lines:
        text = normalize_text(" ".join(parts))
        if text:
            links_ = (text,) if linked else tuple(normalize_text(x) for x in links)
            blocks.append(Block(text=text, links=links_, kind=kinds[0] if kinds else kind))
    return blocks


def _visible_key(element: HtmlElement) -> str:
    return _key(" ".join(block.text for block in _inline_blocks(element)))


# The kind of block a line opened by these tags is, inside an element read line by line.
_LINE_KINDS = {**dict.fromkeys(["h1", *_HEADINGS], "head"), "li": "item", "blockquote": "quote"}


def _walk_inline(
    element: HtmlElement, lines: list[tuple[list[str], list[str], list[str]]], *, in_link: bool
) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP_TAGS or not tag:
        return
    if tag in _BLOCK_TAGS:
        lines.append(([], [], [_LINE_KINDS[tag]] if tag in _LINE_KINDS else []))
    if tag == "a" and not in_link:
        text = " ".join(element.text_content().split())
        if text:
            lines[-1][1].append(text)
        in_link = True
    if element.text:
        lines[-1][0].append(element.text)
    for child in element:
        _walk_inline(child, lines, in_link=in_link)
        if child.tail:
            lines[-1][0].append(child.tail)
    if tag in _BLOCK_TAGS:
        lines.append(([], [], []))


# --- headline and metadata --------------------------------------------------------------------


def _headlines(
    meta: dict[str, str], doc_title: str | None, embedded: str | None = None
) -> tuple[str, ...]:
    """Headline candidates, best first, without duplicates.

    The visible h1 wins when one plausibly is the headline: it is what readers see, and what a
    newsroom edits first. og:title and <title> often lag or differ (SEO headlines); they are kept
    as further headlines so that a change to any of them is still seen. When the body came from
    the page's data, the data's headline is the one that body is shown under: only a visible
    headline that agrees with it comes first (an app shell's h1, if any, is usually its logo).
    """
    og = _strip_site_name(meta.get("og_title"), meta.get("site_name"))
    page = _strip_site_name(meta.get("page_title"), meta.get("site_name"))
    visible = _visible_headlines(_split(meta.get("h1s")), (og, page), _split(meta.get("h2s")))
    if embedded:
        agree = [h for h in visible if len(_words(h) & _words(embedded)) >= 0.5 * len(_words(h))]
        visible = [*agree, embedded, *(h for h in visible if h not in agree)]
    ordered = [*visible, og, page]
    if not any(ordered):  # trafilatura's guess (it may read an h2) only as a last resort
        ordered.append(_strip_site_name(doc_title, meta.get("site_name")))
    seen: set[str] = set()
    result = []
    for candidate in ordered:
        text = normalize_text(candidate or "")
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return tuple(result)


def _with_shown_title_part(
    headlines: tuple[str, ...], blocks: tuple[Block, ...]
) -> tuple[str, ...]:
    """Put first the part of the page title that the body opens with, shown as its headline.

    A page with no headline element shows its headline as the body's first line (a bold line
    in a table layout); the title around it carries the site's name ("Gazette - Headline").
    """
    if not headlines or not blocks:
        return headlines
    first = normalize_text(blocks[0].text)
    if first.casefold() == headlines[0].casefold() or len(first.split()) < 3:
        return headlines
    parts = [normalize_text(part) for part in _TITLE_SEPARATORS.split(headlines[0])]
    if len(parts) < 2 or first.casefold() not in {part.casefold() for part in parts}:
        return headlines
    return (first, *(h for h in headlines if h.casefold() != first.casefold()))


def _words(text: str | None) -> set[str]:
    return set(re.findall(r"\w+", (text or "").casefold()))


def _split(joined: str | None) -> list[str]:
    return joined.split("\x1e") if joined else []


def _visible_headlines(h1s: list[str], others: tuple[str | None, ...], h2s: list[str]) -> list[str]:
    """The headline(s) shown on the page, best first.

    Every h1 that agrees with the meta titles counts: templates repeat the headline (a sticky
    header, a print version) and each copy can be edited on its own.
    """
    reference = set().union(*(_words(other) for other in others))
    scored = []
    for h1 in h1s:
        words = _words(h1)
        if words and len(words & reference) / len(words) >= 0.5:
            scored.append((len(words & reference) / len(words), h1))
    if scored:
        return [h1 for _, h1 in sorted(scored, key=lambda item: -item[0])]
    # Templates that spend their h1 on the site logo show the headline in an h2; it must say
    # (nearly) what the meta titles say, as other h2s are section titles and teasers.
    for h2 in h2s:
        words = _words(h2)
        if len(words) >= 3 and len(words & reference) >= 0.5 * max(len(words), len(reference)):
            return [h2]
    # No h1 agrees with the meta titles: either the page has no headline h1, or the visible
    # headline was rewritten while the meta titles lag behind. A multi-word h1 is the latter.
    return [h1 for h1 in h1s if len(_words(h1)) >= 3][:1]


def _strip_site_name(title: str | None, site_name: str | None) -> str | None:
    """'Headline | Site Name' -> 'Headline'."""
    if not title:
        return None
    title = " ".join(title.split())
    stripped: str | None = None  # the separator before the part already cut off
    for _ in range(2):
        matches = list(_TITLE_SEPARATORS.finditer(title))
        if not matches:
            break
        match = matches[-1]
        head, tail = title[: match.start()], title[match.end() :]
        is_site = bool(site_name) and _words(tail) <= _words(site_name) | {"com", "www"}
        # 'Headline | Section | Site' repeats its separator; in 'Dare to Play 3 / October pack
        # – Site' the part before the site name is still headline.
        same_kind = stripped is None or match.group().strip() == stripped
        if len(head.split()) >= 3 and (is_site or (same_kind and len(tail.split()) <= 4)):
            title, stripped = head, match.group().strip()
        else:
            break
    return title


def _page_metadata(tree: HtmlElement, url: str | None) -> dict[str, str]:
    meta: dict[str, str] = {}

    def first(xpath: str) -> str | None:
        for value in tree.xpath(xpath):
            value = " ".join(str(value).split())
            if value:
                return value
        return None

    meta_content = "//meta[@{attr}='{name}']/@content"
    for key, names in {
        "og_title": [("property", "og:title"), ("name", "og:title"), ("name", "twitter:title")],
        "site_name": [("property", "og:site_name"), ("name", "application-name")],
        "published": [
            ("property", "article:published_time"),
            ("itemprop", "datePublished"),
            ("name", "pubdate"),
            ("name", "publishdate"),
            ("name", "date"),
            ("name", "dc.date"),
        ],
        "modified": [
            ("property", "article:modified_time"),
            ("itemprop", "dateModified"),
            ("property", "og:updated_time"),
            ("name", "last-modified"),
        ],
    }.items():
        for attr, name in names:
            value = first(meta_content.format(attr=attr, name=name))
            if value:
                meta[key] = value
                break
    for key, value in _json_ld(tree).items():
        meta.setdefault(key, value)
    meta["page_title"] = first("//head/title//text() | //title//text()") or ""
    # An h1 in a form is a login or search box, unless the form wraps the page (ASP.NET).
    outside_chrome = "not(ancestor::nav or ancestor::footer or ancestor::form[count(.//p) < 5])"
    for tag in ("h1", "h2"):
        meta[f"{tag}s"] = "\x1e".join(
            " ".join(heading.text_content().split())
            for heading in tree.xpath(f"//{tag}[{outside_chrome}]")
        )
    canonical = first("//link[@rel='canonical']/@href") or first(
        meta_content.format(attr="property", name="og:url")
    )
    if canonical:
        meta["canonical_url"] = urljoin(url or "", canonical)
    lang = first("/html/@lang") or first("//meta[@http-equiv='content-language']/@content")
    if lang:
        meta["lang"] = lang.split(",")[0].strip()
    return meta


def _json_ld(tree: HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for node in _json_nodes(data):
            for key, field_name in (("published", "datePublished"), ("modified", "dateModified")):
                value = node.get(field_name)
                if isinstance(value, str) and value.strip():
                    found.setdefault(key, value.strip())
            headline = node.get("headline")
            if isinstance(headline, str) and headline.strip():
                found.setdefault("og_title", headline.strip())
    return found


def _json_nodes(data: object, depth: int = 0) -> Iterator[dict]:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _json_nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _json_nodes(graph, depth + 1)

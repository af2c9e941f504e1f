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

import json
import re
from collections import Counter
from collections.abc import Iterator
from configparser import ConfigParser
from copy import deepcopy
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import trafilatura
from cssselect import SelectorError
from lxml.html import HtmlElement
from trafilatura.settings import Document, use_config
from trafilatura.xml import xmltotxt

from tracker.core.article import MAX_URL_CHARS, Article, Block
from tracker.core.embedded import EmbeddedArticle, embedded_article
from tracker.core.liveblog import read_live_blog
from tracker.core.normalize import normalize_text, stored_body

__all__ = ["Article", "Block", "extract", "validate_selector", "visible_text"]


_EMPTY = Article(None, None, None, None, "", None, None)

# Elements a reader never sees. Hover-card bodies and screen-reader-only duplicates live here.
_HIDDEN_XPATH = (
    "//*[@hidden] | //*[@aria-hidden='true'] | //template | //noscript"
    " | //*[contains(translate(@style, ' ', ''), 'display:none')]"
    " | //*[contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)


def _trafilatura_config() -> ConfigParser:
    config = use_config()
    # A page this big is almost certainly not an article (or is hostile): give up on it.
    config.set("DEFAULT", "MAX_TREE_SIZE", "150000")
    return config


_TRAFILATURA_CONFIG = _trafilatura_config()

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


def extract(html: str, url: str | None = None, *, selector: str | None = None) -> Article:
    """Extract the article from a page. Never raises on malformed or hostile HTML."""
    try:
        tree = _parse(html)
        if tree is None:
            return _EMPTY
        meta = _page_metadata(tree, url)
        # Read before hidden elements go: a script inside a hidden container still holds data.
        embedded = None if selector else embedded_article(tree)
        _drop_hidden(tree)
        source, extra = "html", dict[str, str]()
        if selector:
            blocks, byline = _selected_blocks(tree, selector), None
            doc_title, source = None, "selector"
        else:
            blocks, byline, doc_title, extra = _trafilatura_blocks(tree, url)
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
        live = None if selector else read_live_blog(tree, kept)
        kept = live.blocks if live else kept
    except Exception:  # noqa: BLE001 -- hostile input must never break a check
        return _EMPTY
    headlines = _headlines(meta, doc_title, embedded.headline if embedded else None)
    if len(meta.get("canonical_url") or "") > MAX_URL_CHARS:  # junk, and too long to store
        meta.pop("canonical_url")
    return Article(
        title=headlines[0] if headlines else None,
        byline=normalize_text(byline) or None if byline else None,
        published=meta.get("published"),
        modified=meta.get("modified"),
        text=stored_body(kept, headlines[0] if headlines else None, meta.get("canonical_url")),
        canonical_url=meta.get("canonical_url"),
        lang=meta.get("lang"),
        headlines=headlines,
        blocks=kept,
        source=source,
        entries=live.entries if live else (),
    )


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
    return " ".join(" ".join(str(text) for text in tree.xpath(_VISIBLE_TEXT_XPATH)).split())


def _parse(html: str) -> HtmlElement | None:
    if not html or not html.strip():
        return None
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    # lxml refuses str input that declares an encoding; strip the XML declaration.
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None
    return tree if tree is not None and tree.tag == "html" else None


def _drop_hidden(tree: HtmlElement) -> None:
    for element in tree.xpath(_HIDDEN_XPATH):
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
_VISIBLE_TEXT_XPATH = (
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template)]"
)


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


def _trafilatura_blocks(
    tree: HtmlElement, url: str | None
) -> tuple[list[Block], str | None, str | None, dict[str, str]]:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_links=True,
        config=_TRAFILATURA_CONFIG,
    )
    # bare_extraction returns a Document unless asked for a dict (as_dict), which it is not.
    if not isinstance(document, Document) or document.body is None:
        return [], None, None, {}
    found = {"published": document.date, "lang": document.language, "canonical_url": document.url}
    extra = {key: value for key, value in found.items() if value}
    blocks = _with_continuations(tree, list(_body_blocks(document.body)))
    return blocks, document.author, document.title, extra


def _body_blocks(body: lxml.etree._Element) -> Iterator[Block]:
    """Split trafilatura's XML body into blocks, keeping each block's link texts."""
    for child in body:
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
    raw = _MARKDOWN_LINK.sub(r"\1", xmltotxt(plain, False))
    lines = [_LIST_MARKER.sub("", normalize_text(line)) for line in raw.split("\n")]
    for line in filter(None, lines):
        mine = []
        while links and links[0] and links[0] in line:
            mine.append(links.pop(0))
        yield Block(text=line, links=tuple(mine), kind=kind)


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


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
    if any(isinstance(el.tag, str) and el.tag in _NOT_PROSE for el in element.iterdescendants()):
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
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
_NOT_PROSE = _BLOCK_TAGS | {"a", "img"}
_SKIP_TAGS = frozenset(
    ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "button", "select"]
)


def _selected_blocks(tree: HtmlElement, selector: str) -> list[Block]:
    try:
        matches = tree.cssselect(selector)
    except (SelectorError, lxml.etree.XPathError):
        return []
    return [block for element in matches for block in _inline_blocks(element)]


def _inline_blocks(element: HtmlElement, kind: str = "p") -> list[Block]:
    """The blocks of an element as a reader sees them: no script text, one per line."""
    lines: list[tuple[list[str], list[str]]] = [([], [])]
    _walk_inline(element, lines, in_link=False)
    blocks = []
    # A heading wrapped in a link (a teaser card) is link text throughout.
    linked = next(element.iterancestors("a"), None) is not None
    for parts, links in lines:
        text = normalize_text(" ".join(parts))
        if text:
            links_ = (text,) if linked else tuple(normalize_text(x) for x in links)
            blocks.append(Block(text=text, links=links_, kind=kind))
    return blocks


def _visible_key(element: HtmlElement) -> str:
    return _key(" ".join(block.text for block in _inline_blocks(element)))


def _walk_inline(
    element: HtmlElement, lines: list[tuple[list[str], list[str]]], *, in_link: bool
) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP_TAGS or not tag:
        return
    if tag in _BLOCK_TAGS:
        lines.append(([], []))
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
        lines.append(([], []))


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

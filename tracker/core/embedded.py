"""The article a page carries as data: JSON-LD, Next.js, Nuxt, Redux/Apollo state, Arc Fusion.

JavaScript-rendered pages send an app shell (a nav, an empty mount point) and the article as
data in a script, for the browser to render. Most of them carry it in one of a few forms:

- JSON-LD (``<script type="application/ld+json">``): an ``Article``-like node's
  ``articleBody``, or a ``LiveBlogPosting`` whose ``liveBlogUpdate`` entries are the updates;
- Next.js: ``<script id="__NEXT_DATA__" type="application/json">``;
- Nuxt: ``<script id="__NUXT_DATA__" type="application/json">`` (Nuxt 3, devalue's flattened
  JSON) or ``window.__NUXT__ = {...}`` (Nuxt 2, when it is plain JSON);
- Redux/Apollo state: ``window.__INITIAL_STATE__ = {...};`` (also ``__PRELOADED_STATE__``,
  ``__INITIAL_DATA__``) and ``window.__APOLLO_STATE__ = {...};``;
- Arc XP / Fusion: ``Fusion.globalContent = {...};`` (``content_elements`` of type text).

Framework state has no schema: every CMS names its fields differently. So the article is found
generically, not by one site's paths: the dict with a headline (``headline``, ``title``, or
Arc's ``headlines.basic``) and the longest body under a body-like key (``body``, ``content``,
``articleBody``, ``content_elements``, ``blocks``, ...), the body being HTML or text, or a list
of paragraph blocks (``{"type": "text", "content": ...}``, rich-text trees of ``children`` /
``content`` nodes). Blocks typed as images, videos, ads, embeds or related links are left out.

Only JSON is read (the standard ``json`` module, lenient about raw control characters in
strings). For a ``window.X = ...`` assignment, the decoder's ``raw_decode`` reads the literal
where the assignment starts: it matches brackets outside string literals itself, in C, and
stops at the literal's end, so the statements after it do not matter (a hand-written bracket
matcher would do the same in Python, slower). JavaScript's extra string escapes ("\\!") are
read as JavaScript reads them; anything else that is JavaScript rather than JSON (Nuxt 2's
IIFE, unquoted keys, ``undefined``, Next.js 13's flight data) is skipped quietly.

The work is bounded: scripts over `MAX_SCRIPT_CHARS` are skipped (and a page's scripts past
`MAX_PAGE_SCRIPT_CHARS`), walks stop at `MAX_DEPTH` levels and after `MAX_NODES` nodes per page,
and nothing here raises on hostile input.

Why not extruct: for JSON-LD it does what this module does (``json.loads`` of the script text,
with a comment-stripping fallback), while it installs rdflib, pyRdfa3 (and with it html5lib and
requests), mf2py, w3lib, html-text and jstyleson for microdata, RDFa and microformats, which
carry no article bodies the tracker uses; and it knows nothing of Next.js, Nuxt, Redux state or
Fusion, which are most of this module. A few dozen lines of JSON-LD walking cost less than
eight dependencies in every install and lock file.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import lxml.etree
import lxml.html

from tracker.core.normalize import normalize_text

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_SCRIPT_CHARS",
    "SOURCES",
    "EmbeddedArticle",
    "LiveEntry",
    "embedded_article",
    "embedded_articles",
]

# A script bigger than this is not read: a page's real state is rarely over a megabyte or
# two, and parsing more would cost a check more than the page is worth.
MAX_SCRIPT_CHARS = 5_000_000
# Levels of nesting a walk follows, and nodes all walks over one page visit: hostile JSON (deep
# lists, a devalue graph whose references fan out, many scripts) cannot make the work unbounded.
MAX_DEPTH = 64
MAX_NODES = 200_000
# Script text read per page at most (each script also at most MAX_SCRIPT_CHARS).
MAX_PAGE_SCRIPT_CHARS = 10_000_000
# A body shorter than this is a teaser or a description, not an article.
MIN_BODY_WORDS = 20

# Where the text came from, in the order a tie is broken: the publisher's declared article
# (JSON-LD) first.
SOURCES = ("json-ld", "next-data", "nuxt", "fusion", "initial-state", "apollo-state")


@dataclass(frozen=True)
class LiveEntry:
    """One update of a live blog, as the page's data states it."""

    headline: str | None
    paragraphs: tuple[str, ...]
    published: str | None = None
    modified: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class EmbeddedArticle:
    """An article read from a page's data rather than from its HTML."""

    source: str  # one of SOURCES
    headline: str | None
    paragraphs: tuple[str, ...]  # plain text: tags stripped, entities decoded, normalised
    byline: str | None = None
    published: str | None = None
    modified: str | None = None
    # A live blog's updates in the order the data lists them; their text is not repeated in
    # `paragraphs` (which hold the live blog's own body, often empty).
    live_entries: tuple[LiveEntry, ...] = ()

    def reading_order(self) -> tuple[tuple[str, str], ...]:
        """(kind, text) of every block as a reader meets them: body, then each update."""
        blocks = [("p", paragraph) for paragraph in self.paragraphs]
        for entry in self.live_entries:
            if entry.headline:
                blocks.append(("head", entry.headline))
            blocks.extend(("p", paragraph) for paragraph in entry.paragraphs)
        return tuple(blocks)

    @property
    def text(self) -> str:
        return "\n\n".join(text for _, text in self.reading_order())

    @property
    def word_count(self) -> int:
        return len(_WORD.findall(self.text))


def embedded_article(page: str | bytes | lxml.etree._Element) -> EmbeddedArticle | None:
    """The article the page carries as data, or None. Never raises.

    When several sources hold one, the JSON-LD article wins unless another holds more than
    twice its words (a JSON-LD body cut to a teaser); otherwise the longest body wins.
    """
    found = embedded_articles(page)
    if not found:
        return None
    best = found[0]
    declared = next((a for a in found if a.source == "json-ld"), None)
    if declared is not None and 2 * declared.word_count >= best.word_count:
        return declared
    return best


def embedded_articles(page: str | bytes | lxml.etree._Element) -> tuple[EmbeddedArticle, ...]:
    """Every article found in the page's data (one per script or assignment), longest first."""
    try:
        tree = _tree(page)
        if tree is None:
            return ()
        budget = [MAX_NODES]  # shared by every walk over this page's data
        found = [a for a in _scan(tree, budget) if a.word_count >= MIN_BODY_WORDS]
    except Exception:  # noqa: BLE001 -- hostile input must never break a check
        return ()
    return tuple(sorted(found, key=lambda a: (-a.word_count, SOURCES.index(a.source))))


# --- scripts ---------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
# `window.__INITIAL_STATE__ =`, `window["__APOLLO_STATE__"]=`, `Fusion.globalContent=`.
_ASSIGNMENT = re.compile(
    r"""(?:\bwindow\s*\.\s*|\bwindow\s*\[\s*["']|\bself\s*\.\s*|(?<![\w.$]))"""
    r"(__INITIAL_STATE__|__PRELOADED_STATE__|__INITIAL_DATA__|__APOLLO_STATE__|__NUXT__"
    r"|__NEXT_DATA__"
    r"|Fusion\s*\.\s*globalContent)"
    r"""(?:["']\s*\])?\s*=(?!=)\s*"""
)
_ASSIGNED_SOURCE = {
    "__INITIAL_STATE__": "initial-state",
    "__PRELOADED_STATE__": "initial-state",
    "__INITIAL_DATA__": "initial-state",
    "__APOLLO_STATE__": "apollo-state",
    "__NUXT__": "nuxt",
    "__NEXT_DATA__": "next-data",  # older Next.js versions assigned it in a script
}
# Words every _ASSIGNMENT holds: most scripts have none, and looking for them is much
# cheaper than trying the pattern at every character of the page's code.
_ASSIGNED_NAMES = (*(name for name in _ASSIGNED_SOURCE), "globalContent")
_JSON_PARSE = re.compile(r"JSON\s*\.\s*parse\s*\(\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_JS_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_JSON_ESCAPES = frozenset('"\\/bfnrtu')
_DECODER = json.JSONDecoder(strict=False)  # strict=False: raw newlines inside strings


def _tree(page: str | bytes | lxml.etree._Element) -> lxml.etree._Element | None:
    if isinstance(page, lxml.etree._Element):
        return page
    if isinstance(page, bytes):
        page = page.decode("utf-8", "replace")
    if not page or not page.strip():
        return None
    page = re.sub(r"^\s*<\?xml[^>]*>", "", _CONTROL.sub("", page))
    try:
        return lxml.html.document_fromstring(page)
    except (lxml.etree.ParserError, ValueError):
        return None


def _scan(tree: lxml.etree._Element, budget: list[int]) -> Iterator[EmbeddedArticle]:
    read = 0
    for script in tree.iter("script"):
        text = script.text
        if not text or len(text) > MAX_SCRIPT_CHARS:
            continue
        read += len(text)
        if read > MAX_PAGE_SCRIPT_CHARS or budget[0] <= 0:
            return
        kind = (script.get("type") or "").strip().lower()
        ident = script.get("id") or ""
        if kind.startswith("application/ld+json"):  # also "...; charset=utf-8"
            yield from _json_ld(_loads(text), budget)
        elif ident == "__NEXT_DATA__":
            yield from _best_of("next-data", _loads(text), budget)
        elif ident == "__NUXT_DATA__":
            yield from _best_of("nuxt", _devalue(_loads(text), budget), budget)
        elif "json" not in kind and any(name in text for name in _ASSIGNED_NAMES):
            for match in _ASSIGNMENT.finditer(text):
                name = re.sub(r"\s+", "", match.group(1))
                source = _ASSIGNED_SOURCE.get(name, "fusion")
                data = _assigned(text, match.end())
                refs = data if source == "apollo-state" else None
                yield from _best_of(source, data, budget, refs=refs)


def _loads(text: str | None) -> object:
    """JSON, or None for anything else (too deep, too big, not JSON at all)."""
    if not text:
        return None
    text = text.strip()
    # JSON-LD wrapped for old browsers: <!-- ... -->, //<![CDATA[ ... //]]>, a trailing ';'.
    text = re.sub(r"^(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)\s*", "", text)
    text = re.sub(r"\s*(?:-->|//\s*\]\]>|\]\]>)$", "", text).rstrip(";").strip()
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError):
        return None


def _assigned(text: str, start: int) -> object:
    """The JSON object or array assigned at `start` (a literal, or JSON.parse("...")), or None.

    The JSON decoder finds where the literal ends itself (it matches brackets outside string
    literals, in C, and stops at the first error), so whatever follows in the script does not
    matter and a hostile script costs no more than one decoding pass.
    """
    parse = _JSON_PARSE.match(text, start)
    if parse:
        literal = _decode_at(text, parse.end())
        return _loads(literal) if isinstance(literal, str) else None
    value = _decode_at(text, start)
    if value is None and "\\" in text:
        # JavaScript allows escapes JSON does not ("\\!" is "!"): read them as JavaScript does.
        value = _decode_at(_JS_ESCAPE.sub(_json_escape, text[start:]), 0)
    return value if isinstance(value, dict | list) else None


def _decode_at(text: str, index: int) -> object:
    try:
        value, _ = _DECODER.raw_decode(text, index)
    except (ValueError, RecursionError):
        return None
    return value


def _json_escape(match: re.Match[str]) -> str:
    return match.group() if match.group(1) in _JSON_ESCAPES else match.group(1)


def _devalue(data: object, budget: list[int]) -> object:
    """Nuxt 3's payload (devalue's flattened JSON: values refer to others by index) as JSON."""
    if not isinstance(data, list) or not data:
        return None
    wrappers = {"Reactive", "ShallowReactive", "Ref", "ShallowRef", "EmptyRef", "EmptyShallowRef"}

    def value(index: object, depth: int) -> object:
        if not isinstance(index, int) or not 0 <= index < len(data) or depth > MAX_DEPTH:
            return None
        budget[0] -= 1
        if budget[0] < 0:
            return None
        item = data[index]
        if isinstance(item, dict):
            return {key: value(ref, depth + 1) for key, ref in item.items()}
        if isinstance(item, list):
            if item and isinstance(item[0], str):  # a typed value: ["Reactive", 3], ["Date", "…"]
                tag, rest = item[0], item[1:]
                if tag in wrappers and rest:
                    return value(rest[0], depth + 1)
                if tag == "Set":
                    return [value(ref, depth + 1) for ref in rest]
                if tag in ("Date", "URL") and rest and isinstance(rest[0], str):
                    return rest[0]
                return None
            return [value(ref, depth + 1) for ref in item]
        return item

    return value(0, 0)


# --- JSON-LD ---------------------------------------------------------------------------------

_ARTICLE_TYPES = re.compile(r"(?:\w*Article|BlogPosting|LiveBlogPosting|Report)", re.IGNORECASE)


def _json_ld(data: object, budget: list[int]) -> Iterator[EmbeddedArticle]:
    best: EmbeddedArticle | None = None
    for node in _dicts(data, budget, max_depth=8):
        types = node.get("@type")
        listed = types if isinstance(types, list) else [types]
        # "NewsArticle", "schema:NewsArticle", "https://schema.org/NewsArticle"
        names = [re.split(r"[/:#]", t.strip())[-1] for t in listed if isinstance(t, str)]
        if not any(_ARTICLE_TYPES.fullmatch(name) for name in names):
            continue
        entries = tuple(_live_entries(node.get("liveBlogUpdate")))
        article = EmbeddedArticle(
            source="json-ld",
            headline=_plain(node.get("headline")) or _plain(node.get("name")),
            paragraphs=tuple(_paragraphs(node.get("articleBody"))),
            byline=_names(node.get("author")),
            published=_date(node.get("datePublished")),
            modified=_date(node.get("dateModified")),
            live_entries=entries,
        )
        if best is None or article.word_count > best.word_count:
            best = article
    if best is not None:
        yield best


def _live_entries(updates: object) -> Iterator[LiveEntry]:
    if isinstance(updates, dict):
        updates = [updates]
    if not isinstance(updates, list):
        return
    for update in updates[:10_000]:
        if not isinstance(update, dict):
            continue
        paragraphs = tuple(_paragraphs(update.get("articleBody") or update.get("text")))
        headline = _plain(update.get("headline")) or _plain(update.get("name"))
        if paragraphs or headline:
            yield LiveEntry(
                headline=headline,
                paragraphs=paragraphs,
                published=_date(update.get("datePublished")),
                modified=_date(update.get("dateModified")),
            )


def _dicts(data: object, budget: list[int], max_depth: int = MAX_DEPTH) -> Iterator[dict]:
    """Every dict in a JSON value, breadth first, within the depth and node limits."""
    level: list[object] = [data]
    for _ in range(max_depth + 1):
        following: list[object] = []
        for item in level:
            budget[0] -= 1
            if budget[0] < 0:
                return
            if isinstance(item, dict):
                yield item
                following.extend(v for v in item.values() if isinstance(v, dict | list))
            elif isinstance(item, list):
                following.extend(v for v in item if isinstance(v, dict | list))
        if not following:
            return
        level = following


# --- framework state: the article found generically -------------------------------------------

# Headline fields: "headline", "title", Arc's "headlines", newsroom jargon ("hed", "dangerousHed").
_HEADLINE_KEY = re.compile(
    r"(?i:headlines?|title|heading|display_?headline)|hed|[a-z]+Hed|[a-z]+_hed", re.ASCII
)
_URL = re.compile(r"\s*(?:https?:)?//|\s*/\S*$")
_HEADLINE_SUBKEYS = ("basic", "main", "default", "text", "value", "rendered", "headline", "title")
# Keys under which a CMS keeps the body (compared with _ and - removed, lower case).
_BODY_KEY = re.compile(
    r"[a-z]*(?:body|content|html|text|paragraphs|blocks|elements|components)[a-z]*"
    r"|story|modules|sections"
)
_BODY_KEY_EXCLUDED = re.compile(
    r".*(?:type|id|ids|class|url|uri|path|length|count|format|style|color|label)$"
    r"|alt.*|.*(?:context|script|head).*"
)
# Block types that are not prose.
_NOT_TEXT_TYPE = re.compile(
    r"image|photo|picture|video|gallery|slideshow|\bads?\b|advert|dfp|embed|oembed|iframe"
    r"|related|promo|teaser|newsletter|social|tweet|twitter|instagram|facebook|youtube|tiktok"
    r"|audio|podcast|interactive|graphic|raw_?html|html_?block|map|button|poll|quiz|widget"
    r"|divider|spacer|script|table|correction_?box|author_?bio",
    re.IGNORECASE,
)
_TYPE_KEYS = (
    "type",
    "_type",
    "nodeType",
    "__typename",
    "kind",
    "blockType",
    "blockName",
    "component",
    "is",
)
# A block's own fields, when its text sits one level down ({"is": "paragraph", "props": ...}).
_FIELD_KEYS = ("props", "data", "attrs", "attributes", "fields", "model")
_TEXT_KEYS = (
    "content",
    "text",
    "html",
    "value",
    "body",
    "paragraph",
    "markup",
    "plainText",
    "rendered",
    "innerHTML",
)
# Rich-text node types that are blocks (their parent is a document, not a paragraph).
_BLOCK_TYPE = re.compile(
    r"paragraph|heading|^h[1-6]$|^p$|list|item|quote|block|section|document|root|^div$",
    re.IGNORECASE,
)
_CHILD_KEYS = (
    "children",
    "content",
    "items",
    "elements",
    "spans",
    "inlines",
    "blocks",
    "nodes",
    "innerBlocks",
)
_BYLINE_KEYS = frozenset(
    ["byline", "author", "authors", "credits", "creator", "writers", "contributors"]
)
# Date fields, compared lower case without _ or -.
_PUBLISHED_KEYS = frozenset(
    [
        *("datepublished", "publishedat", "publishdate", "publisheddate", "publishedtime"),
        *("publicationdate", "firstpublished", "firstpublishdate", "firstpublisheddate"),
        *("displaydate", "createdat", "createddate", "date"),
    ]
)
_MODIFIED_KEYS = frozenset(
    [
        *("datemodified", "modifieddate", "modifiedat", "updatedat", "updateddate"),
        *("lastmodified", "lastmodifieddate", "lastupdated", "lastupdateddate", "dateupdated"),
        *("modified", "updated"),
    ]
)


def _best_of(
    source: str, data: object, budget: list[int], *, refs: object = None
) -> Iterator[EmbeddedArticle]:
    """The dict in `data` with a headline and the longest body, as an article.

    The headline and the body may sit one level apart: a story dict with its body under a
    ``fields``/``acf`` sub-dict, or a body dict whose headline is in a ``header`` sub-dict.
    """
    if data is None:
        return
    lookup = refs if isinstance(refs, dict) else {}
    best: tuple[tuple[int, bool], dict, str, list[str]] | None = None
    for node in _dicts(data, budget):
        parts = [node, *_parts(node, lookup)]
        headline = next(filter(None, map(_headline, parts)), None)
        if not headline:
            continue
        # The body is the node's own, or that of a part that is not a story of its own.
        own = [node, *(part for part in parts[1:] if not _headline(part))]
        paragraphs = max((_body(part, lookup, budget) for part in own), key=_word_total)
        # Longest body first; for one body, the dict that holds its headline itself.
        score = (_word_total(paragraphs), _headline(node) is not None)
        if score[0] and (best is None or score > best[0]):
            best = (score, node, headline, paragraphs)
        if budget[0] <= 0:
            break
    if best is None:
        return
    _, node, headline, paragraphs = best
    parts = [node, *_parts(node, lookup)]
    yield EmbeddedArticle(
        source=source,
        headline=headline,
        paragraphs=tuple(paragraphs),
        byline=_first(parts, _BYLINE_KEYS, lambda value: _names(_deref(value, lookup))),
        published=_first(parts, _PUBLISHED_KEYS, _date),
        modified=_first(parts, _MODIFIED_KEYS, _date),
    )


def _parts(node: dict, lookup: dict) -> list[dict]:
    """The node's sub-dicts (references followed) that may hold its headline or body."""
    parts = []
    for value in list(node.values())[:200]:
        value = _deref(value, lookup)
        if isinstance(value, dict):
            parts.append(value)
    return parts


def _first(
    parts: list[dict], names: frozenset[str], read: Callable[[object], str | None]
) -> str | None:
    """The first value read from a field whose name (lower case, no _ or -) is in names."""
    for part in parts:
        for key, value in part.items():
            if isinstance(key, str) and _key_name(key) in names:
                found = read(value)
                if found:
                    return found
    return None


def _key_name(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _word_total(paragraphs: list[str]) -> int:
    return sum(len(_WORD.findall(paragraph)) for paragraph in paragraphs)


def _deref(value: object, lookup: dict) -> object:
    """Follow an Apollo cache reference ({"__ref": id} or {"type": "id", "id": id})."""
    for _ in range(4):
        if not isinstance(value, dict) or not lookup:
            return value
        ref = value.get("__ref")
        if ref is None and value.get("type") == "id" and "generated" in value:
            ref = value.get("id")
        if not isinstance(ref, str) or ref not in lookup:
            return value
        value = lookup[ref]
    return value


def _headline(node: dict) -> str | None:
    for key, value in node.items():
        if not isinstance(key, str) or not _HEADLINE_KEY.fullmatch(key):
            continue
        if isinstance(value, dict):
            texts = (value[k] for k in _HEADLINE_SUBKEYS if isinstance(value.get(k), str))
            value = next(texts, None)
        text = _plain(value)
        if text and len(text) >= 3 and not _date(text) and not _URL.match(text):
            return text
    return None


def _body(node: dict, lookup: dict, budget: list[int]) -> list[str]:
    """The longest body among the node's body-like fields."""
    best: list[str] = []
    best_words = 0
    for key, value in node.items():
        name = _key_name(key) if isinstance(key, str) else ""
        if not _BODY_KEY.fullmatch(name) or _BODY_KEY_EXCLUDED.fullmatch(name):
            continue
        paragraphs = _body_value(_deref(value, lookup), lookup, budget, 0)
        words = _word_total(paragraphs)
        if words > best_words:
            best, best_words = paragraphs, words
    return best


def _body_value(value: object, lookup: dict, budget: list[int], depth: int) -> list[str]:
    """Paragraphs of a body field: HTML or text, a list of blocks, or a rich-text tree."""
    budget[0] -= 1
    if depth > 12 or budget[0] < 0:
        return []
    if isinstance(value, str):
        return _paragraphs(value)
    if isinstance(value, dict):
        return _block(value, lookup, budget, depth + 1)
    if not isinstance(value, list):
        return []
    if _is_jsonml(value):
        return _paragraphs(_jsonml_markup(value, budget, 0))
    paragraphs: list[str] = []
    stories = 0
    for item in value[:5_000]:
        item = _deref(item, lookup)
        if isinstance(item, dict) and _is_story(item):
            stories += 1  # a teaser, or another story: not this story's text
            continue
        paragraphs.extend(_body_value(item, lookup, budget, depth + 1))
    # A list that is mostly stories is a river of teasers, not one story's blocks.
    return [] if 2 * stories > len(value[:5_000]) else paragraphs


def _is_story(item: dict) -> bool:
    """A dict that is a story of its own (a headline and a link or body), not a block."""
    return _headline(item) is not None and any(
        isinstance(item.get(key), str | list | dict)
        for key in ("url", "link", "href", "canonical_url", "body", "articleBody")
    )


def _block(block: dict, lookup: dict, budget: list[int], depth: int) -> list[str]:
    """Paragraphs of one block: its text, or its children's, unless it is not prose."""
    kind = next((block[k] for k in _TYPE_KEYS if isinstance(block.get(k), str)), "")
    if kind and _NOT_TEXT_TYPE.search(kind):
        return []
    inline = _inline_text(block, 0)
    if inline is not None:
        return _paragraphs(inline)
    for key in _TEXT_KEYS:
        value = block.get(key)
        if isinstance(value, str):
            return _paragraphs(value)
    for key in _CHILD_KEYS:
        value = _deref(block.get(key), lookup)
        if isinstance(value, list | dict):
            return _body_value(value, lookup, budget, depth + 1)
    for key in _FIELD_KEYS:
        value = _deref(block.get(key), lookup)
        if isinstance(value, dict):
            return _block(value, lookup, budget, depth + 1)
    return []


# JsonML (["p", {"class": …}, "text", ["a", {"href": …}, "link"]]): HTML elements as lists.
_JSONML_TAGS = frozenset(
    [
        *("div", "p", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"),
        *("section", "article", "pre", "hr", "a", "em", "strong", "i", "b", "u", "s", "span"),
        *("sup", "sub", "mark", "small", "code", "q", "cite", "abbr", "time", "del", "ins"),
    ]
)


def _is_jsonml(value: list) -> bool:
    return bool(value) and isinstance(value[0], str) and value[0].lower() in _JSONML_TAGS


def _jsonml_markup(node: object, budget: list[int], depth: int) -> str:
    budget[0] -= 1
    if depth > MAX_DEPTH or budget[0] < 0:
        return ""
    if isinstance(node, str):
        return html_lib.escape(node, quote=False)
    if not isinstance(node, list) or not _is_jsonml(node):
        return ""
    tag = node[0].lower()
    inner = "".join(_jsonml_markup(child, budget, depth + 1) for child in node[1:])
    return f"<{tag}>{inner}</{tag}>"


def _inline_text(node: object, depth: int) -> str | None:
    """A rich-text paragraph as one string: a text leaf, or a node whose children are all
    inline (text leaves, links, marks). None when the node holds blocks."""
    if depth > 8:
        return None
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return None
    kind = next((node[k] for k in _TYPE_KEYS if isinstance(node.get(k), str)), "")
    if depth and _BLOCK_TYPE.search(kind):
        return None  # a paragraph inside a document: the document holds blocks
    children = next((node[k] for k in ("children", "content", "nodes") if k in node), None)
    if isinstance(children, list):
        parts = [_inline_text(child, depth + 1) for child in children]
        if not children or any(part is None for part in parts):
            return None
        return "".join(part for part in parts if part is not None)
    for key in ("text", "value"):
        if isinstance(node.get(key), str) and not isinstance(children, str | dict):
            return str(node[key])
    return None


# --- text ------------------------------------------------------------------------------------

_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_BREAKING = (
    "p",
    "div",
    "br",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "article",
    "ul",
    "ol",
    "tr",
    "table",
    "pre",
    "hr",
    "dd",
    "dt",
)
_DROPPED = ("script", "style", "noscript", "template", "iframe", "svg", "figure", "object")


def _paragraphs(value: object) -> list[str]:
    """Plain-text paragraphs of an HTML or text string: tags stripped, entities decoded."""
    if not isinstance(value, str) or not value.strip():
        return []
    value = _CONTROL.sub(" ", value)
    if "<" in value and _TAG.search(value):
        try:
            fragment = lxml.html.fragment_fromstring(value, create_parent="div")
        except (lxml.etree.ParserError, ValueError):
            return _lines(html_lib.unescape(re.sub(r"<[^>]*>", "\n", value)))
        for element in list(fragment.iter(*_DROPPED)):
            if element.getparent() is not None:
                element.drop_tree()
        for element in fragment.iter(*_BREAKING):
            element.text = "\n" + (element.text or "")
            element.tail = "\n" + (element.tail or "")
        return _lines(fragment.text_content())
    return _lines(html_lib.unescape(value))


def _lines(text: str) -> list[str]:
    return [line for line in normalize_text(text).split("\n") if line]


def _plain(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(_paragraphs(value)) or None


def _date(value: object) -> str | None:
    if isinstance(value, str) and re.match(r"\s*\d{4}-\d{2}-\d{2}", value):
        return value.strip()
    return None


def _names(value: object, depth: int = 0) -> str | None:
    """A byline from an author field: a name, a person dict, a list of either, Arc credits."""
    if depth > 3:
        return None
    if isinstance(value, str):
        return _plain(value)
    if isinstance(value, list):
        names = [_names(item, depth + 1) for item in value[:20]]
        unique = list(dict.fromkeys(name for name in names if name))
        return ", ".join(unique) or None
    if isinstance(value, dict):
        for key in ("name", "displayName", "fullName", "byline", "title"):
            name = _plain(value.get(key))
            if name:
                return name
        first, last = _plain(value.get("firstName")), _plain(value.get("lastName"))
        if first or last:
            return " ".join(part for part in (first, last) if part)
        for key in ("by", "authors", "author", "people"):
            if key in value:
                return _names(value[key], depth + 1)
    return None

"""Live blogs: a page of timestamped entries, read and compared entry by entry. Pure functions.

A live blog read as one page diffs badly: a new entry at the top shows as paragraphs added and
removed, a side-by-side view pairs the new entry with an old one, and the entries' times are
lost. So a live blog is read as its entries (`tracker.core.article.Entry`), and two versions are
compared entry by entry: entries added, edited (a word diff inside the entry) and removed.

Where the entries come from, best first:

- the markup: several sibling blocks of one shape (``article``, ``div``, ``section``, ``li``
  with the same tag under one parent) that each hold a time (a ``<time>`` element, a
  ``datetime`` or ``data-…time``/``data-…date`` attribute, or a short line starting with a
  clock time, "9:12 a.m.", "10.15 BST") and prose. No site's class names are known here: the
  rule is structural, so it reads a Guardian-like block list, a WordPress live-blog plugin's
  entries and a newsroom's own template alike;
- the page's data: a JSON-LD ``LiveBlogPosting``'s ``liveBlogUpdate`` entries.

A normal article must never be read as a live blog, so the markup rule is strict: at least
`MIN_ENTRIES` such blocks (fewer when the page declares a ``LiveBlogPosting`` or the blocks'
ids say they are posts/entries/updates), each a container of blocks rather than one line (a
timeline list in an article is not a live blog), mostly prose rather than links (a list of
teasers with dates is not one either), not comments, and the same text the article body holds
(so a comment thread or a sidebar of dated items never replaces the article).

An entry's key is what the page says identifies it (the element's ``id`` or ``data-…id``, a
permalink's fragment, the data's ``url``/``@id``), else a hash of its time and first words.
Comparison pairs entries by key first and then, for keys that changed (generated ids, a hash
over edited first words), by time and text similarity: an entry whose text did not change is
never reported, whatever its key did.

The stored text of a live blog keeps each entry's time and title as a line of its own above
its paragraphs, so the text diff and the fingerprint see them too.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import lxml.etree
import lxml.html

from tracker.core import changes, diffing
from tracker.core.article import Article, Block, Entry
from tracker.core.normalize import normalize_text

__all__ = [
    "MIN_ENTRIES",
    "EditedEntry",
    "EntryDiff",
    "LiveBlog",
    "LiveCandidates",
    "LiveChange",
    "aligned_entries",
    "compare_live",
    "describe_entries",
    "diff_entries",
    "entries_from_json",
    "entries_to_json",
    "entry_fields",
    "entry_label",
    "entry_lines",
    "entry_units",
    "frame_text",
    "live_candidates",
    "read_live_blog",
]

# Sibling blocks with a time each, at least, for the markup alone to make a live blog ...
MIN_ENTRIES = 3
# ... or when the page declares a LiveBlogPosting, or the blocks' ids name them as entries.
MIN_DECLARED_ENTRIES = 1
MIN_NAMED_ENTRIES = 2
# An entry holds at least this many words outside links and its time, on average ...
_MIN_ENTRY_WORDS = 8
# ... and links are less than this share of the entries' words (a teaser list is mostly links).
_MAX_LINK_SHARE = 0.5
# The entries and the article body share at least this share of either's three-word phrases.
_MIN_BODY_OVERLAP = 0.5
# Entries whose text is at least this similar (word sequences) are one entry, edited.
_SIMILAR = 0.5
_MAX_ENTRIES = 2_000
_MAX_ANCESTORS = 8

_CLOCK = re.compile(
    r"^\W{0,3}(?:(?:updated?|posted|published|last\s+updated)\b\W{0,3})?(?:at\s+)?"
    r"(?:\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?\s?m\b\.?)?|\d{1,2}\s*[ap]\.?\s?m\b\.?)",
    re.IGNORECASE,
)
# "12 minutes ago", "1 hr ago", "just now": a time that moves on its own.
_AGO = re.compile(
    r"\W{0,3}(?:(?:updated|posted|published)\s+)?(?:\d+|an?|one)\s*(?:s|secs?|seconds?|m|mins?"
    r"|minutes?|h|hrs?|hours?|d|days?)\s+ago\W{0,3}|\W{0,3}just\s+now\W{0,3}",
    re.IGNORECASE,
)
_NO_TIME = "\x00relative"  # an entry timed only relatively ("5 min ago"): no time to keep
_RELATIVE = re.compile(
    r"\b(?:ago|just\s+now|minutes?|mins?|hours?|hrs?|seconds?|secs?|yesterday|today)\b",
    re.IGNORECASE,
)
_DATE_VALUE = re.compile(r"^\s*(?:\d{4}-\d{2}-\d{2}|\d{10}(?:\d{3})?$)")
_TIME_ATTR = re.compile(r"^(?:datetime|data-[\w-]*(?:time|date|published)[\w-]*)$")
_ID_ATTR = re.compile(r"^(?:id|data-(?:[\w-]*-)?(?:id|uuid|key))$")
_ENTRY_ID = re.compile(r"(?:^|[-_])(?:post|entry|update|block|item|event)s?(?:[-_]|$)", re.I)
_COMMENT = re.compile(r"comment|reply|review|testimonial", re.IGNORECASE)
_PINNED = re.compile(
    r"pinned|sticky|key[-_]?event|highlight|featured|important|is[-_]key", re.IGNORECASE
)
_PINNED_LABEL = re.compile(r"^\W*(?:pinned(?:\s+post)?|key\s+event|highlight)\W*$", re.I)
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_ENTRY_TAGS = frozenset(["article", "div", "section", "li"])
_CONTAINER_CHILDREN = frozenset(
    [
        *("p", "div", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "figure"),
        *("header", "article", "section"),
    ]
)
_LINE_TAGS = ("span", "p", "div", "a", "strong", "b", "small", "em", *_HEADINGS)
_SKIPPED = frozenset(
    [
        *("script", "style", "noscript", "template", "iframe", "svg", "canvas", "button"),
        *("select", "form", "nav", "aside", "figure", "footer", "video", "audio", "object"),
    ]
)
_BREAKING = frozenset(
    [
        *("address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "h1"),
        *("h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol", "p", "pre"),
        *("section", "table", "tr", "td", "th", "ul", "br"),
    ]
)
_WORD = re.compile(r"\w+")
# Words that say nothing besides a time ("UPDATE 9:12 a.m. ET").
_STAMPISH = re.compile(
    r"(?i:updated?|posted|published|at|on|by|et|pt|ct|gmt|utc|bst|am|pm|a|m|p|\d+)"
)
# What may follow a clock time on a line that is only a time: a zone, a date.
_TIME_WORD = re.compile(
    r"\d+|[A-Z]{2,5}|on|at|local|time|utc|gmt|(?i:uhr|h)|"
    r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|"
    r"(?i:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*|(?i:today|yesterday)"
)


@dataclass(frozen=True)
class LiveBlog:
    """A page read as a live blog: its entries, and the body to store for it."""

    entries: tuple[Entry, ...]
    # The blocks before the entries (a summary, key events), then each entry's time/title
    # line and paragraphs, then what follows the entries.
    blocks: tuple[Block, ...]


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    entry: Entry
    paragraphs: tuple[Block, ...]  # the entry's paragraphs with their link texts
    scope: str = ""  # every word of the entry's element (its furniture too), as _key gives it
    linked_title: bool = False  # its title is a link (a teaser's, not an entry's)


@dataclass(frozen=True)
class LiveCandidates:
    """What a page offers as live-blog entries, read before body extraction changes the tree:
    the data's entries (None: no LiveBlogPosting) and groups of sibling blocks from the markup
    that passed every test but the last (being the article body's text)."""

    declared: tuple[Entry, ...] | None
    groups: tuple[tuple[_Parsed, ...], ...]


def live_candidates(tree: lxml.etree._Element) -> LiveCandidates | None:
    """The page's live-blog candidates, or None when it offers none. Never raises.

    `tree` is the page with hidden elements gone, before an extractor prunes it (an entry's
    time and header are furniture to a body extractor). The tree is not changed.
    """
    try:
        declared = _json_ld_entries(tree)
        groups = tuple(_markup_groups(tree, declared=declared is not None))
    except Exception:  # noqa: BLE001 -- hostile input must never break a check
        return None
    return LiveCandidates(declared, groups) if declared is not None or groups else None


def read_live_blog(
    candidates: LiveCandidates | lxml.etree._Element | None, body: Sequence[Block]
) -> LiveBlog | None:
    """The page as a live blog, or None when it is not one. Never raises.

    `candidates` come from `live_candidates` (or the page's tree, read now: only when nothing
    pruned it since). `body` is the article body an extractor read from the page: entries from
    the markup count only when they are that body's text (or the page declares a live blog).
    """
    if isinstance(candidates, lxml.etree._Element):
        candidates = live_candidates(candidates)
    if candidates is None:
        return None
    try:
        parsed = _best_group(candidates, body)
        if not parsed and candidates.declared:
            parsed = [_Parsed(entry, _blocks_of(entry.text)) for entry in candidates.declared]
        if not parsed:
            return None
        entries = _unique_keys([item.entry for item in parsed])
        parsed = [replace(item, entry=entry) for item, entry in zip(parsed, entries, strict=True)]
        return LiveBlog(entries=entries, blocks=_stored_blocks(body, parsed))
    except Exception:  # noqa: BLE001 -- hostile input must never break a check
        return None


def _best_group(candidates: LiveCandidates, body: Sequence[Block]) -> list[_Parsed]:
    """The candidate group with the most entries (then words) that is the body's text."""
    body_shingles = _shingles(" ".join(block.text for block in body))
    best: tuple[tuple[int, int], list[_Parsed]] | None = None
    for group in candidates.groups:
        if candidates.declared is None and not _is_body_text(group, body_shingles):
            continue
        score = (len(group), sum(len(_WORD.findall(p.entry.text)) for p in group))
        if best is None or score > best[0]:
            best = (score, list(group))
    return best[1] if best else []


def _is_body_text(group: Sequence[_Parsed], body: set[tuple[str, ...]]) -> bool:
    """Whether the entries and the body share most of either's three-word phrases: a comment
    thread or a sidebar of dated items is not the article an extractor found."""
    mine = _shingles(" ".join(block.text for item in group for block in item.paragraphs))
    shared = len(mine & body)
    return bool(mine) and (
        shared >= _MIN_BODY_OVERLAP * len(mine) or shared >= _MIN_BODY_OVERLAP * len(body)
    )


def _blocks_of(text: str) -> tuple[Block, ...]:
    return tuple(Block(text=p) for p in changes.paragraphs(text))


def _unique_keys(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    seen: dict[str, int] = {}
    out = []
    for entry in entries[:_MAX_ENTRIES]:
        count = seen.get(entry.key, 0) + 1
        seen[entry.key] = count
        out.append(entry if count == 1 else replace(entry, key=f"{entry.key}~{count}"))
    return tuple(out)


def _markup_groups(tree: lxml.etree._Element, *, declared: bool) -> Iterator[tuple[_Parsed, ...]]:
    """Groups of sibling blocks of one shape that each hold a time and prose, as entries."""
    markers = _time_markers(tree)
    if not markers:
        return
    groups: dict[tuple[lxml.etree._Element, str], dict[lxml.etree._Element, int]] = {}
    for marker in markers:
        ancestor = marker
        for _ in range(_MAX_ANCESTORS):
            parent = ancestor.getparent()
            if parent is None or ancestor.tag in ("body", "html"):
                break
            if ancestor.tag in _ENTRY_TAGS and (ancestor is not marker or _is_container(marker)):
                members = groups.setdefault((parent, ancestor.tag), {})
                members[ancestor] = members.get(ancestor, 0) + 1
            ancestor = parent
    for (parent, _tag), members in groups.items():
        if len(members) < MIN_DECLARED_ENTRIES:
            continue
        # Children in page order; a member holding many times is a container of entries.
        ordered = [el for el in parent if el in members]
        if sorted(members[el] for el in ordered)[len(ordered) // 2] > 3:
            continue
        named = sum(1 for el in ordered if _ENTRY_ID.search(_own_id(el) or ""))
        needed = (
            MIN_DECLARED_ENTRIES
            if declared
            else MIN_NAMED_ENTRIES
            if named >= MIN_NAMED_ENTRIES
            else MIN_ENTRIES
        )
        if len(ordered) < needed:
            continue
        parsed = _valid_group(ordered)
        if len(parsed) >= needed:
            yield tuple(parsed)


def _valid_group(members: list[lxml.etree._Element]) -> list[_Parsed]:
    """The members as entries, or [] when they are not a live blog's entries."""
    if any(_COMMENT.search(_attrs_text(el)) for el in members[:5]):
        return []
    # Entries are containers of blocks: a list of one-line items with times is a timeline.
    containers = [el for el in members if _is_container(el)]
    if 2 * len(containers) < len(members):
        return []
    parsed = []
    words = link_words = linked_titles = 0
    for element in members:
        item = _parse_element(element)
        if item is None:
            continue
        parsed.append(item)
        linked_titles += item.linked_title
        for block in item.paragraphs:
            words += len(_WORD.findall(block.text))
            link_words += sum(len(_WORD.findall(link)) for link in block.links)
    if not parsed or words - link_words < _MIN_ENTRY_WORDS * len(parsed):
        return []
    if link_words >= _MAX_LINK_SHARE * words:
        return []
    # Titles that link elsewhere head teasers of other stories (with their dates and blurbs).
    if 2 * linked_titles > len(parsed):
        return []
    return parsed


def _is_container(element: lxml.etree._Element) -> bool:
    return any(child.tag in _CONTAINER_CHILDREN for child in element)


def _time_markers(tree: lxml.etree._Element) -> list[lxml.etree._Element]:
    """Elements stating a time: <time>, date attributes, short lines starting with a clock."""
    found = []
    body = tree.find("body")
    if body is None:
        return []
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag in _SKIPPED:
            continue
        if element.tag == "time" or _has_date_attribute(element):
            found.append(element)
        elif element.tag in _LINE_TAGS and len(element) <= 3:
            text = _short_text(element)
            if text is not None and (_CLOCK.match(text) or _AGO.fullmatch(text)):
                found.append(element)
        if len(found) > 20 * _MAX_ENTRIES:
            break
    return found


def _own_id(element: lxml.etree._Element) -> str | None:
    for name, value in element.attrib.items():
        if _ID_ATTR.match(name) and value and value.strip():
            return value.strip()
    return None


def _attrs_text(element: lxml.etree._Element) -> str:
    return " ".join(f"{name}={value}" for name, value in element.attrib.items())


def _has_date_attribute(element: lxml.etree._Element) -> bool:
    return any(
        _TIME_ATTR.match(name) and _DATE_VALUE.match(value or "")
        for name, value in element.attrib.items()
    )


def _short_text(element: lxml.etree._Element, limit: int = 80) -> str | None:
    """The element's text, space-normalised, or None when longer than `limit` characters
    (read lazily: a big container costs no more than its first few text nodes)."""
    parts: list[str] = []
    size = 0
    for text in element.itertext():
        size += len(text)
        if size > 4 * limit:
            return None
        parts.append(text)
    joined = " ".join(" ".join(parts).split())
    return joined if len(joined) <= limit else None


def _is_time_marker(element: lxml.etree._Element) -> bool:
    """A short element that states the entry's time (never a heading: that is a title)."""
    if element.tag in _HEADINGS:
        return False
    text = _short_text(element, 60)
    if text is None:
        return False
    if element.tag == "time" or _has_date_attribute(element):
        return True
    return bool(_CLOCK.match(text) or _AGO.fullmatch(text))


def _has_text(element: lxml.etree._Element) -> bool:
    return any(text.strip() for text in element.itertext())


def _parse_element(element: lxml.etree._Element) -> _Parsed | None:
    time, label = _entry_time(element)
    if time is None:
        return None
    time = None if time is _NO_TIME else time
    headline_element = next((el for el in element.iter(*_HEADINGS) if _has_text(el)), None)
    headline = None
    if headline_element is not None:
        text = normalize_text(" ".join(headline_element.text_content().split()))
        if not _is_clock_only(text):
            headline = text
    lines: list[tuple[list[str], list[str]]] = [([], [])]
    _walk(element, lines, skip={headline_element}, in_link=False, top=element)
    paragraphs = []
    for parts, links in lines:
        text = normalize_text(" ".join(parts))
        if not text or _is_clock_only(text) or _PINNED_LABEL.match(text):
            continue
        link_text = [normalize_text(link) for link in links if link.strip()]
        # A line that is one short link ("Share", "Copy link", a permalink) is furniture.
        if link_text and " ".join(link_text) == text and len(text.split()) <= 4:
            continue
        paragraphs.append(Block(text=text, links=tuple(link_text)))
    if not paragraphs and not headline:
        return None
    body = "\n\n".join(block.text for block in paragraphs)
    pinned = bool(_PINNED.search(_attrs_text(element))) or any(
        _PINNED_LABEL.match(_short_text(el, 30) or "")
        for el in element.iter("span", "p", "div", "strong", "em", "small")
    )
    key = _own_id(element) or _permalink(element) or _hash_key(time, headline, body)
    entry = Entry(
        key=key[:200], time=time, headline=headline, text=body, pinned=pinned, label=label
    )
    linked = headline_element is not None and any(
        _key(link.text_content()) == _key(headline_element.text_content())
        for link in headline_element.iter("a")
    )
    return _Parsed(entry, tuple(paragraphs), _key(element.text_content()), linked)


def _is_clock_only(text: str) -> bool:
    """A line that only states a time: "9:12 a.m.", "10.15 BST", "Updated 3 minutes ago"."""
    match = _CLOCK.match(text)
    if not match:
        return bool(_RELATIVE.search(text)) and len(text.split()) <= 4
    rest = _WORD.findall(text[match.end() :])
    return len(rest) <= 4 and all(_TIME_WORD.fullmatch(word) for word in rest)


def _entry_time(element: lxml.etree._Element) -> tuple[str | None, str | None]:
    """The entry's time (a datetime attribute, else the clock text) and its shown label."""
    time = label = None
    relative = False
    for candidate in element.iter():
        if not isinstance(candidate.tag, str):
            continue
        for name, value in candidate.attrib.items():
            if _TIME_ATTR.match(name) and value and _DATE_VALUE.match(value):
                time = time or _iso(value.strip())
        if candidate is not element and (candidate.tag == "time" or time):
            shown = _short_text(candidate, 60) or ""
            if shown and not label and not _RELATIVE.search(shown) and re.search(r"\d", shown):
                label = shown
        if time:
            break
    if time is None:
        for candidate in element.iter(*_LINE_TAGS):
            text = _short_text(candidate)
            match = _CLOCK.match(text) if text else None
            if match:
                clock = re.search(r"\d.*", match.group())
                time = label = clock.group() if clock else match.group()
                break
            relative = relative or bool(text and _AGO.fullmatch(text))
    # A page that only says "12 minutes ago" gives the entry no time to keep, but it is timed.
    return (time or (_NO_TIME if relative else None)), label


def _iso(value: str) -> str:
    """A date attribute as ISO 8601: epoch seconds (or milliseconds) become UTC times."""
    if value.isdigit() and len(value) in (10, 13):
        seconds = int(value) // (1000 if len(value) == 13 else 1)
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")
    return value


def _permalink(element: lxml.etree._Element) -> str | None:
    for link in element.iter("a"):
        href = link.get("href") or ""
        if "#" in href and len(href.split("#", 1)[1]) >= 3:
            return href.split("#", 1)[1]
    return None


def _hash_key(time: str | None, headline: str | None, text: str) -> str:
    words = " ".join(_WORD.findall(f"{headline or ''} {text}".casefold())[:8])
    digest = hashlib.sha256(f"{time or ''}|{words}".encode()).hexdigest()[:16]
    return f"h:{digest}"


def _walk(
    element: lxml.etree._Element,
    lines: list[tuple[list[str], list[str]]],
    *,
    skip: set[lxml.etree._Element | None],
    in_link: bool,
    top: lxml.etree._Element,
) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if not tag or tag in _SKIPPED or element in skip:
        return
    if element is not top and (tag == "header" or _is_time_marker(element)):
        return  # the entry's time, author and share links: read as its time and headline
    if tag in _BREAKING:
        lines.append(([], []))
    if tag == "a" and not in_link:
        text = " ".join(element.text_content().split())
        if text:
            lines[-1][1].append(text)
        in_link = True
    if element.text:
        lines[-1][0].append(element.text)
    for child in element:
        _walk(child, lines, skip=skip, in_link=in_link, top=top)
        if child.tail:
            lines[-1][0].append(child.tail)
    if tag in _BREAKING:
        lines.append(([], []))


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    return {tuple(words[i : i + 3]) for i in range(max(0, len(words) - 2))}


# --- JSON-LD ---------------------------------------------------------------------------------

_LIVE_TYPE = re.compile(r"(?:^|[/:#])LiveBlogPosting$", re.IGNORECASE)


def _json_ld_entries(tree: lxml.etree._Element) -> tuple[Entry, ...] | None:
    """A declared LiveBlogPosting's entries (() when it lists none), or None without one."""
    found: tuple[Entry, ...] | None = None
    for script in tree.iter("script"):
        kind = (script.get("type") or "").strip().lower()
        if not kind.startswith("application/ld+json") or not script.text:
            continue
        if len(script.text) > 5_000_000:
            continue
        try:
            data = json.loads(script.text.strip().rstrip(";"), strict=False)
        except (ValueError, RecursionError):
            continue
        for node in _nodes(data, 0):
            types = node.get("@type")
            listed = types if isinstance(types, list) else [types]
            if not any(isinstance(t, str) and _LIVE_TYPE.search(t.strip()) for t in listed):
                continue
            entries = tuple(_json_ld_updates(node.get("liveBlogUpdate")))
            if found is None or len(entries) > len(found):
                found = entries
    return found


def _nodes(data: object, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data[:1000]:
            yield from _nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            if isinstance(data.get(key), list | dict):
                yield from _nodes(data[key], depth + 1)


def _json_ld_updates(updates: object) -> Iterator[Entry]:
    if isinstance(updates, dict):
        updates = [updates]
    if not isinstance(updates, list):
        return
    for update in updates[:_MAX_ENTRIES]:
        if not isinstance(update, dict):
            continue
        text = "\n\n".join(_text_paragraphs(update.get("articleBody") or update.get("text")))
        headline = " ".join(_text_paragraphs(update.get("headline") or update.get("name")))
        if not text and not headline:
            continue
        time = update.get("datePublished") or update.get("dateCreated")
        time = time.strip() if isinstance(time, str) and time.strip() else None
        key = next(
            (
                v.strip()
                for k in ("url", "@id", "identifier")
                if isinstance(v := update.get(k), str) and v.strip()
            ),
            None,
        )
        yield Entry(
            key=(key or _hash_key(time, headline or None, text))[:200],
            time=time,
            headline=headline or None,
            text=text,
            pinned=bool(update.get("isPinned") or update.get("pinned")),
        )


def _text_paragraphs(value: object) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    if "<" in value:
        try:
            fragment = lxml.html.fragment_fromstring(value, create_parent="div")
        except (lxml.etree.ParserError, ValueError):
            fragment = None
        if fragment is not None:
            lines: list[tuple[list[str], list[str]]] = [([], [])]
            _walk(fragment, lines, skip=set(), in_link=False, top=fragment)
            return [t for t in (normalize_text(" ".join(parts)) for parts, _ in lines) if t]
    return [line for line in normalize_text(value).split("\n") if line.strip()]


# --- the stored body -------------------------------------------------------------------------


def entry_label(entry: Entry) -> str | None:
    """The entry's time for a reader: as the page shows it, else HH:MM from its datetime."""
    if entry.label:
        return entry.label
    if entry.time:
        match = re.match(r"\d{4}-\d{2}-\d{2}[T ](\d{2}:\d{2})", entry.time)
        return match.group(1) if match else entry.time
    return None


def entry_head(entry: Entry) -> str | None:
    """The entry's time and title as one line ("9:12 a.m. · Title"), or None without either."""
    label = entry_label(entry)
    headline = entry.headline
    if headline and label and label.casefold() in headline.casefold():
        return headline
    parts = [part for part in (label, headline) if part]
    return " · ".join(parts) or None


def _is_short_head(head: str, entry: Entry) -> bool:
    """Whether the head line says little besides its time: the stored body (like any page's)
    leaves out a line that reads as a time stamp, so such a line starts the first paragraph."""
    label = entry_label(entry) or ""
    rest = head.replace(label, " ") if label else head
    words = [w for w in _WORD.findall(rest) if not _STAMPISH.fullmatch(w)]
    return len(words) < 3


def entry_lines(entry: Entry) -> list[str]:
    """The paragraphs the entry adds to the stored text: its time and title, then its text
    (a head line saying little besides the time starts the first paragraph instead)."""
    head = entry_head(entry)
    paragraphs = changes.paragraphs(entry.text)
    if not head:
        return paragraphs
    if paragraphs and _is_short_head(head, entry):
        return [f"{head} · {paragraphs[0]}", *paragraphs[1:]]
    return [head, *paragraphs]


def _entry_blocks(item: _Parsed) -> list[Block]:
    lines = entry_lines(item.entry)
    paragraphs = list(item.paragraphs)
    blocks = []
    if (
        paragraphs
        and lines
        and lines[0] != paragraphs[0].text
        and lines[0].endswith(paragraphs[0].text)
    ):
        first = paragraphs.pop(0)
        blocks.append(Block(text=lines[0], links=first.links))
    elif lines and (not paragraphs or lines[0] != paragraphs[0].text):
        blocks.append(Block(text=lines[0], kind="head"))
    return [*blocks, *paragraphs]


def _stored_blocks(body: Sequence[Block], parsed: Sequence[_Parsed]) -> tuple[Block, ...]:
    """The body around the entries (a summary, key events), then the entries with their time
    and title, then what follows them.

    Extractors read a live blog poorly (entry titles dropped, a summary put between entries),
    so the entries replace what the body read of them; a body block inside no entry (the
    summary) goes before them, in its order; a block read from inside an entry that the entry
    does not keep (its time, its author, a share button) is left out.
    """
    keys: set[str] = set()
    texts = []
    for item in parsed:
        for line in [item.entry.headline or "", *(b.text for b in item.paragraphs)]:
            key = _key(line)
            if key:
                keys.add(key)
                texts.append(key)
    joined = "\n".join(texts)
    scopes = "\n".join(item.scope for item in parsed if item.scope)
    entry_blocks = [block for item in parsed for block in _entry_blocks(item)]
    matched = [
        index
        for index, block in enumerate(body)
        if _key(block.text) and (_key(block.text) in keys or _key(block.text) in joined)
    ]
    if not matched:
        # The page does not show the entries as body text (an app shell's data): the body
        # as read, or the entries when it read nothing.
        return tuple(body) if body else tuple(entry_blocks)
    last = matched[-1]
    done = set(matched)
    before, after = [], []
    for index, block in enumerate(body):
        key = _key(block.text)
        if index in done or not key or key in keys or key in scopes:
            continue
        if index < last and not _is_furniture(block.text):
            before.append(block)
        elif index > last:
            after.append(block)
    return (*before, *entry_blocks, *after)


def _is_furniture(text: str) -> bool:
    return len(text.split()) <= 6 and not re.search(r"[.!?…\"”’]$", text.strip())


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def frame_text(article: Article) -> str:
    """The article's text without its entries: the summary and whatever surrounds them."""
    lines = {line for entry in article.entries for line in entry_lines(entry)}
    return "\n\n".join(p for p in changes.paragraphs(article.text) if p not in lines)


# --- comparing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditedEntry:
    before: Entry
    after: Entry

    @property
    def diff(self) -> diffing.WordDiff:
        """The word diff inside the entry (its head line and text)."""
        return diffing.word_diff(_entry_text(self.before), _entry_text(self.after))


@dataclass(frozen=True)
class EntryDiff:
    added: tuple[Entry, ...] = ()
    edited: tuple[EditedEntry, ...] = ()
    removed: tuple[Entry, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.edited or self.removed)


def _entry_text(entry: Entry) -> str:
    return "\n\n".join(entry_lines(entry))


def _content(entry: Entry) -> tuple[object, ...]:
    return (entry.headline, entry.text, entry.pinned, entry.time)


def _pairs(
    old: Sequence[Entry], new: Sequence[Entry]
) -> tuple[dict[int, int], list[int], list[int]]:
    """Which old entry each new one is (new index -> old index); unmatched old and new."""
    by_key = {entry.key: index for index, entry in enumerate(old)}
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for index, entry in enumerate(new):
        match = by_key.get(entry.key)
        if match is not None and match not in taken:
            pairs[index] = match
            taken.add(match)
    # Keys that changed: the same content, or the same time and similar text.
    loose_old = [i for i in range(len(old)) if i not in taken]
    loose_new = [j for j in range(len(new)) if j not in pairs]
    exact: dict[tuple[str | None, str], int] = {}
    for i in loose_old:
        exact.setdefault((old[i].headline, old[i].text), i)
    for j in list(loose_new):
        i = exact.pop((new[j].headline, new[j].text), -1)
        if i >= 0 and i not in taken:
            pairs[j] = i
            taken.add(i)
            loose_new.remove(j)
    loose_old = [i for i in loose_old if i not in taken]
    if loose_old and loose_new and len(loose_old) * len(loose_new) <= 40_000:
        scored = []
        for j in loose_new:
            for i in loose_old:
                if (old[i].time or "") != (new[j].time or ""):
                    continue
                ratio = _similarity(old[i], new[j])
                if ratio >= _SIMILAR:
                    scored.append((-ratio, j, i))
        for _, j, i in sorted(scored):
            if j in pairs or i in taken:
                continue
            pairs[j] = i
            taken.add(i)
        loose_new = [j for j in loose_new if j not in pairs]
        loose_old = [i for i in loose_old if i not in taken]
    return pairs, loose_old, loose_new


def _similarity(a: Entry, b: Entry) -> float:
    matcher = difflib.SequenceMatcher(None, _entry_text(a).split(), _entry_text(b).split())
    if matcher.real_quick_ratio() < _SIMILAR or matcher.quick_ratio() < _SIMILAR:
        return 0.0
    return matcher.ratio()


def diff_entries(old: Sequence[Entry], new: Sequence[Entry]) -> EntryDiff:
    """Entries added, edited and removed from `old` to `new`, in the new page's order."""
    pairs, loose_old, loose_new = _pairs(old, new)
    edited = tuple(
        EditedEntry(old[pairs[j]], new[j])
        for j in range(len(new))
        if j in pairs and _content(old[pairs[j]]) != _content(new[j])
    )
    return EntryDiff(
        added=tuple(new[j] for j in loose_new),
        edited=edited,
        removed=tuple(old[i] for i in sorted(loose_old)),
    )


def aligned_entries(
    old: Sequence[Entry], new: Sequence[Entry]
) -> list[tuple[Entry | None, Entry | None]]:
    """The entries of both versions side by side: (old, new) pairs in the new page's order,
    (None, new) for an added entry, (old, None) for a removed one at its old place."""
    pairs, loose_old, _ = _pairs(old, new)
    removed = set(loose_old)
    # A removed entry goes after the new entry that is its nearest matched predecessor.
    new_of_old = {i: j for j, i in pairs.items()}
    after: dict[int, list[int]] = {}
    for i in sorted(removed):
        anchor = -1
        for k in range(i - 1, -1, -1):
            if k in new_of_old:
                anchor = new_of_old[k]
                break
        after.setdefault(anchor, []).append(i)
    rows: list[tuple[Entry | None, Entry | None]] = [(old[i], None) for i in after.get(-1, [])]
    for j, entry in enumerate(new):
        rows.append((old[pairs[j]] if j in pairs else None, entry))
        rows.extend((old[i], None) for i in after.get(j, []))
    return rows


def entry_units(before: Article, after: Article) -> list[diffing.DiffUnit]:
    """The diff of two live-blog versions entry by entry, for the web's diff views: what
    surrounds the entries (the summary) first, then every entry of either version aligned
    with itself (`aligned_entries`), each diffed on its own."""
    units = []
    frame_before, frame_after = frame_text(before), frame_text(after)
    if frame_before or frame_after:
        diff = diffing.word_diff(frame_before, frame_after)
        units.append(diffing.DiffUnit("Summary", "edited" if diff.changed else "equal", diff))
    for old, new in aligned_entries(before.entries, after.entries):
        entry = new or old
        assert entry is not None
        label = entry_label(entry) or "Entry"
        if old is None:
            status, caption = "added", f"{label} · new entry"
        elif new is None:
            status, caption = "removed", f"{label} · entry removed"
        elif _content(old) != _content(new):
            status, caption = "edited", f"{label} · entry edited"
        else:
            status, caption = "equal", label
        diff = diffing.word_diff(_entry_text(old) if old else "", _entry_text(new) if new else "")
        units.append(diffing.DiffUnit(caption, status, diff, key=entry.key))
    return units


def entry_fields(entry: Entry) -> dict[str, Any]:
    """One entry for the CLI's --json, the API and alerts: its stored fields, the label as a
    reader sees it."""
    return {
        "key": entry.key,
        "time": entry.time,
        "label": entry_label(entry),
        "headline": entry.headline,
        "text": entry.text,
        "pinned": entry.pinned,
    }


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _named(entry: Entry) -> str:
    label = entry_label(entry)
    return f"entry {label}" if label else "entry"


def describe_entries(diff: EntryDiff) -> str:
    """One line, e.g. "New entry 09:12: Police have closed the road…; 1 entry edited"."""
    parts = []
    if len(diff.added) == 1:
        entry = diff.added[0]
        label = entry_label(entry)
        parts.append(
            f"New entry{' ' + label if label else ''}: {_shorten(entry.headline or entry.text)}"
        )
    elif diff.added:
        parts.append(f"{len(diff.added)} new entries")
    if len(diff.edited) == 1:
        parts.append(f"{_named(diff.edited[0].after).capitalize()} edited")
    elif diff.edited:
        parts.append(f"{len(diff.edited)} entries edited")
    if len(diff.removed) == 1:
        parts.append(f"{_named(diff.removed[0]).capitalize()} removed")
    elif diff.removed:
        parts.append(f"{len(diff.removed)} entries removed")
    return "; ".join(parts)


@dataclass(frozen=True)
class LiveChange:
    """A change between two readings of a live blog: its kinds and its one-line summary."""

    kinds: frozenset[changes.ChangeKind]
    summary: str
    entries: EntryDiff


def compare_live(
    before: Article, after: Article, stats: diffing.DiffStats | None = None
) -> LiveChange | None:
    """Entry by entry, when both versions are live blogs; None otherwise.

    The entries give ENTRY_ADDED / ENTRY_EDITED / ENTRY_REMOVED; everything else (headline,
    byline, dates, the summary above the entries) is classified as any article's text is.
    """
    if not before.entries or not after.entries:
        return None
    entry_diff = diff_entries(before.entries, after.entries)
    frame = changes.analyse(
        replace(before, text=frame_text(before)), replace(after, text=frame_text(after))
    )
    kinds = set(frame.kinds)
    if entry_diff.added:
        kinds.add(changes.ChangeKind.ENTRY_ADDED)
    if entry_diff.edited:
        kinds.add(changes.ChangeKind.ENTRY_EDITED)
    if entry_diff.removed:
        kinds.add(changes.ChangeKind.ENTRY_REMOVED)
    if len(kinds) > 1:
        kinds.discard(changes.ChangeKind.MINOR)  # MINOR only when nothing else applies
    parts = [describe_entries(entry_diff)] if entry_diff.changed else []
    rest = frame.kinds - {changes.ChangeKind.MINOR} if entry_diff.changed else frame.kinds
    if rest:
        frame_summary = changes.describe(rest, None, frame.paragraphs)
        parts.append(frame_summary if not parts else frame_summary[0].lower() + frame_summary[1:])
    summary = "; ".join(parts) or "No change"
    if stats and (stats.words_added or stats.words_removed):
        figures = [f"+{stats.words_added}"] if stats.words_added else []
        figures += [f"-{stats.words_removed}"] if stats.words_removed else []
        summary += f" ({'/'.join(figures)} words)"
    return LiveChange(frozenset(kinds), summary, entry_diff)


# --- storage ---------------------------------------------------------------------------------


def entries_to_json(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    return [
        {
            "key": entry.key,
            "time": entry.time,
            "label": entry.label,
            "headline": entry.headline,
            "text": entry.text,
            "pinned": entry.pinned,
        }
        for entry in entries
    ]


def entries_from_json(data: object) -> tuple[Entry, ...]:
    """The inverse of `entries_to_json`; anything malformed is skipped."""
    if not isinstance(data, list):
        return ()
    out = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            continue
        out.append(
            Entry(
                key=item["key"],
                time=_str_or_none(item.get("time")),
                headline=_str_or_none(item.get("headline")),
                text=str(item.get("text") or ""),
                pinned=bool(item.get("pinned")),
                label=_str_or_none(item.get("label")),
            )
        )
    return tuple(out)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

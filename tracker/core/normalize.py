"""Text normalisation and the content fingerprint that decides "is this a new version?".

The fingerprint reads the headline(s), the byline and the body, but leaves out what changes on
a page without anyone editing the story, including chrome that sits *inside* the article
container and so survives extraction:

- link-dense blocks ("Related: <headline>", "Most read" lists) and the labels heading them;
- bare counters ("42 Comments", "1.2K shares", "5 min read");
- datelines and "updated 3 minutes ago" / "Updated 10:42 a.m. ET" stamps;
- copyright lines and ad labels;
- share and tool bars ("Share this: Facebook Twitter", "Save", "Print");
- a line that only repeats the byline ("By Ann Lee"), which is fingerprinted on its own;
- market data and prices inside link text (stock hover cards, "$199 at Amazon").

Every rule is narrow on purpose: the fingerprint must still change when one word or one number
of a paragraph is edited.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

import regex

from tracker.core.article import Article, Block

__all__ = [
    "compile_ignore_patterns",
    "fingerprint",
    "fingerprint_lines",
    "is_standalone_chrome",
    "normalize_text",
    "stored_blocks",
    "stored_body",
]

# Characters that render as nothing (or as a plain space) but make two equal texts differ.
# Zero-width (non-)joiners are kept: they change how Persian and Indic scripts are written.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
        "\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f\ufeff",
    )
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
_SPACES = re.compile(r"[^\S\n]+")
# The ASCII characters _LINE_BREAKS and _TO_SPACE change: controls but LF and tab.
_ASCII_TO_TRANSLATE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n{3,}")


# Control characters (Cc) and space separators (Zs) other than newline and tab become a
# plain space. Every Cc and Zs code point is below U+3001, so the table is small.
_TO_SPACE = {
    code: " "
    for code in range(0x3001)
    if chr(code) not in "\n\t" and unicodedata.category(chr(code)) in ("Cc", "Zs")
}


def normalize_text(text: str) -> str:
    """NFC, one kind of space and line break, no invisible characters, trimmed lines."""
    # Most of a page's text is ASCII: NFC already, with no invisible character, and with no
    # odd line break or control character, nothing to translate either (called ~1,000 times
    # a page, the translations were a tenth of extraction's time).
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
        text = _LINE_BREAKS.sub("\n", text).translate(_TO_SPACE)
    elif _ASCII_TO_TRANSLATE.search(text):
        text = _LINE_BREAKS.sub("\n", text).translate(_TO_SPACE)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def single_line(text: str) -> str:
    """`text` with the characters `normalize_text` leaves, on one line: every run of white
    space one space, none at either end. Cheap on the plain ASCII most page text is."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).translate(_INVISIBLE).translate(_TO_SPACE)
    return " ".join(text.split())


# --- what counts as chrome --------------------------------------------------------------------

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAYS = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?"
# Not part of a longer number: "2018.04.05" is a date and "3.14159" a number, not clocks.
_CLOCK = (
    r"(?<![\d.:])\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?![.:]?\d)"
    r"\s*(?:[ap]\.?\s?m\.?)?(?:\s*[A-Z]{2,5}\b)?"
)
_DATE_PARTS = re.compile(
    rf"{_CLOCK}|\b{_MONTHS}|\b{_WEEKDAYS}|\d{{4}}-\d{{2}}-\d{{2}}(?:T[\d:.+\-Z]+)?"
    r"|\b\d{1,4}(?:st|nd|rd|th)?\b|[ap]\.?m\.?\b|\b(?:GMT|UTC|[ECMP][SD]?T|BST|CET|IST)\b",
    re.IGNORECASE,
)
_AGO = re.compile(
    r"\b(?:\d+|an?|one)\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|"
    r"w|wks?|weeks?|mo|months?|y|yrs?|years?)\s+ago\b",
    re.IGNORECASE,
)
_RELATIVE_TIME = re.compile(rf"{_AGO.pattern}|\bjust now\b|\byesterday\b|\btoday\b", re.I)
# Inside prose only the units a page counts up by itself: "posted 3 minutes ago" ticks, while
# "18 years ago" or "two weeks ago" is the writer's.
_TICKING_AGO = re.compile(
    r"\b(?:\d+|an?|one)\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\s+ago\b",
    re.IGNORECASE,
)
# A stamp says what happened when; without such a label, two dates or two clock times are a
# schedule or a period ("9.30 A.M. / 7.00 P.M.", "29 November 2018 | 20 January 2019").
_STAMP_LABEL = re.compile(
    r"\b(?:updated?|published|posted|modified|revised|originally|edited|created)\b", re.I
)
_DATE = re.compile(rf"\b{_MONTHS}\s*\d|\d\s*{_MONTHS}|\d{{4}}-\d{{2}}-\d{{2}}|\d+/\d+/\d+", re.I)
# Words that make a short block a time stamp rather than prose.
_STAMP_WORDS = re.compile(
    r"\b(?:updated?|published|posted|modified|last|first|on|at|et|pt|ct|edt|est|pdt|pst|gmt|"
    r"utc|bst|time|date|dateline|originally|revised|a|am|pm|by|and|since)\b",
    re.IGNORECASE,
)
_COUNTER_WORDS = re.compile(
    r"\b(?:comments?|kommentare?|commentaires?|comentarios?|replies|reply|responses?|shares?|"
    r"views?|likes?|reactions?|votes?|followers?|readers?|reading|read|min|mins|minutes?|"
    r"listens?|plays?|retweets?|tweets?|pins?|claps?|points?|people|now|show|join|the|"
    r"conversation|discussion|see|all|leave|a|comment|add|your)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d[\d,.\u202f\u00a0 ]*\d|\d")
_COUNT = re.compile(r"\d+(?:[.,]\d+)?\s*[kKmM]?\b")
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright\b)|\ball rights reserved\b|^this material may not be published",
    re.IGNORECASE,
)
_AD_LABEL = re.compile(
    r"^(?:advertisement|advertising|ad|sponsored(?: content)?|story continues below(?: this)?"
    r"(?: advertisement| ad)?|continue reading (?:the main story|below)|article continues below"
    r"(?: advertisement)?|scroll to continue(?: with content)?|promoted(?: stories)?)\W*$",
    re.IGNORECASE,
)
# Numbers that are market data: they move with no one touching the story.
_MARKET_NUMBER = re.compile(r"[+\-−]\s?\d+(?:[.,]\d+)?\s?%")
_PRICE = re.compile(r"[$€£¥₹]\s?\d[\d,.]*|\d[\d,.]*\s?(?:[$€£¥₹]|usd|eur|gbp)\b", re.IGNORECASE)
# Link text that is a shop button rather than prose: "$199 at Amazon", "Buy it at Walmart for $20".
# A price inside a phrase of the sentence ("MacBooks from $700 at Amazon") is the writer's.
_SHOP_LINK = re.compile(
    r"^(?:(?:buy|get|shop|see|check|order|save)\b.*"
    r"|(?:[$€£¥₹]\s?\d[\d,.]*|\d[\d,.]*\s?(?:[$€£¥₹]|usd|eur|gbp))\s+(?:at|on|from|via)\s+\S+(?:\s\S+)?)$",
    re.IGNORECASE,
)
_SECTION_LABEL = re.compile(
    r"^(?:related|related (?:stories|articles|coverage|content|links|news|topics|reading)|"
    r"read more|read also|also read|more|see also|more from [^.!?]{1,40}|more on this story|"
    r"trending|trending now|trending stories|most read|most popular|popular|recommended|"
    r"recommended for you|you may also like|you might also like|don't miss|editor's picks|"
    r"top stories|latest|latest news|what to read next|read next|up next|further reading|"
    r"more stories|other stories|in other news|sponsored stories|around the web|watch|"
    r"watch next|more videos|videos|related video|related videos)\W*$",
    re.IGNORECASE,
)
# A share or tool bar read as text: only the names of its buttons.
_SHARE_WORDS = re.compile(
    r"\b(?:share|shares|sharing|this|article|story|page|on|via|to|save|saved|print|e-?mail|mail|"
    r"tweet|post|copy|copied|link|url|facebook|twitter|x|whatsapp|linkedin|pinterest|reddit|"
    r"telegram|messenger|flipboard|bluesky|threads|mastodon|tumblr|sms|gift|send|bookmark|"
    r"follow|us|listen|font|size|comment|comments|options|more)\b",
    re.IGNORECASE,
)
_SHARE_ACTION = re.compile(
    r"share|save|print|e-?mail|tweet|copy link|facebook|twitter|whatsapp|linkedin|pinterest|"
    r"reddit|bookmark",
    re.IGNORECASE,
)
_MASK = "\u2400"  # placeholder kept in the fingerprint where volatile text was


def _word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


# Link text that is an address or an identifier ("https://t.co/x1", "DOI: 10.1007/978-3",
# "name@example.com"): a source the story cites, never the headline of another story.
# A handle ("@trevorjd22") is not one: it names a person, as a byline or a bio does.
_ADDRESS_LINK = re.compile(
    r"^(?:[a-z]{2,6}:\s?)?(?:[^\s/@]*/\S*|[^\s/@]+@[^\s/@]+\.\S+)$", re.IGNORECASE
)
# A reference list entry: "[2] Joint Commission: Alarm Management".
_REFERENCE = re.compile(r"^\[\d{1,3}\]")
# A parenthesis after the last sentence ("... he said. (Reuters)", a price or quote card).
_TRAILING_ASIDE = re.compile(r"\s*\([^()]*\)$")


def _link_share(text: str, links: Sequence[str]) -> float:
    letters = len(re.sub(r"\W", "", text))
    linked = sum(len(re.sub(r"\W", "", link)) for link in links if not _ADDRESS_LINK.match(link))
    return min(1.0, linked / letters) if letters else 0.0


def _is_sentence(text: str) -> bool:
    text = _TRAILING_ASIDE.sub("", text)
    return bool(re.search(r"[.!?…][\"'”’)\]]*$", text)) and _word_count(text) >= 4


def _is_time_stamp(text: str) -> bool:
    """'Updated 10:42 a.m. ET, Sept. 24, 2019', 'Published 3 hours ago', '24/09/2019 10:42'."""
    if _word_count(text) > 16:
        return False
    relative = bool(_RELATIVE_TIME.search(text))
    clocks, dates = len(re.findall(_CLOCK, text)), len(_DATE.findall(text))
    if not (relative or clocks or dates):
        return False
    if not relative and (clocks >= 2 or dates >= 2) and not _STAMP_LABEL.search(text):
        return False
    rest = _STAMP_WORDS.sub(" ", _DATE_PARTS.sub(" ", _RELATIVE_TIME.sub(" ", text)))
    return _word_count(re.sub(r"\d", " ", rest)) <= 2


def _is_counter(text: str) -> bool:
    """'42 Comments', 'Comments (42)', '1.2K shares', '5 min read', 'Join the conversation (3)'."""
    if _word_count(text) > 8 or not _COUNT.search(text):
        return False
    rest = _COUNTER_WORDS.sub(" ", _COUNT.sub(" ", text))
    return _word_count(rest) == 0


def _is_share_bar(text: str) -> bool:
    """'Share', 'Share this: Facebook Twitter Email', 'ShareSave', 'Print this page'."""
    if _word_count(text) > 10 or not _SHARE_ACTION.search(text):
        return False
    # Buttons rendered side by side run together ("ShareSave"): split at the case change.
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return not re.search(r"\w", _SHARE_WORDS.sub(" ", spaced).replace("_", " "))


def is_standalone_chrome(text: str, *, stamps: bool = True) -> bool:
    """Whether a line standing on its own is page furniture whatever surrounds it.

    A time stamp (unless `stamps` is false), a counter, an ad label or a share bar: extraction
    uses it to leave such a line out before the article's paragraphs are found, so that it
    cannot run into one of them.
    """
    text = normalize_text(text)
    return bool(
        text
        and (
            _AD_LABEL.match(text)
            or _is_counter(text)
            or (stamps and _is_time_stamp(text))
            or _is_share_bar(text)
        )
    )


def _mask_volatile_inline(text: str, links: Sequence[str]) -> str:
    """Mask the parts of a prose block that move on their own."""
    text = _TICKING_AGO.sub(_MASK, text)
    text = _MARKET_NUMBER.sub(_MASK, text)
    for link in links:
        if _PRICE.search(link) and _SHOP_LINK.match(link):
            text = text.replace(link, _PRICE.sub(_MASK, link))
    return text


_BARE_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return host.removeprefix("www.") or None


# The labels of an inline link to another story.
_RELATED_LABEL = re.compile(
    r"^\s*(?:read more|read also|also read|related|see also|more on this(?: story)?|more from"
    r"|recommended|watch|listen|explore more|more coverage|latest)\s*[:>»|–—-]\s*",
    re.IGNORECASE,
)


def _chrome_kind(block: Block, own_host: str | None = None) -> str | None:
    text = block.text
    if _BARE_URL.match(text):
        # The page's own address is a share box or "copy link" field. A link to elsewhere is
        # a source the story cites: it is kept, its tracking tokens masked (see _body_lines).
        # Without the page's address, which is which cannot be told: leave them all out.
        if own_host is None or _host(text) == own_host:
            return "url"
        return None
    if _AD_LABEL.match(text):
        return "ad label"
    if _COPYRIGHT.search(text) and _word_count(text) <= 60:
        return "copyright"
    if _is_counter(text):
        return "counter"
    if _is_time_stamp(text):
        return "time stamp"
    if _is_share_bar(text):
        return "share bar"
    if (
        block.links
        and _link_share(text, block.links) >= 0.6
        and not _is_sentence(text)
        and not _REFERENCE.match(text)
    ):
        return "links"  # headlines of other stories; linked prose ends like a sentence
    label = _RELATED_LABEL.match(text)
    if label and block.links and _link_share(text[label.end() :], block.links) >= 0.8:
        # "READ MORE: <a>Quiz: how well do you know the week's news?</a>": another story's
        # headline under a label, even when it ends like a sentence.
        return "links"
    if _SECTION_LABEL.match(text):
        return "section label"
    return None


def fingerprint_lines(article: Article, *, ignore_patterns: Sequence[str] = ()) -> list[str]:
    """The normalised lines the fingerprint is computed over (useful to explain a change)."""
    ignore = compile_ignore_patterns(ignore_patterns)
    lines = [f"headline\t{normalize_text(h)}" for h in _headlines(article)]
    if article.byline:
        lines.append(f"byline\t{normalize_text(article.byline)}")
    for visible, text in _body_lines(article):
        if not any(pattern.search(visible) for pattern in ignore):
            lines.append(f"body\t{text}")
    return lines


def fingerprint(article: Article, *, ignore_patterns: Sequence[str] = ()) -> str:
    """Hex digest of headline(s), byline and body with page chrome left out."""
    lines = fingerprint_lines(article, ignore_patterns=ignore_patterns)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def stored_body(
    blocks: Sequence[Block],
    headline: str | None,
    canonical_url: str | None = None,
    byline: str | None = None,
) -> str:
    """The body a version stores and diffs show: the blocks the fingerprint reads, as shown.

    Chrome inside the article ("Updated 3 minutes ago", "42 comments", related links) is
    left out, so a diff never shows it, and so are a first block that repeats the headline and
    blocks that repeat the byline (both are stored, and diffed, on their own).
    """
    kept = stored_blocks(blocks, headline, canonical_url, byline)
    return "\n\n".join(normalize_text(block.text) for block in kept)


def stored_blocks(
    blocks: Sequence[Block],
    headline: str | None,
    canonical_url: str | None = None,
    byline: str | None = None,
) -> tuple[Block, ...]:
    """The blocks of `stored_body`: those that are not chrome, without a repeated headline.

    Their fingerprint is the fingerprint of `blocks`, less the repeated headline.
    """
    article = Article(None, byline, None, None, "", canonical_url, None, blocks=tuple(blocks))
    kept = [block for block, _, _ in _body_entries(article)]
    if kept and headline and normalize_text(headline) == normalize_text(kept[0].text):
        kept = kept[1:]
    return tuple(kept)


def _headlines(article: Article) -> Iterable[str]:
    if article.headlines:
        return article.headlines
    return [article.title] if article.title else []


def _body_lines(article: Article) -> Iterator[tuple[str, str]]:
    """(visible text, fingerprinted text) of each body block that is not chrome."""
    for _, visible, text in _body_entries(article):
        yield visible, text


def _body_entries(article: Article) -> Iterator[tuple[Block, str, str]]:
    """Each body block that is not chrome, with its visible and its fingerprinted text."""
    blocks = article.blocks or tuple(
        Block(text=paragraph) for paragraph in re.split(r"\n\s*\n", article.text)
    )
    own_host = _host(article.canonical_url)
    kept: list[tuple[Block, str | None]] = [
        (b, "byline" if _repeats_byline(b.text, article.byline) else _chrome_kind(b, own_host))
        for b in blocks
    ]
    _mark_link_list_items(kept)
    for index, (block, kind) in enumerate(kept):
        if kind == "links" and _is_linked_subheading(block, kept[max(0, index - 1) : index + 2]):
            kind = None
        if kind is not None:
            continue
        # Only the next block matters; a slice to the end would copy the rest of the list for
        # every block (quadratic: a page of 60,000 tiny paragraphs took 23 s).
        if _is_label_of_chrome(block, kept[index + 1 : index + 2]):
            continue
        if _BARE_URL.match(block.text):
            # A source link is part of the story; its query and fragment carry tracking tokens
            # that change on every load ("#ixzz2PpyAj3AN", "?utm_...").
            text = re.sub(r"[?#].*", _MASK, block.text)
        else:
            text = normalize_text(_mask_volatile_inline(block.text, block.links))
        if text:
            yield block, normalize_text(block.text), text


_BYLINE_GLUE = frozenset(["by", "von", "par", "por", "di", "door", "and", "und", "et", "y", "e"])


def _repeats_byline(text: str, byline: str | None) -> bool:
    """'By Ann Lee' in the body of a story whose byline is 'Ann Lee'."""
    if not byline or _word_count(text) > _word_count(byline) + 3:
        return False
    words = set(re.findall(r"\w+", text.casefold()))
    names = set(re.findall(r"\w+", byline.casefold()))
    return bool(names) and names <= words <= names | _BYLINE_GLUE


def _is_linked_subheading(block: Block, around: Sequence[tuple[Block, str | None]]) -> bool:
    """A heading that links to what it names, over the story's prose about it.

    Gift guides and reviews head each section with a link to the product ("<h3><a>Satechi
    72W Car Charger</a></h3>" then paragraphs). `around` is the blocks before, at and after
    it. A box of other stories' headlines is a run of links: the last one is followed by prose
    but preceded by another link.
    """
    if block.kind != "head":
        return False
    position = next(i for i, (b, _) in enumerate(around) if b is block)
    before, after = around[:position], around[position + 1 :]
    if not after or (before and before[-1][1] == "links"):
        return False
    following, kind = after[0]
    return kind is None and following.kind == "p" and _is_sentence(following.text)


def _mark_link_list_items(kept: list[tuple[Block, str | None]]) -> None:
    """A list item that is only a link, in a list of links, is one of them: a headline of
    another story that happens to end like a sentence ("Quiz: how well do you know...?")."""
    for index, (block, kind) in enumerate(kept):
        if kind is not None or block.kind != "item" or not block.links:
            continue
        if _link_share(block.text, block.links) < 0.9:
            continue
        neighbours = kept[max(0, index - 1) : index] + kept[index + 1 : index + 2]
        if any(other.kind == "item" and other_kind == "links" for other, other_kind in neighbours):
            kept[index] = (block, "links")


def _is_label_of_chrome(block: Block, following: Sequence[tuple[Block, str | None]]) -> bool:
    """A short heading such as 'Trending Now' whose next block is a link list.

    A label is worded like one: a heading, a phrase ending in a colon, or a few words without
    figures. A short paragraph of the story that a related-links box happens to follow
    ("2018 Jeongdong Theater Tradition Series Performance") is not one.
    """
    if _word_count(block.text) > 6 or not following or following[0][1] != "links":
        return False
    text = block.text
    if ":" in text.rstrip(":") or re.search(r"[.!?…][\"'”’)]*$", text):
        # "Image credit: Getty" or "More to follow." says something; a label names what follows
        return False
    return (
        block.kind == "head"
        or text.endswith(":")
        or (_word_count(text) <= 4 and not re.search(r"\d", text) and not _is_sentence(text))
    )


# How long one ignore pattern may take over one line. Patterns are the user's (and any API
# token holder's): one that backtracks for ever on an unlucky line must cost a fraction of a
# second, not a worker. Catastrophic backtracking takes far longer than this on any line it
# hits, so the outcome does not depend on the machine's speed in practice.
IGNORE_MATCH_SECONDS = 0.05


class IgnorePattern:
    """A compiled ignore pattern whose matching has a time budget (the `regex` module's
    timeout; the syntax is the standard `re` module's, which validates it)."""

    def __init__(self, pattern: str) -> None:
        try:
            re.compile(pattern)
            self._compiled = regex.compile(pattern, flags=regex.VERSION0)
        except (re.error, regex.error) as error:
            raise ValueError(f"invalid ignore pattern {pattern!r}: {error}") from error
        self.pattern = pattern

    def search(self, text: str, *, timeout: float = IGNORE_MATCH_SECONDS) -> bool:
        """Whether the pattern matches in `text`; False when it runs out of time."""
        try:
            return self._compiled.search(text, timeout=timeout) is not None
        except TimeoutError:
            return False

    def runs_away(self, text: str, *, timeout: float = IGNORE_MATCH_SECONDS) -> bool:
        """Whether matching `text` takes longer than `timeout`."""
        try:
            self._compiled.search(text, timeout=timeout)
        except TimeoutError:
            return True
        return False


@lru_cache(maxsize=256)
def _compile(pattern: str) -> IgnorePattern:
    return IgnorePattern(pattern)


def compile_ignore_patterns(patterns: Iterable[str]) -> list[IgnorePattern]:
    """Compile per-story ignore patterns; ValueError names the first invalid one."""
    return [_compile(pattern) for pattern in patterns if pattern]

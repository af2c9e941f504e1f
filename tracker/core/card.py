"""A change, made shareable: what the diff card shows and the alt text that says it in words.

Pure functions. `build_card` takes the two versions of a change (`CardFacts`) and gives the
`Card` the image is drawn from: the source, the moment, the headline before and after, an
excerpt of the first change(s) as struck and inserted pieces, and the alt text.

The alt text states the change the way the NYT-diff bots on Mastodon and Bluesky do, so a
reader who cannot see the image loses nothing: who changed what, when, from what to what.
It is kept within `ALT_TEXT_MAX` characters (X allows 1,000, Mastodon 1,500, Bluesky 2,000):
quotations are shortened, never the facts around them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit

from tracker.core.diffing import DELETE, EQUAL, INSERT, Op, WordDiff, word_diff
from tracker.core.kinds import KIND_ORDER, ChangeKind, kind_label

__all__ = [
    "ALT_TEXT_MAX",
    "Card",
    "CardFacts",
    "Hunk",
    "Piece",
    "alt_text",
    "build_card",
    "change_hunks",
    "excerpt",
    "format_moment",
    "site_name",
    "source_name",
]

ALT_TEXT_MAX: Final = 1000
# The excerpt fills about six lines of the 1200×675 card at its type size.
EXCERPT_BUDGET: Final = 360
# Context shown before the first change, at most (the rest of its paragraph is cut with "…").
CONTEXT_BEFORE: Final = 90
# Longest site name taken from a page: a longer one is a page's slogan, not its name.
SITE_NAME_MAX: Final = 60
# Quotations in the alt text are cut to these lengths, tried in turn until the text fits.
_QUOTE_LIMITS: Final = (300, 200, 120, 60, 30)

_PARAGRAPH_BREAK: Final = re.compile(r"\n[^\S\n]*\n\s*")
_SPACE: Final = re.compile(r"\s+")
# The end of a sentence: punctuation, closing quotes, then space (as changes.sentences).
_SENTENCE_END: Final = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+")


@dataclass(frozen=True)
class CardFacts:
    """The two versions of one change, as the card needs them (from the database)."""

    url: str
    seq: int  # the version the change made
    changed_at: datetime  # when the tracker saw it (the new version's capture time)
    kinds: tuple[str, ...]  # the new version's change kinds (ChangeKind values)
    title_before: str | None
    title_after: str | None
    text_before: str
    text_after: str
    site_name: str | None = None  # the page's own name for its site (og:site_name)
    byline_before: str | None = None
    byline_after: str | None = None
    headlines_before: tuple[str, ...] = ()
    headlines_after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Piece:
    """A run of excerpt text: kept (EQUAL), struck (DELETE) or inserted (INSERT)."""

    op: int
    text: str

    @property
    def kind(self) -> str:
        return {DELETE: "del", INSERT: "ins"}.get(self.op, "same")


@dataclass(frozen=True)
class Hunk:
    """One change in the text: what was struck, what was inserted, and where."""

    removed: str
    added: str
    context: str  # the sentence (or paragraph) holding the change: new text, or old for a cut
    whole_paragraphs: bool  # the struck or inserted text is whole paragraphs


@dataclass(frozen=True)
class Card:
    """What the card image shows, and its alt text. All text is page text: escape it."""

    source: str  # "BBC News", or the host when the page names no site
    domain: str  # "bbc.co.uk"
    url: str
    seq: int
    moment: str  # "4 December 2026 at 14:05 UTC"
    changed_at: datetime
    kinds: tuple[str, ...]  # in words, most significant first
    headline_before: str | None  # None when the headline did not change
    headline: str  # the headline now ("" when the page has none)
    excerpt: tuple[Piece, ...]
    more_changes: int  # changes in the text beyond those the excerpt shows
    alt_text: str
    hunks: tuple[Hunk, ...] = field(default=(), repr=False)


# -- small facts -----------------------------------------------------------------------------


def format_moment(moment: datetime) -> str:
    """ "4 December 2026 at 14:05 UTC" (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def domain_of(url: str) -> str:
    """The URL's host without a leading "www." ("bbc.co.uk")."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    return host.removeprefix("www.") or url


def source_name(url: str, site_name: str | None) -> str:
    """Who published the page: its own site name when it states a plausible one, else its
    host. A site name is one line of at most `SITE_NAME_MAX` characters."""
    name = _SPACE.sub(" ", site_name or "").strip()
    if name and len(name) <= SITE_NAME_MAX:
        return name
    return domain_of(url)


def site_name(html: str) -> str | None:
    """The page's name for its site (og:site_name, else application-name), or None."""
    from tracker.core.extract import parse_page

    tree = parse_page(html)
    if tree is None:
        return None
    for query in (
        "//meta[@property='og:site_name']/@content",
        "//meta[@name='og:site_name']/@content",
        "//meta[@name='application-name']/@content",
    ):
        for value in tree.xpath(query):
            text = _SPACE.sub(" ", str(value)).strip()
            if text:
                return text
    return None


def _clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word with "…"."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


# -- the changes in the text ---------------------------------------------------------------


def _paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The start and end of the paragraph(s) of `text` around [start, end)."""
    begin = 0
    for match in _PARAGRAPH_BREAK.finditer(text, 0, start):
        begin = match.end()
    after = _PARAGRAPH_BREAK.search(text, end)
    return begin, after.start() if after else len(text)


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence(s) of `text` holding [start, end), within their paragraph."""
    begin, stop = _paragraph_bounds(text, start, end)
    sentence_start, sentence_end = begin, stop
    for match in _SENTENCE_END.finditer(text, begin, stop):
        if match.end() <= start:
            sentence_start = match.end()
        elif match.start() >= max(end, start + 1) - 1:
            sentence_end = match.end()
            break
    return text[sentence_start:sentence_end].strip()


def _is_whole_paragraphs(text: str, start: int, end: int) -> bool:
    """Does [start, end) of `text`, less surrounding whitespace, begin and end a paragraph?"""
    span = text[start:end]
    if not span.strip():
        return False
    start += len(span) - len(span.lstrip())
    end -= len(span) - len(span.rstrip())
    head, tail = text[:start], text[end:]
    starts = not head.strip() or bool(re.search(r"\n[^\S\n]*\n\s*$", head))
    ends = not tail.strip() or bool(re.match(r"\s*\n[^\S\n]*\n", tail))
    return starts and ends


def change_hunks(diff: WordDiff) -> list[Hunk]:
    """Each run of struck and inserted text in `diff`, with the sentence it sits in."""
    before, after = diff.before, diff.after
    hunks: list[Hunk] = []
    position_before = position_after = 0
    run: list[Op] = []
    run_start = (0, 0)

    def close() -> None:
        if not run:
            return
        removed = "".join(text for op, text in run if op == DELETE)
        added = "".join(text for op, text in run if op == INSERT)
        b0, a0 = run_start
        b1, a1 = b0 + len(removed), a0 + len(added)
        if added.strip():
            whole = _is_whole_paragraphs(after, a0, a1) and (
                not removed.strip() or _is_whole_paragraphs(before, b0, b1)
            )
            context = after[a0:a1].strip() if whole else _sentence_around(after, a0, a1)
        else:
            whole = _is_whole_paragraphs(before, b0, b1)
            context = before[b0:b1].strip() if whole else _sentence_around(before, b0, b1)
        hunks.append(Hunk(removed.strip(), added.strip(), context, whole))
        run.clear()

    for op, text in diff.ops:
        if op == EQUAL:
            close()
        else:
            if not run:
                run_start = (position_before, position_after)
            run.append((op, text))
        if op != INSERT:
            position_before += len(text)
        if op != DELETE:
            position_after += len(text)
    close()
    return [hunk for hunk in hunks if hunk.removed or hunk.added]


# -- the excerpt ---------------------------------------------------------------------------


def _one_line_breaks(text: str) -> str:
    """Paragraph breaks as one line break; other runs of space as one space."""
    parts = [_SPACE.sub(" ", part) for part in _PARAGRAPH_BREAK.split(text)]
    return "\n".join(parts)


def _cut_words(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def excerpt(diff: WordDiff, budget: int = EXCERPT_BUDGET) -> tuple[list[Piece], int]:
    """The first change(s) of `diff` with a little context, at most about `budget`
    characters, and how many changes it leaves out.

    The excerpt starts in the paragraph of the first change (its text before the change cut
    to `CONTEXT_BEFORE` characters) and runs on through the changes of that paragraph until
    the paragraph or the budget ends."""
    ops = [(op, text) for op, text in diff.ops if text]
    first = next((i for i, (op, _) in enumerate(ops) if op != EQUAL), None)
    if first is None:
        return [], 0
    pieces: list[Piece] = []
    if first > 0:
        lead = _PARAGRAPH_BREAK.split(ops[first - 1][1])[-1]
        lead = _SPACE.sub(" ", lead)
        if len(lead) > CONTEXT_BEFORE:
            tail = lead[-CONTEXT_BEFORE:]
            space = tail.find(" ")
            lead = "…" + (tail[space + 1 :] if 0 <= space < CONTEXT_BEFORE // 2 else tail)
        if lead.strip():
            pieces.append(Piece(EQUAL, lead))
    used = sum(len(piece.text) for piece in pieces)
    shown_runs = 0
    in_run = False
    index = first
    while index < len(ops) and used < budget:
        op, text = ops[index]
        if op == EQUAL:
            in_run = False
            paragraph_end = _PARAGRAPH_BREAK.search(text)
            rest = text[: paragraph_end.start()] if paragraph_end else text
            rest = _cut_words(_SPACE.sub(" ", rest), budget - used)
            if rest:
                pieces.append(Piece(EQUAL, rest))
                used += len(rest)
            if paragraph_end or rest.endswith("…"):
                break
        else:
            if not in_run and shown_runs and _PARAGRAPH_BREAK.match(text):
                break  # the next change starts a paragraph of its own: the card has one
            if not in_run:
                shown_runs += 1
                in_run = True
            shown = _cut_words(_one_line_breaks(text), max(budget - used, 12))
            # A paragraph inserted or struck at the start keeps its own line, not a blank one.
            if not pieces:
                shown = shown.lstrip("\n")
            pieces.append(Piece(op, shown))
            used += len(shown)
            if shown.endswith("…"):
                break
        index += 1
    total_runs = sum(
        1 for i, (op, _) in enumerate(ops) if op != EQUAL and (i == 0 or ops[i - 1][0] == EQUAL)
    )
    return pieces, max(0, total_runs - shown_runs)


# -- the alt text --------------------------------------------------------------------------


def _quote(text: str, limit: int) -> str:
    return f'"{_clip(text, limit)}"'


def _ordered_kinds(kinds: tuple[str, ...]) -> list[ChangeKind]:
    known = {kind.value for kind in ChangeKind}
    present = {ChangeKind(kind) for kind in kinds if kind in known} - {ChangeKind.FIRST}
    return sorted(present, key=KIND_ORDER.index, reverse=True)


def _headline_pair(facts: CardFacts) -> tuple[str, str] | None:
    """The headline before and after, when it changed (or one of the page's headlines did)."""
    old, new = (facts.title_before or "").strip(), (facts.title_after or "").strip()
    if old != new:
        return old, new
    gone = [h for h in facts.headlines_before if h not in facts.headlines_after]
    came = [h for h in facts.headlines_after if h not in facts.headlines_before]
    if gone or came:
        return (gone[0] if gone else ""), (came[0] if came else "")
    return None


def _edit_detail(hunks: list[Hunk], limit: int) -> str:
    """The changes of the first changed sentence in words: `changed "212" to "284" and
    added "and 40 injured" in: "…"`, or a paragraph struck or inserted whole."""
    first = hunks[0]
    if first.whole_paragraphs:
        if first.removed and first.added:
            return (
                f"replaced a paragraph {_quote(first.removed, limit)} "
                f"with {_quote(first.added, limit)}"
            )
        if first.added:
            return f"added a paragraph: {_quote(first.added, limit)}"
        return f"removed a paragraph: {_quote(first.removed, limit)}"
    same_sentence = [h for h in hunks if h.context == first.context and not h.whole_paragraphs]
    small = max(20, limit // 3)
    words: list[tuple[str, str]] = []  # (verb, object)
    for hunk in same_sentence[:3]:
        if hunk.removed and hunk.added:
            words.append(
                ("changed", f"{_quote(hunk.removed, small)} to {_quote(hunk.added, small)}")
            )
        elif hunk.added:
            words.append(("added", _quote(hunk.added, small)))
        else:
            words.append(("removed", _quote(hunk.removed, small)))
    # "changed A to B and changed C to D" reads better as "changed A to B and C to D".
    phrase = " ".join(words[0])
    for (previous, _), (verb, obj) in itertools.pairwise(words):
        phrase += f" and {obj}" if verb == previous else f" and {verb} {obj}"
    where = "in" if any(verb != "removed" for verb, _ in words) else "from"
    return f"{phrase} {where}: {_quote(first.context, limit)}"


@dataclass(frozen=True)
class _Phrase:
    """One kind of change in words: '{action} {preposition} the story …{detail}'."""

    action: str  # "removed a paragraph"
    preposition: str  # "from"
    detail: str = ""  # ': "The minister said…"' or ' from "A" to "B"'

    def alone(self) -> str:
        return self.action + self.detail


def _kind_phrase(kind: ChangeKind, facts: CardFacts, hunks: list[Hunk], limit: int) -> _Phrase:
    """What one kind of change did."""
    # Whole paragraphs struck or inserted, one by one (adjacent ones are one hunk).
    whole_removed = [
        p
        for h in hunks
        if h.whole_paragraphs and h.removed and not h.added
        for p in _split(h.removed)
    ]
    whole_added = [
        p
        for h in hunks
        if h.whole_paragraphs and h.added and not h.removed
        for p in _split(h.added)
    ]
    if kind is ChangeKind.HEADLINE:
        pair = _headline_pair(facts)
        detail = f" from {_quote(pair[0], limit)} to {_quote(pair[1], limit)}" if pair else ""
        return _Phrase("changed the headline", "of", detail)
    if kind is ChangeKind.CORRECTION:
        notes = [h for h in hunks if h.added and _CORRECTION_WORDS.search(h.added)]
        note = (notes or [h for h in hunks if h.added] or [Hunk("", "", "", False)])[0].added
        return _Phrase("added a correction", "to", f": {_quote(note, limit)}" if note else "")
    if kind in (ChangeKind.PARAGRAPHS_REMOVED, ChangeKind.ENTRY_REMOVED):
        what = "a live entry" if kind is ChangeKind.ENTRY_REMOVED else "a paragraph"
        if not whole_removed:
            return _Phrase(f"removed {what}", "from")
        if len(whole_removed) > 1 and kind is ChangeKind.PARAGRAPHS_REMOVED:
            what = f"{len(whole_removed)} paragraphs"
            return _Phrase(
                f"removed {what}", "from", f", the first: {_quote(whole_removed[0], limit)}"
            )
        return _Phrase(f"removed {what}", "from", f": {_quote(whole_removed[0], limit)}")
    if kind in (ChangeKind.PARAGRAPHS_ADDED, ChangeKind.ENTRY_ADDED):
        what = "a live entry" if kind is ChangeKind.ENTRY_ADDED else "a paragraph"
        if not whole_added:
            return _Phrase(f"added {what}", "to")
        if len(whole_added) > 1 and kind is ChangeKind.PARAGRAPHS_ADDED:
            what = f"{len(whole_added)} paragraphs"
            return _Phrase(f"added {what}", "to", f", the first: {_quote(whole_added[0], limit)}")
        return _Phrase(f"added {what}", "to", f": {_quote(whole_added[0], limit)}")
    if kind in (ChangeKind.TEXT_EDITED, ChangeKind.ENTRY_EDITED, ChangeKind.MINOR):
        edits = [h for h in hunks if not h.whole_paragraphs] or hunks
        action, preposition = {
            ChangeKind.ENTRY_EDITED: ("edited a live entry", "of"),
            ChangeKind.MINOR: ("made a minor edit (punctuation, spacing or case)", "to"),
        }.get(kind, ("edited the text", "of"))
        return _Phrase(action, preposition, f": {_edit_detail(edits, limit)}" if edits else "")
    if kind is ChangeKind.BYLINE:
        old, new = (facts.byline_before or "").strip(), (facts.byline_after or "").strip()
        if old and new:
            return _Phrase(
                "changed the byline", "of", f" from {_quote(old, limit)} to {_quote(new, limit)}"
            )
        if new:
            return _Phrase("added a byline", "to", f": {_quote(new, limit)}")
        return _Phrase("removed the byline", "from", f": {_quote(old, limit)}" if old else "")
    if kind is ChangeKind.DATES:
        return _Phrase("changed the dates stated", "on")
    return _Phrase(f"made a change ({kind_label(kind)})", "to")  # a kind added later


def _split(text: str) -> list[str]:
    return [part.strip() for part in _PARAGRAPH_BREAK.split(text) if part.strip()]


_CORRECTION_WORDS: Final = re.compile(r"correct|clarif|earlier version", re.IGNORECASE)


def _join(phrases: list[str]) -> str:
    if len(phrases) <= 2:
        return " and ".join(phrases)
    return "; ".join(phrases[:-1]) + "; and " + phrases[-1]


def alt_text(facts: CardFacts, diff: WordDiff | None = None, *, limit: int = ALT_TEXT_MAX) -> str:
    """The change in words, at most `limit` characters, e.g.

    'BBC News changed the headline of a story on 4 December 2026 at 14:05 UTC from "X" to
    "Y".' The most significant kind of change leads; the others follow in one sentence."""
    diff = diff or word_diff(facts.text_before, facts.text_after)
    hunks = change_hunks(diff)
    source = source_name(facts.url, facts.site_name)
    moment = format_moment(facts.changed_at)
    kinds = _ordered_kinds(facts.kinds)
    if not kinds and hunks:  # an unclassified change: say what the text shows
        kinds = [ChangeKind.TEXT_EDITED]
    text = ""
    for quote_limit in _QUOTE_LIMITS:
        text = _alt_text(facts, source, moment, kinds, hunks, quote_limit)
        if len(text) <= limit:
            return text
    return _clip(text, limit)


def _alt_text(
    facts: CardFacts,
    source: str,
    moment: str,
    kinds: list[ChangeKind],
    hunks: list[Hunk],
    limit: int,
) -> str:
    headline = (facts.title_after or facts.title_before or "").strip()
    story = f"the story {_quote(headline, limit)}" if headline else "a story"
    if not kinds:
        return f"{source} changed {story} on {moment}."
    lead, *rest = kinds
    phrase = _kind_phrase(lead, facts, hunks, limit)
    if lead is ChangeKind.HEADLINE:
        story = "a story"  # the old and new headlines name it
    if phrase.action == "edited the text":
        sentence = f"{source} edited {story} on {moment}{phrase.detail}."
    else:
        sentence = (
            f"{source} {phrase.action} {phrase.preposition} {story} on {moment}{phrase.detail}."
        )
    others = [_kind_phrase(kind, facts, hunks, limit) for kind in rest]
    # A removed and an added paragraph are also a text edit; say each change once.
    said = {phrase.detail}
    also = []
    for other in others:
        if other.detail and other.detail in said:
            continue
        said.add(other.detail)
        also.append(other.alone().removeprefix("edited the text: "))
    if also:
        sentence += f" It also {_join(also)}."
    return _tidy(sentence)


def _tidy(sentence: str) -> str:
    # A quotation ending in its own full stop needs no second one: '"… Friday.".' → '"… Friday."'
    return re.sub(r'([.!?…])"\.', r'\1"', sentence)


# -- the card ------------------------------------------------------------------------------


def build_card(facts: CardFacts) -> Card:
    """Everything the card image shows, and its alt text."""
    diff = word_diff(facts.text_before, facts.text_after)
    pieces, more = excerpt(diff)
    if not pieces and (facts.byline_before or "") != (facts.byline_after or ""):
        # A byline change alone: the excerpt shows the byline, struck and inserted.
        byline = word_diff(facts.byline_before or "", facts.byline_after or "")
        pieces = [Piece(EQUAL, "Byline: ")] + [Piece(op, text) for op, text in byline.ops]
    pair = _headline_pair(facts)
    kinds = _ordered_kinds(facts.kinds)
    return Card(
        source=source_name(facts.url, facts.site_name),
        domain=domain_of(facts.url),
        url=facts.url,
        seq=facts.seq,
        moment=format_moment(facts.changed_at),
        changed_at=facts.changed_at,
        kinds=tuple(kind_label(kind) for kind in kinds),
        headline_before=pair[0] if pair else None,
        headline=(pair[1] if pair else (facts.title_after or "")).strip(),
        excerpt=tuple(pieces),
        more_changes=more,
        alt_text=alt_text(facts, diff),
        hunks=tuple(change_hunks(diff)),
    )

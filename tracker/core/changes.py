"""What kind of change a new version is, and whether a page promises one. Pure functions.

`classify` compares two versions of an article and names every kind of change that applies
(headline, paragraphs added or removed, text edited, byline, dates, correction appended, or
"minor" when only punctuation, whitespace or case moved). `detect_promise` finds the sentence
in which a page says it is developing or will be updated ("check back for an update").

Decisions, documented once here:

- Paragraphs are aligned on their *normalised* form (case, punctuation and whitespace
  stripped), so a punctuation fix never looks like a removed and an added paragraph. Inside
  a replaced run, paragraphs are paired by word similarity: a paragraph edited in place is
  TEXT_EDITED, not PARAGRAPHS_REMOVED + PARAGRAPHS_ADDED.
- A newly appended correction note ("Correction: ...", "An earlier version of this story
  ...") is CORRECTION, and is not also counted as an added paragraph or a text edit.
  Removing an old correction note is not CORRECTION: it shows as the removal it is.
- MINOR is reported only when nothing else applies (so it never hides a real change).
- No change at all gives an empty set.
- Substantive (worth an alert, fulfils a promised update): everything but MINOR, DATES and
  BYLINE. A bumped "modified" date or a re-credited byline on an otherwise unchanged story is
  metadata, not news; channels that want those can filter on `KIND_ORDER` instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from tracker.core.diffing import DiffStats


class ArticleLike(Protocol):
    """The fields of `tracker.core.extract.Article` that change classification reads."""

    @property
    def title(self) -> str | None: ...
    @property
    def byline(self) -> str | None: ...
    @property
    def published(self) -> str | None: ...
    @property
    def modified(self) -> str | None: ...
    @property
    def text(self) -> str: ...


class ChangeKind(StrEnum):
    FIRST = "first"  # first version of a story
    HEADLINE = "headline"
    PARAGRAPHS_ADDED = "paragraphs_added"
    PARAGRAPHS_REMOVED = "paragraphs_removed"
    TEXT_EDITED = "text_edited"
    BYLINE = "byline"
    DATES = "dates"  # published/modified changed
    CORRECTION = "correction"  # a correction/clarification note appended
    MINOR = "minor"  # punctuation/whitespace/case only


# Least to most significant, for "alert me from kind X up" filters. Removals rank above
# additions: a quietly deleted paragraph is the stealth edit readers most want to know of.
# FIRST ranks top so a "minimum kind" filter never drops the first version of a new story;
# a channel that wants no first versions should exclude FIRST explicitly.
KIND_ORDER: Final[tuple[ChangeKind, ...]] = (
    ChangeKind.MINOR,
    ChangeKind.DATES,
    ChangeKind.BYLINE,
    ChangeKind.TEXT_EDITED,
    ChangeKind.PARAGRAPHS_ADDED,
    ChangeKind.PARAGRAPHS_REMOVED,
    ChangeKind.CORRECTION,
    ChangeKind.HEADLINE,
    ChangeKind.FIRST,
)
_RANK: Final = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

_NOT_SUBSTANTIVE: Final = frozenset({ChangeKind.MINOR, ChangeKind.DATES, ChangeKind.BYLINE})


def severity(kind: ChangeKind | str) -> int:
    """Rank of a kind in `KIND_ORDER` (0 = least significant)."""
    return _RANK[ChangeKind(kind)]


def most_severe(kinds: Iterable[ChangeKind | str]) -> ChangeKind | None:
    ranked = [ChangeKind(kind) for kind in kinds]
    return max(ranked, key=severity) if ranked else None


def meets_minimum(kinds: Iterable[ChangeKind | str], minimum: ChangeKind | str) -> bool:
    """True when any of `kinds` is at least as significant as `minimum`."""
    top = most_severe(kinds)
    return top is not None and severity(top) >= severity(minimum)


def is_substantive(kinds: Iterable[ChangeKind | str]) -> bool:
    """False for no change and for changes that are only MINOR, DATES and/or BYLINE."""
    return any(ChangeKind(kind) not in _NOT_SUBSTANTIVE for kind in kinds)


# --- normalisation -----------------------------------------------------------------------

# Punctuation inside a word ("don't", "e-mail") disappears; elsewhere it becomes a space.
# Between digits it is kept: "3.5" -> "35" is a corrected number, never a minor change.
_INNER_PUNCT: Final = re.compile(r"(?<=[^\W\d_])[’'\-‐‑](?=[^\W\d_])")
_PUNCT: Final = re.compile(r"(?<!\d)[^\w\s]+|[^\w\s]+(?!\d)|_")
_SPACE: Final = re.compile(r"\s+")
_PARAGRAPH_SPLIT: Final = re.compile(r"\n\s*\n")


def minor_form(text: str | None) -> str:
    """The text with case, punctuation and whitespace differences taken out."""
    if not text:
        return ""
    text = _PUNCT.sub(" ", _INNER_PUNCT.sub("", text.casefold()))
    return _SPACE.sub(" ", text).strip()


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH_SPLIT.split(text) if p.strip()]


# --- sentences ---------------------------------------------------------------------------

_SENTENCE_END: Final = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+(?=[\"'“‘«(\[]?[^\W_a-z])")
_ABBREVIATIONS: Final = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "gen",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "sgt",
        "capt",
        "jr",
        "sr",
        "prof",
        "no",
        "vs",
        "etc",
        "inc",
        "corp",
        "co",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "a.m",
        "p.m",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
    ]
)


def sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences (rule-based, good enough for European languages)."""
    out = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        words = paragraph[start : match.start()].split()
        last = words[-1].rstrip(".").casefold() if words else ""
        if last in _ABBREVIATIONS or len(last) == 1:  # "Mr. Smith", "J. Smith"
            continue
        out.append(paragraph[start : match.end()].strip())
        start = match.end()
    if paragraph[start:].strip():
        out.append(paragraph[start:].strip())
    return out


# --- corrections -------------------------------------------------------------------------

_CORRECTION_PATTERNS: Final = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\W*(?:correction|clarification|corrections?\s+(?:and|&)\s+clarifications?"
        r"|editor['’]?s\s+note|korrektur|richtigstellung|anmerkung\s+der\s+redaktion"
        r"|rectificatif|correctif|erratum|fe\s+de\s+errores|corrección|rettifica)\s*[:—–-]",
        r"\b(?:an|a)\s+(?:earlier|previous|prior)\s+version\s+of\s+this\s+"
        r"(?:story|article|report|post|piece|headline|caption|graphic)",
        r"\bthis\s+(?:story|article|report|post|piece)\s+(?:has\s+been|was)\s+"
        r"(?:corrected|amended|updated\s+to\s+correct|clarified)",
        r"\bin\s+einer\s+(?:früheren|vorherigen|älteren)\s+(?:version|fassung)\s+"
        r"(?:dieses|des)\s+(?:artikels|textes|beitrags)",
        r"\bune\s+(?:précédente|première)\s+version\s+de\s+cet\s+article",
        r"\buna\s+versión\s+anterior\s+de\s+(?:este|esta)\s+(?:artículo|noticia|nota)",
    )
]


def _is_correction(sentence: str) -> bool:
    return any(pattern.search(sentence) for pattern in _CORRECTION_PATTERNS)


def correction_notes(text: str) -> list[str]:
    """The sentences of `text` that are correction or clarification notes."""
    return [s for p in paragraphs(text) for s in sentences(p) if _is_correction(s)]


# --- classification ----------------------------------------------------------------------


@dataclass(frozen=True)
class ParagraphCounts:
    added: int = 0
    removed: int = 0
    edited: int = 0


@dataclass(frozen=True)
class Change:
    """Everything `analyse` found: the kinds, paragraph counts, new correction notes."""

    kinds: frozenset[ChangeKind]
    paragraphs: ParagraphCounts
    corrections: tuple[str, ...] = ()


_SIMILAR: Final = 0.5  # word-sequence similarity above which a paragraph counts as "edited"


def analyse(before: ArticleLike | None, after: ArticleLike) -> Change:
    """Compare two versions; `before` None means `after` is the first version."""
    if before is None:
        return Change(
            frozenset({ChangeKind.FIRST}), ParagraphCounts(added=len(paragraphs(after.text)))
        )

    kinds: set[ChangeKind] = set()
    minor = False

    for field, kind in (("title", ChangeKind.HEADLINE), ("byline", ChangeKind.BYLINE)):
        old, new = getattr(before, field), getattr(after, field)
        if (old or "").strip() != (new or "").strip():
            if minor_form(old) != minor_form(new):
                kinds.add(kind)
            else:
                minor = True
    # Pages state several headlines (h1, og:title, <title>) and edit them separately.
    old_headlines = {minor_form(h) for h in getattr(before, "headlines", ()) or ()}
    new_headlines = {minor_form(h) for h in getattr(after, "headlines", ()) or ()}
    if old_headlines and new_headlines and old_headlines != new_headlines:
        kinds.add(ChangeKind.HEADLINE)

    if (before.published or "").strip() != (after.published or "").strip() or (
        before.modified or ""
    ).strip() != (after.modified or "").strip():
        kinds.add(ChangeKind.DATES)

    old_notes = {minor_form(note) for note in correction_notes(before.text)}
    new_notes = tuple(
        note for note in correction_notes(after.text) if minor_form(note) not in old_notes
    )
    if new_notes:
        kinds.add(ChangeKind.CORRECTION)
    new_note_forms = {minor_form(note) for note in new_notes}

    old_paragraphs = paragraphs(before.text)
    new_paragraphs = _without_sentences(paragraphs(after.text), new_note_forms)
    counts = _compare_paragraphs(old_paragraphs, new_paragraphs)
    if counts.added:
        kinds.add(ChangeKind.PARAGRAPHS_ADDED)
    if counts.removed:
        kinds.add(ChangeKind.PARAGRAPHS_REMOVED)
    if counts.edited:
        kinds.add(ChangeKind.TEXT_EDITED)
    if not kinds and (minor or before.text != after.text):
        kinds.add(ChangeKind.MINOR)
    return Change(frozenset(kinds), counts, new_notes)


def classify(before: ArticleLike | None, after: ArticleLike) -> frozenset[ChangeKind]:
    """Every kind of change from `before` to `after` (empty when they are the same).

    Several kinds may apply; MINOR only when nothing else does; FIRST when `before` is None.
    """
    return analyse(before, after).kinds


def _without_sentences(paragraph_list: list[str], drop: set[str]) -> list[str]:
    if not drop:
        return paragraph_list
    out = []
    for paragraph in paragraph_list:
        kept = [s for s in sentences(paragraph) if minor_form(s) not in drop]
        if kept:
            out.append(" ".join(kept))
    return out


def _compare_paragraphs(old: Sequence[str], new: Sequence[str]) -> ParagraphCounts:
    old_forms = [minor_form(p) for p in old]
    new_forms = [minor_form(p) for p in new]
    added = removed = edited = 0
    matcher = difflib.SequenceMatcher(None, old_forms, new_forms, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "insert":
            added += j2 - j1
        elif tag == "delete":
            removed += i2 - i1
        elif tag == "replace":
            paired = _pair_edited(old_forms[i1:i2], new_forms[j1:j2])
            edited += paired
            removed += (i2 - i1) - paired
            added += (j2 - j1) - paired
    return ParagraphCounts(added=added, removed=removed, edited=edited)


_PAIRING_WINDOW: Final = 25  # how far ahead a paragraph's edited form is looked for


def _pair_edited(old: list[str], new: list[str]) -> int:
    """How many paragraphs of `old` were edited into one of `new` (in order, greedily).

    Each old paragraph looks for its edited form among the next few unpaired new ones, which
    keeps a wholesale rewrite of a long article from costing len(old) * len(new) comparisons.
    """
    new_words = [paragraph.split() for paragraph in new]
    paired = 0
    start = 0
    for paragraph in old:
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq1(paragraph.split())
        best, best_index = _SIMILAR, None
        for index in range(start, min(len(new), start + _PAIRING_WINDOW)):
            matcher.set_seq2(new_words[index])
            if matcher.real_quick_ratio() >= best and matcher.quick_ratio() >= best:
                ratio = matcher.ratio()
                if ratio >= best:
                    best, best_index = ratio, index
        if best_index is not None:
            paired += 1
            start = best_index + 1
    return paired


# --- summaries ---------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def describe(
    kinds: Iterable[ChangeKind | str],
    stats: DiffStats | None = None,
    counts: ParagraphCounts | None = None,
) -> str:
    """A one-line summary, e.g. "Headline changed; 2 paragraphs added (+184 words)".

    Paragraph numbers appear when `counts` (from `analyse`) is given; word numbers when
    `stats` (from `tracker.core.diffing.word_diff`) is given.
    """
    present = {ChangeKind(kind) for kind in kinds}
    if ChangeKind.FIRST in present:
        return "First version"
    if not present:
        return "No change"
    counts = counts or ParagraphCounts()
    parts = []
    if ChangeKind.HEADLINE in present:
        parts.append("Headline changed")
    if ChangeKind.CORRECTION in present:
        parts.append("Correction appended")
    if ChangeKind.PARAGRAPHS_ADDED in present:
        parts.append(
            f"{_plural(counts.added, 'paragraph')} added" if counts.added else "Paragraphs added"
        )
    if ChangeKind.PARAGRAPHS_REMOVED in present:
        parts.append(
            f"{_plural(counts.removed, 'paragraph')} removed"
            if counts.removed
            else "Paragraphs removed"
        )
    if ChangeKind.TEXT_EDITED in present:
        parts.append(
            f"{_plural(counts.edited, 'paragraph')} edited" if counts.edited else "Text edited"
        )
    if ChangeKind.BYLINE in present:
        parts.append("Byline changed")
    if ChangeKind.DATES in present:
        parts.append("Dates changed")
    if ChangeKind.MINOR in present:
        parts.append("Minor edit (punctuation, spacing or case)")
    # Sentence case: only the first part keeps its capital.
    summary = "; ".join([parts[0], *(p[0].lower() + p[1:] for p in parts[1:])])
    if stats and (stats.words_added or stats.words_removed):
        figures = []
        if stats.words_added:
            figures.append(f"+{stats.words_added}")
        if stats.words_removed:
            figures.append(f"-{stats.words_removed}")
        noun = (
            "word"
            if (stats.words_added or stats.words_removed) == 1 and len(figures) == 1
            else "words"
        )
        summary += f" ({'/'.join(figures)} {noun})"
    return summary


# --- promises ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Promise:
    text: str  # the sentence carrying the marker
    marker: str  # which marker matched, e.g. "check back"


_STORY = r"(?:story|article|report|page|post|piece|blog|live\s*blog|coverage)"
_I = re.IGNORECASE

# (marker name, pattern). Patterns want context (a subject, a sentence start) so that
# "update" in ordinary prose, "software will be updated" or "developing countries" never fire.
_PROMISE_MARKERS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    # English
    (
        "check back",
        re.compile(
            r"\bcheck\s+back\s+(?:(?:here\s+)?(?:later|soon|shortly)\b|(?:here\s+)?for\s+"
            r"(?:an?\s+|the\s+|more\s+|further\s+|any\s+)?(?:latest\s+)?(?:updates?|details|information|developments)\b)",
            _I,
        ),
    ),
    (
        "developing story",
        re.compile(
            r"\b(?:this\s+is\s+an?\s+|an?\s+|the\s+)(?:rapidly\s+|still\s+|fast[\s-]moving\s+)?"
            r"developing\s+(?:news\s+)?(?:story|situation)\b(?!\s+(?:ideas?|lines?|arcs?|of)\b)",
            _I,
        ),
    ),
    (
        "developing story",
        re.compile(
            rf"\bthis\s+{_STORY}\s+(?:is|remains)\s+(?:still\s+)?(?:developing|being\s+updated)\b",
            _I,
        ),
    ),
    (
        "developing story",
        re.compile(r"^\W*(?:DEVELOPING|Developing)(?:\s+(?:STORY|NEWS|story|news))?\s*[:.!—–-]"),
    ),
    (
        "will be updated",
        re.compile(
            rf"\b(?:this|the|our)\s+{_STORY}\s+(?:will|is\s+going\s+to)\s+be\s+(?:further\s+|"
            r"regularly\s+|continuously\s+|frequently\s+)?updated\b",
            _I,
        ),
    ),
    (
        "will be updated",
        re.compile(
            rf"\bwe\s+(?:will|['’]ll)\s+(?:continue\s+to\s+)?update\s+(?:this|the|our)\s+{_STORY}",
            _I,
        ),
    ),
    (
        "breaking news",
        re.compile(r"\bthis\s+is\s+(?:a\s+)?breaking\s+(?:news(?:\s+story)?|story)\b", _I),
    ),
    ("breaking news", re.compile(r"^\W*(?:BREAKING(?:\s+NEWS)?|Breaking(?:\s+news)?)\s*[:—–|-]")),
    (
        "update stamp",
        re.compile(
            r"^\W*(?:UPDATED?|Updated?)\b(?:\s*[:—–]|\s*-\s|\s*\(?\d|\s*,\s*\d|\s+(?:at|on)\s+[^.:]{0,20}\d)"
        ),
    ),
    (
        "live updates",
        re.compile(
            r"^\W*(?:live(?:\s+updates|\s+coverage|\s+blog)?|as\s+it\s+happened)\s*[:|—–-]", _I
        ),
    ),
    (
        "live updates",
        re.compile(r"\b(?:follow\s+(?:our\s+|the\s+)?live\s+updates|live\s+updates\s*:)", _I),
    ),
    (
        "more to follow",
        re.compile(
            r"\b(?:more|further)\s+(?:details|information|updates)\s+(?:to\s+follow|to\s+come|"
            r"(?:will|to)\s+(?:follow|be\s+added))\b|\bupdates\s+to\s+follow\b",
            _I,
        ),
    ),
    ("more to follow", re.compile(r"^\W*(?:more\s+(?:to\s+follow|soon|to\s+come))\W*$", _I)),
    (
        "stay tuned",
        re.compile(
            r"\bstay\s+tuned\s+for\s+(?:updates|more\s+(?:details|information|updates)|further)\b"
            r"|^\W*stay\s+tuned\W*$",
            _I,
        ),
    ),
    # German
    (
        "wird aktualisiert",
        re.compile(
            r"\b(?:artikel|beitrag|text|meldung|bericht|liveblog|ticker|nachricht)\s+wird\s+"
            r"(?:laufend\s+|fortlaufend\s+|ständig\s+|regelmäßig\s+|gegebenenfalls\s+)?aktualisiert\b",
            _I,
        ),
    ),
    (
        "wird aktualisiert",
        re.compile(
            r"\b(?:weitere\s+informationen|mehr\s+informationen|details)\s+folgen\b|"
            r"^\W*(?:mehr\s+in\s+kürze|update\s+folgt|eilmeldung)\b",
            _I,
        ),
    ),
    # French
    (
        "sera mis à jour",
        re.compile(
            r"\b(?:cet\s+article|cette\s+dépêche|ce\s+texte|cette\s+page|cette\s+information)\s+"
            r"(?:sera|va\s+être)\s+(?:régulièrement\s+)?(?:mis|mise)\s+à\s+jour\b",
            _I,
        ),
    ),
    (
        "sera mis à jour",
        re.compile(
            r"\b(?:article|information|dépêche)\s+en\s+cours\s+(?:d['’]actualisation|de\s+mise\s+à\s+jour)\b|"
            r"\bplus\s+d['’]informations\s+(?:à\s+venir|suivront)\b",
            _I,
        ),
    ),
    # Spanish
    (
        "en desarrollo",
        re.compile(
            r"\b(?:noticia|información|historia)\s+(?:está\s+)?en\s+(?:desarrollo|ampliación)\b", _I
        ),
    ),
    (
        "se actualizará",
        re.compile(
            r"\b(?:noticia|información|artículo|nota)\b[^.]{0,40}\bse\s+(?:actualizará|irá\s+actualizando|"
            r"va\s+actualizando|ampliará)\b|\bampliar(?:emos|á)\s+(?:la\s+)?información\b",
            _I,
        ),
    ),
    # Italian
    (
        "in aggiornamento",
        re.compile(r"\b(?:notizia|articolo)\s+in\s+(?:continuo\s+)?aggiornamento\b", _I),
    ),
)


def detect_promise(article: ArticleLike) -> Promise | None:
    """The first sentence (headline first, then body) saying the story is developing or
    will be updated, with the marker that matched; None when the page promises nothing."""
    candidates = [article.title] if article.title else []
    for paragraph in paragraphs(article.text):
        candidates.extend(sentences(paragraph))
    for sentence in candidates:
        for marker, pattern in _PROMISE_MARKERS:
            if pattern.search(sentence):
                return Promise(text=sentence.strip(), marker=marker)
    return None

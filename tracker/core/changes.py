"""What kind of change a new version is, and whether a page promises one. Pure functions.

`classify` compares two versions of an article and names every kind of change that applies
(headline, paragraphs added or removed, text edited, byline, dates, correction appended, or
"minor" when only punctuation, whitespace or case moved). `detect_promise` finds the sentence
in which a page announces an update still to come ("check back for an update", "more to
follow"); an "Update:" line reporting what already happened is not a promise.

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
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from tracker.core.diffing import DiffStats
from tracker.core.kinds import ChangeKind
from tracker.core.words import counted


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


def is_correction_note(sentence: str) -> bool:
    """Is this sentence a correction or clarification note ("Correction: ...", "An earlier
    version of this story ...")?"""
    return any(pattern.search(sentence) for pattern in _CORRECTION_PATTERNS)


def correction_notes(text: str) -> list[str]:
    """The sentences of `text` that are correction or clarification notes."""
    return [s for p in paragraphs(text) for s in sentences(p) if is_correction_note(s)]


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
            f"{counted(counts.added, 'paragraph')} added" if counts.added else "Paragraphs added"
        )
    if ChangeKind.PARAGRAPHS_REMOVED in present:
        parts.append(
            f"{counted(counts.removed, 'paragraph')} removed"
            if counts.removed
            else "Paragraphs removed"
        )
    if ChangeKind.TEXT_EDITED in present:
        parts.append(
            f"{counted(counts.edited, 'paragraph')} edited" if counts.edited else "Text edited"
        )
    for kind, words in (
        (ChangeKind.ENTRY_ADDED, "Entry added"),
        (ChangeKind.ENTRY_EDITED, "Entry edited"),
        (ChangeKind.ENTRY_REMOVED, "Entry removed"),
    ):
        if kind in present:
            parts.append(words)
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
    text: str  # the sentence (or line) carrying the marker, as it stands on the page
    marker: str  # which marker matched, e.g. "check back"


_STORY = r"(?:story|article|report|page|post|piece|blog|live\s*blog|coverage)"
_I = re.IGNORECASE
# A time still to come, as English pages announce one: "later today", "this afternoon",
# "at 3pm", "at 15:00 GMT", "for 3 p.m.". A bare number is not a time ("at 3 sites").
_CLOCK = (
    r"(?:noon|midday|\d{1,2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\b\.?|h(?:rs)?\b|gmt\b|bst\b|utc\b|cet\b"
    r"|cest\b|[ecmp][sd]?t\b|local\s+time\b)|\d{1,2}[:.]\d{2}\b)"
)
_LATER = (
    r"(?:later\s+(?:today|tonight|this\s+(?:morning|afternoon|evening)|on)\b"
    r"|this\s+(?:morning|afternoon|evening)\b|tonight\b|tomorrow\b|shortly\b|soon\b"
    rf"|(?:at|from|around|for)\s+{_CLOCK})"
)
_PRESS = r"(?:press|news)\s+(?:conference|briefing)"
_BANNER_END = r"\s*[:|—–+-]"  # "LIVE:", "EN DIRECT -", "+++ LIVE +++"

# (marker name, pattern), tried on one sentence at a time. Every marker announces an update
# still to come: "check back", "more to follow", "this story will be updated", "this is a
# developing story", "a press conference is expected at 3pm", a "live updates" banner.
# Nothing here matches a report of what already happened, however it is labelled: "Update:
# the man has been released", "UPDATE 09:10: officials said ...", "Updated at 10:12",
# "This story has been updated", "As it happened", "Correction: ..." (the label says the
# page *was* updated, not that it will be). A sentence mixing both ("Update: a man was
# arrested; more details to follow") is a promise through its forward-looking part.
# Patterns want context (a subject, a sentence start) so that "update" in ordinary prose,
# "software will be updated" or "developing countries" never fire.
_PROMISE_MARKERS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    # English
    (
        "check back",
        re.compile(
            r"\bcheck\s+back\s+(?:(?:here\s+|with\s+us\s+)?(?:later|soon|shortly|often|regularly"
            r"|throughout\s+the\s+day)\b|(?:here\s+|with\s+us\s+)?for\s+(?:an?\s+|the\s+|more\s+"
            r"|further\s+|any\s+)?(?:latest\s+)?(?:updates?|details|information|developments)\b)",
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
            rf"\b(?:this|the|our)\s+{_STORY}\s+(?:will|is\s+going\s+to|is\s+set\s+to)\s+"
            r"(?:continue\s+to\s+)?be\s+(?:further\s+|regularly\s+|continuously\s+|frequently\s+"
            r"|constantly\s+)?updated\b",
            _I,
        ),
    ),
    (
        "will be updated",
        re.compile(
            r"\bwe\s*(?:will|['’]ll|are\s+going\s+to)\s+(?:continue\s+to\s+|be\s+)?updat(?:e|ing)\s+"
            rf"(?:this|the|our)\s+{_STORY}",
            _I,
        ),
    ),
    (
        "breaking news",
        re.compile(r"\bthis\s+is\s+(?:a\s+)?breaking\s+(?:news(?:\s+story)?|story)\b", _I),
    ),
    ("breaking news", re.compile(r"^\W*(?:BREAKING(?:\s+NEWS)?|Breaking(?:\s+news)?)\s*[:—–|-]")),
    # A live page's banner or link; "As it happened" (a live page closed) is not one.
    ("live updates", re.compile(rf"^\W*live(?:\s+updates|\s+coverage|\s+blog)?{_BANNER_END}", _I)),
    (
        "live updates",
        re.compile(
            r"\bfollow\s+(?:our\s+|the\s+|all\s+the\s+)?live\s+(?:updates|coverage|blog)\b"
            r"|\blive\s+updates\s*:|\s[—–|-]\s*live(?:\s+updates|\s+coverage|\s+blog)?\W*$",
            _I,
        ),
    ),
    (
        "more to follow",
        re.compile(
            r"\b(?:more|further)\s+(?:details|information|updates)\s+(?:to\s+follow|to\s+come|soon"
            r"|(?:will|to)\s+(?:follow|come|be\s+(?:added|posted)))\b"
            r"|^\W*(?:an?\s+|further\s+|more\s+)?updates?\s+(?:to\s+follow|to\s+come|will\s+follow)\b"
            r"|\b(?:an|further|more)\s+updates?\s+will\s+follow\b"
            r"|\bwe\s*(?:will|['’]ll)\s+bring\s+you\s+(?:more|the\s+latest|further)\s*(?:details\b"
            r"|information\b|updates\b|on\s+this\b|as\b|when\b|shortly\b|soon\b|later\b|[.!]|$)",
            _I,
        ),
    ),
    (
        "more to follow",
        re.compile(
            r"^\W*(?:more|details)\s+(?:to\s+follow|to\s+come|soon|shortly)(?:\s+(?:soon|shortly))?\W*$"
            r"|\s[—–-]\s*more\s+(?:to\s+follow|to\s+come|soon)\W*$|[(\[]\s*more\s+to\s+(?:follow|come)\W*$",
            _I,
        ),
    ),
    (
        "stay tuned",
        re.compile(
            r"\bstay\s+tuned\s+for\s+(?:updates|more\s+(?:details|information|updates)|further)\b"
            r"|^\W*stay\s+tuned\W*$",
            _I,
        ),
    ),
    # A scheduled event the story will report on: a press conference still to come, with
    # its time ("is expected at 3pm", "will hold a news conference later today", a "Press
    # conference at 3pm" line). Without a time ("the mayor will hold a press conference on
    # the budget") it is news, not an update the page is waiting for.
    (
        "press conference",
        re.compile(
            rf"\b(?:an?|the)\s+{_PRESS}\s+(?:is|has\s+been)\s+(?:now\s+)?(?:expected|scheduled|due"
            r"|set|planned|called|announced)\b(?:\s+to\s+(?:begin|start|take\s+place|be\s+held))?"
            rf"\s+{_LATER}",
            _I,
        ),
    ),
    (
        "press conference",
        re.compile(
            r"\b(?:(?:is|are)\s+(?:now\s+)?(?:expected|scheduled|due|set)\s+to|will)\s+"
            r"(?:hold|give|host)\s+"
            rf"(?:an?\s+|the\s+)?{_PRESS}\b.{{0,60}}?\b{_LATER}",
            _I,
        ),
    ),
    (
        "press conference",
        re.compile(
            rf"^\W*(?:an?\s+|the\s+)?{_PRESS}\s+(?:(?:is\s+)?(?:expected|scheduled|due|set|planned)"
            rf"\s+)?{_LATER}\W*$",
            _I,
        ),
    ),
    # German
    (
        "wird aktualisiert",
        re.compile(
            r"\b(?:artikel|beitrag|text|meldung|bericht|liveblog|ticker|nachricht)\s+wird\s+"
            r"(?:laufend\s+|fortlaufend\s+|ständig\s+|regelmäßig\s+|gegebenenfalls\s+|weiter\s+"
            r"|in\s+kürze\s+)?aktualisiert\b",
            _I,
        ),
    ),
    (
        "wird aktualisiert",
        re.compile(
            r"\b(?:weitere\s+informationen|mehr\s+informationen|details)\s+folgen\b"
            r"|^\W*(?:mehr\s+in\s+kürze|update\s+folgt|eilmeldung)\b|\b(?:weitere|mehr)\s+updates\s+folgen\b"
            r"|\bwir\s+(?:berichten|informieren)\s+(?:weiter|laufend|fortlaufend)\b"
            r"|\bwir\s+halten\s+sie\s+(?:hier\s+)?auf\s+dem\s+laufenden\b",
            _I,
        ),
    ),
    (
        "liveticker",
        re.compile(rf"^\W*(?:live[-\s]?ticker|live[-\s]?blog|newsblog){_BANNER_END}", _I),
    ),
    (
        "pressekonferenz",
        re.compile(
            r"\b(?:eine|die)\s+pressekonferenz\s+(?:ist|soll)\s+(?:für|um|gegen|am|heute|im\s+laufe)"
            r"\b.{0,40}?\b(?:geplant|angesetzt|angekündigt|erwartet|stattfinden|beginnen)\b"
            r"|\b(?:für|um|gegen)\s+\d{1,2}(?:[:.]\d{2})?\s+uhr\s+(?:ist|sind)\s+(?:eine\s+)?"
            r"pressekonferenz\s+(?:geplant|angesetzt|angekündigt)\b",
            _I,
        ),
    ),
    # French
    (
        "sera mis à jour",
        re.compile(
            r"\b(?:cet\s+article|cette\s+dépêche|ce\s+texte|cette\s+page|cette\s+information)\s+"
            r"(?:sera|va\s+être)\s+(?:régulièrement\s+)?(?:(?:mis|mise)\s+à\s+jour|actualisée?)\b",
            _I,
        ),
    ),
    (
        "sera mis à jour",
        re.compile(
            r"\b(?:article|information|dépêche)\s+en\s+cours\s+(?:d['’]actualisation|de\s+mise\s+à\s+jour)\b"
            r"|\b(?:plus\s+d['’]informations|de\s+plus\s+amples\s+informations)\s+(?:à\s+venir|suivront)\b"
            r"|^\W*(?:plus\s+d['’]informations\s+|informations\s+|détails\s+)?à\s+suivre\W*$"
            r"|\bnous\s+y\s+reviendrons\b|\bnous\s+reviendrons\s+sur\s+(?:cette\s+information|ce\s+sujet)\b",
            _I,
        ),
    ),
    (
        "en direct",
        re.compile(rf"^\W*en\s+direct{_BANNER_END}|\bsuivez\s+(?:notre|le|en)\s+direct\b", _I),
    ),
    (
        "conférence de presse",
        re.compile(
            r"\b(?:une|la)\s+conférence\s+de\s+presse\s+(?:est\s+(?:prévue|attendue|annoncée"
            r"|programmée|convoquée)|doit\s+(?:se\s+tenir|avoir\s+lieu|débuter|commencer))\b",
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
            r"va\s+actualizando|ampliará)\b|\bampliar(?:emos|á)\s+(?:la\s+)?información\b"
            r"|\bseguiremos\s+informando\b|\bactualizaremos\s+(?:esta|la)\s+(?:noticia|información)\b"
            r"|\bmás\s+(?:información|detalles)\s+(?:en\s+breve|próximamente)\b",
            _I,
        ),
    ),
    ("en directo", re.compile(rf"^\W*(?:en\s+directo|en\s+vivo|directo){_BANNER_END}", _I)),
    ("última hora", re.compile(rf"^\W*última\s+hora{_BANNER_END}", _I)),
    (
        "rueda de prensa",
        re.compile(
            r"\b(?:está|están)\s+(?:prevista|convocada|programada|anunciada)\s+una\s+"
            r"(?:rueda|conferencia)\s+de\s+prensa\b|\buna\s+(?:rueda|conferencia)\s+de\s+prensa\s+"
            r"(?:está\s+)?(?:prevista|convocada|programada)\s+(?:para|a\s+las|esta|hoy)\b",
            _I,
        ),
    ),
    # Italian
    (
        "in aggiornamento",
        re.compile(
            r"\b(?:notizia|articolo|pagina)\s+in\s+(?:continuo\s+)?aggiornamento\b"
            r"|\b(?:articolo|notizia|pagina)\s+(?:sarà|verrà)\s+aggiornat[oa]\b"
            r"|\b(?:seguiranno|seguono)\s+aggiornamenti\b|\baggiornamenti\s+(?:a\s+seguire|in\s+arrivo)\b",
            _I,
        ),
    ),
    (
        "in diretta",
        re.compile(rf"^\W*(?:in\s+diretta|diretta){_BANNER_END}|\bsegui\s+la\s+diretta\b", _I),
    ),
    ("ultim'ora", re.compile(rf"^\W*ultim['’]ora{_BANNER_END}", _I)),
    (
        "conferenza stampa",
        re.compile(
            r"\b(?:è|e['’])\s+(?:prevista|attesa|convocata|in\s+programma)\s+(?:per\s+\S+\s+)?una\s+"
            r"conferenza\s+stampa\b|\b(?:una|la)\s+conferenza\s+stampa\s+(?:è\s+)?(?:prevista|attesa"
            r"|convocata|in\s+programma)\s+(?:per|alle|nel|in|oggi|questo|questa|domani)\b",
            _I,
        ),
    ),
)


def _body_sentences(text: str) -> Iterator[str]:
    """The body's sentences, one line at a time: a line break always ends a sentence."""
    for paragraph in paragraphs(text):
        for line in paragraph.splitlines():
            if line.strip():
                yield from sentences(line.strip())


def _one_pattern(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str]:
    """One pattern that matches wherever any of `patterns` does (their flags kept)."""
    scoped = []
    for pattern in patterns:
        flags = "".join(
            letter
            for flag, letter in ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))
            if pattern.flags & flag
        )
        scoped.append(f"(?{flags}:{pattern.pattern})" if flags else f"(?:{pattern.pattern})")
    return re.compile("|".join(scoped))


@functools.cache
def _any_promise_marker() -> re.Pattern[str]:
    # Most sentences promise nothing: one search says so, instead of one per marker.
    # Compiled on first use: it takes ~60 ms, which commands that read no page never pay.
    return _one_pattern(pattern for _, pattern in _PROMISE_MARKERS)


def _promise_marker(sentence: str) -> str | None:
    if not _any_promise_marker().search(sentence):
        return None
    for marker, pattern in _PROMISE_MARKERS:  # the first marker in order names it
        if pattern.search(sentence):
            return marker
    return None


def detect_promise(article: ArticleLike) -> Promise | None:
    """The sentence in which the page announces an update still to come, with its marker;
    None when the page promises nothing.

    The quote is the body's first sentence (or line) carrying a marker; the headline is
    quoted only when the body promises nothing itself (a "LIVE: ..." headline over a body
    with no note), never in place of the body's "More to follow".
    """
    for sentence in _body_sentences(article.text):
        if marker := _promise_marker(sentence):
            return Promise(text=sentence, marker=marker)
    title = (article.title or "").strip()
    if title and (marker := _promise_marker(title)):
        return Promise(text=title, marker=marker)
    return None

"""What kind of edit a sentence-level edit is, in the terms a desk uses. Pure rules.

:func:`edit_types` names every type that applies to one :class:`~tracker.core.sentences.
SentenceEdit`:

- ``number_changed``: a figure in the sentence changed ("death toll 12 → 14"); the old and
  new figures are in :attr:`EditTypes.numbers`;
- ``quote_added`` / ``quote_removed`` / ``quote_changed``: text inside quotation marks
  appeared, disappeared or changed;
- ``name_added`` / ``name_removed``: a capitalised name (a run of capitalised words not
  opening the sentence: "Jane Doe", "World Health Organization") appeared or disappeared.
  This is a rule, not a trained recogniser: it also catches places and other proper nouns;
- ``correction_note``: the sentence is a correction or clarification note;
- ``wording``: a changed sentence with none of the above.

A version that revises a sentence's facts (a figure, a quote or a name in a *changed*
sentence; new sentences are news, not corrections) and adds no correction note is a
**silent correction** (:func:`is_silent_correction`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from tracker.core.changes import is_correction_note, sentences
from tracker.core.kinds import (
    CORRECTION_NOTE,
    EDIT_TYPES,
    FACT_TYPES,
    NAME_ADDED,
    NAME_REMOVED,
    NUMBER_CHANGED,
    QUOTE_ADDED,
    QUOTE_CHANGED,
    QUOTE_REMOVED,
    SILENT_CORRECTION,
    WORDING,
)
from tracker.core.sentences import Operation, SentenceEdit, align

__all__ = [
    "EDIT_TYPES",
    "FACT_TYPES",
    "EditTypes",
    "edit_types",
    "is_silent_correction",
    "version_edit_types",
]

# 12, 1,200, 3.5, 40%, 2,000.50 (a figure's own punctuation kept; a sentence's full stop not).
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\s?%)?")
_QUOTE = re.compile(r"[\"“”„«»]([^\"“”„«»]{3,})[\"“”„«»]")
# Runs of capitalised words, joined by the small words names contain ("Bank of England").
_NAME = re.compile(
    r"\b[A-Z][\w'’.-]*[a-z][\w'’-]*(?:\s+(?:of|the|de|van|von|al|bin|for|and)?\s*"
    r"[A-Z][\w'’.-]*[a-z][\w'’-]*)*"
)
# Capitalised words that are rarely names on their own.
_NOT_NAMES: Final = frozenset(
    [
        "The",
        "A",
        "An",
        "This",
        "That",
        "These",
        "Those",
        "It",
        "He",
        "She",
        "They",
        "We",
        "I",
        "I’m",
        "I'm",
        "I’ve",
        "I've",
        "I’d",
        "I'd",
        "I’ll",
        "I'll",
        "You",
        "His",
        "Her",
        "Their",
        "Our",
        "Its",
        "But",
        "And",
        "Or",
        "If",
        "When",
        "While",
        "After",
        "Before",
        "As",
        "At",
        "In",
        "On",
        "For",
        "From",
        "By",
        "With",
        "Without",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
    ]
)


@dataclass(frozen=True, slots=True)
class EditTypes:
    types: tuple[str, ...]
    numbers: tuple[tuple[str, str], ...] = ()  # (old, new) figures, for number_changed

    @property
    def primary(self) -> str:
        """The most telling type: a fact before wording; empty for a plain addition."""
        return self.types[0] if self.types else ""


def _numbers(sentence: str) -> list[str]:
    return [match.group(0).replace(" ", "") for match in _NUMBER.finditer(sentence)]


def _quotes(sentence: str) -> set[str]:
    return {match.group(1).strip() for match in _QUOTE.finditer(sentence)}


def _names(sentence: str) -> set[str]:
    names = set()
    # A quoted passage may hold several sentences ('"… served. My hope is …," said X'):
    # each one's first word is capitalised anyway, as the sentence's own is.
    for part in sentences(sentence):
        for match in _NAME.finditer(part):
            if match.start() == 0 or part[: match.start()].rstrip().endswith(("“", '"', "‘")):
                # A sentence's (or quote's) first word is capitalised anyway: keep the rest.
                words = match.group(0).split()
                if len(words) < 2:
                    continue
                name = " ".join(words[1:]) if words[0] in _NOT_NAMES else match.group(0)
            else:
                name = match.group(0)
            if name not in _NOT_NAMES:
                names.add(name)
    return names


def _changed_numbers(before: str, after: str) -> tuple[tuple[str, str], ...]:
    old, new = _numbers(before), _numbers(after)
    if old == new:
        return ()
    if len(old) == len(new):
        return tuple((a, b) for a, b in zip(old, new, strict=True) if a != b)
    gone = [n for n in old if n not in new]
    came = [n for n in new if n not in old]
    return (
        tuple(zip(gone, came, strict=False))
        or tuple((n, "") for n in gone)
        or tuple(("", n) for n in came)
    )


def edit_types(
    edit: SentenceEdit, *, before_text: str | None = None, after_text: str | None = None
) -> EditTypes:
    """The types of one sentence edit (see the module docstring); a moved sentence has
    none. With the whole texts of the two versions, a name counts as added only if the old
    version never mentions it, and as removed only if the new one no longer does: a name
    moving from one sentence to another is not news."""
    before, after = edit.before or "", edit.after or ""
    if edit.operation is Operation.MOVED:
        return EditTypes(())
    types: list[str] = []
    numbers: tuple[tuple[str, str], ...] = ()
    if edit.operation is Operation.CHANGED:
        numbers = _changed_numbers(before, after)
        if numbers:
            types.append(NUMBER_CHANGED)
    old_quotes, new_quotes = _quotes(before), _quotes(after)
    if old_quotes != new_quotes:
        if old_quotes and new_quotes and edit.operation is Operation.CHANGED:
            types.append(QUOTE_CHANGED)
        elif new_quotes - old_quotes and not old_quotes - new_quotes:
            types.append(QUOTE_ADDED)
        elif old_quotes - new_quotes and not new_quotes - old_quotes:
            types.append(QUOTE_REMOVED)
        else:
            types.append(QUOTE_CHANGED)
    old_names, new_names = _names(before), _names(after)
    added_names = {n for n in new_names - old_names if before_text is None or n not in before_text}
    gone_names = {n for n in old_names - new_names if after_text is None or n not in after_text}
    if added_names:
        types.append(NAME_ADDED)
    if gone_names:
        types.append(NAME_REMOVED)
    if edit.operation is not Operation.REMOVED and is_correction_note(after):
        types.insert(0, CORRECTION_NOTE)
    if edit.operation is Operation.CHANGED and not types:
        types.append(WORDING)
    return EditTypes(tuple(types), numbers)


def is_silent_correction(edits: Iterable[tuple[SentenceEdit, EditTypes]]) -> bool:
    """Did a version revise a fact in a sentence without adding a correction note?"""
    revised_fact = noted = False
    for edit, types in edits:
        noted = noted or CORRECTION_NOTE in types.types
        if edit.operation is Operation.CHANGED and FACT_TYPES.intersection(types.types):
            revised_fact = True
    return revised_fact and not noted


def version_edit_types(before_text: str, after_text: str, language: str | None = "en") -> list[str]:
    """The edit types of a whole new version against the previous one, in :data:`EDIT_TYPES`
    order, with ``silent_correction`` when it revised a fact and added no correction note."""
    from tracker.core.sentences import split_sentences

    if before_text == after_text:  # a headline- or metadata-only change; or new rules
        return []
    edits = align(split_sentences(before_text, language), split_sentences(after_text, language))
    typed = [
        (edit, edit_types(edit, before_text=before_text, after_text=after_text)) for edit in edits
    ]
    found = {name for _, types in typed for name in types.types}
    if is_silent_correction(typed):
        found.add(SILENT_CORRECTION)
    return [name for name in EDIT_TYPES if name in found]

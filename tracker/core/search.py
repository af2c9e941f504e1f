"""What a search query asks for, read from what a person typed. Pure functions.

A query is words and "quoted phrases"; a result must contain every one of them (AND).
Nothing a person types reaches a full-text engine's own syntax: FTS5 operators (``AND``,
``NEAR(``, ``*``, ``-``, ``^``, column filters) and tsquery operators are just words here,
or nothing, and each term goes to the engine as a quoted phrase (:func:`fts5_match`) or as
text for PostgreSQL's ``phraseto_tsquery`` to parse, neither of which has a syntax to break.

Decisions:

- A term with no letter or digit in it (``*``, ``-``, a lone ``"``) is dropped: no engine
  can match it, and it must not turn the query into an error or into "everything".
- An unclosed quote runs to the end of the query (``"mayor resigns`` is that phrase).
- Case and repeated terms do not matter; at most :data:`MAX_TERMS` terms are kept, and the
  query is cut at :data:`MAX_QUERY_CHARS` characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 500
MAX_TERMS = 16

# A quoted phrase (the closing quote optional at the end), or a run of anything else that
# is not a space or a quote. Curly quotes count as quotes: phones type them.
_TERM = re.compile(r'["“”]([^"“”]*)(?:["“”]|$)|([^\s"“”]+)')


@dataclass(frozen=True)
class SearchQuery:
    """The terms a result must contain, each a word or a phrase (words in this order)."""

    terms: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not self.terms

    def __str__(self) -> str:
        return " ".join(f'"{term}"' if " " in term else term for term in self.terms)


def _has_word(term: str) -> bool:
    return any(character.isalnum() for character in term)


def parse_query(typed: str) -> SearchQuery:
    """The terms of what was typed (see the module's decisions)."""
    typed = typed[:MAX_QUERY_CHARS].replace("\x00", " ")
    terms: list[str] = []
    seen: set[str] = set()
    for match in _TERM.finditer(typed):
        phrase, word = match.groups()
        term = " ".join((phrase if phrase is not None else word).split())
        key = term.casefold()
        if not _has_word(term) or key in seen:
            continue
        seen.add(key)
        terms.append(term)
        if len(terms) == MAX_TERMS:
            break
    return SearchQuery(tuple(terms))


def fts5_match(query: SearchQuery) -> str:
    """The query as an FTS5 MATCH expression: every term a quoted string, joined by AND.
    (Inside FTS5 quotes only a doubled quote means anything, and the terms have none.)"""
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in query.terms)

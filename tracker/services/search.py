"""Which stories ever said something: full-text search over every version and headline.

The index is the database's own (migration 0013; :mod:`tracker.store.search_index`).
A search runs in three short steps, so that the costly part (snippets, which re-read a
version's text) is paid only for what one page shows:

1. the page of stories: the matching versions are read newest first (by id: the order
   they were stored in), in growing batches, until the page's stories (and one more) have
   been seen; a story's place is that of its newest version that said it. A word said in
   every version costs a few hundred rows, not a hundred thousand; the number of stories
   in all is known only when the matches ran out on the way (else "more");
2. the matching versions of those stories only (number, time, and on SQLite which of the
   headlines they stated matched);
3. a snippet with the matches marked for the newest :data:`SNIPPETS_PER_STORY` of them.

What was typed is read by :func:`tracker.core.search.parse_query`: it never reaches FTS5
or tsquery syntax as it was typed, so no query is an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session, selectinload

from tracker.core.search import SearchQuery, fts5_match, parse_query
from tracker.services.stories import StoryError
from tracker.store.models import Story, StoryTag, Version

# Marks around a match inside a snippet: private-use characters, which no article contains
# and which neither FTS5's nor PostgreSQL's option syntax treats specially.
MARK_START = "\ue000"
MARK_END = "\ue001"
SNIPPETS_PER_STORY = 3
SNIPPET_WORDS = 24
MAX_LIMIT = 100

# (text, is it a match) pieces: how a snippet or headline says what matched, for each
# interface to render its own way (HTML <mark>, bold in a terminal, JSON).
Marked = tuple[tuple[str, bool], ...]


def split_marks(marked: str) -> Marked:
    """A string with MARK_START/MARK_END around matches, as (text, matched) pieces."""
    pieces: list[tuple[str, bool]] = []
    rest = marked
    while rest:
        start = rest.find(MARK_START)
        if start < 0:
            pieces.append((rest, False))
            break
        if start:
            pieces.append((rest[:start], False))
        end = rest.find(MARK_END, start)
        if end < 0:
            end = len(rest)
        match = rest[start + 1 : end]
        if match:
            pieces.append((match, True))
        rest = rest[end + 1 :]
    return tuple(pieces)


def plain(marked: Marked) -> str:
    return "".join(piece for piece, _ in marked)


def has_match(marked: Marked) -> bool:
    return any(matched for _, matched in marked)


@dataclass(frozen=True)
class VersionHit:
    """A version that said it: its number, when it was captured, and (for the newest few of
    a story) a snippet with the matches marked; None beyond those."""

    seq: int
    captured_at: datetime
    snippet: Marked | None = None


@dataclass(frozen=True)
class HeadlineHit:
    """A headline stated by a version that matched, with the matched words marked."""

    headline: Marked
    current: bool  # is it the story's headline now?

    @property
    def text(self) -> str:
        return plain(self.headline)


@dataclass(frozen=True)
class StoryHit:
    story: Story
    # Every version of the story that said it, newest first.
    versions: tuple[VersionHit, ...]
    headlines: tuple[HeadlineHit, ...]

    @property
    def newest_at(self) -> datetime:
        return self.versions[0].captured_at


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    # Stories in all, over every page; None when not counted (more than were read: see
    # the module's step 1), in which case there is at least a next page.
    total: int | None
    limit: int
    offset: int
    stories: tuple[StoryHit, ...] = field(default_factory=tuple)
    has_more: bool = False

    @property
    def next_offset(self) -> int | None:
        return self.offset + len(self.stories) if self.has_more and self.stories else None


class SearchError(StoryError):
    """A search that cannot be run as asked (bad paging, a site that is no host name);
    a StoryError, so every interface says it as a bad request in one line."""


def search(
    session: Session,
    typed: str,
    *,
    limit: int = 20,
    offset: int = 0,
    tag: str | None = None,
    site: str | None = None,
) -> SearchResults:
    """The stories whose versions ever said `typed` (words and "quoted phrases", all of
    them), newest first, `limit` from `offset`; optionally only those with `tag`, or on
    `site` (a host name: "example.com" also takes "www.example.com")."""
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise SearchError("offset must not be negative")
    query = parse_query(typed)
    if query.is_empty:
        return SearchResults(query, 0, limit, offset)
    backend: _Backend = (
        _Sqlite(query) if session.get_bind().dialect.name == "sqlite" else _Postgres(query)
    )

    # 1. The page of stories.
    story_filter: ColumnElement[bool] | None = None
    if tag:
        story_filter = Version.story_id.in_(select(StoryTag.story_id).where(StoryTag.tag == tag))
    if site:
        on_site = Version.story_id.in_(_stories_on(site))
        story_filter = on_site if story_filter is None else story_filter & on_site
    newest_first, exhausted = _stories_newest_first(
        session, backend, offset + limit + 1, story_filter
    )
    story_ids = newest_first[offset : offset + limit]
    total = len(newest_first) if exhausted else None
    has_more = len(newest_first) > offset + limit
    if not story_ids:
        return SearchResults(query, total, limit, offset)

    # 2. Their versions that said it.
    hits = sorted(
        session.execute(backend.versions_of(story_ids)).all(),
        key=lambda row: (row.captured_at, row.seq),
        reverse=True,
    )
    by_story: dict[int, list[Any]] = defaultdict(list)
    for hit in hits:
        by_story[hit.story_id].append(hit)
    # Headlines are asked of the index once per distinct set a story stated (versions
    # mostly repeat their predecessor's), through its newest version.
    stated: dict[tuple[int, str | None, tuple[str, ...]], int] = {}
    for hit in hits:
        headline_list = hit.headlines if isinstance(hit.headlines, list) else []
        stated.setdefault((hit.story_id, hit.title, tuple(map(str, headline_list))), hit.id)
    headlines = backend.headlines(session, list(stated.values()))

    # 3. Snippets for the newest few of each.
    shown = [row.id for rows in by_story.values() for row in rows[:SNIPPETS_PER_STORY]]
    snippets = backend.snippets(session, shown)

    stories = {
        story.id: story
        for story in session.scalars(
            select(Story).where(Story.id.in_(story_ids)).options(selectinload(Story.tags))
        )
    }
    results = []
    for story_id in story_ids:
        story = stories[story_id]
        rows = by_story.get(story_id, [])
        matched_headlines = _story_headlines(story, [headlines.get(row.id, ()) for row in rows])
        versions = []
        for index, row in enumerate(rows):
            snippet = None
            if index < SNIPPETS_PER_STORY:
                snippet = snippets.get(row.id)
                if (snippet is None or not has_match(snippet)) and matched_headlines:
                    # It said it in a headline only: show that rather than unmarked text.
                    snippet = matched_headlines[0].headline
            versions.append(VersionHit(row.seq, row.captured_at, snippet))
        if versions:
            results.append(StoryHit(story, tuple(versions), tuple(matched_headlines)))
    return SearchResults(query, total, limit, offset, tuple(results), has_more)


def _story_headlines(story: Story, per_version: Sequence[Sequence[Marked]]) -> list[HeadlineHit]:
    """The distinct matching headlines of a story's versions, newest first."""
    seen: set[str] = set()
    found = []
    for marked_list in per_version:
        for marked in marked_list:
            headline = plain(marked)
            if headline in seen or not has_match(marked):
                continue
            seen.add(headline)
            found.append(HeadlineHit(marked, current=headline == story.title))
    return found


# Rows read per batch in step 1: small first (a common word fills a page at once), then
# larger (a word said many times in few stories).
SCAN_BATCHES = (250, 1_000, 5_000, 20_000)


def _stories_newest_first(
    session: Session, backend: _Backend, wanted: int, story_filter: ColumnElement[bool] | None
) -> tuple[list[int], bool]:
    """The first `wanted` distinct stories among the matching versions read newest first,
    and whether every match was read (then the list is all of them)."""
    stories: dict[int, None] = {}
    before: int | None = None
    batch = 0
    while len(stories) < wanted:
        size = SCAN_BATCHES[min(batch, len(SCAN_BATCHES) - 1)]
        batch += 1
        rows = session.execute(backend.newest_matches(before, size, story_filter)).all()
        for row in rows:
            stories.setdefault(row.story_id)
        if len(rows) < size:
            return list(stories), True
        before = rows[-1].id
    return list(stories)[:wanted], False


def _stories_on(site: str) -> Select[int]:
    host = site.strip().lower().removeprefix("www.").rstrip("/")
    if "://" in host:
        host = host.split("://", 1)[1].split("/", 1)[0]
    if not host or any(character in host for character in "%_/\\ "):
        raise SearchError(f"not a site (a host name such as example.com): {site!r}")
    return select(Story.id).where(
        Story.url.like(f"http://{host}/%")
        | Story.url.like(f"https://{host}/%")
        | Story.url.like(f"http://www.{host}/%")
        | Story.url.like(f"https://www.{host}/%")
        | (Story.url == f"https://{host}")
        | (Story.url == f"http://{host}")
    )


# (id, story_id, seq, captured_at, title, headlines) of versions.
VersionRows = Select[int, int, int, datetime, str | None, list[str]]


class _Backend:
    """What differs between the two databases' full-text search."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query

    def newest_matches(
        self, before: int | None, size: int, story_filter: ColumnElement[bool] | None
    ) -> Select[int, int]:
        """(id, story_id) of up to `size` matching versions with ids below `before`, the
        newest (highest id) first."""
        raise NotImplementedError

    def versions_of(self, story_ids: list[int]) -> VersionRows:
        """(id, story_id, seq, captured_at, title, headlines) of the matching versions of
        these stories."""
        raise NotImplementedError

    def headlines(self, session: Session, version_ids: list[int]) -> dict[int, list[Marked]]:
        """For each version, its headlines that contain any of the terms, marked."""
        raise NotImplementedError

    def snippets(self, session: Session, version_ids: list[int]) -> dict[int, Marked]:
        raise NotImplementedError


_FTS_MATCH = text("versions_fts MATCH :fts_match")
# The FTS5 table (migration 0013), as far as queries name it: its rowid is the version's id.
_FTS = table("versions_fts", column("rowid", Integer))


class _Sqlite(_Backend):
    def __init__(self, query: SearchQuery) -> None:
        super().__init__(query)
        self.match = fts5_match(query)

    def newest_matches(
        self, before: int | None, size: int, story_filter: ColumnElement[bool] | None
    ) -> Select[int, int]:
        # FTS5 reads its matches in descending rowid order itself, and stops at the limit.
        statement = (
            select(Version.id, Version.story_id)
            .join(_FTS, _FTS.c.rowid == Version.id)
            .where(_FTS_MATCH)
            .order_by(_FTS.c.rowid.desc())
            .limit(size)
            .params(fts_match=self.match)
        )
        if before is not None:
            statement = statement.where(_FTS.c.rowid < before)
        if story_filter is not None:
            statement = statement.where(story_filter)
        return statement

    def versions_of(self, story_ids: list[int]) -> VersionRows:
        # Asked of the index one version at a time (FTS5 seeks a rowid in each term's
        # list): a few hundred seeks, where reading every match of a common word would
        # cost as much as step 1 again.
        of_these_stories = select(Version.id).where(Version.story_id.in_(story_ids))
        matched = (
            select(_FTS.c.rowid)
            .where(_FTS_MATCH, _FTS.c.rowid.in_(of_these_stories))
            .params(fts_match=self.match)
        )
        return select(
            Version.id,
            Version.story_id,
            Version.seq,
            Version.captured_at,
            Version.title,
            Version.headlines,
        ).where(Version.story_id.in_(story_ids), Version.id.in_(matched))

    def _marked(self, session: Session, function: str, version_ids: list[int]) -> dict[int, str]:
        if not version_ids:
            return {}
        statement = text(
            f"SELECT rowid AS id, {function} AS marked FROM versions_fts "
            "WHERE versions_fts MATCH :fts_match AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        rows = session.execute(
            statement,
            {"fts_match": self.match, "ids": version_ids, "start": MARK_START, "end": MARK_END},
        )
        return {row.id: row.marked or "" for row in rows}

    def headlines(self, session: Session, version_ids: list[int]) -> dict[int, list[Marked]]:
        found: dict[int, list[Marked]] = {}
        # Column 0 holds the title and the other headlines, one a line (migration 0013).
        for start in range(0, len(version_ids), 500):
            chunk = version_ids[start : start + 500]
            marked = self._marked(session, "highlight(versions_fts, 0, :start, :end)", chunk)
            for version_id, lines in marked.items():
                found[version_id] = [
                    split_marks(line) for line in lines.split("\n") if MARK_START in line
                ]
        return found

    def snippets(self, session: Session, version_ids: list[int]) -> dict[int, Marked]:
        function = f"snippet(versions_fts, 1, :start, :end, '…', {SNIPPET_WORDS})"
        return {
            version_id: split_marks(marked)
            for version_id, marked in self._marked(session, function, version_ids).items()
        }


class _Postgres(_Backend):
    def __init__(self, query: SearchQuery) -> None:
        super().__init__(query)
        self.terms = query.terms

    def _tsquery(self, joiner: str) -> ColumnElement[Any]:
        """Every term as phraseto_tsquery (which parses text, so cannot fail), joined by
        && (all of them) or || (any)."""
        parts = [
            func.phraseto_tsquery(literal_column("'simple'::regconfig"), term)
            for term in self.terms
        ]
        combined: ColumnElement[Any] = parts[0]
        for part in parts[1:]:
            combined = combined.op(joiner)(part)
        return combined

    def _matches(self) -> ColumnElement[bool]:
        return literal_column("versions.search_vector").op("@@")(self._tsquery("&&"))

    def newest_matches(
        self, before: int | None, size: int, story_filter: ColumnElement[bool] | None
    ) -> Select[int, int]:
        # The planner chooses: the GIN index for a rare word, the primary key read
        # backwards (stopping at the limit) for a common one.
        statement = (
            select(Version.id, Version.story_id)
            .where(self._matches())
            .order_by(Version.id.desc())
            .limit(size)
        )
        if before is not None:
            statement = statement.where(Version.id < before)
        if story_filter is not None:
            statement = statement.where(story_filter)
        return statement

    def versions_of(self, story_ids: list[int]) -> VersionRows:
        return select(
            Version.id,
            Version.story_id,
            Version.seq,
            Version.captured_at,
            Version.title,
            Version.headlines,
        ).where(Version.story_id.in_(story_ids), self._matches())

    def headlines(self, session: Session, version_ids: list[int]) -> dict[int, list[Marked]]:
        if not version_ids:
            return {}
        # Any term, bound as parameters: phraseto_tsquery parses text, so cannot fail.
        any_term = " || ".join(
            f"phraseto_tsquery('simple', :term{index})" for index in range(len(self.terms))
        )
        statement = text(
            "SELECT versions.id AS id,"
            f" ts_headline('simple', headline.value, {any_term}, :options) AS marked"
            " FROM versions CROSS JOIN LATERAL ("
            "  SELECT versions.title AS value WHERE versions.title IS NOT NULL"
            "  UNION ALL SELECT json_array_elements_text(CASE WHEN"
            "   json_typeof(versions.headlines) = 'array' THEN versions.headlines"
            "   ELSE '[]'::json END)"
            " ) AS headline"
            f" WHERE versions.id IN :ids AND to_tsvector('simple', headline.value) @@ ({any_term})"
        ).bindparams(bindparam("ids", expanding=True))
        parameters: dict[str, Any] = {f"term{index}": term for index, term in enumerate(self.terms)}
        parameters["ids"] = version_ids
        parameters["options"] = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"
        found: dict[int, list[Marked]] = defaultdict(list)
        for row in session.execute(statement, parameters):
            found[row.id].append(split_marks(row.marked))
        return found

    def snippets(self, session: Session, version_ids: list[int]) -> dict[int, Marked]:
        if not version_ids:
            return {}
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, "
            "MinWords=12, MaxFragments=1"
        )
        rows = session.execute(
            select(
                Version.id,
                func.ts_headline(
                    literal_column("'simple'::regconfig"),
                    func.left(Version.text, 200_000),
                    self._tsquery("&&"),
                    options,
                ).label("marked"),
            ).where(Version.id.in_(version_ids))
        )
        return {row.id: split_marks(row.marked) for row in rows}


# -- as data (the API and `tracker search --json`) ----------------------------------------


def marked_fields(marked: Marked) -> list[dict[str, Any]]:
    return [{"text": piece, "match": matched} for piece, matched in marked]


def results_fields(results: SearchResults) -> dict[str, Any]:
    """The results as the API and `--json` give them (times stay datetimes: see
    services.serialize). Snippets come twice: plain text, and as pieces marked match or not."""
    return {
        "query": str(results.query),
        "terms": list(results.query.terms),
        "total": results.total,
        "limit": results.limit,
        "offset": results.offset,
        "next_offset": results.next_offset,
        "items": [
            {
                "story": {
                    "id": hit.story.id,
                    "url": hit.story.url,
                    "title": hit.story.title,
                    "status": hit.story.status,
                    "tags": hit.story.tag_names,
                },
                "newest_at": hit.newest_at,
                "versions_matched": len(hit.versions),
                "versions": [
                    {
                        "seq": version.seq,
                        "captured_at": version.captured_at,
                        "snippet": plain(version.snippet) if version.snippet else None,
                        "snippet_marked": (
                            marked_fields(version.snippet) if version.snippet else None
                        ),
                    }
                    for version in hit.versions
                ],
                "headlines": [
                    {
                        "headline": headline.text,
                        "current": headline.current,
                        "marked": marked_fields(headline.headline),
                    }
                    for headline in hit.headlines
                ],
            }
            for hit in results.stories
        ],
    }

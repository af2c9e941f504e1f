"""Reads the web UI, the API and the feeds share: pages of stories, versions, checks, events.

Every list is paginated in the database (LIMIT/OFFSET on indexed orderings), so a list of
100k stories costs one page of rows, and `Story.version_count` (denormalised) spares a
count of versions per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, load_only, selectinload

from tracker.core import diffing, liveblog
from tracker.core.article import Entry
from tracker.core.lifecycle import LIFECYCLE_EVENTS
from tracker.pipeline.check import version_as_article
from tracker.services.stories import (
    StoryError,
    StoryNotFound,
    get_version,
    stories_query,
    versions_held,
)
from tracker.store.models import Check, CheckOutcome, Event, Story, StoryTag, Version

T = TypeVar("T")
# A feed query of any row shape (versions or events, each with its story).
Scoped = TypeVar("Scoped", bound=Select[*tuple[Any, ...]])

# Each sort: ORDER BY terms, a unique column last so that pages never overlap.
SORTS: Final[dict[str, tuple[Any, ...]]] = {
    "last_changed": (Story.last_changed_at.desc().nulls_last(), Story.id.desc()),
    "next_check": (Story.next_check_at.asc().nulls_last(), Story.id),
    "added": (Story.added_at.desc(), Story.id.desc()),
    "versions": (Story.version_count.desc(), Story.id.desc()),
}
ERROR_OUTCOMES: Final = (CheckOutcome.ERROR, CheckOutcome.EMPTY, CheckOutcome.BLOCKED)
# The version list never needs the article text.
VERSION_SUMMARY_COLUMNS: Final = (
    Version.id,
    Version.story_id,
    Version.seq,
    Version.captured_at,
    Version.title,
    Version.kinds,
    Version.summary,
    Version.words_added,
    Version.words_removed,
    Version.chars_added,
    Version.chars_removed,
    Version.diff_coarse,
    Version.capture_sha256,
    Version.health,
    Version.health_reasons,
    Version.text_source,
    Version.fetcher,
    Version.screenshot_sha256,
    Version.previous_title,
    Version.excerpt,
)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def _page(
    session: Session, query: Select[*tuple[Any, ...]], limit: int, offset: int
) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.execute(query.limit(limit).offset(offset)))
    return rows, total


def story_page(
    session: Session,
    *,
    limit: int,
    offset: int,
    sort: str = "last_changed",
    status: str | None = None,
    tag: str | None = None,
    developing: bool | None = None,
    search: str | None = None,
    url: str | None = None,
) -> Page[Story]:
    query = stories_query(status=status, tag=tag, developing=developing, search=search)
    if url:
        query = query.where(Story.url == url)
    query = query.options(selectinload(Story.tags)).order_by(*SORTS[sort])
    rows, total = _page(session, query, limit, offset)
    return Page([row[0] for row in rows], total, limit, offset)


def get_story(session: Session, story_id: int) -> Story:
    story = session.get(Story, story_id)
    if story is None:
        raise StoryNotFound(f"no story {story_id} is tracked")
    return story


def version_page(
    session: Session, story: Story, *, limit: int, offset: int, newest_first: bool = True
) -> Page[Version]:
    order = Version.seq.desc() if newest_first else Version.seq.asc()
    query = (
        select(Version)
        .options(load_only(*VERSION_SUMMARY_COLUMNS), selectinload(Version.archive_submission))
        .where(Version.story_id == story.id)
        .order_by(order)
    )
    rows = [row[0] for row in session.execute(query.limit(limit).offset(offset))]
    return Page(rows, story.version_count, limit, offset)


@dataclass(frozen=True)
class VersionChoice:
    """A version as a picker names it: number, date, kinds."""

    seq: int
    captured_at: datetime
    kinds: list[str]


def version_choices(session: Session, story_id: int) -> list[VersionChoice]:
    """Every version of a story, newest first, as the diff page's pickers list them."""
    rows = session.execute(
        select(Version.seq, Version.captured_at, Version.kinds)
        .where(Version.story_id == story_id)
        .order_by(Version.seq.desc())
    )
    return [VersionChoice(seq, at, list(kinds or ())) for seq, at, kinds in rows]


def all_version_summaries(session: Session, story: Story) -> list[Version]:
    """Every version of a story, oldest first, without texts (for timelines and charts)."""
    query = (
        select(Version)
        # The archive hand-off's rows too (one query): the timeline links archived copies.
        .options(load_only(*VERSION_SUMMARY_COLUMNS), selectinload(Version.archive_submission))
        .where(Version.story_id == story.id)
        .order_by(Version.seq)
    )
    return list(session.scalars(query))


def check_page(
    session: Session,
    *,
    limit: int,
    offset: int,
    story_id: int | None = None,
    errors_only: bool = False,
) -> Page[tuple[Check, str]]:
    query = (
        select(Check, Story.url)
        .join(Story, Story.id == Check.story_id)
        .order_by(Check.started_at.desc(), Check.id.desc())
    )
    if story_id is not None:
        query = query.where(Check.story_id == story_id)
    if errors_only:
        query = query.where(Check.outcome.in_(ERROR_OUTCOMES))
    rows, total = _page(session, query, limit, offset)
    return Page([(row[0], row[1]) for row in rows], total, limit, offset)


def event_page(
    session: Session, *, limit: int, offset: int, story_id: int | None = None
) -> Page[tuple[Event, str]]:
    query = (
        select(Event, Story.url)
        .join(Story, Story.id == Event.story_id)
        .order_by(Event.created_at.desc(), Event.id.desc())
    )
    if story_id is not None:
        query = query.where(Event.story_id == story_id)
    rows, total = _page(session, query, limit, offset)
    return Page([(row[0], row[1]) for row in rows], total, limit, offset)


def story_titles(session: Session, story_ids: Sequence[int]) -> dict[int, str]:
    """The headline of each story that has one, by id (one query), for logs that name
    stories by headline first."""
    ids = sorted(set(story_ids))
    if not ids:
        return {}
    query = select(Story.id, Story.title).where(Story.id.in_(ids), Story.title.is_not(None))
    return {story_id: title for story_id, title in session.execute(query) if title}


def all_tags(session: Session, limit: int = 200) -> list[str]:
    return list(
        session.scalars(select(StoryTag.tag).distinct().order_by(StoryTag.tag).limit(limit))
    )


# -- diffs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionDiff:
    """Two versions of a story and the word diffs of their text and headline."""

    story_id: int
    url: str
    before: Version
    after: Version
    text: diffing.WordDiff
    title: diffing.WordDiff | None  # None when the headline did not change
    # A live blog read as entries in both versions: the diff entry by entry; else None.
    entries: list[diffing.DiffUnit] | None = None

    @property
    def consecutive(self) -> bool:
        return self.after.seq == self.before.seq + 1


def resolve_range(story: Story, from_seq: int | None, to_seq: int | None) -> tuple[int, int]:
    """The CLI's rules: nothing → the latest change; only `to` → the change that made it.

    Raises StoryError (a 4xx) for a range that does not exist.
    """
    count = story.version_count
    if count == 0:
        raise StoryError(f"{story.url} has no versions yet")
    to = count if to_seq is None else (count + 1 + to_seq if to_seq < 0 else to_seq)
    if not 1 <= to <= count:
        raise StoryError(f"{story.url} has no version {to_seq} ({versions_held(count)})")
    if from_seq is None:
        if to == 1:
            raise StoryError(f"{story.url} version 1 is the first version; nothing to diff")
        start = to - 1
    else:
        start = count + 1 + from_seq if from_seq < 0 else from_seq
    if not 1 <= start <= count:
        raise StoryError(f"{story.url} has no version {from_seq} ({versions_held(count)})")
    return start, to


def version_diff(
    session: Session, story: Story, from_seq: int | None, to_seq: int | None
) -> VersionDiff:
    start, end = resolve_range(story, from_seq, to_seq)
    before = get_version(session, story, start)
    after = get_version(session, story, end)
    title_diff = None
    if (before.title or "") != (after.title or ""):
        title_diff = diffing.word_diff(before.title or "", after.title or "")
    old, new = version_as_article(before), version_as_article(after)
    return VersionDiff(
        story_id=story.id,
        url=story.url,
        before=before,
        after=after,
        text=diffing.word_diff(before.text, after.text),
        title=title_diff,
        entries=liveblog.entry_units(old, new) if old.entries and new.entries else None,
    )


def latest_entries(session: Session, story: Story) -> tuple[Entry, ...]:
    """The entries of the story's latest version: () unless it was read as a live blog."""
    data = session.scalar(
        select(Version.entries).where(
            Version.story_id == story.id, Version.seq == story.version_count
        )
    )
    return liveblog.entries_from_json(data)


def latest_versions(
    session: Session, *, limit: int, story_id: int | None = None, tag: str | None = None
) -> list[tuple[Version, Story]]:
    """The newest versions (all stories, one, or one tag), newest first, for feeds."""
    query = (
        select(Version, Story)
        .join(Story, Story.id == Version.story_id)
        .order_by(Version.captured_at.desc(), Version.id.desc())
        .limit(limit)
    )
    query = _feed_scope(query, Version.story_id, story_id=story_id, tag=tag)
    return [(row[0], row[1]) for row in session.execute(query)]


def latest_lifecycle_events(
    session: Session, *, limit: int, story_id: int | None = None, tag: str | None = None
) -> list[tuple[Event, Story]]:
    """The newest lifecycle events (unpublished, moved, paywalled…), as `latest_versions`
    chooses versions, for the feeds: a story taken down is news a feed reader must see."""
    query = (
        select(Event, Story)
        .join(Story, Story.id == Event.story_id)
        .where(Event.kind.in_(LIFECYCLE_EVENTS))
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(limit)
    )
    query = _feed_scope(query, Event.story_id, story_id=story_id, tag=tag)
    return [(row[0], row[1]) for row in session.execute(query)]


def _feed_scope(
    query: Scoped, story_column: Any, *, story_id: int | None, tag: str | None
) -> Scoped:
    """A feed's rows narrowed to one story or to one tag's stories (neither: all)."""
    if story_id is not None:
        query = query.where(story_column == story_id)
    if tag is not None:
        query = query.where(story_column.in_(select(StoryTag.story_id).where(StoryTag.tag == tag)))
    return query


def previous_versions(session: Session, versions: Sequence[Version]) -> dict[int, Version]:
    """For each version (by id), the version before it in its story, in one query."""
    wanted = {(v.story_id, v.seq - 1): v.id for v in versions if v.seq > 1}
    if not wanted:
        return {}
    story_ids = {story_id for story_id, _ in wanted}
    seqs = {seq for _, seq in wanted}
    query = select(Version).where(Version.story_id.in_(story_ids), Version.seq.in_(seqs))
    found: dict[int, Version] = {}
    for previous in session.scalars(query):
        version_id = wanted.get((previous.story_id, previous.seq))
        if version_id is not None:
            found[version_id] = previous
    return found

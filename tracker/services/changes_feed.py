"""The changes page: every story's versions, newest first, filtered, a page at a time.

One query for the web page (/changes), the API (/api/v1/changes) and `tracker changes`.
Each row says what changed without reading any article text: the kinds, the headline it
replaced and the first changed sentence were stored with the version when it was written
(tracker.core.excerpt, migration 0012).

Pages are keyset-paginated on (captured_at, version id): a cursor names the last row seen,
so a page is an index range however deep it is, and rows stored meanwhile never shift or
repeat rows across pages. Versions captured in the same instant are told apart by id.

The article's lifecycle events (unpublished, redirected, slug changed, paywalled,
republished: tracker.core.lifecycle) are rows too, among the versions by time. Two tables,
one order: each row's key is (time, source, id), source 0 for a version and 1 for an event,
so an event and a version of the same instant (a story republished with edits) have an
order, and ids from the two tables never collide. A cursor names the source ("…-e12" is
event 12); each table is asked for the rows past it (an index range each) and the two lists
are merged. A kind filter naming only change kinds lists versions only, one naming only
lifecycle events lists events only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from tracker.core.excerpt import (
    ADDED,
    REMOVED,
    UNCHANGED,
    Segment,
    excerpt_from_json,
    excerpt_plain,
)
from tracker.core.kinds import KIND_LABELS, kind_label
from tracker.core.lifecycle import EVENT_LABELS, LIFECYCLE_EVENTS, LifecycleEvent
from tracker.core.when import parse_when
from tracker.services.stories import StoryError
from tracker.store.models import Event, Story, StoryTag, Version, VersionKind

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# The kinds a filter may name: change kinds and edit types (versions), lifecycle events.
KINDS = (*KIND_LABELS, *LIFECYCLE_EVENTS)
# A kind may be given in words too ("live entry added" is entry_added).
_KIND_BY_WORDS = {label.replace(" ", "_"): kind for kind, label in KIND_LABELS.items()}
# Excerpt segments as the API names diff ops elsewhere (DiffOp).
_OP_NAMES = {UNCHANGED: "equal", REMOVED: "delete", ADDED: "insert"}


class ChangesError(StoryError):
    """A filter or cursor the changes page cannot use; the message says why (a 400)."""


@dataclass(frozen=True)
class ChangeFilter:
    """Which versions to list. Empty: every version of every story."""

    kinds: tuple[str, ...] = ()
    tag: str | None = None
    site: str | None = None  # a domain; "www." and the scheme do not matter
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class Cursor:
    """A position in the list: the (captured_at, version id) of a row, or with `event` the
    (created_at, event id) of a lifecycle event's row."""

    captured_at: datetime
    version_id: int  # the row's id in its own table
    event: bool = False

    @property
    def key(self) -> tuple[datetime, int, int]:
        """The row's place in the list (newest first is this key descending)."""
        return (self.captured_at, int(self.event), self.version_id)

    def encode(self) -> str:
        micros = round(self.captured_at.timestamp() * 1_000_000)
        return f"{micros}-{'e' if self.event else ''}{self.version_id}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            micros, row_id = value.strip().split("-")
            when = datetime.fromtimestamp(int(micros) / 1_000_000, UTC)
            event = row_id.startswith("e")
            return cls(when, int(row_id.removeprefix("e")), event)
        except (ValueError, OverflowError, OSError):
            raise ChangesError(
                f"invalid cursor {value[:50]!r}: use a 'next' or 'newer' value of a page"
            ) from None


@dataclass(frozen=True)
class ChangeRow:
    story_id: int
    story_title: str | None  # the story's headline now
    url: str
    site: str
    version_id: int
    seq: int
    captured_at: datetime
    kinds: tuple[str, ...]
    title: str | None  # the headline this version stated
    previous_title: str | None  # the headline it replaced; None: the headline did not change
    excerpt: tuple[Segment, ...]
    summary: str | None
    # What a desk calls the edit (tracker.core.edit_types): "number_changed", ...
    edit_types: tuple[str, ...] = ()
    # A lifecycle event's row (then `version_id` is the event's id, `seq` the story's latest
    # version, `kinds` the event's kind): what happened, in words and as facts.
    event: str | None = None
    detail: str | None = None
    data: dict[str, Any] | None = None

    @property
    def kind_labels(self) -> list[str]:
        """The change kinds, then the edit types, in words (an event: its name)."""
        if self.event is not None:
            return [EVENT_LABELS[LifecycleEvent(self.event)]]
        return [kind_label(kind) for kind in (*self.kinds, *self.edit_types)]

    @property
    def excerpt_text(self) -> str:
        return excerpt_plain(self.excerpt)

    @property
    def headline(self) -> str:
        return self.story_title or self.title or self.url

    @property
    def story_path(self) -> str:
        return f"/stories/{self.story_id}"

    @property
    def change_path(self) -> str:
        """The diff that made this version; a first version's own page; for an event, the
        story's events."""
        if self.event is not None:
            return f"/stories/{self.story_id}#events"
        if self.seq <= 1:
            return f"/stories/{self.story_id}/versions/{self.seq}"
        return f"/stories/{self.story_id}/diff/{self.seq - 1}/{self.seq}"

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.captured_at, self.version_id, self.event is not None)


@dataclass(frozen=True)
class ChangesPage:
    rows: list[ChangeRow]
    limit: int
    older: str | None = None  # the cursor of the next (older) page; None: this is the last
    newer: str | None = None  # the cursor of the previous (newer) page; None: the first
    filter: ChangeFilter = field(default_factory=ChangeFilter)


def site_of(url: str) -> str:
    """The site a story belongs to, as people name it: the host without "www."."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # "[::1" and the like: not a URL with a host at all
        return ""
    return host.removeprefix("www.")


def make_filter(
    *,
    kinds: Sequence[str] = (),
    tag: str | None = None,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
    now: datetime,
) -> ChangeFilter:
    """A filter from what a person typed; ChangesError says what is wrong with it."""
    wanted: list[str] = []
    for value in kinds:
        for kind in value.split(","):
            kind = kind.strip().lower().replace(" ", "_").replace("-", "_")
            if not kind:
                continue
            kind = _KIND_BY_WORDS.get(kind, kind)
            if kind not in KINDS:
                known = ", ".join(KINDS)
                raise ChangesError(f"unknown kind {kind[:40]!r}: expected one of {known}")
            if kind not in wanted:
                wanted.append(kind)
    site_name = None
    if site and site.strip():
        raw = site.strip().lower()
        site_name = site_of(raw if "//" in raw else f"//{raw}")
        if not site_name or " " in site_name:
            raise ChangesError(f"invalid site {site[:80]!r}: expected a domain such as example.com")
    try:
        since_at = parse_when(since, now) if since and since.strip() else None
        until_at = parse_when(until, now) if until and until.strip() else None
    except ValueError as exc:
        raise ChangesError(str(exc)) from None
    return ChangeFilter(
        kinds=tuple(wanted),
        tag=tag.strip() if tag and tag.strip() else None,
        site=site_name,
        since=since_at,
        until=until_at,
    )


def changes_page(
    session: Session,
    changes: ChangeFilter | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    before: str | None = None,
    after: str | None = None,
) -> ChangesPage:
    """One page of versions and lifecycle events, newest first: the newest, those older
    than the cursor `before`, or those just newer than the cursor `after`."""
    changes = changes or ChangeFilter()
    if before and after:
        raise ChangesError("give either a 'before' (older) or an 'after' (newer) cursor, not both")
    limit = max(1, min(limit, MAX_LIMIT))
    older_than = Cursor.decode(before) if before else None
    newer_than = Cursor.decode(after) if after else None

    # Two steps: the page's version ids from indexes alone (no article row is read), then
    # those rows. Sorting a few thousand (time, id) pairs from an index is cheap; sorting
    # as many whole version rows is not.
    newest_first = newer_than is None
    version_kinds = tuple(kind for kind in changes.kinds if kind not in LIFECYCLE_EVENTS)
    event_kinds = tuple(kind for kind in changes.kinds if kind in LIFECYCLE_EVENTS)
    keys: list[Cursor] = []
    if version_kinds or not event_kinds:
        only_versions = ChangeFilter(
            version_kinds, changes.tag, changes.site, changes.since, changes.until
        )
        keys += _page_ids(session, only_versions, older_than, newer_than, limit + 1, newest_first)
    if event_kinds or not version_kinds:
        keys += _event_keys(
            session,
            changes,
            event_kinds or LIFECYCLE_EVENTS,
            older_than,
            newer_than,
            limit + 1,
            newest_first,
        )
    keys.sort(key=lambda cursor: cursor.key, reverse=newest_first)
    keys = keys[: limit + 1]
    ids = [key.version_id for key in keys if not key.event]
    event_ids = [key.version_id for key in keys if key.event]
    query = (
        select(
            Version.id,
            Version.story_id,
            Version.seq,
            Version.captured_at,
            Version.kinds,
            Version.edit_types,
            Version.title,
            Version.previous_title,
            Version.excerpt,
            Version.summary,
            Story.url,
            Story.title.label("story_title"),
        )
        .join(Story, Story.id == Version.story_id)
        .where(Version.id.in_(ids))
    )
    found = [_row(row) for row in session.execute(query)] if ids else []
    found += _event_rows(session, event_ids) if event_ids else []
    rows = sorted(found, key=lambda row: row.cursor.key, reverse=newest_first)
    more = len(rows) > limit
    rows = rows[:limit]
    older: str | None
    newer: str | None
    if newer_than is not None:
        rows.reverse()
        older = rows[-1].cursor.encode() if rows else before_cursor(newer_than)
        newer = rows[0].cursor.encode() if more and rows else None
    else:
        older = rows[-1].cursor.encode() if more and rows else None
        newer = rows[0].cursor.encode() if older_than is not None and rows else None
    return ChangesPage(rows, limit, older=older, newer=newer, filter=changes)


def _page_ids(
    session: Session,
    changes: ChangeFilter,
    older_than: Cursor | None,
    newer_than: Cursor | None,
    count: int,
    newest_first: bool,
) -> list[Cursor]:
    """The keys of the page's versions, in page order, read from indexes only."""
    narrow = _story_scope(changes)
    if narrow is not None and _is_broad(session, changes):
        # Many stories: walking every version in page order finds a page's worth of theirs
        # within a few hundred; gathering all their versions to sort would read thousands.
        narrow = None
        broad = _story_test(changes)
    else:
        broad = None
    if not changes.kinds:
        query = select(Version.id, Version.captured_at).where(
            *_conditions(changes, Version.captured_at),
            *_keyset(Version.captured_at, Version.id, older_than, newer_than),
        )
        if narrow is not None:
            query = query.where(Version.story_id.in_(narrow))
        if broad is not None:
            query = query.where(broad)
        ordered = _ordered(query, Version, newest_first, count)
        return [Cursor(row.captured_at, row.id) for row in session.execute(ordered)]
    # One index range per kind, each in page order and cut at the page's length, then
    # merged: never a sort of every version of a common kind (see migration 0012).
    found: dict[int, datetime] = {}
    for kind in changes.kinds:
        query = select(VersionKind.version_id.label("id"), VersionKind.captured_at).where(
            VersionKind.kind == kind,
            *_conditions(changes, VersionKind.captured_at),
            *_keyset(VersionKind.captured_at, VersionKind.version_id, older_than, newer_than),
        )
        if narrow is not None or broad is not None:
            query = query.join(Version, Version.id == VersionKind.version_id)
        if narrow is not None:
            query = query.where(Version.story_id.in_(narrow))
        if broad is not None:
            query = query.where(broad)
        ordered = _ordered(query, VersionKind, newest_first, count)
        found.update((row.id, row.captured_at) for row in session.execute(ordered))
    merged = sorted(found.items(), key=lambda item: (item[1], item[0]), reverse=newest_first)
    return [Cursor(captured_at, version_id) for version_id, captured_at in merged[:count]]


def _event_keys(
    session: Session,
    changes: ChangeFilter,
    kinds: Sequence[str],
    older_than: Cursor | None,
    newer_than: Cursor | None,
    count: int,
    newest_first: bool,
) -> list[Cursor]:
    """The keys of the page's lifecycle events, in page order (one index range per kind,
    as for versions' kinds; events are few beside versions)."""
    narrow = _story_scope(changes)
    found: dict[int, datetime] = {}
    for kind in kinds:
        query = select(Event.id, Event.created_at).where(
            Event.kind == kind,
            *_conditions(changes, Event.created_at),
            *_keyset(Event.created_at, Event.id, older_than, newer_than, events=True),
        )
        if narrow is not None:
            query = query.where(Event.story_id.in_(narrow))
        if newest_first:
            query = query.order_by(Event.created_at.desc(), Event.id.desc())
        else:
            query = query.order_by(Event.created_at, Event.id)
        found.update((row.id, row.created_at) for row in session.execute(query.limit(count)))
    return [Cursor(created_at, event_id, event=True) for event_id, created_at in found.items()]


def _event_rows(session: Session, event_ids: list[int]) -> list[ChangeRow]:
    query = (
        select(
            Event.id,
            Event.story_id,
            Event.kind,
            Event.created_at,
            Event.detail,
            Event.data,
            Story.url,
            Story.title,
            Story.version_count,
        )
        .join(Story, Story.id == Event.story_id)
        .where(Event.id.in_(event_ids))
    )
    return [
        ChangeRow(
            story_id=row.story_id,
            story_title=row.title,
            url=row.url,
            site=site_of(row.url),
            version_id=row.id,
            seq=row.version_count,
            captured_at=row.created_at,
            kinds=(row.kind,),
            title=None,
            previous_title=None,
            excerpt=(),
            summary=row.detail,
            event=row.kind,
            detail=row.detail,
            data=row.data,
        )
        for row in session.execute(query)
    ]


# A tag or site whose stories are at least this share of all stories is "broad".
BROAD_SHARE = 0.05


def _is_broad(session: Session, changes: ChangeFilter) -> bool:
    """Whether each of the tag and site filters allows many stories (counted from indexes)."""
    # The highest id stands in for the number of stories: an index's last entry, not a count.
    every = session.scalar(select(func.max(Story.id))) or 0
    counts = []
    if changes.tag:
        tagged = select(func.count()).where(StoryTag.tag == changes.tag)
        counts.append(session.scalar(tagged) or 0)
    if changes.site:
        on_site = select(func.count(Story.id)).where(_site_condition(changes.site))
        counts.append(session.scalar(on_site) or 0)
    return all(count >= BROAD_SHARE * every for count in counts)


def _story_test(changes: ChangeFilter) -> Any:
    """The tag and site filters as a test of each version's story (probed per version)."""
    tests = []
    if changes.tag:
        tests.append(
            exists().where(StoryTag.story_id == Version.story_id, StoryTag.tag == changes.tag)
        )
    if changes.site:
        owner = aliased(Story)
        tests.append(
            exists().where(owner.id == Version.story_id, _site_condition(changes.site, owner))
        )
    return and_(*tests)


def _ordered(query: Any, table: Any, newest_first: bool, count: int) -> Any:
    captured_at = table.captured_at
    version_id = table.id if table is Version else table.version_id
    if newest_first:
        return query.order_by(captured_at.desc(), version_id.desc()).limit(count)
    return query.order_by(captured_at, version_id).limit(count)


def _story_scope(changes: ChangeFilter) -> Any:
    """The stories the tag and site filters allow, as a subquery of ids; None: every story."""
    if not changes.tag and not changes.site:
        return None
    query = select(Story.id)
    if changes.tag:
        query = query.where(
            Story.id.in_(select(StoryTag.story_id).where(StoryTag.tag == changes.tag))
        )
    if changes.site:
        query = query.where(_site_condition(changes.site))
    return query


def before_cursor(cursor: Cursor) -> str:
    """Older than the cursor's own row includes the row itself: one step past it."""
    return Cursor(cursor.captured_at, cursor.version_id + 1, cursor.event).encode()


def _conditions(changes: ChangeFilter, captured_at: Any) -> list[Any]:
    out = []
    if changes.since is not None:
        out.append(captured_at >= changes.since)
    if changes.until is not None:
        out.append(captured_at < changes.until)
    return out


def _keyset(
    captured_at: Any,
    row_id: Any,
    older_than: Cursor | None,
    newer_than: Cursor | None,
    *,
    events: bool = False,
) -> list[Any]:
    """The rows of one table (versions, or with `events` lifecycle events) past a cursor.

    A row comparison: both databases read it as one range of the (captured_at, id) index,
    however many versions share the cursor's instant. A cursor on the other table's row
    compares by time alone: at the same instant events come before versions, newest first
    (their key is (time, 1, id) against (time, 0, id))."""
    if older_than is not None:
        if older_than.event == events:
            return [tuple_(captured_at, row_id) < (older_than.captured_at, older_than.version_id)]
        if older_than.event:  # versions of the event's instant are older than it
            return [captured_at <= older_than.captured_at]
        return [captured_at < older_than.captured_at]
    if newer_than is not None:
        if newer_than.event == events:
            return [tuple_(captured_at, row_id) > (newer_than.captured_at, newer_than.version_id)]
        if newer_than.event:
            return [captured_at > newer_than.captured_at]
        return [captured_at >= newer_than.captured_at]  # events of the version's instant
    return []


def _site_condition(site: str, story: Any = Story) -> Any:
    # The site's stories are ranges of the unique (so indexed) URL column: no scan.
    ranges = []
    for scheme in ("https", "http"):
        for host in (site, f"www.{site}"):
            prefix = f"{scheme}://{host}/"
            ranges.append(and_(story.url >= prefix, story.url < prefix[:-1] + "0"))
    return or_(*ranges)


def _row(row: Any) -> ChangeRow:
    return ChangeRow(
        story_id=row.story_id,
        story_title=row.story_title,
        url=row.url,
        site=site_of(row.url),
        version_id=row.id,
        seq=row.seq,
        captured_at=row.captured_at,
        kinds=tuple(row.kinds or ()),
        edit_types=tuple(row.edit_types or ()),
        title=row.title,
        previous_title=row.previous_title,
        excerpt=tuple(excerpt_from_json(row.excerpt)),
        summary=row.summary,
    )


def row_fields(row: ChangeRow) -> dict[str, Any]:
    """A row for `--json` and the API."""
    return {
        "story_id": row.story_id,
        "headline": row.headline,
        "url": row.url,
        "site": row.site,
        "seq": row.seq,
        "captured_at": row.captured_at,
        "kinds": list(row.kinds),
        "edit_types": list(row.edit_types),
        "kinds_in_words": row.kind_labels,
        "title": row.title,
        "previous_title": row.previous_title,
        "excerpt": [{"op": _OP_NAMES[op], "text": text} for op, text in row.excerpt],
        "excerpt_text": row.excerpt_text,
        "summary": row.summary,
        "story_path": row.story_path,
        "change_path": row.change_path,
        # A lifecycle event's row: its kind and facts (from, to, status); null for versions.
        "event": row.event,
        "event_data": row.data,
    }

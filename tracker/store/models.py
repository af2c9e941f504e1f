"""SQLAlchemy 2.0 typed ORM models. The schema itself only changes through ``migrations/``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.store.base import Base, UTCDateTime

if TYPE_CHECKING:
    from tracker.store.archive_models import ArchiveSubmission


class StoryStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    RETIRED = "retired"
    GONE = "gone"


class StoryOrigin(StrEnum):
    USER = "user"
    FEED = "feed"


class PromiseState(StrEnum):
    NONE = "none"
    PENDING = "pending"
    FULFILLED = "fulfilled"
    OVERDUE = "overdue"


class CheckOutcome(StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not_modified"
    EMPTY = "empty"  # the page was fetched but no article could be extracted
    BLOCKED = "blocked"  # robots.txt disallows the URL
    ERROR = "error"
    # In reports only, never stored: not checked (another worker holds the story's lease,
    # or the engine was shutting down before its turn came).
    SKIPPED = "skipped"


class EventKind(StrEnum):
    PROMISE_MADE = "promise_made"
    PROMISE_FULFILLED = "promise_fulfilled"
    PROMISE_OVERDUE = "promise_overdue"
    STORY_GONE = "story_gone"
    STORY_RETIRED = "story_retired"
    CHECKS_FAILING = "checks_failing"
    # The stored text is probably not the article (once, when a story turns suspect).
    EXTRACTION_SUSPECT = "extraction_suspect"
    # A story's versions were rebuilt on purpose (`tracker reextract`) and chained again;
    # the detail keeps the old chain head, so the rewrite itself is on the record.
    CHAIN_REBUILT = "chain_rebuilt"
    # The article's lifecycle (tracker.core.lifecycle): taken down, sent elsewhere, moved to
    # a new address, hidden behind a paywall, back again. Each is an alert of its own.
    UNPUBLISHED = "unpublished"
    REDIRECTED = "redirected"
    SLUG_CHANGED = "slug_changed"
    PAYWALLED = "paywalled"
    REPUBLISHED = "republished"
    # The story serves headline variants or paragraphs that come and go (tracker.core.
    # variants): once per story; their flips make no versions from then on.
    VARIANTS_DETECTED = "variants_detected"


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    # Indexed: adding a URL and merging duplicates look stories up by canonical URL.
    canonical_url: Mapped[str | None] = mapped_column(String(2048), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=StoryStatus.ACTIVE)
    # Who asked for it: "user" (by hand: add, import, web, API) or "feed" (a feed listed
    # it). A merge of canonical duplicates never removes or retires a user's story.
    added_by: Mapped[str] = mapped_column(
        String(16), default=StoryOrigin.USER, server_default=StoryOrigin.USER
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Indexed: listings (CLI, web, API) sort by last change.
    last_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Cadence counts age from the last *substantive* change: minor edits don't reset it.
    last_substantive_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    schedule_reason: Mapped[str | None] = mapped_column(String(200))

    developing: Mapped[bool] = mapped_column(Boolean, default=False)
    promise_text: Mapped[str | None] = mapped_column(Text)
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promise_state: Mapped[str] = mapped_column(String(16), default=PromiseState.NONE)

    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_gone: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    version_count: Mapped[int] = mapped_column(Integer, default=0)
    last_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The rules (check.ANALYSIS_VERSION) that stored the latest version's article; None:
    # older than this column, or the selector changed since.
    analysis_version: Mapped[int | None] = mapped_column(Integer)

    # Per-story overrides.
    selector: Mapped[str | None] = mapped_column(String(1000))
    ignore_patterns: Mapped[list[str]] = mapped_column(JSON, default=list)
    fixed_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    min_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    max_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    respect_robots_txt: Mapped[bool | None] = mapped_column(Boolean)
    # How pages are fetched: "http", "browser", or "auto" (plain HTTP, escalating when the
    # page turns out to be an app shell). NULL: the `render` setting.
    render: Mapped[str | None] = mapped_column(String(16))
    # The latest version's extraction health ("ok" or "suspect"), so listings need no join.
    extraction_health: Mapped[str | None] = mapped_column(String(16))
    # The fetcher that got the latest version. With render "auto", a story whose page
    # needed the browser goes straight to it (its plain HTML is a shell that may not
    # change, or answer 304, while the article does).
    last_fetcher: Mapped[str | None] = mapped_column(String(16))
    # Where the article sits in the page and a digest of what it was read from, as of the
    # latest full read (tracker.core.region): a check whose page has the same digest there
    # skips extraction. NULL: not known (no read yet, or the region cannot be drawn).
    region_path: Mapped[str | None] = mapped_column(String(1000))
    region_digest: Mapped[str | None] = mapped_column(String(64))
    # Where the page stands (tracker.core.lifecycle): "live", "unpublished", "redirected" or
    # "paywalled", and the article's address as last seen live (NULL: not seen yet).
    lifecycle: Mapped[str] = mapped_column(String(16), default="live", server_default="live")
    live_url: Mapped[str | None] = mapped_column(String(2048))
    # When the story was first seen serving variants (story_variants); NULL: never. A check
    # counts the variants served only for these stories.
    variants_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Loaded on access: the check path never needs them; listings use selectinload.
    tags: Mapped[list[StoryTag]] = relationship(
        back_populates="story", cascade="all, delete-orphan"
    )
    versions: Mapped[list[Version]] = relationship(
        back_populates="story", cascade="all, delete-orphan", order_by="Version.seq"
    )

    __table_args__ = (
        # Claims take due active stories in next_check_at order from here.
        Index("ix_stories_status_next_check_at", "status", "next_check_at"),
        # Only the leased stories (checks in flight: a few hundred, whatever the table's
        # size), so a worker finds a dead worker's leases without reading every story.
        Index(
            "ix_stories_leased",
            "lease_owner",
            postgresql_where=text("lease_owner IS NOT NULL"),
            sqlite_where=text("lease_owner IS NOT NULL"),
        ),
    )

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.tag for t in self.tags)


class StoryTag(Base):
    __tablename__ = "story_tags"

    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)

    story: Mapped[Story] = relationship(back_populates="tags")


class Capture(Base):
    """A raw HTTP body, content-addressed: identical bodies are stored once."""

    __tablename__ = "captures"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_zstd: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    first_captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # From the first fetch that produced this body (WARC export needs them).
    url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    encoding: Mapped[str | None] = mapped_column(String(64))


class Version(Base):
    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fingerprint: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    # Every headline the page stated (h1, og:title, <title>): sites edit them separately.
    headlines: Mapped[list[str]] = mapped_column(JSON, default=list)
    byline: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(64))
    modified: Mapped[str | None] = mapped_column(String(64))
    canonical_url: Mapped[str | None] = mapped_column(String(2048))
    text: Mapped[str] = mapped_column(Text)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    words_added: Mapped[int] = mapped_column(Integer, default=0)
    words_removed: Mapped[int] = mapped_column(Integer, default=0)
    chars_added: Mapped[int] = mapped_column(Integer, default=0)
    chars_removed: Mapped[int] = mapped_column(Integer, default=0)
    diff_coarse: Mapped[bool] = mapped_column(Boolean, default=False)
    capture_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("captures.sha256", ondelete="SET NULL")
    )
    # The tamper-evident chain (tracker.core.chain): the article's digest, the raw capture's
    # digest as captured (kept when the capture itself is pruned), and the link to the
    # previous version. NULL only between an upgrade and its migration's back-fill.
    # The edit types (tracker.core.edit_types) against the previous version: figures,
    # quotes, names, notes; NULL for first versions, live blogs and versions stored before.
    edit_types: Mapped[list[str] | None] = mapped_column(JSON)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    chain_sha256: Mapped[str | None] = mapped_column(String(64))
    # A PNG of the rendered page (browser_screenshots), content-addressed in captures.
    screenshot_sha256: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("captures.sha256", ondelete="SET NULL")
    )
    # Where the text came from ("html", "selector", or embedded data such as "json-ld") and
    # which fetcher got the page ("http", "browser"); NULL on versions stored before.
    text_source: Mapped[str | None] = mapped_column(String(32))
    fetcher: Mapped[str | None] = mapped_column(String(16))
    # Is the stored text plausibly the article? "ok" or "suspect", with the reasons
    # ([{"code": …, "message": …}]); NULL on versions stored before the verdict existed.
    health: Mapped[str | None] = mapped_column(String(16))
    health_reasons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # A live blog's entries ([{"key", "time", "label", "headline", "text", "pinned"}], see
    # tracker.core.liveblog); NULL for other pages and for versions stored before.
    entries: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # What the changes page shows of this version, decided once when it is written
    # (tracker.core.excerpt): the headline it replaced (NULL: the headline did not change)
    # and its first changed sentence as [[op, text], ...] segments (NULL: the text did not
    # change).
    previous_title: Mapped[str | None] = mapped_column(Text)
    excerpt: Mapped[list[list[str]] | None] = mapped_column(JSON)

    story: Mapped[Story] = relationship(back_populates="versions")
    # Its web-archive hand-off, if the hand-off was on when it was stored (archive_models).
    archive_submission: Mapped[ArchiveSubmission | None] = relationship(viewonly=True)
    # `kinds` once more, a row per kind, so that the changes page can filter by kind through
    # an index (see VersionKind). Kept in step by `index_kinds`.
    kind_rows: Mapped[list[VersionKind]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("story_id", "seq"),
        # The changes page: every version, newest first, a page at a time (with the story,
        # so a tag or site filter tests each version's story from the index alone).
        Index("ix_versions_captured_at_id_story_id", "captured_at", "id", "story_id"),
        # The changes page filtered by tag or site: those stories' versions in page order.
        Index("ix_versions_story_id_captured_at_id", "story_id", "captured_at", "id"),
    )

    def index_kinds(self) -> None:
        """Make `kind_rows` say what `kinds`, `edit_types` and `captured_at` say (call after
        setting them): the changes page filters on both through one index."""
        wanted = set(self.kinds or ()) | set(self.edit_types or ())
        for row in list(self.kind_rows):
            if row.kind not in wanted:
                self.kind_rows.remove(row)
            else:
                row.captured_at = self.captured_at
                wanted.discard(row.kind)
        self.kind_rows.extend(
            VersionKind(kind=kind, captured_at=self.captured_at) for kind in sorted(wanted)
        )


class VersionKind(Base):
    """One change kind of one version (a copy of `Version.kinds`, one row per kind).

    A JSON list cannot be searched through an index on either database; these rows can: the
    index on (kind, captured_at, version_id) hands the changes page a kind's versions newest
    first without reading any other version.
    """

    __tablename__ = "version_kinds"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The version's, copied so the index gives a kind's versions in page order.
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_version_kinds_kind_captured_at", "kind", "captured_at", "version_id"),
    )


class Check(Base):
    """One attempt to check a story. Kept small: there are many."""

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id", ondelete="SET NULL"))
    capture_sha256: Mapped[str | None] = mapped_column(String(64))
    worker: Mapped[str | None] = mapped_column(String(200))
    # Which fetcher made this check, and why that one when "auto" chose (e.g. "the plain
    # page is an app shell: rendered in the browser").
    fetcher: Mapped[str | None] = mapped_column(String(16))
    render_reason: Mapped[str | None] = mapped_column(Text)
    # Of duration_ms, how long the check waited for its host's slot (per-host politeness)
    # before fetching: a slow check may be a busy host queue, not a slow site. None: checks
    # recorded before this was measured.
    wait_ms: Mapped[int | None] = mapped_column(Integer)


class Event(Base):
    """Something that happened to a story besides a new version (promises, gone, …)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id", ondelete="SET NULL"))
    detail: Mapped[str | None] = mapped_column(Text)
    # The facts of a lifecycle event ({"from": URL, "to": URL, "status": 404, ...}); NULL for
    # other events.
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        # The changes view lists lifecycle events among versions, newest first, by kind.
        Index("ix_events_kind_created_at_id", "kind", "created_at", "id"),
    )


class Worker(Base):
    """A running daemon or worker (`tracker run`, `tracker worker`): its heartbeat.

    Each writes its row at start and every ``HEARTBEAT_SECONDS`` and deletes it on a clean
    stop, so the web UI can say honestly whether anything is checking stories
    (:func:`tracker.core.health.daemon_alive`); a crashed one's row simply goes stale.
    """

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

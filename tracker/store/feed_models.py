"""Feeds (RSS, Atom, sitemaps) and the stories each one brought in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from tracker.store.base import Base, UTCDateTime


class Feed(Base):
    """A feed or sitemap polled on its own schedule, with conditional GET."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(16))  # rss, atom, sitemap, … once polled
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    include_pattern: Mapped[str | None] = mapped_column(String(1000))
    exclude_pattern: Mapped[str | None] = mapped_column(String(1000))
    interval_seconds: Mapped[int | None] = mapped_column(Integer)  # None: the setting
    # The render mode given to the stories this feed adds (None: the `render` setting).
    render: Mapped[str | None] = mapped_column(String(16))
    # Entries on other sites than the feed's own become stories only when the user said so
    # (`tracker feed add --any-site`): else a feed could send the tracker anywhere.
    any_site: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A paused feed is not polled (by the daemon or `tracker feed poll --due`) until resumed.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    stories_added: Mapped[int] = mapped_column(Integer, default=0)
    # What the last poll left out and why (caps reached, entries on other sites), or None.
    last_warning: Mapped[str | None] = mapped_column(Text)


class FeedStory(Base):
    """A story a feed listed (one story can come from several feeds)."""

    __tablename__ = "feed_stories"

    feed_id: Mapped[int] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

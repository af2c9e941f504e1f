"""Discovery, the I/O part: feeds and sitemaps polled on their own schedule; duplicate merging.

Each feed is polled when due (``feeds.next_poll_at``) with a conditional GET; every entry it
lists that passes the feed's include/exclude patterns becomes a story (tagged with the
feed's tags, first seen when the feed says it was published). A feed is claimed by one
atomic UPDATE before it is fetched, so several workers sharing a database never poll the
same feed twice. Fetching and parsing happen outside any transaction; what a poll learnt
is written in one short transaction.

A feed is not trusted to say what the tracker fetches: only entries on the feed's own site
(registrable domain, :func:`tracker.core.discover.same_site`) become stories unless the
user allowed any site (``--any-site``); one poll adds at most ``feed_max_new_per_poll`` new
stories (newest first, the rest on later polls) and a feed has at most ``feed_max_stories``
active ones; what was left out is reported (the poll's report, the feed's ``last_warning``,
a log line). The first checks of a poll's new stories are spread over
``feed_new_stories_spread``.

:func:`merge_canonical_duplicates` makes one article one story when two stories turn out to
be the same page (a story's page declares ``<link rel=canonical>`` naming another story).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.core import discover
from tracker.core.cadence import parse_duration
from tracker.net.fetcher import (
    DEFAULT_FETCHER,
    FetchResult,
    Outcome,
    PageFetcher,
    new_fetcher,
    not_fetched,
)
from tracker.net.politeness import RobotsCache
from tracker.services.stories import StoryError, add_stories, check_render
from tracker.store.db import Database
from tracker.store.feed_models import Feed, FeedStory
from tracker.store.models import Story, StoryOrigin, StoryStatus, StoryTag, Version

log = logging.getLogger("tracker.feeds")

# A sitemap index can list hundreds of sitemaps; news sites list the newest first.
MAX_CHILD_SITEMAPS = 5
# How long a claimed feed stays reserved for the worker polling it.
POLL_LEASE = timedelta(minutes=5)
MAX_BACKOFF_FACTOR = 16


class FeedNotFound(StoryError):
    pass


@dataclass
class PollReport:
    """What one poll of one feed did."""

    feed_id: int
    url: str
    outcome: str  # ok | not_modified | error | skipped (claimed by another worker)
    http_status: int | None = None
    kind: str | None = None
    entries: int = 0
    added: list[str] = field(default_factory=list)  # URLs of stories created
    linked: int = 0  # entries newly listed by this feed (new stories or known ones)
    rejected: list[str] = field(default_factory=list)  # "url: reason"
    error: str | None = None
    held_back: int = 0  # new entries left for later polls (the caps)
    off_site: int = 0  # entries on other sites, skipped (the feed may not list them)
    warning: str | None = None  # what was left out and why, in words


# -- managing feeds -------------------------------------------------------------------------


def add_feed(
    session: Session,
    url: str,
    *,
    now: datetime,
    tags: Sequence[str] = (),
    include: str | None = None,
    exclude: str | None = None,
    interval: str | None = None,
    render: str | None = None,
    any_site: bool | None = None,
) -> tuple[Feed, bool]:
    """Add a feed (due at once) or update the tags/patterns of an existing one.

    `render` is the render mode of the stories it adds (see ``tracker set --render``);
    `any_site` lets its entries on other sites than its own become stories (default no)."""
    from tracker.net import netguard

    try:
        url = discover.canonicalise_url(netguard.validate_url(url))
        discover.compile_filter(include, exclude)
        interval_seconds = int(parse_duration(interval).total_seconds()) if interval else None
        render_mode = check_render(render) if render is not None else None
    except (netguard.BadURLError, ValueError) as exc:
        raise StoryError(str(exc)) from exc
    feed = session.scalar(select(Feed).where(Feed.url == url))
    created = feed is None
    if feed is None:
        feed = Feed(
            url=url,
            tags=[],
            added_at=now,
            next_poll_at=now,
            consecutive_failures=0,
            stories_added=0,
            any_site=False,
            paused=False,
        )
        session.add(feed)
    feed.tags = sorted(set(feed.tags or ()) | {t for t in tags if t})
    if include is not None:
        feed.include_pattern = include or None
    if exclude is not None:
        feed.exclude_pattern = exclude or None
    if interval_seconds is not None:
        feed.interval_seconds = interval_seconds
    if render is not None:
        feed.render = render_mode
    if any_site is not None:
        feed.any_site = any_site
    session.flush()
    return feed, created


def follow_feed(
    session: Session,
    url: str,
    *,
    now: datetime,
    allow_private_networks: bool,
    tags: Sequence[str] = (),
    include: str | None = None,
    exclude: str | None = None,
    interval: str | None = None,
    render: str | None = None,
    any_site: bool | None = None,
) -> tuple[Feed, bool]:
    """:func:`add_feed` behind the private-network refusal that every interface applies
    (`tracker feed add`, the web UI): a feed on a private address is refused unless
    ``allow_private_networks``; a host that does not resolve yet is accepted (it may later)."""
    from tracker.net import netguard

    try:
        netguard.check_url(url.strip(), allow_private=allow_private_networks)
    except (netguard.BadURLError, netguard.PrivateNetworkError) as exc:
        raise StoryError(str(exc)) from exc
    except netguard.HostLookupError:
        pass  # may resolve later
    return add_feed(
        session,
        url,
        now=now,
        tags=tags,
        include=include,
        exclude=exclude,
        interval=interval,
        render=render,
        any_site=any_site,
    )


def set_feed_paused(session: Session, feed: Feed, paused: bool, *, now: datetime) -> None:
    """Pause a feed (not polled until resumed) or resume it (due at once)."""
    feed.paused = paused
    if not paused:
        feed.next_poll_at = now
    session.flush()


def find_feed(session: Session, ref: str | int) -> Feed:
    feed: Feed | None = None
    if isinstance(ref, int) or ref.isdigit():
        feed = session.get(Feed, int(ref))
    else:
        feed = session.scalar(select(Feed).where(Feed.url == ref))
        if feed is None:
            feed = session.scalar(select(Feed).where(Feed.url == discover.canonicalise_url(ref)))
    if feed is None:
        raise FeedNotFound(f"no feed {ref!r} (see `tracker feed list`)")
    return feed


def list_feeds(session: Session) -> list[Feed]:
    return list(session.scalars(select(Feed).order_by(Feed.id)))


def remove_feed(session: Session, feed: Feed) -> None:
    """Stop polling a feed; the stories it brought in stay tracked."""
    session.delete(feed)


# -- polling --------------------------------------------------------------------------------


def fetch_feed(
    fetcher: PageFetcher,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET a feed or sitemap (any content type), conditionally, behind the fetcher's guards:
    the same limits, deadline and private-network guard on every redirect hop."""
    return fetcher.fetch_resource(url, etag=etag, last_modified=last_modified)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FeedProbe:
    """What a URL given as a feed turned out to be, fetched once before it is followed."""

    url: str
    kind: str | None = None  # rss | atom | sitemap | … when it is one
    problem: str | None = None  # why it cannot be followed, in words
    advertised: tuple[str, ...] = ()  # an HTML page's own feeds, to suggest instead

    @property
    def ok(self) -> bool:
        return self.problem is None


def feed_probe(url: str, fetched: FetchResult) -> FeedProbe:
    """Whether the fetched `url` is a feed or sitemap the poller can read; an HTML page
    (an article, a section front) is not, and the feeds it advertises are suggested."""
    if fetched.outcome is not Outcome.OK or fetched.body is None:
        return FeedProbe(url, problem=f"could not fetch it: {fetched.error or 'no body'}")
    base = fetched.final_url or url
    parsed = discover.parse_feed(fetched.body, base)
    if parsed.ok:
        return FeedProbe(url, kind=parsed.kind)
    if discover.looks_like_html(fetched.body):
        return FeedProbe(
            url,
            problem="it is an HTML page, not an RSS/Atom feed or a sitemap",
            advertised=tuple(discover.advertised_feeds(fetched.body, base)),
        )
    return FeedProbe(url, problem=parsed.problem or "not an RSS/Atom feed or sitemap")


class FeedPoller:
    """Polls feeds; used by the daemon's feeds job and by ``tracker feed poll``."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        fetcher: PageFetcher | None = None,
        robots: RobotsCache | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`robots`: the robots.txt cache to share (the daemon passes its engine's); one is
        made when robots.txt is honoured (`respect_robots_txt`) and none is given."""
        from tracker.pipeline.engine import fetch_options

        self.db = db
        self.settings = settings
        self.clock = clock
        self._own_fetcher = fetcher is None
        self.fetcher = fetcher or new_fetcher(DEFAULT_FETCHER, fetch_options(settings))
        if robots is None and settings.respect_robots_txt:
            robots = RobotsCache(
                self.fetcher, settings.user_agent, ttl=settings.robots_cache_seconds
            )
        self.robots = robots if settings.respect_robots_txt else None
        self.interval = parse_duration(settings.feed_poll_interval)
        self.new_stories_spread = parse_duration(settings.feed_new_stories_spread)
        self.tracking = discover.tracking_parameters(settings.tracking_parameters)

    def close(self) -> None:
        if self._own_fetcher:
            self.fetcher.close()

    def __enter__(self) -> FeedPoller:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def poll_due(self) -> list[PollReport]:
        now = self.clock()
        with self.db.session() as session:
            ids = list(
                session.scalars(
                    select(Feed.id)
                    .where(Feed.next_poll_at <= now, Feed.paused.is_(False))
                    .order_by(Feed.next_poll_at)
                )
            )
        return self.poll(ids, due_only=True)

    def poll(self, feed_ids: Iterable[int], *, due_only: bool = False) -> list[PollReport]:
        reports = []
        for feed_id in feed_ids:
            try:
                reports.append(self.poll_feed(feed_id, due_only=due_only))
            except Exception as exc:
                log.exception("polling feed %s failed", feed_id)
                reports.append(PollReport(feed_id, "", "error", error=f"internal error: {exc}"))
        return reports

    def poll_feed(self, feed_id: int, *, due_only: bool = False) -> PollReport:
        now = self.clock()
        with self.db.session() as session:
            feed = session.get(Feed, feed_id)
            if feed is None:
                return PollReport(feed_id, "", "error", error="no such feed")
            url, etag, last_modified = feed.url, feed.etag, feed.last_modified
            any_site = feed.any_site
            claim = update(Feed).where(Feed.id == feed_id)
            if due_only:
                claim = claim.where(Feed.next_poll_at <= now)
            claimed = cast(
                "CursorResult[Any]",
                session.execute(
                    claim.values(next_poll_at=now + POLL_LEASE).execution_options(
                        synchronize_session=False
                    )
                ),
            ).rowcount
        if not claimed:
            return PollReport(feed_id, url, "skipped", error="being polled by another worker")

        fetched = self._fetch(url, etag=etag, last_modified=last_modified)
        report = PollReport(feed_id, url, str(fetched.outcome), http_status=fetched.status)
        parsed: discover.ParsedFeed | None = None
        if fetched.outcome is Outcome.OK and fetched.body is not None:
            parsed = discover.parse_feed(fetched.body, fetched.final_url or url)
            if parsed.kind == "sitemap-index":
                parsed = self._read_children(parsed, url, any_site=any_site)
            if not parsed.ok:
                report.outcome, report.error = "error", parsed.problem
        elif fetched.outcome is Outcome.ERROR:
            report.error = fetched.error
        with self.db.session() as session:
            self._record(session, feed_id, fetched, parsed, report, now=self.clock())
        return report

    def probe(self, url: str) -> FeedProbe:
        """Fetch `url` once (robots.txt and the fetcher's guards as for a poll) and say
        whether it can be followed as a feed: ``tracker feed add`` asks before adding."""
        return feed_probe(url, self._fetch(url))

    def _fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch a feed or sitemap unless robots.txt disallows it (then a recorded error)."""
        if self.robots is not None:
            decision = self.robots.decide(url)
            if not decision.allowed:
                return not_fetched(url, error=decision.reason, error_kind="robots")
        return fetch_feed(self.fetcher, url, etag=etag, last_modified=last_modified)

    def _read_children(
        self, index: discover.ParsedFeed, index_url: str, *, any_site: bool
    ) -> discover.ParsedFeed:
        entries: list[discover.Entry] = []
        problems = []
        children = [
            child
            for child in index.sitemaps
            if any_site or discover.same_site(index_url, child)  # its own site's sitemaps only
        ]
        for child_url in children[:MAX_CHILD_SITEMAPS]:
            child = self._fetch(child_url)
            if child.outcome is not Outcome.OK or child.body is None:
                problems.append(f"{child_url}: {child.error}")
                continue
            parsed = discover.parse_feed(child.body, child.final_url or child_url)
            entries.extend(parsed.entries)
        problem = "; ".join(problems) if problems and not entries else None
        return discover.ParsedFeed("sitemap-index", None, tuple(entries), index.sitemaps, problem)

    def _record(
        self,
        session: Session,
        feed_id: int,
        fetched: FetchResult,
        parsed: discover.ParsedFeed | None,
        report: PollReport,
        *,
        now: datetime,
    ) -> None:
        feed = session.get(Feed, feed_id)
        if feed is None:  # removed while we polled
            return
        feed.last_polled_at = now
        feed.last_status = fetched.status
        interval = (
            timedelta(seconds=feed.interval_seconds) if feed.interval_seconds else self.interval
        )
        if report.outcome == "error":
            feed.consecutive_failures += 1
            feed.last_error = report.error
            factor = min(2 ** (feed.consecutive_failures - 1), MAX_BACKOFF_FACTOR)
            feed.next_poll_at = now + interval * factor
            return
        feed.consecutive_failures = 0
        feed.last_error = None
        feed.next_poll_at = now + interval
        if fetched.etag or fetched.last_modified:
            feed.etag = fetched.etag
            feed.last_modified = fetched.last_modified
        if parsed is None:  # 304 Not Modified
            return
        feed.kind = parsed.kind
        feed.title = parsed.title or feed.title
        report.kind = parsed.kind
        report.entries = len(parsed.entries)
        self._add_entries(session, feed, parsed.entries, report, now=now)
        feed.last_warning = report.warning
        if report.held_back:
            # Read it all again next time (no 304): the entries held back are still due.
            feed.etag = feed.last_modified = None

    def _add_entries(
        self,
        session: Session,
        feed: Feed,
        entries: Sequence[discover.Entry],
        report: PollReport,
        *,
        now: datetime,
    ) -> None:
        known = set(
            session.scalars(
                select(Story.url)
                .join(FeedStory, FeedStory.story_id == Story.id)
                .where(FeedStory.feed_id == feed.id)
            )
        )
        entry_filter = discover.compile_filter(feed.include_pattern, feed.exclude_pattern)
        fresh = discover.new_entries(entries, known, entry_filter, self.tracking)
        warnings: list[str] = []
        if not feed.any_site:
            on_site = [entry for entry in fresh if discover.same_site(feed.url, entry.url)]
            report.off_site = len(fresh) - len(on_site)
            if report.off_site:
                example = next(e.url for e in fresh if not discover.same_site(feed.url, e.url))
                warnings.append(
                    f"{report.off_site} entries on other sites skipped (e.g. "
                    f"{urlsplit(example).hostname}): only the feed's own site is followed "
                    "unless it was added with --any-site"
                )
            fresh = on_site
        # Newest first: when a cap leaves entries for later, the news comes first.
        fresh.sort(key=lambda entry: entry.published or _UNDATED, reverse=True)
        active = (
            session.scalar(
                select(func.count())
                .select_from(FeedStory)
                .join(Story, Story.id == FeedStory.story_id)
                .where(FeedStory.feed_id == feed.id, Story.status == StoryStatus.ACTIVE)
            )
            or 0
        )
        per_poll = self.settings.feed_max_new_per_poll
        room = max(0, self.settings.feed_max_stories - active)
        budget = min(per_poll, room)
        # A feed of junk the tracker refuses costs lookups too: as many refusals as additions.
        refusals_left = per_poll
        linked = set(
            session.scalars(select(FeedStory.story_id).where(FeedStory.feed_id == feed.id))
        )
        created = 0
        for position, entry in enumerate(fresh):
            if created >= budget or refusals_left <= 0:
                report.held_back = len(fresh) - position
                break
            first_seen = min(entry.published, now) if entry.published else now
            # Spread the first checks: the n-th of this poll's new stories is due a share of
            # feed_new_stories_spread later, so a poll never makes them all due at once.
            due_at = now + self.new_stories_spread * created / max(1, min(len(fresh), budget))
            try:  # add_stories validates before it writes anything
                [result] = add_stories(
                    session,
                    [entry.url],
                    now=now,
                    tags=feed.tags or (),
                    allow_private_networks=self.settings.allow_private_networks,
                    first_seen_at=first_seen,
                    render=feed.render,
                    added_by=StoryOrigin.FEED,
                    due_at=due_at,
                )
            except StoryError as exc:
                report.rejected.append(f"{entry.url}: {exc}")
                refusals_left -= 1
                continue
            if result.created:
                report.added.append(result.url)
                feed.stories_added += 1
                created += 1
            if result.story_id not in linked:
                session.add(FeedStory(feed_id=feed.id, story_id=result.story_id, seen_at=now))
                linked.add(result.story_id)
                report.linked += 1
        if report.held_back:
            if refusals_left <= 0:
                why = f"{per_poll} entries refused this poll"
            elif created >= per_poll:
                why = f"at most {per_poll} new stories a poll (feed_max_new_per_poll)"
            else:
                why = (
                    f"the feed has {active + created} active stories, its limit "
                    f"(feed_max_stories {self.settings.feed_max_stories})"
                )
            warnings.insert(0, f"{report.held_back} new entries held back for later polls: {why}")
        report.warning = "; ".join(warnings) or None
        if report.warning:
            log.warning("feed %s: %s", feed.url, report.warning)
        session.flush()


# Entries without a date sort after every dated one.
_UNDATED = datetime.min.replace(tzinfo=UTC)


# -- one article, one story -----------------------------------------------------------------


@dataclass(frozen=True)
class Merge:
    """Story ``duplicate`` turned out to be story ``kept``: what happened to it."""

    kept_id: int
    kept_url: str
    duplicate_id: int
    duplicate_url: str
    action: str  # "removed" (nothing of its own to keep) or "retired" (its versions kept)


def merge_canonical_duplicates(
    session: Session, *, tracking: discover.TrackingParameters | None = None
) -> list[Merge]:
    """Merge stories that are the same article by their pages' ``<link rel=canonical>``.

    Two stories are the same when one's canonical URL (canonicalised) is the other's URL, or
    both declare the same canonical URL - a canonical URL on another site than the story's
    own never counts (a page cannot claim another site's article). The story kept is the
    one whose URL *is* the canonical URL, else the one with most versions (among the ones
    added by hand, if any), else the oldest. The others give their tags and feed
    links to the kept story and are then deleted if every version they have is also a
    version of the kept story (same fingerprint) - nothing is lost - or else retired with
    their versions kept as evidence, so they are never checked again. A story the user
    added by hand is never removed or retired this way: only the ones feeds added are.
    """
    rows = session.execute(
        select(Story.id, Story.url, Story.canonical_url, Story.version_count, Story.added_by)
        .where(Story.status != StoryStatus.RETIRED)
        .order_by(Story.id)
    ).all()
    by_url = {row.url: row for row in rows}
    groups: dict[str, list[Any]] = {}
    for row in rows:
        key = discover.canonical_within_site(row.url, row.canonical_url, tracking=tracking)
        if key and key != row.url:
            groups.setdefault(key, []).append(row)
    merges: list[Merge] = []
    for key, members in groups.items():
        if key in by_url:
            members = [by_url[key], *members]
        if len(members) < 2:
            continue
        if members[0].url == key:
            kept = members[0]
        else:
            by_hand = [row for row in members if row.added_by == StoryOrigin.USER]
            kept = _most_versions(by_hand or members)
        for duplicate in members:
            if duplicate.id != kept.id and duplicate.added_by != StoryOrigin.USER:
                merges.append(_merge(session, kept, duplicate))
    return merges


def _most_versions(members: list[Any]) -> Any:
    return sorted(members, key=lambda row: (-row.version_count, row.id))[0]


def _merge(session: Session, kept: Any, duplicate: Any) -> Merge:
    kept_story = session.get(Story, kept.id)
    dup_story = session.get(Story, duplicate.id)
    assert kept_story is not None and dup_story is not None
    kept_story.first_seen_at = min(kept_story.first_seen_at, dup_story.first_seen_at)
    existing_tags = {t.tag for t in kept_story.tags}
    for tag in dup_story.tag_names:
        if tag not in existing_tags:
            kept_story.tags.append(StoryTag(tag=tag))
    kept_feeds = set(
        session.scalars(select(FeedStory.feed_id).where(FeedStory.story_id == kept_story.id))
    )
    for link in session.scalars(select(FeedStory).where(FeedStory.story_id == dup_story.id)):
        if link.feed_id not in kept_feeds:
            session.add(
                FeedStory(feed_id=link.feed_id, story_id=kept_story.id, seen_at=link.seen_at)
            )
    kept_prints = set(
        session.scalars(select(Version.fingerprint).where(Version.story_id == kept_story.id))
    )
    dup_prints = set(
        session.scalars(select(Version.fingerprint).where(Version.story_id == dup_story.id))
    )
    session.execute(delete(FeedStory).where(FeedStory.story_id == dup_story.id))
    if dup_prints <= kept_prints:
        action = "removed"
        session.delete(dup_story)
    else:
        action = "retired"
        dup_story.status = StoryStatus.RETIRED
        dup_story.next_check_at = None
        dup_story.schedule_reason = f"duplicate of story {kept_story.id} ({kept_story.url})"[:200]
    session.flush()
    log.info("merged story %s into %s (%s)", dup_story.url, kept_story.url, action)
    return Merge(kept_story.id, kept_story.url, dup_story.id, dup_story.url, action)


# -- the daemon's job -----------------------------------------------------------------------

# Due feeds are found by their own next_poll_at; this is only how often we look.
DISCOVERY_TICK_SECONDS = 60.0
RETENTION_EVERY = timedelta(hours=1)


def discovery_job(
    db: Database,
    settings: Settings,
    *,
    fetcher: PageFetcher | None = None,
    robots: RobotsCache | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Callable[[], None]:
    """The daemon's "feeds" duty: poll due feeds, merge duplicate stories, and (hourly)
    prune raw captures past ``capture_retention_days``. Never raises."""
    from tracker.store.captures import prune_captures

    poller = FeedPoller(db, settings, fetcher=fetcher, robots=robots, clock=clock)
    last_pruned: list[datetime] = []

    def tick() -> None:
        try:
            reports = poller.poll_due()
            with db.session() as session:
                merges = merge_canonical_duplicates(session, tracking=poller.tracking)
            added = sum(len(r.added) for r in reports)
            if reports or merges:
                log.info(
                    "feeds: %d polled, %d new stories, %d errors, %d duplicates merged",
                    len(reports),
                    added,
                    sum(r.outcome == "error" for r in reports),
                    len(merges),
                )
            now = clock()
            days = settings.capture_retention_days
            if days > 0 and (not last_pruned or now - last_pruned[-1] >= RETENTION_EVERY):
                with db.session() as session:
                    pruned = prune_captures(session, now - timedelta(days=days))
                last_pruned[:] = [now]
                if pruned:
                    log.info("retention: %d raw captures older than %d days pruned", pruned, days)
        except Exception as exc:  # noqa: BLE001 -- database down: the next tick catches up
            log.error("feeds job failed: %s", exc)

    return tick

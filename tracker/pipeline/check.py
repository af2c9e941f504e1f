"""One check of one story: fetch → extract → compare → store, as three small steps.

1. What the check needs is read when its story is claimed
   (:mod:`tracker.pipeline.story_state`, with the decisions that need no page).
2. :func:`analyse` and :func:`compare` are pure: extraction and fingerprint (CPU-bound, may
   run in another process), then diff and classification against the previous version.
3. :func:`record` writes everything in ONE transaction at the end: the capture, the version,
   its events, the check row and the story's new schedule. A crash before the commit
   loses nothing (the story is still due); a crash after it leaves a complete record.

No network, clock or database inside the decisions: the engine (``engine.py``) supplies
the fetch result and ``now``. A check answered 304 Not Modified is written in bulk by
:mod:`tracker.pipeline.not_modified`, which comes here only for the unusual one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import __version__
from tracker.core import (
    cadence,
    changes,
    diffing,
    discover,
    edit_types,
    excerpt,
    health,
    lifecycle,
    liveblog,
    region,
)
from tracker.core.extract import Article, extract, parse_page
from tracker.core.kinds import is_substantive
from tracker.core.normalize import fingerprint
from tracker.core.region import Region
from tracker.net.fetcher import BROWSER_FETCHER, FetchResult, Outcome
from tracker.pipeline import stages, variants
from tracker.pipeline.outbox import enqueue_alerts
from tracker.pipeline.story_state import (
    ANALYSIS_VERSION,
    CheckReport,
    LifecycleFacts,
    lifecycle_step,
    reschedule,
)
from tracker.pipeline.web_archive import enqueue_submission
from tracker.store.captures import body_sha256, compress, store_capture
from tracker.store.chain import link_new_version
from tracker.store.models import (
    Check,
    CheckOutcome,
    Event,
    EventKind,
    PromiseState,
    Story,
    StoryStatus,
    Version,
)

_EVENTS_KEY = "tracker.pipeline.check.events"
_LOCKED_KEY = "tracker.pipeline.check.locked"

# After this many consecutive failed checks a "checks failing" event is recorded (once).
FAILING_EVENT_AFTER = 5
EMPTY_ARTICLE_ERROR = "no article text found on the page (extraction returned nothing)"


@dataclass(frozen=True)
class Analysis:
    """The pure result of extracting a fetched page."""

    article: Article | None
    fingerprint: str | None
    promise: changes.Promise | None
    # Whether the article is plausibly what the page shows (None: not assessed, because the
    # fingerprint was the one already stored: nothing new to judge).
    health: health.Health | None = None
    # Where the article sits in the page (tracker.core.region); None: it cannot be drawn.
    region: Region | None = None
    # The page's region was as last read, so it was not read again: no `article`, and the
    # `fingerprint` is the one stored then.
    same_region: bool = False
    # CPU seconds spent by stage (tracker.pipeline.stages): parse, extract, fingerprint.
    cpu: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def empty(self) -> bool:
        return not self.same_region and (self.article is None or not self.article.text)


@dataclass(frozen=True)
class Comparison:
    """How a new article differs from the previous version."""

    kinds: frozenset[str]
    stats: diffing.DiffStats
    coarse: bool
    summary: str
    substantive: bool
    # Nothing a version stores differs: the fingerprint moved for a reason no reader could
    # see (new fingerprint rules after an upgrade, a new ignore pattern). No version then.
    identical: bool = False
    # The change in one line (tracker.core.excerpt) and the headline it replaced, if any.
    excerpt: tuple[excerpt.Segment, ...] = ()
    previous_title: str | None = None
    # What a desk calls the edit (tracker.core.edit_types): figures, quotes, names,
    # correction notes, silent corrections; None for a first version and a live blog.
    edit_types: tuple[str, ...] | None = None


def analyse(
    html: str,
    url: str,
    selector: str | None,
    ignore_patterns: tuple[str, ...],
    *,
    known_fingerprint: str | None = None,
    known_region: Region | None = None,
    rendered: bool = False,
) -> Analysis:
    """Extract the article, its fingerprint and its health. Pure; safe to run in a worker
    process. The health verdict is skipped when the fingerprint is `known_fingerprint` (the
    story's latest: that article was judged when it was stored); `rendered` says a browser
    rendered `html` (see `health.assess`).

    With `known_region` (where the article read as `known_fingerprint` sat, and its digest),
    a page whose region has that digest still is not read again (see tracker.core.region)."""
    cpu: dict[str, float] = {}
    salt = region_salt(selector, ignore_patterns, rendered=rendered)
    # The page is parsed once: extraction and the region read copies of the tree, the health
    # verdict reads it as it is (a copy costs a fifth of a parse).
    with stages.measure(cpu, "parse"):
        parsed = parse_page(html)
        source: str | HtmlElement = html if parsed is None else parsed
        page: Any = None  # the page as the region test reads it, prepared once for both uses
        if known_region is not None and known_fingerprint is not None:
            page = region.prepare(parsed)
            same = region.digest_at(page, known_region.path, salt=salt) == known_region.digest
            if same:
                return Analysis(
                    None, known_fingerprint, None, region=known_region, same_region=True, cpu=cpu
                )
    with stages.measure(cpu, "extract"):
        article = extract(source, url, selector=selector)
    with stages.measure(cpu, "parse"):
        page = page if page is not None else region.prepare(parsed)
    with stages.measure(cpu, "fingerprint"):
        verdict: health.Health | None = None
        if not article.text:
            verdict = health.assess(article, source, rendered=rendered, shown=page)
            return Analysis(article, None, None, verdict, cpu=cpu)
        print_ = fingerprint(article, ignore_patterns=ignore_patterns)
        promise = changes.detect_promise(article)
        if print_ != known_fingerprint:  # a known article was judged when it was stored
            verdict = health.assess(article, source, rendered=rendered, shown=page)
    with stages.measure(cpu, "parse"):
        found = region.locate(page, article, salt=salt)
    return Analysis(article, print_, promise, verdict, region=found, cpu=cpu)


def region_salt(selector: str | None, ignore_patterns: tuple[str, ...], *, rendered: bool) -> str:
    """What decides an article besides its page: a region digest taken by another release or
    rules, another fetcher, or for other story settings is not the same digest."""
    return repr((__version__, ANALYSIS_VERSION, rendered, selector, tuple(ignore_patterns)))


def version_as_article(version: Version) -> Article:
    return Article(
        title=version.title,
        byline=version.byline,
        published=version.published,
        modified=version.modified,
        text=version.text,
        canonical_url=version.canonical_url,
        lang=None,
        headlines=tuple(version.headlines or ()),
        entries=liveblog.entries_from_json(version.entries),
    )


def latest_version(session: Session, story_id: int) -> Version | None:
    return session.scalar(
        select(Version).where(Version.story_id == story_id).order_by(Version.seq.desc()).limit(1)
    )


def compare(previous: Article | None, current: Article, *, diff_timeout: float = 1.0) -> Comparison:
    """Classify and measure the change from ``previous`` to ``current``. Pure."""
    if previous is None:
        words = diffing.count_words(current.text)
        stats = diffing.DiffStats(
            words_added=words, words_removed=0, chars_added=len(current.text), chars_removed=0
        )
        kinds = frozenset({changes.ChangeKind.FIRST})
        first = excerpt.change_excerpt(None, current.text) or ()
        return Comparison(kinds, stats, False, "First version", True, excerpt=tuple(first))
    diff = diffing.word_diff(previous.text, current.text, timeout=diff_timeout)
    # A live blog read twice as entries is compared entry by entry.
    live = liveblog.compare_live(previous, current, diff.stats)
    edits: tuple[str, ...] | None = None
    if live is not None:
        kinds, summary = live.kinds, live.summary
    else:
        change = changes.analyse(previous, current)
        kinds = change.kinds
        summary = changes.describe(change.kinds, diff.stats, change.paragraphs)
        edits = tuple(
            edit_types.version_edit_types(previous.text, current.text, current.lang or "en")
        )
    return Comparison(
        kinds=frozenset(str(kind) for kind in kinds),
        stats=diff.stats,
        coarse=diff.coarse,
        summary=summary,
        substantive=is_substantive(kinds),
        identical=_stored_fields(previous) == _stored_fields(current),
        excerpt=tuple(excerpt.change_excerpt(previous.text, current.text) or ()),
        previous_title=excerpt.previous_headline(previous.title, current.title),
        edit_types=edits,
    )


def _stored_fields(article: Article) -> tuple[object, ...]:
    """What a version keeps of an article that a reader would call a change. Not the modified
    time: a CMS re-publishing (moving its "Updated" stamp and dateModified) changed nothing
    a reader can see; the new time is stored with the next real version."""
    return (
        article.title,
        tuple(article.headlines),
        article.byline,
        article.published,
        article.canonical_url,
        article.text,
        tuple(article.entries),
    )


@dataclass(frozen=True)
class PreparedCapture:
    """A body hashed and compressed outside the write transaction."""

    sha256: str
    compressed: bytes


def prepare_capture(body: bytes) -> PreparedCapture:
    return PreparedCapture(body_sha256(body), compress(body))


def record(
    session: Session,
    story_id: int,
    fetched: FetchResult,
    analysis: Analysis | None,
    comparison: Comparison | None,
    *,
    policy: cadence.CadencePolicy,
    now: datetime,
    started_at: datetime,
    worker: str | None,
    compared_against: str | None,
    capture: PreparedCapture | None = None,
    robots_blocked: bool = False,
    fetcher: str | None = None,
    render_reason: str | None = None,
    wait_ms: int | None = None,
    archive_versions: bool = False,
    jitter_unit: float | None = None,
) -> CheckReport:
    """Write the result of one check in the caller's transaction.

    `jitter_unit`: the cadence's random draw (see `next_schedule`), when the caller has made
    it already; by default it is drawn here.

    ``archive_versions``: a new version is also owed to the web archive (the hand-off is on).

    `wait_ms` is how much of the check was spent waiting for the host's politeness slot.

    `fetcher` names the fetcher that got the page (stored with the check and its version) and
    `render_reason` says why that one, when the story's render mode chose.

    ``compared_against`` is the fingerprint the comparison was made against; if the story
    moved on meanwhile (another worker stored a version after our lease expired) the
    result is discarded rather than stored twice.
    """
    # Events this record makes (a batch writes many records in one session, so
    # session.new would mix them up).
    session.info[_EVENTS_KEY] = []
    story = _lock_story(session, story_id)
    duration_ms = max(0, int((now - started_at).total_seconds() * 1000))
    if story is None:
        return CheckReport(story_id, fetched.url, CheckOutcome.ERROR, error="story was removed")
    report = CheckReport(
        story.id, story.url, CheckOutcome.ERROR, duration_ms=duration_ms, wait_ms=wait_ms
    )
    if worker is not None and story.lease_owner not in (None, worker):
        report.lease_lost = True
        report.error = f"lease lost to {story.lease_owner}; result discarded"
        return report
    check = Check(
        story_id=story.id,
        started_at=started_at,
        duration_ms=duration_ms,
        outcome=CheckOutcome.ERROR,
        http_status=fetched.status,
        bytes=fetched.bytes_read,
        worker=worker,
        fetcher=fetcher,
        render_reason=render_reason[:2000] if render_reason else None,
        wait_ms=None if wait_ms is None else min(wait_ms, duration_ms),
    )
    story.last_checked_at = now
    retry_after: timedelta | None = None
    version: Version | None = None
    withhold = _observe_lifecycle(
        session, story, fetched, analysis, comparison, compared_against, now=now
    )

    if robots_blocked:
        check.outcome = CheckOutcome.BLOCKED
        check.error_kind = "robots"
        check.error = f"{fetched.error} (a story can override robots.txt: respect_robots_txt)"
        _failed(session, story, check, now)
    elif fetched.outcome is Outcome.ERROR:
        check.outcome = CheckOutcome.ERROR
        check.error_kind = fetched.error_kind
        check.error = fetched.error
        if fetched.status in (404, 410):
            story.consecutive_gone += 1
        if fetched.status in (429, 503) and fetched.retry_after is not None:
            retry_after = timedelta(seconds=fetched.retry_after)
        _failed(session, story, check, now)
    elif fetched.outcome is Outcome.NOT_MODIFIED:
        check.outcome = CheckOutcome.NOT_MODIFIED
        _succeeded(story)
        # A 304 may carry newer validators (RFC 9111, 4.3.4: they replace the stored ones);
        # without them the fetcher hands back those it sent, so nothing is lost either way.
        story.etag, story.last_modified = fetched.etag, fetched.last_modified
    elif withhold is not None:  # the page is not the article now: no version of it
        story.region_path = story.region_digest = None
        check.outcome, check.error_kind, check.error = CheckOutcome.EMPTY, withhold[0], withhold[1]
        story.consecutive_gone, story.last_error = 0, check.error
    elif analysis is None or analysis.empty:
        story.region_path = story.region_digest = None
        check.outcome = CheckOutcome.EMPTY
        check.error_kind = "empty"
        check.error = EMPTY_ARTICLE_ERROR
        if analysis is not None and analysis.health is not None:
            check.error = f"{EMPTY_ARTICLE_ERROR}. {analysis.health.suggestion}"
            _judge_extraction(session, story, analysis.health, now)
        _failed(session, story, check, now)
    else:
        _succeeded(story)
        # A rendered page has no validators of its own: its HTML is built from data the
        # shell fetches, so a 304 for the shell would say nothing about the article.
        story.etag = fetched.etag if fetcher != BROWSER_FETCHER else None
        story.last_modified = fetched.last_modified if fetcher != BROWSER_FETCHER else None
        if analysis.same_region:
            # The article was not read again: it is the one read last time, whose promise
            # (if any) is already recorded.
            check.outcome = CheckOutcome.UNCHANGED
            if analysis.fingerprint != story.last_fingerprint:  # a version came meanwhile
                report.error = "story changed meanwhile; result discarded"
                report.lease_lost = True
                return report
        elif analysis.fingerprint == story.last_fingerprint:
            check.outcome = CheckOutcome.UNCHANGED
            _update_promise(session, story, analysis, None, substantive=False, now=now)
        elif comparison is None or compared_against != story.last_fingerprint:
            report.error = "story changed meanwhile; result discarded"
            report.lease_lost = True
            return report
        elif comparison.identical:
            check.outcome = CheckOutcome.UNCHANGED
            story.last_fingerprint = analysis.fingerprint  # compare with the new one from now
            _update_promise(session, story, analysis, None, substantive=False, now=now)
        elif (
            flip := variants.flip(session, story, analysis.article, comparison.kinds, now)
        ) is not None:
            # Only a flip between the story's headline variants or paragraphs that come and
            # go (tracker.core.variants): no version, and the next check compares with this
            # page, so that a real edit after flips is still diffed against the latest version.
            check.outcome = CheckOutcome.UNCHANGED
            story.last_fingerprint = analysis.fingerprint
            if flip.detected:
                _event(session, story, EventKind.VARIANTS_DETECTED, now, detail=flip.detected)
            _update_promise(session, story, analysis, None, substantive=False, now=now)
        else:
            check.outcome = CheckOutcome.CHANGED
            comparison = variants.beside_variants(session, story, analysis.article, comparison)
            verdict = _health_of_version(session, story, analysis, comparison)
            version = store_version(
                session,
                story,
                fetched,
                analysis,
                comparison,
                now=now,
                capture=capture,
                fetcher=fetcher,
                verdict=verdict,
            )
            if verdict is not None:
                _judge_extraction(session, story, verdict, now, version_id=version.id)
            check.version_id = version.id
            check.capture_sha256 = version.capture_sha256
            report.version_seq = version.seq
            report.kinds = tuple(sorted(comparison.kinds))
            report.summary = comparison.summary
            _update_promise(
                session, story, analysis, version, substantive=comparison.substantive, now=now
            )
        if story.variants_since is not None:
            variants.count_served(session, story, analysis.article, now)
        if not analysis.same_region:  # where the article just read sits, for the next check
            found = analysis.region
            story.region_path = found.path if found else None
            story.region_digest = found.digest if found else None

    schedule = reschedule(story, policy, now, retry_after=retry_after, jitter_unit=jitter_unit)
    if story.status == StoryStatus.GONE:
        _event(session, story, EventKind.STORY_GONE, now, detail=check.error)
    elif story.status == StoryStatus.RETIRED:
        _event(session, story, EventKind.STORY_RETIRED, now, detail=schedule.reason)
    story.lease_owner = None
    story.lease_expires_at = None
    session.add(check)
    new_events = session.info.pop(_EVENTS_KEY)
    if new_events:
        session.flush()  # the alerts refer to the events' ids
    # The alerts owed for this version and these events commit with them, or not at all.
    enqueue_alerts(session, story=story, version=version, events=new_events, now=now)
    if archive_versions and version is not None:  # the web-archive hand-off, same transaction
        enqueue_submission(session, story=story, version=version, now=now)
    report.events = [str(event.kind) for event in new_events]

    report.outcome = CheckOutcome(check.outcome)
    report.http_status = check.http_status
    report.error = report.error or check.error
    report.next_check_at = story.next_check_at
    report.schedule_reason = story.schedule_reason
    report.status = story.status
    report.fetcher = check.fetcher
    report.render_reason = check.render_reason
    report.extraction_health = story.extraction_health
    return report


def lock_stories(session: Session, story_ids: list[int]) -> None:
    """Load (and on PostgreSQL lock) the stories a batch of records will write, at once."""
    statement = select(Story).where(Story.id.in_(story_ids))
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    # Keyed by id and holding the objects: the session's identity map keeps only weak
    # references, so stories nobody holds would be dropped and each record would load its
    # story again, one SELECT per check.
    locked = session.info.setdefault(_LOCKED_KEY, {})
    locked.update((story.id, story) for story in session.scalars(statement))


def _lock_story(session: Session, story_id: int) -> Story | None:
    locked = session.info.get(_LOCKED_KEY, {})
    if story_id in locked:
        return locked[story_id]  # loaded and locked by lock_stories
    statement = select(Story).where(Story.id == story_id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def _succeeded(story: Story) -> None:
    story.consecutive_failures = 0
    story.consecutive_gone = 0
    story.last_error = None


def _failed(session: Session, story: Story, check: Check, now: datetime) -> None:
    if check.http_status not in (404, 410):
        story.consecutive_gone = 0
    story.consecutive_failures += 1
    story.last_error = check.error
    if story.consecutive_failures == FAILING_EVENT_AFTER:
        _event(
            session,
            story,
            EventKind.CHECKS_FAILING,
            now,
            detail=f"{FAILING_EVENT_AFTER} consecutive failed checks; last: {check.error}",
        )


def store_version(
    session: Session,
    story: Story,
    fetched: FetchResult,
    analysis: Analysis,
    comparison: Comparison,
    *,
    now: datetime,
    capture: PreparedCapture | None,
    fetcher: str | None = None,
    verdict: health.Health | None = None,
) -> Version:
    """Store the next version of `story`, captured at `now`, with its raw capture.
    (Live checks through :func:`record`; WARC imports directly, with the record's date.)

    `fetcher` names the fetcher that got the page; `verdict` is the extraction's health
    (default: the analysis's own)."""
    verdict = verdict or analysis.health
    article = analysis.article
    assert article is not None and analysis.fingerprint is not None
    capture_sha = None
    if fetched.body is not None:
        capture_sha = store_capture(
            session,
            fetched.body,
            url=fetched.final_url or fetched.url,
            status=fetched.status,
            headers=dict(fetched.headers),
            encoding=fetched.encoding,
            now=now,
            sha256=capture.sha256 if capture else None,
            compressed=capture.compressed if capture else None,
        )
    screenshot_sha = None
    if fetched.screenshot is not None:
        screenshot_sha = store_capture(
            session,
            fetched.screenshot,
            url=fetched.final_url or fetched.url,
            status=None,
            headers={"content-type": "image/png"},
            encoding=None,
            now=now,
        )
    version = Version(
        story_id=story.id,
        seq=story.version_count + 1,
        captured_at=now,
        fingerprint=analysis.fingerprint,
        title=article.title,
        headlines=list(article.headlines),
        byline=article.byline,
        published=article.published,
        modified=article.modified,
        canonical_url=article.canonical_url,
        text=article.text,
        kinds=sorted(comparison.kinds),
        summary=comparison.summary,
        words_added=comparison.stats.words_added,
        words_removed=comparison.stats.words_removed,
        chars_added=comparison.stats.chars_added,
        chars_removed=comparison.stats.chars_removed,
        diff_coarse=comparison.coarse,
        capture_sha256=capture_sha,
        screenshot_sha256=screenshot_sha,
        text_source=article.source,
        fetcher=fetcher,
        health=verdict.verdict if verdict else None,
        health_reasons=verdict.reasons_json() if verdict else None,
        entries=liveblog.entries_to_json(article.entries) or None,
        previous_title=comparison.previous_title,
        excerpt=excerpt.excerpt_to_json(comparison.excerpt),
        raw_sha256=capture_sha,
        edit_types=list(comparison.edit_types) if comparison.edit_types is not None else None,
    )
    version.index_kinds()
    link_new_version(session, story, version)
    session.add(version)
    session.flush()
    story.version_count = version.seq
    story.last_fingerprint = analysis.fingerprint
    story.analysis_version = ANALYSIS_VERSION
    story.last_changed_at = now
    if fetcher is not None:
        story.last_fetcher = fetcher
    if article.title:
        story.title = article.title
    # A page speaks for its own site only: another site's URL as its canonical is ignored.
    canonical = discover.canonical_within_site(story.url, article.canonical_url, fetched.final_url)
    if canonical:
        story.canonical_url = canonical
    if comparison.substantive:
        story.last_substantive_at = now
    return version


def _judge_extraction(
    session: Session,
    story: Story,
    verdict: health.Health,
    now: datetime,
    *,
    version_id: int | None = None,
) -> None:
    """Remember the story's extraction health; tell the user (one event, so one alert) when
    it turns suspect, not on every check that finds it still so."""
    was = story.extraction_health
    story.extraction_health = verdict.verdict
    if verdict.suspect and was != health.SUSPECT:
        reasons = " ".join(reason.message for reason in verdict.reasons)
        _event(
            session,
            story,
            EventKind.EXTRACTION_SUSPECT,
            now,
            version_id=version_id,
            detail=f"{reasons} {verdict.suggestion}"[:4000],
        )


def _health_of_version(
    session: Session, story: Story, analysis: Analysis, comparison: Comparison
) -> health.Health | None:
    """The verdict stored with a new version: the page's own signs (`analyse`), and what only
    the history shows: the text collapsed since the previous version, or another story of
    the same site stores the very same text."""
    verdict, article = analysis.health, analysis.article
    if verdict is None or article is None:
        return verdict
    words = health.word_count(article.text)
    previous_words = None
    if changes.ChangeKind.FIRST not in comparison.kinds:
        # The diff's counts give the previous version's length without reading it again.
        previous_words = words - comparison.stats.words_added + comparison.stats.words_removed
    reasons = [health.collapse_reason(words, previous_words)]
    if words < health.DUPLICATE_MAX_WORDS:
        other = same_text_elsewhere(session, story, article.text)
        reasons.append(health.duplicate_reason(article, other) if other else None)
    return health.with_reasons(verdict, article, reasons)


def same_text_elsewhere(session: Session, story: Story, text: str) -> str | None:
    """The URL of another story of `story`'s site whose latest version's text is `text`."""
    parts = urlsplit(story.url)
    if not parts.netloc:
        return None
    # The site's stories are a range of the unique (so indexed) URL column: no scan.
    prefix = f"{parts.scheme}://{parts.netloc}/"
    return session.scalar(
        select(Story.url)
        .join(Version, (Version.story_id == Story.id) & (Version.seq == Story.version_count))
        .where(
            Story.url >= prefix,
            Story.url < prefix[:-1] + "0",  # "0" sorts right after "/"
            Story.id != story.id,
            Version.text == text,
        )
        .limit(1)
    )


def _update_promise(
    session: Session,
    story: Story,
    analysis: Analysis,
    version: Version | None,
    *,
    substantive: bool,
    now: datetime,
) -> None:
    """Promises: a marker opens one; the next substantive version fulfils it."""
    promise = analysis.promise
    if (
        version is not None
        and story.promise_state == PromiseState.PENDING
        and story.promised_at is not None
        and cadence.fulfils_promise(story.promised_at, changed_at=now, substantive=substantive)
    ):
        story.promise_state = PromiseState.FULFILLED
        _event(
            session,
            story,
            EventKind.PROMISE_FULFILLED,
            now,
            version_id=version.id,
            detail=story.promise_text,
        )
    story.developing = promise is not None
    if promise is None:
        return
    # The same marker staying on the page after its update is not a new promise.
    if story.promise_state == PromiseState.PENDING or promise.text == story.promise_text:
        return
    story.promise_text = promise.text
    story.promised_at = now
    story.promise_state = PromiseState.PENDING
    _event(
        session,
        story,
        EventKind.PROMISE_MADE,
        now,
        version_id=version.id if version is not None else None,
        detail=promise.text,
    )


def _observe_lifecycle(
    session: Session,
    story: Story,
    fetched: FetchResult,
    analysis: Analysis | None,
    comparison: Comparison | None,
    compared_against: str | None,
    *,
    now: datetime,
) -> tuple[str, str] | None:
    """Record the lifecycle events this check shows (tracker.core.lifecycle) and keep the
    story's lifecycle state. Returns (error kind, why) when the page is not the article now
    (redirected elsewhere, paywalled), so no version is stored of it; else None."""
    read = analysis is not None and not analysis.empty
    if (
        read
        and analysis is not None
        and analysis.fingerprint != story.last_fingerprint
        and (analysis.same_region or compared_against != story.last_fingerprint)
    ):
        return None  # another worker stored a version meanwhile: this result is dropped
    step = page_lifecycle_step(story, fetched, analysis, comparison, now=now)
    story.lifecycle, story.live_url = step.state.state, step.state.live_url
    for happening in step.events:
        event = _event(session, story, EventKind(happening.kind), now, detail=happening.detail)
        event.data = dict(happening.data)
        if happening.kind is lifecycle.LifecycleEvent.SLUG_CHANGED:
            # One article, one story: adding the new URL finds this story by it.
            story.canonical_url = step.state.live_url
    if not step.withhold:
        return None
    if step.state.state is lifecycle.Lifecycle.PAYWALLED:
        return "paywalled", "the page is behind a paywall: its teaser is not stored as a version"
    return "redirected", f"the page redirects to {fetched.final_url}, not to the article"


def page_lifecycle_step(
    story: LifecycleFacts,
    fetched: FetchResult,
    analysis: Analysis | None,
    comparison: Comparison | None,
    *,
    now: datetime,
) -> lifecycle.Step:
    """`lifecycle_step` with what the page read says: whether an article was read, the share
    of the latest version's words it kept (from the comparison), the URL it names. Pure."""
    read = analysis is not None and not analysis.empty
    kept: float | None = None
    if read and analysis is not None and fetched.outcome is not Outcome.NOT_MODIFIED:
        if analysis.same_region or analysis.fingerprint == story.last_fingerprint:
            kept = 1.0
        elif comparison is not None and changes.ChangeKind.FIRST not in comparison.kinds:
            assert analysis.article is not None
            stats = comparison.stats
            words = diffing.count_words(analysis.article.text)
            previous = words - stats.words_added + stats.words_removed
            kept = lifecycle.kept_share(previous, stats.words_removed)
    return lifecycle_step(
        story,
        fetched,
        now=now,
        read=read,
        kept=kept,
        canonical_url=analysis.article.canonical_url if analysis and analysis.article else None,
    )


def _event(
    session: Session,
    story: Story,
    kind: EventKind,
    now: datetime,
    *,
    version_id: int | None = None,
    detail: str | None = None,
) -> Event:
    event = Event(
        story_id=story.id, kind=kind, created_at=now, version_id=version_id, detail=detail
    )
    session.add(event)
    session.info[_EVENTS_KEY].append(event)
    return event

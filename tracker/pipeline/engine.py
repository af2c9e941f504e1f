"""The check engine: one pool, one politeness policy, one conditional-GET path for everyone.

Both the daemon and ``tracker check`` hand story ids to :class:`CheckEngine`. Fetching
runs on a bounded thread pool behind per-host throttling and robots.txt; extraction is
CPU-bound, so it runs on a process pool (the GIL would otherwise cap a 2-core machine at
one core of trafilatura); the database write is one short transaction per check.

Pages are fetched by :class:`~tracker.net.fetcher.PageFetcher` objects made by name from the
fetcher registry, one per kind (:meth:`CheckEngine.fetcher_for`); a story's render mode picks
the kind (:mod:`tracker.pipeline.render`: plain HTTP, the headless browser, or "auto", which
renders a page in the browser when its plain HTML turns out to be an app shell). robots.txt is
always read by the default one.

Reading a page (:mod:`tracker.pipeline.check`, and the extraction, diff and alert modules it
brings) is imported by the methods that read one, when the first page comes: a pass whose
pages all answer 304 Not Modified never needs it, and a whole ``tracker check`` of them is
spared about 0.1 s of imports.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.core.cadence import CadencePolicy
from tracker.net.fetcher import (
    BROWSER_FETCHER,
    DEFAULT_FETCHER,
    FetchOptions,
    FetchResult,
    Outcome,
    PageFetcher,
    new_fetcher,
    not_fetched,
)
from tracker.net.politeness import HostThrottle, RobotsCache
from tracker.pipeline import claims, render, stages
from tracker.pipeline.extraction_pool import (
    ANALYSIS_MODULES,
    ExtractionPool,
    ExtractionTimeout,
)
from tracker.pipeline.not_modified import (
    lock_story_rows,
    record_not_modified,
    write_not_modified,
)
from tracker.pipeline.story_state import ANALYSIS_VERSION, CheckReport, StoryState
from tracker.store.captures import capture_html
from tracker.store.db import Database
from tracker.store.models import Capture, Check, CheckOutcome, Story
from tracker.store.writer import GroupWriter

if TYPE_CHECKING:
    from tracker.core.article import Article, Region
    from tracker.pipeline.check import Analysis

log = logging.getLogger("tracker.engine")

Clock = Callable[[], datetime]

# A robots.txt Crawl-delay above this is capped: one request a minute is polite enough.
MAX_CRAWL_DELAY = 60.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_worker_id() -> str:
    # "host:pid:random": reclaim_from_dead_workers reads the host and pid back.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def process_alive(pid: int) -> bool:
    """Whether a process `pid` exists on this host (it may belong to another user)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fetch_options(settings: Settings) -> FetchOptions:
    return FetchOptions(
        user_agent=settings.user_agent,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        deadline=settings.fetch_deadline,
        max_redirects=settings.max_redirects,
        max_bytes=settings.max_body_bytes,
        allow_private_networks=settings.allow_private_networks,
        proxy=settings.proxy_url.get_secret_value() if settings.proxy_url else None,
        browser_executable=settings.browser_executable,
        browser_pages=settings.browser_pages,
        browser_max_pages_per_launch=settings.browser_max_pages_per_launch,
        browser_max_memory_mb=settings.browser_max_memory_mb,
        browser_screenshots=settings.browser_screenshots,
    )


class CheckEngine:
    """Runs checks of stories; thread-safe; reuse one per process."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        worker_id: str | None = None,
        clock: Clock = utcnow,
        fetcher: PageFetcher | None = None,
    ) -> None:
        """`fetcher`: the default fetcher to use instead of a new one (a test's stand-in); the
        engine closes it with the others."""
        self.db = db
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.clock = clock
        self.policy = CadencePolicy.from_settings(settings)
        self.lease = timedelta(seconds=settings.lease_seconds)
        # One fetcher per kind, made on first use by fetcher_for(); all closed with the engine.
        self._fetchers: dict[str, PageFetcher] = {}
        self._fetchers_lock = threading.Lock()
        if fetcher is not None:
            self._fetchers[DEFAULT_FETCHER] = fetcher
        # The default fetcher: robots.txt for every story, and the feeds the daemon polls.
        self.fetcher = self.fetcher_for(DEFAULT_FETCHER)
        self.throttle = HostThrottle(
            per_host=settings.per_host_concurrency,
            min_delay=settings.per_host_min_delay,
            global_limit=settings.global_concurrency,
        )
        self.robots = RobotsCache(
            self.fetcher, settings.user_agent, ttl=settings.robots_cache_seconds
        )
        self._threads = ThreadPoolExecutor(
            max_workers=settings.global_concurrency, thread_name_prefix="check"
        )
        processes = settings.extract_processes
        count = (os.cpu_count() or 1) if processes < 0 else processes
        self._extraction = (
            ExtractionPool(count, budget=settings.extract_timeout, preload=ANALYSIS_MODULES)
            if count > 0
            else None
        )
        self._closing = threading.Event()
        # Stories whose check failed and whose lease could not even be handed back (the
        # database refused every write: disk full). Handed back by release_stranded().
        self._stranded: set[int] = set()
        self._stranded_lock = threading.Lock()
        # CPU seconds by stage of the checks this engine ran (tracker.pipeline.stages).
        self.stage_cpu = stages.StageClock()
        self._writer: GroupWriter[CheckReport] = GroupWriter(
            # The writer's keys are (story id, answered 304) of the checks its jobs record.
            db,
            prepare=_lock_for_records,
            finish=write_not_modified,
            on_cpu=lambda seconds: self.stage_cpu.add({"write": seconds}),
        )

    # -- public -----------------------------------------------------------------------

    def submit(self, state: StoryState) -> Future[CheckReport]:
        """Check one story, already leased by this worker, on the thread pool. The future
        resolves once the check's write has committed; the pool's thread is free again as
        soon as that write is queued. Cancelling it cancels the check only if it has not
        started (close() cancels those too).

        Done-callbacks mostly run in the writer's thread, right after the commit: keep them
        short, and never wait there on another check's write (it would wait on itself)."""
        report = _CheckReportFuture()
        report.work = self._threads.submit(self._check_until_queued, state, report)
        report.work.add_done_callback(report.follow_work)
        return report

    def check_now(
        self,
        story_ids: Iterable[int],
        *,
        on_report: Callable[[CheckReport], None] | None = None,
    ) -> list[CheckReport]:
        """Lease and check the given stories now, due or not (``tracker check``)."""
        self.reclaim_leases()
        ids = list(story_ids)
        with self.db.session() as session:
            claimed = claims.claim_ids(
                session, ids, worker=self.worker_id, now=self.clock(), lease=self.lease
            )
        skipped = set(ids) - {state.id for state in claimed}
        urls: dict[int, str] = {}
        if skipped:
            with self.db.read_session() as session:
                urls = dict(
                    session.execute(select(Story.id, Story.url).where(Story.id.in_(skipped))).all()
                )
        reports = [
            CheckReport(i, urls[i], CheckOutcome.SKIPPED, error="being checked by another worker")
            if i in urls
            # Not there to claim at all: removed after the caller looked it up.
            else CheckReport(i, "", CheckOutcome.ERROR, error="story was removed")
            for i in sorted(skipped)
        ]
        for report in reports:
            if on_report:
                on_report(report)
        submitted: list[tuple[StoryState, Future[CheckReport]]] = []
        try:
            for state in claimed:
                submitted.append((state, self.submit(state)))
            for state, future in submitted:
                try:
                    report = future.result()
                except CancelledError:  # close() came first: the story goes back unchecked
                    report = self._skip(state, "not checked: shutting down")
                reports.append(report)
                if on_report:
                    on_report(report)
        except BaseException:
            # Interrupted (Ctrl-C in tracker check): the checks not started yet never will
            # be; their stories go back now rather than stay leased until the lease runs out.
            started = {state.id for state, future in submitted if not future.cancel()}
            self._release([state.id for state in claimed if state.id not in started])
            raise
        return reports

    def _release(self, story_ids: list[int]) -> None:
        if not story_ids:
            return
        try:
            with self.db.session() as session:
                claims.release(session, story_ids, worker=self.worker_id)
        except Exception as exc:  # noqa: BLE001 -- already failing; the leases will expire
            log.error("could not hand back the leases of stories %s: %s", story_ids, exc)

    def reclaim_leases(self, *, dead_workers: bool = True) -> int:
        """Before claiming: hand back this worker's leases stranded by failed writes and
        (with `dead_workers`) free the leases of this host's workers whose process is gone,
        so their stories need not wait for the leases to expire. Returns how many."""
        with self._stranded_lock:
            stranded = sorted(self._stranded)
        if not stranded and not dead_workers:
            return 0
        try:
            with self.db.session() as session:
                freed = claims.release(session, stranded, worker=self.worker_id)
                if dead_workers:
                    freed += claims.reclaim_from_dead_workers(
                        session, host=socket.gethostname(), now=self.clock(), alive=process_alive
                    )
        except Exception as exc:  # noqa: BLE001 -- still failing: try again next time
            log.warning("could not hand back stranded leases yet: %s", exc)
            return 0
        with self._stranded_lock:
            self._stranded.difference_update(stranded)
        if freed:
            log.info("freed %d leases left by failed writes or dead workers", freed)
        return freed

    def _check_until_queued(self, state: StoryState, report: Future[CheckReport]) -> None:
        """The check of one leased story, up to its write, queued for the next group
        transaction; `report` resolves when that commits. Never fails: a failure, in the
        check or in its write, becomes a recorded check."""
        started_at = self.clock()
        try:
            written = self._check(state, started_at)
        except Exception as exc:  # noqa: BLE001 -- a bug must cost one check, not the daemon
            log.error("check of story %s failed: %s\n%s", state.id, exc, traceback.format_exc())
            report.set_result(self._record_internal_error(state.id, started_at, exc))
            return
        written.add_done_callback(
            functools.partial(self._resolve_report, report, state.id, started_at)
        )

    def _resolve_report(
        self,
        report: Future[CheckReport],
        story_id: int,
        started_at: datetime,
        written: Future[CheckReport],
    ) -> None:
        # Runs in the writer's thread, after the group transaction (committed or rolled back).
        try:
            result = written.result()
        except Exception as exc:  # noqa: BLE001 -- the write failed: record that, as a check
            log.error("recording the check of story %s failed: %s", story_id, exc)
            result = self._record_internal_error(story_id, started_at, exc)
        report.set_result(result)

    def fetcher_for(self, name: str) -> PageFetcher:
        """The fetcher registered as `name` (see :mod:`tracker.net.fetcher`), made with the
        settings' limits on first use and then shared by every check that uses that kind.
        Raises UnknownFetcherError, naming the known ones, for a name nobody registered."""
        with self._fetchers_lock:
            fetcher = self._fetchers.get(name)
            if fetcher is None:
                fetcher = new_fetcher(name, fetch_options(self.settings))
                self._fetchers[name] = fetcher
            return fetcher

    def fetch_plan(self, state: StoryState) -> render.FetchPlan:
        """Which fetcher a check of the story starts with, and whether it may escalate."""
        return render.plan_fetch(state.render or self.settings.render, state.last_fetcher)

    @property
    def closing(self) -> bool:
        """close() has begun: queued checks give their stories back unchecked."""
        return self._closing.is_set()

    def close(self) -> None:
        # Checks queued for a per-host slot are already running: tell them not to fetch.
        self._closing.set()
        # Extractions still running now (the daemon's grace period is over) are ended: their
        # checks give their stories back unchecked.
        if self._extraction is not None:
            self._extraction.close(kill=True)
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._writer.close()
        with self._fetchers_lock:
            fetchers = list(self._fetchers.values())
        # Every one is closed, even if closing another fails.
        with contextlib.ExitStack() as stack:
            for fetcher in fetchers:
                stack.callback(fetcher.close)

    def __enter__(self) -> CheckEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the pipeline -----------------------------------------------------------------

    def _check(self, state: StoryState, started_at: datetime) -> Future[CheckReport]:
        story_id = state.id
        cpu: dict[str, float] = {}  # by stage (tracker.pipeline.stages)
        plan = self.fetch_plan(state)
        respect_robots = (
            self.settings.respect_robots_txt
            if state.respect_robots_txt is None
            else state.respect_robots_txt
        )
        if respect_robots:
            decision = self.robots.decide(state.url)
            if not decision.allowed:
                fetched = not_fetched(state.url, error=decision.reason, error_kind="robots")
                return self._record(
                    story_id, fetched, None, None, started_at, state, blocked=True, cpu=cpu
                )
            crawl_delay = self.robots.crawl_delay(state.url)
            if crawl_delay:
                # Honour Crawl-delay when it asks for more than our default, within reason.
                delay = min(max(crawl_delay, self.settings.per_host_min_delay), MAX_CRAWL_DELAY)
                self.throttle.set_delay(state.url, delay)

        fetcher_name, render_reason = plan.fetcher, plan.reason
        waits: list[float] = []  # seconds spent waiting for the host's slot, per fetch
        with stages.measure(cpu, "fetch"):
            first = self._fetch(state, fetcher_name, waits)
        if first is None:
            return _resolved(self._skip(state, "not checked: shutting down"))
        fetched = first

        analysis = comparison = capture = None
        try:
            if fetched.outcome is Outcome.OK and fetched.text is not None:
                analysis = self._analyse(
                    fetched.text,
                    fetched.final_url or state.url,
                    state.selector,
                    state.ignore_patterns,
                    known_fingerprint=state.last_fingerprint,
                    # The region test only vouches for an article read by these rules.
                    known_region=state.region
                    if state.analysis_version == ANALYSIS_VERSION
                    else None,
                    rendered=fetcher_name == BROWSER_FETCHER,
                )
                reason = render.escalation(
                    plan, analysis.article.source if analysis.article else None, analysis.health
                )
                _add(cpu, analysis.cpu)
                if reason is not None:
                    with stages.measure(cpu, "fetch"):
                        rendered, rendered_analysis, render_reason = self._render(
                            state, analysis, reason, waits
                        )
                    if rendered is not None and rendered_analysis is not None:
                        fetched, analysis, fetcher_name = (
                            rendered,
                            rendered_analysis,
                            BROWSER_FETCHER,
                        )
                if not analysis.empty and analysis.fingerprint != state.last_fingerprint:
                    from tracker.pipeline.check import compare, prepare_capture  # a page came

                    with stages.measure(cpu, "diff"):
                        previous_article = self._previous_article(state)
                        assert analysis.article is not None
                        comparison = compare(previous_article, analysis.article)
                        if fetched.body is not None:
                            capture = prepare_capture(fetched.body)
        except ExtractionTimeout as exc:
            # A page built to be slow to read costs its own check, recorded, and no more.
            fetched = replace(
                fetched, outcome=Outcome.ERROR, error=str(exc), error_kind="extraction"
            )
            analysis = comparison = capture = None
        except BrokenProcessPool:
            if self._closing.is_set():  # close() ended the extraction processes
                return _resolved(self._skip(state, "not checked: shutting down"))
            raise
        return self._record(
            story_id,
            fetched,
            analysis,
            comparison,
            started_at,
            state,
            capture=capture,
            fetcher=fetcher_name,
            render_reason=render_reason,
            cpu=cpu,
            wait_ms=round(sum(waits) * 1000),
        )

    def _fetch(
        self, state: StoryState, fetcher_name: str, waits: list[float] | None = None
    ) -> FetchResult | None:
        """Fetch the story's page with the named fetcher in a per-host slot (None: the engine
        is closing). The browser sends no validators (see `record`). How long the slot took
        to come is appended to `waits`: a check's time is then read as queueing behind the
        host's politeness limits, not only as the site's slowness."""
        fetcher = self.fetcher_for(fetcher_name)
        conditional = fetcher_name != BROWSER_FETCHER
        asked = time.monotonic()
        with self.throttle.slot(state.url):
            if waits is not None:
                waits.append(time.monotonic() - asked)
            if self._closing.is_set():
                return None
            return fetcher.fetch(
                state.url,
                etag=state.etag if conditional else None,
                last_modified=state.last_modified if conditional else None,
            )

    def _render(
        self, state: StoryState, plain: Analysis, reason: str, waits: list[float] | None = None
    ) -> tuple[FetchResult | None, Analysis | None, str]:
        """Render an "auto" story's app shell in the browser: the rendered page and its analysis
        when they read better than the plain ones, and the reason to record either way."""
        rendered = self._fetch(state, BROWSER_FETCHER, waits)
        if rendered is None:
            return None, None, f"{reason}; not rendered: shutting down"
        if rendered.outcome is not Outcome.OK or rendered.text is None:
            return None, None, f"{reason}; the browser failed: {rendered.error}"
        analysis = self._analyse(
            rendered.text,
            rendered.final_url or state.url,
            state.selector,
            state.ignore_patterns,
            rendered=True,
        )
        from tracker.core.health import word_count  # a page came

        plain_words = word_count(plain.article.text if plain.article else "")
        words = word_count(analysis.article.text if analysis.article else "")
        if not render.rendered_is_better(plain_words, analysis.health, words):
            return None, None, f"{reason}; the rendered page read no better: kept the plain one"
        return rendered, analysis, reason

    def _previous_article(self, state: StoryState) -> Article | None:
        """The article to compare a changed page with: the latest version as stored or, when
        the story was last analysed by older rules (an upgrade), its capture re-read by the
        current rules, so that what the new rules read differently is not taken for an edit."""
        from tracker.pipeline.check import latest_version, version_as_article  # a page came

        with self.db.read_session() as session:
            previous = latest_version(session, state.id)
            if previous is None:
                return None
            stored = version_as_article(previous)
            if state.analysis_version == ANALYSIS_VERSION or previous.capture_sha256 is None:
                return stored
            capture = session.get(Capture, previous.capture_sha256)
            # Pruned; or larger than a page may be now (a WARC import, a lowered cap).
            if capture is None or capture.size > self.fetcher.options.max_bytes:
                return stored
        try:
            html = capture_html(capture)
            reread = self._analyse(html, capture.url, state.selector, state.ignore_patterns)
        except Exception as exc:  # noqa: BLE001 -- an unreadable old capture is no reason
            # to fail this check, and every later one: no version would ever be stored again.
            log.warning(
                "story %s: previous capture not re-read (%s: %s); compared as stored",
                state.id,
                type(exc).__name__,
                exc,
            )
            return stored
        if reread.empty or reread.article is None:
            return stored
        return replace(reread.article, blocks=(), lang=None)

    def _skip(self, state: StoryState, reason: str) -> CheckReport:
        """Give the story back unchecked (the next worker need not wait for the lease)."""
        with self.db.session() as session:
            claims.release(session, [state.id], worker=self.worker_id)
        return CheckReport(state.id, state.url, CheckOutcome.SKIPPED, error=reason)

    def _record(
        self,
        story_id: int,
        fetched: FetchResult,
        analysis: Analysis | None,
        comparison,
        started_at: datetime,
        state,
        *,
        capture=None,
        blocked: bool = False,
        fetcher: str | None = None,
        render_reason: str | None = None,
        cpu: dict[str, float] | None = None,
        wait_ms: int | None = None,
    ) -> Future[CheckReport]:
        """Queue the check's write for the next group transaction."""
        # The write stage is added by the writer itself (see __init__).
        self.stage_cpu.add(cpu or {}, checks=1)
        if fetched.outcome is Outcome.NOT_MODIFIED and not blocked:
            return self._writer.submit(
                lambda session: record_not_modified(
                    session,
                    story_id,
                    fetched,
                    policy=self.policy,
                    now=self.clock(),
                    started_at=started_at,
                    worker=self.worker_id,
                    compared_against=state.last_fingerprint,
                    fetcher=fetcher,
                    render_reason=render_reason,
                    wait_ms=wait_ms,
                    archive_versions=self.settings.archive_endpoint is not None,
                ),
                key=(story_id, True),
            )
        from tracker.pipeline.check import record  # not a plain 304: see the module doc

        return self._writer.submit(
            lambda session: record(
                session,
                story_id,
                fetched,
                analysis,
                comparison,
                policy=self.policy,
                now=self.clock(),
                started_at=started_at,
                worker=self.worker_id,
                compared_against=state.last_fingerprint,
                capture=capture,
                robots_blocked=blocked,
                fetcher=fetcher,
                render_reason=render_reason,
                wait_ms=wait_ms,
                archive_versions=self.settings.archive_endpoint is not None,
            ),
            key=(story_id, False),
        )

    def _analyse(
        self,
        html: str,
        url: str,
        selector: str | None,
        ignore_patterns: tuple[str, ...],
        *,
        known_fingerprint: str | None = None,
        known_region: Region | None = None,
        rendered: bool = False,
    ) -> Analysis:
        """Extract in an extraction process (raises ExtractionTimeout past the budget)."""
        from tracker.pipeline.check import analyse  # a page came: see the module doc

        job = functools.partial(
            analyse,
            html,
            url,
            selector,
            ignore_patterns,
            known_fingerprint=known_fingerprint,
            known_region=known_region,
            rendered=rendered,
        )
        if self._extraction is None:
            return job()
        return self._extraction.run(job)

    def _record_internal_error(
        self, story_id: int, started_at: datetime, exc: Exception
    ) -> CheckReport:
        message = f"internal error: {type(exc).__name__}: {exc}"[:2000]
        now = self.clock()
        try:
            with self.db.session() as session:
                story = session.get(Story, story_id)
                if story is not None:
                    session.add(
                        Check(
                            story_id=story_id,
                            started_at=started_at,
                            duration_ms=int((now - started_at).total_seconds() * 1000),
                            outcome=CheckOutcome.ERROR,
                            error_kind="internal",
                            error=message,
                            worker=self.worker_id,
                        )
                    )
                    story.last_error = message
                    story.consecutive_failures += 1
                    story.next_check_at = now + self.policy.error_backoff(
                        story.consecutive_failures
                    )
                    if story.lease_owner == self.worker_id:
                        story.lease_owner = None
                        story.lease_expires_at = None
        except Exception as db_exc:  # noqa: BLE001 -- the database itself may be the problem
            log.error("could not record the failed check of story %s: %s", story_id, db_exc)
            # Nothing was written, not even the lease's release: keep the story to hand back
            # as soon as the database takes writes again, so it is not stuck until expiry.
            with self._stranded_lock:
                self._stranded.add(story_id)
        return CheckReport(story_id, "", CheckOutcome.ERROR, error=message)


class _CheckReportFuture(Future[CheckReport]):
    """A check's report, resolved once its write commits (see CheckEngine.submit). `work` is
    the check on the thread pool, up to the queueing of that write."""

    work: Future[None] | None = None

    def cancel(self) -> bool:
        # Only a check that has not started can be called off; one that has will be written.
        if self.work is not None and not self.work.cancel():
            return False
        return super().cancel()

    def follow_work(self, work: Future[None]) -> None:
        """Done-callback of `work`: close() cancelled the check before it started, or the
        check failed past every handler (a BaseException); either way nobody may wait on
        the report forever."""
        if work.cancelled():
            self.cancel()
        elif (error := work.exception()) is not None and not self.done():
            self.set_exception(error)


def _resolved(report: CheckReport) -> Future[CheckReport]:
    future: Future[CheckReport] = Future()
    future.set_result(report)
    return future


def _lock_for_records(session: Session, keys: list[Hashable]) -> None:
    """Before a group transaction's records: load (on PostgreSQL lock) their stories at once,
    as rows for the checks answered 304 (record_not_modified), as objects for the others."""
    stories = cast(list[tuple[int, bool]], keys)
    lock_story_rows(session, [story_id for story_id, not_modified in stories if not_modified])
    others = [story_id for story_id, not_modified in stories if not not_modified]
    if others:
        from tracker.pipeline.check import lock_stories  # not plain 304s: see the module doc

        lock_stories(session, others)


def _add(totals: dict[str, float], more: dict[str, float]) -> None:
    for stage, seconds in more.items():
        totals[stage] = totals.get(stage, 0.0) + seconds

"""A story as a check sees it: what the check knows before fetching (`StoryState`, read
when the story is claimed), what it reports after (`CheckReport`), and the decisions that
need no page read: when to check next (`next_schedule`, `reschedule`) and the lifecycle's
next step (`lifecycle_step`).

Apart from :mod:`tracker.pipeline.check` (reading a page and recording a check) so that
what only passes these along - claims, the daemon, a pass whose pages all answer 304 Not
Modified (:mod:`tracker.pipeline.not_modified`) - does not import the extraction, diff and
alert modules a page read needs.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from tracker.core import cadence, lifecycle
from tracker.core.article import Region
from tracker.net.fetcher import FetchResult, Outcome
from tracker.store.models import CheckOutcome, Story, StoryStatus

# The release of the extraction and fingerprint rules. Bump it whenever extract.py or
# normalize.py change what a page's fingerprint or stored text is. A story remembers the
# rules that stored its latest version (Story.analysis_version); while they are older, a
# changed fingerprint is judged against that version's capture re-read by the current rules,
# so an upgrade makes no versions (and no alerts) of its own, and the first real edit after
# it is reported as itself.
ANALYSIS_VERSION = 3


@dataclass(frozen=True)
class StoryState:
    """What a check needs to know about a story before fetching."""

    id: int
    url: str
    etag: str | None
    last_modified: str | None
    selector: str | None
    ignore_patterns: tuple[str, ...]
    last_fingerprint: str | None
    respect_robots_txt: bool | None
    analysis_version: int | None = ANALYSIS_VERSION
    render: str | None = None  # the story's render mode; None: the `render` setting
    last_fetcher: str | None = None  # the fetcher that got the latest version
    region: Region | None = None  # the article's region as of the latest full read


@dataclass
class CheckReport:
    """What one check did, for progress output, logs and tests."""

    story_id: int
    url: str
    outcome: CheckOutcome
    http_status: int | None = None
    error: str | None = None
    version_seq: int | None = None
    kinds: tuple[str, ...] = ()
    summary: str | None = None
    next_check_at: datetime | None = None
    schedule_reason: str | None = None
    status: str = StoryStatus.ACTIVE
    duration_ms: int = 0
    wait_ms: int | None = None  # of duration_ms, waiting for the host's politeness slot
    events: list[str] = field(default_factory=list)
    lease_lost: bool = False
    fetcher: str | None = None  # the fetcher that got the page
    render_reason: str | None = None  # why that one, when the render mode chose
    extraction_health: str | None = None  # the story's verdict after this check


# The columns a check needs, read when a story is claimed (``UPDATE … RETURNING``).
STATE_COLUMNS = (
    Story.id,
    Story.url,
    Story.etag,
    Story.last_modified,
    Story.selector,
    Story.ignore_patterns,
    Story.last_fingerprint,
    Story.respect_robots_txt,
    Story.analysis_version,
    Story.render,
    Story.last_fetcher,
    Story.region_path,
    Story.region_digest,
)


def state_from_row(row: Any) -> StoryState:
    return StoryState(
        id=row.id,
        url=row.url,
        etag=row.etag,
        last_modified=row.last_modified,
        selector=row.selector,
        ignore_patterns=tuple(row.ignore_patterns or ()),
        last_fingerprint=row.last_fingerprint,
        respect_robots_txt=row.respect_robots_txt,
        analysis_version=row.analysis_version,
        render=row.render,
        last_fetcher=row.last_fetcher,
        region=Region(row.region_path, row.region_digest)
        if row.region_path and row.region_digest
        else None,
    )


@functools.lru_cache(maxsize=256)
def _policy_with_overrides(
    base: cadence.CadencePolicy,
    fixed_interval: int | None,
    min_interval: int | None,
    max_interval: int | None,
) -> cadence.CadencePolicy:
    # Cached: building and validating a policy on every check cost more than the decision.
    return base.with_overrides(
        fixed_interval=fixed_interval, min_interval=min_interval, max_interval=max_interval
    )


class ScheduleFacts(Protocol):
    """What the cadence reads of a story: an ORM story, or its row as a not-modified check
    reads it (`record_not_modified`)."""

    @property
    def first_seen_at(self) -> datetime: ...
    @property
    def last_substantive_at(self) -> datetime | None: ...
    @property
    def developing(self) -> bool: ...
    @property
    def promised_at(self) -> datetime | None: ...
    @property
    def consecutive_failures(self) -> int: ...
    @property
    def consecutive_gone(self) -> int: ...
    @property
    def fixed_interval_seconds(self) -> int | None: ...
    @property
    def min_interval_seconds(self) -> int | None: ...
    @property
    def max_interval_seconds(self) -> int | None: ...


def next_schedule(
    story: ScheduleFacts,
    policy: cadence.CadencePolicy,
    now: datetime,
    *,
    retry_after: timedelta | None = None,
    jitter_unit: float | None = None,
    failures: int | None = None,
    gone: int | None = None,
) -> cadence.Schedule:
    """The cadence policy's decision for ``story``; `failures` and `gone` stand for its
    consecutive failures and 404/410s when the check just changed them. Pure but for the
    jitter (random unless `jitter_unit` is given)."""
    clock = cadence.StoryClock(
        first_seen_at=story.first_seen_at,
        last_substantive_change_at=story.last_substantive_at,
        developing=story.developing,
        promised_at=story.promised_at,
        consecutive_failures=story.consecutive_failures if failures is None else failures,
        consecutive_gone=story.consecutive_gone if gone is None else gone,
        retry_after=retry_after,
    )
    return cadence.next_check(
        clock,
        _policy_with_overrides(
            policy,
            story.fixed_interval_seconds,
            story.min_interval_seconds,
            story.max_interval_seconds,
        ),
        now,
        jitter_unit=random.random() if jitter_unit is None else jitter_unit,
    )


def reschedule(
    story: Story,
    policy: cadence.CadencePolicy,
    now: datetime,
    *,
    retry_after: timedelta | None = None,
    jitter_unit: float | None = None,
) -> cadence.Schedule:
    """Apply the cadence policy to ``story`` (mutates its schedule and status)."""
    schedule = next_schedule(story, policy, now, retry_after=retry_after, jitter_unit=jitter_unit)
    story.schedule_reason = schedule.reason[:200]
    if schedule.verdict is cadence.Verdict.CHECK:
        story.next_check_at = schedule.next_check_at
    else:
        story.next_check_at = None
        story.status = (
            StoryStatus.GONE if schedule.verdict is cadence.Verdict.GONE else StoryStatus.RETIRED
        )
    return schedule


class LifecycleFacts(Protocol):
    """What the lifecycle reads of a story: an ORM story, or a not-modified check's row."""

    @property
    def url(self) -> str: ...
    @property
    def last_fingerprint(self) -> str | None: ...
    @property
    def lifecycle(self) -> str: ...
    @property
    def live_url(self) -> str | None: ...
    @property
    def version_count(self) -> int: ...


def lifecycle_step(
    story: LifecycleFacts,
    fetched: FetchResult,
    *,
    now: datetime,
    read: bool = False,
    kept: float | None = None,
    canonical_url: str | None = None,
) -> lifecycle.Step:
    """What this check shows of the story's lifecycle (tracker.core.lifecycle). Pure.

    What the page said, when it was read (`tracker.pipeline.check.page_lifecycle_step`):
    `read`, an article was read from it; `kept`, the share of the latest version's words it
    kept (None: not known); `canonical_url`, the URL it names as its own. A 304 Not Modified
    is the article as it was."""
    ok = fetched.outcome is not Outcome.ERROR
    if ok and fetched.outcome is Outcome.NOT_MODIFIED:
        kept = 1.0
    seen = lifecycle.Observation(
        url=story.url,
        status=fetched.status,
        answered=ok,
        article=read or fetched.outcome is Outcome.NOT_MODIFIED,
        final_url=fetched.final_url,
        canonical_url=canonical_url,
        kept_share=kept,
        # Looked for only when the text collapsed: the page is not read again otherwise.
        paywall=lifecycle.paywall_marker(fetched.text)
        if kept is not None and kept < lifecycle.TEASER_SHARE
        else None,
    )
    was = lifecycle.LifecycleState(
        lifecycle.Lifecycle(story.lifecycle or lifecycle.Lifecycle.LIVE),
        story.live_url,
        has_version=story.version_count > 0,
    )
    return lifecycle.observe(was, seen, now)

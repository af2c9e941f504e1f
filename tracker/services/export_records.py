"""The records of a JSON export, validated as `tracker import` reads them.

An export file is data from outside: hand-edited, from another tracker's version, or crafted.
Each story record is read through these models before anything is written, with the same rules
as `tracker add`, `tracker set` and the API (the URL rules, selectors, ignore patterns and their
backtracking check, interval bounds, render modes), plus the types and value sets of every
stored field. A record that fails is refused with its index and the first problems; the others
are imported.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from tracker.core.article import MAX_URL_CHARS
from tracker.services.stories import MAX_STORY_INTERVAL
from tracker.store.models import CheckOutcome, EventKind, PromiseState, StoryStatus

__all__ = ["FeedRecord", "StoryRecord", "describe_error"]

# MAX_STORY_INTERVAL: the interval columns are 32-bit integers on PostgreSQL.
MAX_INTERVAL_SECONDS = int(MAX_STORY_INTERVAL.total_seconds())


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; other control characters are the page's (kept, as a
    # check would keep them after extraction's cleaning) except in the short fields below.
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _plain_line(value: str) -> str:
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("contains control characters")
    return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Text = Annotated[str, AfterValidator(_no_nul)]
Line = Annotated[str, AfterValidator(_plain_line)]
Tag = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_plain_line)]
When = Annotated[datetime, AfterValidator(_aware)]
# Numbers and flags are taken as JSON numbers and booleans only: "1" and "true" are refused.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Seconds = Annotated[int, Strict(), Field(ge=1, le=MAX_INTERVAL_SECONDS)]
Count = Annotated[int, Strict(), Field(ge=0)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Record(BaseModel):
    # Fields this tracker does not know (a newer export) are ignored. Numbers and flags are
    # not coerced from strings (Int, Bool), so a damaged file does not half-work; times are
    # read from their ISO strings.
    model_config = ConfigDict(extra="ignore", frozen=True)


class VersionRecord(_Record):
    seq: Int = Field(ge=1)
    captured_at: When
    fingerprint: Annotated[str, Field(min_length=1, max_length=64)]
    title: Text | None = None
    headlines: list[Text] = []
    byline: Text | None = None
    published: Annotated[Line, Field(max_length=64)] | None = None
    modified: Annotated[Line, Field(max_length=64)] | None = None
    canonical_url: Annotated[Line, Field(max_length=MAX_URL_CHARS)] | None = None
    # The web archive's copy (the archive hand-off): a link on the version's page, so only
    # http(s) addresses.
    archived_url: (
        Annotated[Line, Field(max_length=MAX_URL_CHARS, pattern=r"^https?://\S+$")] | None
    ) = None
    text: Text
    kinds: list[Annotated[Line, Field(max_length=64)]] = []
    summary: Text | None = None
    words_added: Count = 0
    words_removed: Count = 0
    chars_added: Count = 0
    chars_removed: Count = 0
    diff_coarse: Bool = False
    capture_sha256: Sha256 | None = None
    screenshot_sha256: Sha256 | None = None
    text_source: Annotated[Line, Field(max_length=32)] | None = None
    fetcher: Annotated[Line, Field(max_length=16)] | None = None
    health: Literal["ok", "suspect"] | None = None
    health_reasons: list[dict[str, Text]] | None = None
    entries: list[dict[str, Any]] | None = None
    # The chain (tracker.core.chain); absent from exports made before it existed.
    content_sha256: Sha256 | None = None
    raw_sha256: Sha256 | None = None
    chain_sha256: Sha256 | None = None


class CheckRecord(_Record):
    started_at: When
    duration_ms: Count = 0
    outcome: Literal[tuple(o.value for o in CheckOutcome if o is not CheckOutcome.SKIPPED)]  # type: ignore[valid-type]
    http_status: Annotated[int, Strict(), Field(ge=100, le=999)] | None = None
    error_kind: Annotated[Line, Field(max_length=64)] | None = None
    error: Text | None = None
    bytes: Count | None = None
    capture_sha256: Sha256 | None = None
    worker: Annotated[Line, Field(max_length=200)] | None = None
    fetcher: Annotated[Line, Field(max_length=16)] | None = None
    render_reason: Text | None = None
    version_seq: Int | None = None


class EventRecord(_Record):
    kind: Literal[tuple(k.value for k in EventKind)]  # type: ignore[valid-type]
    created_at: When
    detail: Text | None = None
    # A lifecycle event's facts (from, to, status, marker); absent from older exports.
    data: dict[str, Any] | None = None
    version_seq: Int | None = None


class VariantRecord(_Record):
    """A headline variant or a paragraph that comes and goes (tracker.core.variants)."""

    kind: Literal["headline", "paragraph"]
    text: Annotated[Text, Field(min_length=1)]
    times_served: Count = 0
    first_seen_at: When
    last_seen_at: When
    present: Bool = False


class FeedRecord(_Record):
    """A followed feed; `tracker feed add`'s own rules (URL, patterns, render) are applied
    when it is added."""

    url: Line
    tags: list[Tag] = []
    include_pattern: Annotated[Line, Field(max_length=1000)] | None = None
    exclude_pattern: Annotated[Line, Field(max_length=1000)] | None = None
    interval_seconds: Seconds | None = None
    render: Literal["auto", "http", "browser"] | None = None
    any_site: Bool = False


class StoryRecord(_Record):
    url: Line
    canonical_url: Annotated[Line, Field(max_length=MAX_URL_CHARS)] | None = None
    title: Text | None = None
    status: Literal[tuple(s.value for s in StoryStatus)] = "active"  # type: ignore[valid-type]
    added_at: When | None = None
    first_seen_at: When | None = None
    last_checked_at: When | None = None
    last_changed_at: When | None = None
    last_substantive_at: When | None = None
    developing: Bool = False
    promise_text: Text | None = None
    promised_at: When | None = None
    promise_state: Literal[tuple(p.value for p in PromiseState)] = "none"  # type: ignore[valid-type]
    selector: Annotated[Line, Field(max_length=1000)] | None = None
    ignore_patterns: list[Annotated[Line, Field(max_length=1000)]] = []
    fixed_interval_seconds: Seconds | None = None
    min_interval_seconds: Seconds | None = None
    max_interval_seconds: Seconds | None = None
    respect_robots_txt: Bool | None = None
    render: Literal["auto", "http", "browser"] | None = None
    extraction_health: Literal["ok", "suspect"] | None = None
    last_fetcher: Annotated[Line, Field(max_length=16)] | None = None
    # tracker.core.lifecycle; absent from older exports (then live, address not yet seen).
    lifecycle: Literal["live", "unpublished", "redirected", "paywalled"] = "live"
    live_url: Annotated[Line, Field(max_length=MAX_URL_CHARS)] | None = None
    variants_since: When | None = None
    tags: list[Tag] = []
    versions: list[VersionRecord] = []
    checks: list[CheckRecord] = []
    events: list[EventRecord] = []
    variants: list[VariantRecord] = []

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from tracker.services.stories import normalise_url

        url = normalise_url(value)  # ValueError (BadURLError) names the problem
        if len(url) > MAX_URL_CHARS:
            raise ValueError(f"longer than {MAX_URL_CHARS} characters")
        return url

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        if value:
            from tracker.core.extract import validate_selector

            validate_selector(value)
        return value or None

    @field_validator("ignore_patterns")
    @classmethod
    def _ignore_patterns(cls, value: list[str]) -> list[str]:
        from tracker.core.normalize import compile_ignore_patterns
        from tracker.services.stories import StoryError, refuse_slow_pattern

        compile_ignore_patterns(value)
        for pattern in value:
            try:
                refuse_slow_pattern(pattern)
            except StoryError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StoryRecord:
        low, high = self.min_interval_seconds, self.max_interval_seconds
        if low is not None and high is not None and low > high:
            raise ValueError("min_interval_seconds is greater than max_interval_seconds")
        seqs = [version.seq for version in self.versions]
        if len(set(seqs)) != len(seqs):
            raise ValueError("versions: the same seq twice")
        return self


def describe_error(error: ValidationError, *, limit: int = 3) -> str:
    """The first problems of a refused record, one phrase each: "versions.0.seq: ..."."""
    problems = []
    for item in error.errors()[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "record"
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    more = error.error_count() - limit
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")

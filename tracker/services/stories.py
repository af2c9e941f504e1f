"""Managing the list of stories: add, find, list, configure, pause, resume, remove.

The CLI and the web API both go through these functions, so they behave the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from tracker.core.article import MAX_URL_CHARS
from tracker.net import netguard
from tracker.net.fetcher import RENDER_MODES
from tracker.store.models import Story, StoryOrigin, StoryStatus, StoryTag, Version

if TYPE_CHECKING:
    from tracker.core.cadence import CadencePolicy
    from tracker.core.discover import TrackingParameters


class StoryError(Exception):
    """A user-facing problem with a story request; the message is shown as is."""


class StoryNotFound(StoryError):
    pass


class SettingError(StoryError):
    """A story setting's value is refused: `setting` names it (``min_interval``), so that an
    interface can say it in its own words (the CLI's ``--min-interval``)."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class IntervalOrderError(StoryError):
    """The story's min interval would be longer than its max interval (either may be the
    story's current value, not one being set)."""

    def __init__(self, min_seconds: int, max_seconds: int) -> None:
        super().__init__("min_interval is larger than max_interval")
        self.min_seconds = min_seconds
        self.max_seconds = max_seconds


@dataclass(frozen=True)
class AddResult:
    url: str
    story_id: int
    created: bool


def normalise_url(url: str, tracking: TrackingParameters | None = None) -> str:
    """The URL as stored: one spelling per article (see :func:`discover.canonicalise_url`):
    scheme and host lower-cased, default port, fragment and tracking parameters (the built-in
    ones, or `tracking`, which the `tracking_parameters` setting extends) dropped."""
    from tracker.core.discover import canonicalise_url

    return canonicalise_url(netguard.validate_url(url.strip()), tracking)


def add_stories(
    session: Session,
    urls: Iterable[str],
    *,
    now: datetime,
    tags: Sequence[str] = (),
    selector: str | None = None,
    allow_private_networks: bool = False,
    first_seen_at: datetime | None = None,
    tracking: TrackingParameters | None = None,
    render: str | None = None,
    added_by: str = StoryOrigin.USER,
    due_at: datetime | None = None,
) -> list[AddResult]:
    """Add stories (due at `due_at`, default at once). Existing URLs gain the tags; nothing
    else changes, except that a story a feed added becomes the user's when the user adds it
    (`added_by` "user"): from then on no merge of duplicates removes or retires it.

    A URL that a tracked page of the same site declared its canonical one is that story
    already (a page's canonical link on another site is never honoured).

    URLs are stored as :func:`normalise_url` spells them, with `tracking` parameters dropped.

    Raises :class:`StoryError` for an invalid URL, a private address (unless allowed), a
    bad selector or render mode, before anything is written.
    """
    render = check_render(render)
    if selector:
        from tracker.core.extract import validate_selector

        try:
            validate_selector(selector)
        except ValueError as exc:
            raise StoryError(str(exc)) from exc
    cleaned: list[str] = []
    for raw in urls:
        try:
            url = normalise_url(raw, tracking)
            netguard.check_url(url, allow_private=allow_private_networks)
        except (netguard.BadURLError, netguard.PrivateNetworkError) as exc:
            raise StoryError(str(exc)) from exc
        except OSError as exc:  # DNS failure: the story may still become reachable
            if not isinstance(exc, netguard.HostLookupError):
                raise StoryError(f"{raw}: {exc}") from exc
        if len(url) > MAX_URL_CHARS:  # a database error on PostgreSQL, not a message
            raise StoryError(
                f"{url[:60]}…: longer than {MAX_URL_CHARS} characters ({len(url)}); "
                "a tracker cannot store it"
            )
        if url not in cleaned:
            cleaned.append(url)

    results: list[AddResult] = []
    for url in cleaned:
        story = session.scalar(select(Story).where(Story.url == url)) or story_declaring(
            session, url
        )
        created = story is None
        if story is None:
            story = Story(
                url=url,
                status=StoryStatus.ACTIVE,
                added_by=added_by,
                added_at=now,
                first_seen_at=first_seen_at or now,
                next_check_at=due_at or now,
                selector=selector,
                render=render,
                ignore_patterns=[],
                developing=False,
                consecutive_failures=0,
                consecutive_gone=0,
                version_count=0,
            )
            session.add(story)
            session.flush()
        elif added_by == StoryOrigin.USER:
            story.added_by = StoryOrigin.USER
        existing = {t.tag for t in story.tags}
        for tag in tags:
            if tag and tag not in existing:
                story.tags.append(StoryTag(tag=tag))
                existing.add(tag)
        results.append(AddResult(url, story.id, created))
    return results


def story_declaring(session: Session, url: str) -> Story | None:
    """The story whose page declared `url` (canonicalised) its canonical URL, if that page is
    on the same site as `url`: one article, one story. Stories whose stored canonical URL is
    on another site (recorded before such links were refused) never answer."""
    from tracker.core.discover import same_site

    candidates = session.scalars(
        select(Story).where(Story.canonical_url == url).order_by(Story.id).limit(20)
    )
    return next((story for story in candidates if same_site(story.url, url)), None)


def find_story(
    session: Session, ref: str | int, *, tracking: TrackingParameters | None = None
) -> Story:
    """A story by id or URL (as given or normalised, with `tracking` parameters dropped),
    or the story whose page on the same site declared that URL its canonical one (which is
    what adding that URL answers)."""
    story: Story | None = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit()):
        # Ids are 32-bit: a larger number is no story (not a driver's overflow error).
        story = session.get(Story, int(ref)) if 0 < int(ref) < 2**31 else None
    else:
        story = session.scalar(select(Story).where(Story.url == ref))
        if story is None:
            try:
                url = normalise_url(ref, tracking)
            except netguard.BadURLError:
                story = None
            else:
                story = session.scalar(select(Story).where(Story.url == url))
                story = story or story_declaring(session, url)
    if story is None:
        raise StoryNotFound(
            f"no story {ref!r} is tracked (see `tracker list`; `tracker add URL` tracks one)"
        )
    return story


def stories_query(
    *,
    status: str | None = None,
    tag: str | None = None,
    developing: bool | None = None,
    search: str | None = None,
) -> Select[Story]:
    query = select(Story)
    if status:
        query = query.where(Story.status == status)
    if tag:
        query = query.where(Story.id.in_(select(StoryTag.story_id).where(StoryTag.tag == tag)))
    if developing is not None:
        query = query.where(Story.developing.is_(developing))
    if search:
        pattern = f"%{search}%"
        query = query.where(Story.url.ilike(pattern) | Story.title.ilike(pattern))
    return query


def list_stories(session: Session, **filters: object) -> list[Story]:
    query = (
        stories_query(**filters)  # type: ignore[arg-type]
        .options(selectinload(Story.tags))
        .order_by(Story.last_changed_at.desc().nulls_last(), Story.id)
    )
    return list(session.scalars(query))


def set_status(session: Session, story: Story, status: StoryStatus, *, now: datetime) -> None:
    story.status = status
    if status == StoryStatus.ACTIVE:
        story.next_check_at = now
        story.consecutive_failures = 0
        story.consecutive_gone = 0


# Words that drop a story's own value and fall back to the global setting.
DEFAULT_WORDS = frozenset({"auto", "default", "none", "off"})
ROBOTS_CHOICES = {"respect": True, "ignore": False, "default": None}


def check_render(value: str | None) -> str | None:
    """A render mode as stored: None for 'default' (the `render` setting applies)."""
    if value is None or value.strip().lower() == "default":
        return None
    mode = value.strip().lower()
    if mode not in RENDER_MODES:
        raise StoryError(f"render: choose one of {', '.join((*RENDER_MODES, 'default'))}")
    return mode


# A story's own intervals are stored in seconds in 32-bit integer columns (68 years at
# most on PostgreSQL); ten years is already longer than any story is worth waiting for.
MAX_STORY_INTERVAL = timedelta(days=3650)


@dataclass(frozen=True)
class StorySettings:
    """A change to one story's own settings. None leaves a setting as it is.

    Durations are text like ``"5m"`` or ``"1h30m"``; ``"auto"`` (or default/none/off) drops
    the story's own value. `ignore_patterns` replaces the list (an empty tuple clears it);
    `selector` ``""`` drops the story's selector."""

    interval: str | None = None  # a fixed interval: the age tiers no longer apply
    min_interval: str | None = None
    max_interval: str | None = None
    robots: str | None = None  # respect, ignore, default
    ignore_patterns: tuple[str, ...] | None = None
    selector: str | None = None
    render: str | None = None  # auto, http, browser, default

    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)


def story_settings(story: Story) -> dict[str, object]:
    """A story's own settings as shown to users (None: the global setting applies)."""
    from tracker.core.cadence import format_duration

    def duration(seconds: int | None) -> str | None:
        return format_duration(timedelta(seconds=seconds)) if seconds else None

    robots = {True: "respect", False: "ignore", None: "default"}[story.respect_robots_txt]
    return {
        "interval": duration(story.fixed_interval_seconds),
        "min_interval": duration(story.min_interval_seconds),
        "max_interval": duration(story.max_interval_seconds),
        "robots": robots,
        "ignore_patterns": list(story.ignore_patterns or []),
        "selector": story.selector,
        "render": story.render or "default",
    }


def configure_story(
    session: Session,
    story: Story,
    change: StorySettings,
    *,
    policy: CadencePolicy,
    now: datetime,
) -> list[str]:
    """Apply `change` to `story`; return one line per setting changed.

    Validates everything before changing anything (StoryError names the problem). New
    intervals reschedule the story from its last check. A new selector or ignore list is
    checked against the latest capture and re-fingerprints it, so the next check compares
    like with like instead of storing a version for the settings change; past versions
    stay as they are (``tracker reextract`` rebuilds them)."""
    from tracker.core.cadence import format_duration, parse_duration

    def seconds(value: str | None, current: int | None, name: str) -> int | None:
        if value is None:
            return current
        if value.strip().lower() in DEFAULT_WORDS:
            return None
        try:
            parsed = parse_duration(value)
        except ValueError as exc:
            raise SettingError(name, str(exc)) from None
        if parsed.total_seconds() < 1:
            raise SettingError(name, "must be at least one second")
        if parsed > MAX_STORY_INTERVAL:  # the columns are 32-bit integers on PostgreSQL
            raise SettingError(name, f"at most {format_duration(MAX_STORY_INTERVAL)}")
        return int(parsed.total_seconds())

    fixed = seconds(change.interval, story.fixed_interval_seconds, "interval")
    low = seconds(change.min_interval, story.min_interval_seconds, "min_interval")
    high = seconds(change.max_interval, story.max_interval_seconds, "max_interval")
    if low is not None and high is not None and low > high:
        raise IntervalOrderError(low, high)
    try:
        policy.with_overrides(fixed_interval=fixed, min_interval=low, max_interval=high)
    except ValueError as exc:
        raise StoryError(str(exc).removeprefix("cadence: ")) from None
    robots = story.respect_robots_txt
    if change.robots is not None:
        if change.robots not in ROBOTS_CHOICES:
            raise StoryError(f"robots: choose one of {', '.join(ROBOTS_CHOICES)}")
        robots = ROBOTS_CHOICES[change.robots]
    ignore = list(story.ignore_patterns or [])
    if change.ignore_patterns is not None:
        from tracker.core.normalize import compile_ignore_patterns

        ignore = [pattern for pattern in change.ignore_patterns if pattern]
        try:
            compile_ignore_patterns(ignore)
        except ValueError as exc:
            raise StoryError(str(exc)) from None
        for pattern in set(ignore) - set(story.ignore_patterns or []):
            refuse_slow_pattern(pattern)  # new ones: the form sends the whole list back
    selector = story.selector
    if change.selector is not None:
        selector = change.selector.strip() or None
        if selector:
            from tracker.core.extract import validate_selector

            try:
                validate_selector(selector)
            except ValueError as exc:
                raise StoryError(str(exc)) from None

    render = story.render if change.render is None else check_render(change.render)

    before = story_settings(story)
    extraction_changed = selector != story.selector or ignore != list(story.ignore_patterns or [])
    fingerprint = story.last_fingerprint
    if extraction_changed and story.version_count:
        fingerprint = _latest_fingerprint(session, story, selector, ignore)
    intervals_changed = (fixed, low, high) != (
        story.fixed_interval_seconds,
        story.min_interval_seconds,
        story.max_interval_seconds,
    )
    story.fixed_interval_seconds, story.min_interval_seconds = fixed, low
    story.max_interval_seconds, story.respect_robots_txt = high, robots
    story.ignore_patterns, story.selector, story.last_fingerprint = ignore, selector, fingerprint
    story.render = render
    if selector != before["selector"]:
        # The latest version's text came from the old selector: judge the next change
        # against its capture read with the new one (see check.ANALYSIS_VERSION).
        story.analysis_version = None
    if intervals_changed and story.status == StoryStatus.ACTIVE and story.last_checked_at:
        from tracker.pipeline.story_state import reschedule

        # As if the last check had been made under the new settings (due now if overdue).
        # A story never checked stays due at once, as `tracker add` left it.
        reschedule(story, policy, story.last_checked_at, jitter_unit=0.5)
        if story.status != StoryStatus.ACTIVE:
            # Retiring (or giving up on) a story is a check's verdict, recorded with its
            # event and alert; a settings change only moves the next check.
            story.status = StoryStatus.ACTIVE
            story.next_check_at = now
        if story.next_check_at is not None and story.next_check_at < now:
            story.next_check_at = now
    after = story_settings(story)
    return [
        f"{name}: {before[name] or '-'} → {after[name] or '-'}"
        for name in after
        if before[name] != after[name]
    ]


# Lines that make backtracking patterns run away: long runs of one kind of character, ended by
# one that fails the match.
_RUNS = ("a", "1", " ", "a1", "-", ".")
_RUNAWAY_PROBES = tuple(run * 3000 + end for run in _RUNS for end in ("!", "\n", ""))


def _flatten(items: Any) -> Iterator[tuple[Any, Any]]:
    """Every (op, argument) of a parsed pattern, nested ones included."""
    for op, arg in items:
        yield op, arg
        for value in arg if isinstance(arg, tuple | list) else ():
            if hasattr(value, "data"):  # a SubPattern
                yield from _flatten(value)
            elif isinstance(value, list):
                for branch in value:
                    if hasattr(branch, "data"):
                        yield from _flatten(branch)


def refuse_slow_pattern(pattern: str) -> None:
    """Refuse a pattern with a variable repeat inside a repeat, such as ``(a+)+$``.

    Python's ``re`` backtracks without a time limit, and ignore patterns run over every
    line of every check (and, when saved, over the latest capture in the request that saves
    them, which the web form and the API let any token holder send): on an unlucky line
    such a pattern holds a worker, and the GIL, for minutes or years. Possessive repeats
    (``a++``) and atomic groups (``(?>…)``) do not backtrack, so they may be repeated.
    """
    import re._constants as sre  # the parser re itself uses; stable since Python 3.11
    import re._parser as parser

    repeats = {sre.MAX_REPEAT, sre.MIN_REPEAT}

    def nested(items: Any, inside_repeat: bool) -> bool:
        for op, arg in items:
            if op in repeats:
                low, high, body = arg
                if (inside_repeat and high != low) or nested(body, inside_repeat or high > 1):
                    return True
                continue
            if op == sre.SUBPATTERN:
                children = [arg[-1]]
            elif op == sre.BRANCH:
                children = list(arg[1])
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                children = [arg[1]]
            elif op == sre.GROUPREF_EXISTS:
                children = [branch for branch in arg[1:] if branch is not None]
            else:  # a literal, a class, a possessive repeat or an atomic group: no backtracking
                children = []
            if any(nested(child, inside_repeat) for child in children):
                return True
        return False

    if nested(parser.parse(pattern), False):
        raise StoryError(
            f"ignore pattern {pattern!r}: a repeat inside a repeat (like (a+)+) can take "
            "for ever to match; make the inner one possessive (a++) or write it without"
        )
    # What the shape check cannot see (alternatives that overlap, as in (\w|\w\w)+): try it
    # on lines built to make backtracking patterns run away. Matching has a time budget in
    # any case (normalize.IGNORE_MATCH_SECONDS); this says so when the pattern is saved.
    from tracker.core.normalize import compile_ignore_patterns

    [compiled] = compile_ignore_patterns([pattern])
    # The pattern's own literal characters too: a line that lacks one a match needs is
    # rejected at once, so the runaway line has it in the wrong place.
    literals = [chr(arg) for op, arg in _flatten(parser.parse(pattern)) if op == sre.LITERAL][:6]
    probes = [
        *_RUNAWAY_PROBES,
        *(run * 3000 + "\x00" + literal for run in _RUNS for literal in literals),
        *(literal + run * 3000 for run in _RUNS for literal in literals),
    ]
    for probe in probes:
        if compiled.runs_away(probe):
            raise StoryError(
                f"ignore pattern {pattern!r}: takes too long to match some lines (it backtracks "
                "without end); write it without overlapping alternatives inside a repeat"
            )


def _latest_fingerprint(
    session: Session, story: Story, selector: str | None, ignore: list[str]
) -> str | None:
    """The latest version's fingerprint under new extraction settings."""
    from tracker.core.normalize import fingerprint
    from tracker.pipeline.check import analyse, latest_version, version_as_article
    from tracker.store.captures import capture_html
    from tracker.store.models import Capture

    version = latest_version(session, story.id)
    if version is None:
        return story.last_fingerprint
    capture = session.get(Capture, version.capture_sha256) if version.capture_sha256 else None
    if capture is None:  # pruned: the stored text is all there is
        return fingerprint(version_as_article(version), ignore_patterns=ignore)
    analysis = analyse(capture_html(capture), capture.url, selector, tuple(ignore))
    if analysis.empty:
        using = f"selector {selector!r}" if selector else "automatic extraction"
        raise StoryError(f"with {using} the latest capture of {story.url} has no article text")
    return analysis.fingerprint


def remove_story(session: Session, story: Story) -> None:
    session.delete(story)


def get_version(session: Session, story: Story, seq: int | None) -> Version:
    """Version ``seq`` of a story (the latest when ``seq`` is None); negative counts back."""
    if story.version_count == 0:
        raise StoryError(f"{story.url} has no versions yet (run `tracker check`)")
    if seq is None:
        seq = story.version_count
    elif seq < 0:
        seq = story.version_count + 1 + seq
    version = session.scalar(
        select(Version).where(Version.story_id == story.id, Version.seq == seq)
    )
    if version is None:
        raise StoryError(f"{story.url} has no version {seq} ({versions_held(story.version_count)})")
    return version


def versions_held(count: int) -> str:
    """ "it has versions 1–5", or "it has only version 1", for messages about a bad seq."""
    return "it has only version 1" if count == 1 else f"it has versions 1–{count}"


def list_versions(session: Session, story: Story) -> list[Version]:
    return list(
        session.scalars(select(Version).where(Version.story_id == story.id).order_by(Version.seq))
    )


def count_stories(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Story)) or 0

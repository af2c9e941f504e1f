"""When to check a story next: the cadence policy, and when a promised update is overdue.

Everything here is a pure function of its arguments: the caller passes ``now`` and, for
jitter, a random number, so the same inputs always give the same schedule.

Times are timezone-aware datetimes (UTC by convention); a naive datetime is a ValueError,
because silently guessing its zone would shift every schedule by the server's offset.

The rule, in the order it is applied by :func:`next_check`:

1. **Gone**: ``gone_after`` consecutive 404/410 responses → :attr:`Verdict.GONE`.
2. **Base interval**: a per-story ``fixed_interval`` if set (such a story never retires);
   otherwise the age rule. Age is ``now − max(first_seen_at, last_substantive_change_at)``;
   minor changes must not move ``last_substantive_change_at`` (the caller's job). The
   first tier whose ``younger_than`` exceeds the age gives the interval (NewsDiffs' rule by
   default); at ``retire_after`` (default: the last tier's bound) → :attr:`Verdict.RETIRE`.
3. **Developing**: while the page carries a developing/update-promised marker the interval
   tightens to ``developing_interval``, but only for ``developing_max_age`` after the later of
   the marker appearing and the last substantive change, because some pages say
   "developing" forever. Retirement still wins: a marker never keeps a story alive.
4. **Clamp** to the per-story ``min_interval``/``max_interval``. They bound the story's
   normal cadence only: back-off and Retry-After below protect the server and may exceed
   ``max_interval``.
5. **Errors**: after n consecutive failures the interval is at least
   ``min(error_backoff_cap, error_backoff_base × error_backoff_factor^(n−1))``; errors never
   make checks more frequent than the normal cadence.
6. **Retry-After** (429/503): the interval is at least the delay the server asked for,
   capped at ``max_retry_after`` so a hostile header cannot park a story forever.
7. **Jitter** last: ± ``jitter`` × interval, so stories added together drift apart. It may
   overshoot a min/max clamp by that fraction, but never lands before a Retry-After delay.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_PROMISE_DEADLINE",
    "NEWSDIFFS_TIERS",
    "CadencePolicy",
    "Schedule",
    "StoryClock",
    "Tier",
    "Verdict",
    "format_duration",
    "fulfils_promise",
    "next_check",
    "parse_duration",
    "parse_retry_after",
    "parse_tiers",
    "promise_overdue",
    "story_age",
]

# -- durations ------------------------------------------------------------------------------

_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * 86400),
}
_NUMBER = r"\d+(?:\.\d+)?|\.\d+"
_PLAIN_SECONDS = re.compile(rf"(?:{_NUMBER})")
_DURATION = re.compile(rf"(?:(?:{_NUMBER})\s*[a-z]+\s*)+")
_DURATION_PART = re.compile(rf"({_NUMBER})\s*([a-z]+)")
_DURATION_HELP = "seconds, or numbers with units s, m, h, d, w such as '90s', '15m', '1h30m', '3d'"


def parse_duration(value: str | float | timedelta) -> timedelta:
    """A non-negative duration from settings: a timedelta, seconds, or text like ``"15m"``.

    Text is a plain number of seconds (``"90"``) or one or more number-unit pairs
    (``"3h"``, ``"1h30m"``, ``"1 day 6 hours"``). ``m`` is minutes: months are not a fixed
    length and are not accepted. Raises ValueError, naming the bad input, otherwise.
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, bool):  # bool is an int; True seconds is surely a mistake
        raise ValueError(f"invalid duration {value!r}: expected {_DURATION_HELP}")
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"invalid duration {value!r}: not a finite number of seconds")
        result = _seconds(value, value)
    elif isinstance(value, str):
        result = _parse_duration_text(value)
    else:
        raise ValueError(f"invalid duration {value!r}: expected {_DURATION_HELP}")
    if result < timedelta(0):
        raise ValueError(f"invalid duration {value!r}: must not be negative")
    return result


def _parse_duration_text(value: str) -> timedelta:
    text = value.strip().lower()
    if _PLAIN_SECONDS.fullmatch(text):
        return _seconds(float(text), value)
    if not _DURATION.fullmatch(text):
        raise ValueError(f"invalid duration {value!r}: expected {_DURATION_HELP}")
    seconds = 0.0
    for number, unit in _DURATION_PART.findall(text):
        if unit not in _UNIT_SECONDS:
            raise ValueError(
                f"invalid duration {value!r}: unknown unit {unit!r}; expected {_DURATION_HELP}"
            )
        seconds += float(number) * _UNIT_SECONDS[unit]
    return _seconds(seconds, value)


def _seconds(seconds: float, original: object) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid duration {original!r}: too long") from None


def format_duration(value: timedelta) -> str:
    """A short human form: ``"15 min"``, ``"1 h 30 min"``, ``"3 d"`` (two largest units)."""
    seconds = round(value.total_seconds())
    if seconds < 0:
        return "-" + format_duration(-value)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts[:2]) or "0 s"


def _coarse_duration(value: timedelta) -> str:
    """Only the largest unit, rounded down: an age reads better as "5 h" than "5 h 12 min"."""
    return " ".join(format_duration(value).split(" ")[:2])


# The longest delay a Retry-After value is read as (far beyond any policy's cap).
RETRY_AFTER_CEILING = timedelta(days=3650)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """The delay a ``Retry-After`` header asks for (delta-seconds or an HTTP date).

    None when the header is absent or unparseable; a date in the past is a zero delay. Any
    delay is at most `RETRY_AFTER_CEILING` (the policy's `max_retry_after` caps it further),
    so no value, however large, overflows a date.
    """
    _require_aware(now, "now")
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # Compared as text first: int() of a 10,000-digit value is slow by design (and a
        # ValueError past sys.int_info's limit).
        if len(text) > 12:
            return RETRY_AFTER_CEILING
        return min(timedelta(seconds=int(text)), RETRY_AFTER_CEILING)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=now.tzinfo)
    return min(max(timedelta(0), when - now), RETRY_AFTER_CEILING)


# -- tiers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """Stories younger than ``younger_than`` are checked every ``interval``."""

    younger_than: timedelta
    interval: timedelta


NEWSDIFFS_TIERS: tuple[Tier, ...] = (
    Tier(timedelta(hours=3), timedelta(minutes=15)),
    Tier(timedelta(days=1), timedelta(hours=1)),
    Tier(timedelta(days=7), timedelta(hours=3)),
    Tier(timedelta(days=30), timedelta(days=3)),
    Tier(timedelta(days=365), timedelta(days=30)),
)


def parse_tiers(value: str | Mapping[Any, Any] | Iterable[Any]) -> tuple[Tier, ...]:
    """Tiers from settings, sorted by age.

    Accepts text ``"3h=15m, 1d=1h"``, a mapping ``{"3h": "15m"}``, or an iterable of
    :class:`Tier` objects or ``(younger_than, interval)`` pairs; durations as for
    :func:`parse_duration`.
    """
    if isinstance(value, str):
        pairs: list[Any] = []
        for item in filter(None, (part.strip() for part in value.split(","))):
            bound, sep, interval = item.partition("=")
            if not sep:
                raise ValueError(f"invalid tier {item!r}: expected 'younger_than=interval'")
            pairs.append((bound, interval))
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        pairs = list(value)
    tiers = []
    for pair in pairs:
        if isinstance(pair, Tier):
            tiers.append(Tier(parse_duration(pair.younger_than), parse_duration(pair.interval)))
            continue
        try:
            bound, interval = pair
        except (TypeError, ValueError):
            raise ValueError(
                f"invalid tier {pair!r}: expected a (younger_than, interval) pair"
            ) from None
        tiers.append(Tier(parse_duration(bound), parse_duration(interval)))
    tiers.sort(key=lambda tier: tier.younger_than)
    return tuple(tiers)


# -- policy ---------------------------------------------------------------------------------

# Strings that switch an optional setting off (settings files have no null).
_OFF = frozenset({"none", "off", "never"})
_NEVER = timedelta.max
_OPTIONAL_DURATIONS = frozenset(
    {"retire_after", "developing_max_age", "fixed_interval", "min_interval", "max_interval"}
)
_DURATIONS = _OPTIONAL_DURATIONS | {
    "developing_interval",
    "error_backoff_base",
    "error_backoff_cap",
    "max_retry_after",
    "promise_deadline",
}

DEFAULT_PROMISE_DEADLINE = timedelta(hours=24)


@dataclass(frozen=True)
class CadencePolicy:
    """Every threshold of the cadence rule (see the module docstring for how they combine).

    One instance holds the global settings; :meth:`with_overrides` derives a story's own.
    Durations may be given as anything :func:`parse_duration` accepts; they are stored as
    timedeltas. Invalid values raise ValueError at construction.
    """

    tiers: tuple[Tier, ...] = NEWSDIFFS_TIERS
    # Age at which a story retires; None: the last tier's bound; "never": never.
    retire_after: timedelta | None = None
    developing_interval: timedelta = timedelta(minutes=2)
    # How long a marker keeps tightening after it appeared or the story last changed
    # (whichever is later); None: as long as the marker stays (until retirement).
    developing_max_age: timedelta | None = timedelta(days=2)
    # Per-story overrides: replace the age rule (and retirement) / bound the cadence.
    fixed_interval: timedelta | None = None
    min_interval: timedelta | None = None
    max_interval: timedelta | None = None
    # 5 min, doubling, at most 6 h: a host down for a morning is retried a handful of times,
    # and a story that errors for days is still looked at four times a day.
    error_backoff_base: timedelta = timedelta(minutes=5)
    error_backoff_factor: float = 2.0
    error_backoff_cap: timedelta = timedelta(hours=6)
    max_retry_after: timedelta = timedelta(days=1)
    gone_after: int = 3
    jitter: float = 0.05
    promise_deadline: timedelta = DEFAULT_PROMISE_DEADLINE

    def __post_init__(self) -> None:
        # Coerce on construction so settings text ("15m") works everywhere, then validate.
        set_ = object.__setattr__
        set_(self, "tiers", parse_tiers(self.tiers))
        for name in _DURATIONS:
            value = getattr(self, name)
            switched_off = isinstance(value, str) and value.strip().lower() in _OFF
            if name == "retire_after" and switched_off:
                set_(self, name, _NEVER)
            elif name in _OPTIONAL_DURATIONS and (value is None or switched_off):
                set_(self, name, None)
            else:
                set_(self, name, parse_duration(value))
        for name in ("error_backoff_factor", "jitter"):
            try:
                set_(self, name, float(getattr(self, name)))
            except (TypeError, ValueError):
                raise ValueError(f"cadence: {name} must be a number") from None
        self._validate()

    def _validate(self) -> None:
        if not self.tiers:
            raise ValueError("cadence: at least one tier is needed")
        bounds = [tier.younger_than for tier in self.tiers]
        if len(set(bounds)) != len(bounds):
            raise ValueError("cadence: two tiers have the same age bound")
        for tier in self.tiers:
            if tier.interval <= timedelta(0) or tier.younger_than <= timedelta(0):
                raise ValueError(f"cadence: tier {_tier_text(tier)} must be positive")
        for name in ("developing_interval", "error_backoff_base", "error_backoff_cap",
                     "fixed_interval", "min_interval", "max_interval",
                     "retire_after", "developing_max_age"):  # fmt: skip
            value = getattr(self, name)
            if value is not None and value <= timedelta(0):
                raise ValueError(f"cadence: {name} must be positive, not {value}")
        if (
            self.min_interval is not None
            and self.max_interval is not None
            and self.min_interval > self.max_interval
        ):
            raise ValueError("cadence: min_interval is larger than max_interval")
        if not (math.isfinite(self.error_backoff_factor) and self.error_backoff_factor >= 1):
            raise ValueError("cadence: error_backoff_factor must be a number >= 1")
        if isinstance(self.gone_after, bool) or not isinstance(self.gone_after, int):
            raise ValueError("cadence: gone_after must be an integer")
        if self.gone_after < 1:
            raise ValueError("cadence: gone_after must be at least 1")
        # Below 0.5 a jittered interval stays at least half the planned one.
        if not (0 <= self.jitter < 0.5):
            raise ValueError("cadence: jitter must be in [0, 0.5)")

    @property
    def effective_retire_after(self) -> timedelta:
        return self.retire_after if self.retire_after is not None else self.tiers[-1].younger_than

    def with_overrides(self, **overrides: Any) -> CadencePolicy:
        """A copy with some thresholds replaced, e.g. a story's own bounds.

        A None value means "no override, keep this policy's value", so nullable database
        columns can be passed straight through; to switch an optional threshold off, pass
        ``"off"``. Unknown names are a ValueError.
        """
        known = {field.name for field in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"cadence: unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> CadencePolicy:
        """A policy from a settings mapping (defaults for missing names; unknown names fail)."""
        return cls().with_overrides(**mapping)

    @classmethod
    def from_settings(cls, settings: object) -> CadencePolicy:
        """A policy from a settings object: each threshold is read from the attribute of the
        same name, or ``cadence_<name>`` (``cadence_tiers``); absent attributes keep defaults.
        """
        values = {}
        for field in fields(cls):
            for attribute in (field.name, f"cadence_{field.name}"):
                if hasattr(settings, attribute):
                    values[field.name] = getattr(settings, attribute)
                    break
        return cls.from_mapping(values)

    def tier_interval(self, age: timedelta) -> timedelta:
        """The age rule alone: the interval of the first tier the age is below (else the last)."""
        for tier in self.tiers:
            if age < tier.younger_than:
                return tier.interval
        return self.tiers[-1].interval

    def error_backoff(self, consecutive_failures: int) -> timedelta:
        """The back-off after ``consecutive_failures`` errors (zero when there are none)."""
        if consecutive_failures <= 0:
            return timedelta(0)
        base = self.error_backoff_base.total_seconds()
        cap = self.error_backoff_cap.total_seconds()
        # Compare exponents, not powers: factor ** n overflows a float for large n.
        exponent = consecutive_failures - 1
        if base >= cap or exponent * math.log(self.error_backoff_factor) >= math.log(cap / base):
            return self.error_backoff_cap
        return timedelta(seconds=base * self.error_backoff_factor**exponent)


def _tier_text(tier: Tier) -> str:
    return f"{format_duration(tier.younger_than)}={format_duration(tier.interval)}"


# -- the story's clock and the schedule -----------------------------------------------------


@dataclass(frozen=True)
class StoryClock:
    """What the policy needs to know about a story: observed facts only (no settings)."""

    first_seen_at: datetime
    # Minor-only changes must not move this: they do not make a story young again.
    last_substantive_change_at: datetime | None = None
    developing: bool = False
    # When the developing/update-promised marker appeared (None: unknown).
    promised_at: datetime | None = None
    consecutive_failures: int = 0
    # Consecutive 404/410 responses; a 404/410 usually also counts as a failure.
    consecutive_gone: int = 0
    # The delay from the last response's Retry-After header (429/503), if any.
    retry_after: timedelta | None = None

    def __post_init__(self) -> None:
        _require_aware(self.first_seen_at, "first_seen_at")
        _require_aware(self.last_substantive_change_at, "last_substantive_change_at")
        _require_aware(self.promised_at, "promised_at")
        if self.consecutive_failures < 0 or self.consecutive_gone < 0:
            raise ValueError("StoryClock: counts of failures must not be negative")


class Verdict(StrEnum):
    CHECK = "check"
    RETIRE = "retire"
    GONE = "gone"


@dataclass(frozen=True)
class Schedule:
    """The decision. ``next_check_at``/``interval`` are None unless the verdict is CHECK;
    ``interval`` includes jitter. ``reason`` is for humans (logs, the UI), under 200 chars.
    """

    verdict: Verdict
    next_check_at: datetime | None
    interval: timedelta | None
    reason: str


def story_age(clock: StoryClock, now: datetime) -> timedelta:
    """Time since the later of first seen and the last substantive change (never negative,
    so clock skew between workers cannot produce a negative age)."""
    _require_aware(now, "now")
    return max(timedelta(0), now - _age_anchor(clock))


def _age_anchor(clock: StoryClock) -> datetime:
    if clock.last_substantive_change_at is None:
        return clock.first_seen_at
    return max(clock.first_seen_at, clock.last_substantive_change_at)


def next_check(
    clock: StoryClock, policy: CadencePolicy, now: datetime, *, jitter_unit: float = 0.5
) -> Schedule:
    """When to check the story next, or whether to retire it or mark it gone.

    ``jitter_unit`` is a number in [0, 1] from the caller's random source
    (``random.random()``); 0 shortens the interval by the full jitter, 1 lengthens it by the
    full jitter, 0.5 leaves it unchanged. See the module docstring for the rule.
    """
    _require_aware(now, "now")
    if not 0 <= jitter_unit <= 1:
        raise ValueError(f"jitter_unit must be in [0, 1], not {jitter_unit!r}")

    if clock.consecutive_gone >= policy.gone_after:
        return Schedule(
            Verdict.GONE, None, None, f"{clock.consecutive_gone} consecutive 404/410 responses"
        )

    if policy.fixed_interval is not None:
        interval = policy.fixed_interval
        reasons = [f"fixed: every {format_duration(interval)}"]
    else:
        age = story_age(clock, now)
        retire_after = policy.effective_retire_after
        if age >= retire_after:
            return Schedule(
                Verdict.RETIRE,
                None,
                None,
                f"age {_coarse_duration(age)}: retired (after {format_duration(retire_after)})",
            )
        interval = policy.tier_interval(age)
        reasons = [f"age {_coarse_duration(age)}: every {format_duration(interval)}"]
        if clock.developing and policy.developing_interval < interval:
            if _developing_tightens(clock, policy, now):
                interval = policy.developing_interval
                reasons = [f"developing: every {format_duration(interval)}"]
            elif policy.developing_max_age is not None:  # (without a maximum it always tightens)
                reasons.append(
                    f"developing marker older than {format_duration(policy.developing_max_age)}"
                )

    if policy.min_interval is not None and interval < policy.min_interval:
        interval = policy.min_interval
        reasons.append(f"raised to minimum {format_duration(interval)}")
    if policy.max_interval is not None and interval > policy.max_interval:
        interval = policy.max_interval
        reasons.append(f"lowered to maximum {format_duration(interval)}")

    backoff = policy.error_backoff(clock.consecutive_failures)
    if backoff > interval:
        interval = backoff
        errors = clock.consecutive_failures
        reasons.append(f"{errors} error{'s' * (errors > 1)}: back-off {format_duration(interval)}")

    retry_floor = timedelta(0)
    if clock.retry_after is not None and clock.retry_after > timedelta(0):
        retry_floor = min(clock.retry_after, policy.max_retry_after)
        if retry_floor > interval:
            interval = retry_floor
            note = f"Retry-After {format_duration(clock.retry_after)}"
            if clock.retry_after > policy.max_retry_after:
                note += f", capped at {format_duration(policy.max_retry_after)}"
            reasons.append(note)

    offset = interval * (policy.jitter * (2 * jitter_unit - 1))
    jittered = interval + offset
    if jittered < retry_floor:
        # Reflect rather than clamp: clamping would bunch every throttled story on one instant.
        jittered = interval + abs(offset)
    return Schedule(Verdict.CHECK, now + jittered, jittered, "; ".join(reasons))


def _developing_tightens(clock: StoryClock, policy: CadencePolicy, now: datetime) -> bool:
    if policy.developing_max_age is None:
        return True
    anchor = _age_anchor(clock)
    if clock.promised_at is not None:
        anchor = max(anchor, clock.promised_at)
    return now - anchor < policy.developing_max_age


# -- promises -------------------------------------------------------------------------------


def fulfils_promise(
    promised_at: datetime | None, *, changed_at: datetime, substantive: bool
) -> bool:
    """Whether a new version fulfils a pending promise: it is substantive and was captured
    after the promise was made (the version that carries the marker fulfils nothing)."""
    _require_aware(changed_at, "changed_at")
    _require_aware(promised_at, "promised_at")
    return promised_at is not None and substantive and changed_at > promised_at


def promise_overdue(
    promised_at: datetime | None,
    *,
    fulfilled: bool,
    overdue_recorded: bool,
    now: datetime,
    deadline: timedelta = DEFAULT_PROMISE_DEADLINE,
) -> bool:
    """Whether to record the "promise overdue" event now: a promise was made, nothing has
    fulfilled it, ``deadline`` has passed since, and the event was not recorded before (it is
    recorded once)."""
    _require_aware(now, "now")
    _require_aware(promised_at, "promised_at")
    if promised_at is None or fulfilled or overdue_recorded:
        return False
    return now - promised_at >= deadline


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime (UTC), not naive {value}")

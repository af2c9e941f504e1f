"""A point in time as a person gives it in a filter: "24h" (ago), "7d", or an ISO date. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.core.cadence import parse_duration

WHEN_HELP = "a time ago such as 90m, 24h or 7d, or an ISO date such as 2026-12-01 (UTC)"


def parse_when(value: str, now: datetime) -> datetime:
    """`value` as a UTC time: a duration counts back from `now` ("24h": a day before `now`),
    an ISO date is its midnight UTC, an ISO time without a zone is UTC.
    Raises ValueError naming the bad input."""
    text = value.strip()
    if not text:
        raise ValueError(f"invalid time {value!r}: expected {WHEN_HELP}")
    try:
        ago = parse_duration(text)
    except ValueError:
        pass
    else:
        try:
            return now - ago
        except OverflowError:
            raise ValueError(f"invalid time {value!r}: too long ago") from None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"invalid time {value!r}: expected {WHEN_HELP}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00+01:00" is before the first representable time
        raise ValueError(f"invalid time {value!r}: out of range") from None

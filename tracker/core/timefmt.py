"""How times read to people, the same in the CLI and the web UI."""

from __future__ import annotations

from datetime import UTC, datetime


def relative_time(value: datetime | None, now: datetime | None = None) -> str:
    """ "5m ago", "in 2h", "—" for none."""
    if value is None:
        return "—"
    now = now or datetime.now(UTC)
    seconds = (value - now).total_seconds()
    future = seconds > 0
    seconds = abs(seconds)
    if seconds < 60:
        text = f"{int(seconds)}s"
    elif seconds < 3600:
        text = f"{int(seconds // 60)}m"
    elif seconds < 86400:
        text = f"{int(seconds // 3600)}h"
    else:
        text = f"{int(seconds // 86400)}d"
    return f"in {text}" if future else f"{text} ago"


# What a story that is not checked any more shows where its next check would be.
_NOT_SCHEDULED = {
    "paused": "paused",
    "retired": "retired (not checked)",
    "gone": "gone (not checked)",
}


# What a due story shows when no worker's heartbeat is recent (see tracker.core.liveness):
# "due now" would promise a check that nothing is going to make. OVERDUE is the short form
# for a table column, which then says why below it.
OVERDUE_NO_DAEMON = "overdue: no daemon is checking"
OVERDUE = "overdue"


def next_check_text(
    status: str, next_check_at: datetime | None, now: datetime, *, checking: bool = True
) -> str:
    """When a story of `status` is checked next, in words: "in 12m", "due now" (its time has
    passed: the next pass takes it) or, when `checking` is false (no daemon is running),
    "overdue"; or its state when it is not scheduled ("paused",
    "retired (not checked)"), whatever time the database still holds for it."""
    if status in _NOT_SCHEDULED:
        return _NOT_SCHEDULED[status]
    if next_check_at is None:
        return "—"
    if next_check_at <= now:
        return "due now" if checking else OVERDUE
    return relative_time(next_check_at, now)

"""Is anything checking stories? Decided from the workers' heartbeats. Pure: `now` is passed in.

`tracker run` and `tracker worker` write a heartbeat row every :data:`HEARTBEAT_SECONDS` and
delete it when they stop cleanly; a worker that crashed leaves a row that goes stale. The web
UI reads the newest heartbeat and says so when none is recent, rather than promising a "next
check in 5m" that nothing will make.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from tracker.core.timefmt import OVERDUE_NO_DAEMON, relative_time

HEARTBEAT_SECONDS: Final = 30
# Four missed beats: a worker busy with a slow database commit is not declared dead.
ALIVE_WITHIN: Final = timedelta(minutes=2)


def daemon_alive(
    last_seen: datetime | None, now: datetime, within: timedelta = ALIVE_WITHIN
) -> bool:
    """Whether a worker was seen recently enough to be taken as running."""
    return last_seen is not None and now - last_seen <= within


def next_check_text(next_check_at: datetime | None, now: datetime, *, checking: bool) -> str:
    """A story's next check in words: "in 5m", or, when it is due and no worker is running,
    that it is overdue and why (instead of a "5m ago" that suggests a check happened)."""
    if next_check_at is not None and next_check_at <= now and not checking:
        return OVERDUE_NO_DAEMON
    return relative_time(next_check_at, now)

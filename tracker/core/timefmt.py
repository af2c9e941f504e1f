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

"""Is a daemon checking stories? One cheap read per page, for the banner and "overdue" texts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import Request

from tracker.core.liveness import daemon_alive
from tracker.store import workers

log = logging.getLogger("tracker.web")
_UNREAD = object()


def daemon_checking(request: Request) -> bool | None:
    """Whether a worker's heartbeat is recent; None when it cannot be read (an error page
    for a database that is down must still render). Read once per request."""
    cached: object = getattr(request.state, "daemon_checking", _UNREAD)
    if cached is not _UNREAD:
        return cached if isinstance(cached, bool) else None
    try:
        with request.app.state.db.read_session() as session:
            seen = workers.last_seen(session)
        checking: bool | None = daemon_alive(seen, datetime.now(UTC))
    except Exception as exc:  # noqa: BLE001 -- a banner must never break a page
        log.debug("daemon status not read: %s", exc)
        checking = None
    request.state.daemon_checking = checking
    return checking

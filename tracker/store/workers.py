"""The workers table: each running daemon's heartbeat (see :mod:`tracker.core.liveness`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracker.store.models import Worker


def beat(
    session: Session, *, name: str, host: str, pid: int, started_at: datetime, now: datetime
) -> None:
    """Record that worker `name` is alive at `now` (its row made on the first beat)."""
    worker = session.get(Worker, name)
    if worker is None:
        session.add(Worker(name=name, host=host, pid=pid, started_at=started_at, last_seen_at=now))
    else:
        worker.last_seen_at = now
    session.flush()


def forget(session: Session, name: str) -> None:
    """A worker stopping cleanly takes its row away: it is not checking any more."""
    session.execute(delete(Worker).where(Worker.name == name))


def last_seen(session: Session) -> datetime | None:
    """The newest heartbeat of any worker (one indexed read)."""
    return session.scalar(select(func.max(Worker.last_seen_at)))


def running_workers(session: Session) -> list[Worker]:
    return list(session.scalars(select(Worker).order_by(Worker.last_seen_at.desc())))

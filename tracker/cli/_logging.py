"""Log setup for the daemon: readable lines for people, JSON lines for machines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

STRUCTURED_FIELDS = ("check", "summary")


class JSONFormatter(logging.Formatter):
    """One JSON object per line; structured extras (``check``, ``summary``) kept as fields."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in STRUCTURED_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class _NotOverlappingTicks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs every job run at INFO; only its problems interest an operator.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # A tick still working through a backlog when the next is due is how the daemon works
    # (the tick claims until the queue is empty), not a problem: a warning every second of
    # a backlog said otherwise.
    logging.getLogger("apscheduler.scheduler").addFilter(_NotOverlappingTicks())
    # Alembic narrates every migration step; the daemon says what matters itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)

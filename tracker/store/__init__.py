"""Persistence: the database, its models (one schema, changed only through ``migrations/``),
raw captures and the write queue.

Every model module is imported here, so that ``Base.metadata`` (and so Alembic) sees every
table and relationships between modules resolve, whichever store module is imported first.
"""

from tracker.store import (
    alert_models,
    archive_models,
    feed_models,
    models,
    timestamp_models,
    variant_models,
)

__all__ = [
    "alert_models",
    "archive_models",
    "feed_models",
    "models",
    "timestamp_models",
    "variant_models",
]

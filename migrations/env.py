"""Alembic environment. The application passes its own connection in
``config.attributes["connection"]``; the ``alembic`` command line uses
``sqlalchemy.url`` (or TRACKER_DATABASE_URL / the default SQLite file)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tracker.store.models import Base
from tracker.store.search_index import include_in_autogenerate

target_metadata = Base.metadata
config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # The full-text index (migration 0013) is no ORM model: not a difference.
        include_name=include_in_autogenerate,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from tracker.config import load_settings
    from tracker.store.db import make_engine

    url = config.get_main_option("sqlalchemy.url") or load_settings().effective_database_url
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()

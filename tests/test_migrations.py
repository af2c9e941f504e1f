"""The schema only changes through migrations: they must produce exactly the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tracker.store.db import Database, current_revision, head_revision
from tracker.store.models import Base
from tracker.store.search_index import include_in_autogenerate


def test_migrations_produce_exactly_the_models(db: Database):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_in_autogenerate}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_opening_the_database_upgrades_it_to_head(db: Database):
    assert current_revision(db.engine) == head_revision(db.engine)
    tables = set(inspect(db.engine).get_table_names())
    assert {"stories", "versions", "captures", "checks", "events"} <= tables


def test_upgrading_twice_is_harmless(db: Database, settings):
    again = Database(settings)
    assert current_revision(again.engine) == head_revision(again.engine)
    again.dispose()

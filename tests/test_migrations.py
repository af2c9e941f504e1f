"""The schema only changes through migrations: they must produce exactly the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import make_settings
from sqlalchemy import inspect

from tracker.store import db as store_db
from tracker.store.db import (
    Database,
    alembic_config,
    at_shipped_head,
    current_revision,
    head_revision,
    make_engine,
    migrations_dir,
    shipped_head,
)
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


def test_each_migration_file_is_named_by_its_revision_and_the_newest_is_the_head(
    db: Database,
):
    # Opening a database reads the head from the file names alone (shipped_head); it is
    # right only while every file is named "<its revision>_….py".
    scripts = list(ScriptDirectory.from_config(alembic_config(db.engine)).walk_revisions())
    named = {Path(script.path).name: script.revision for script in scripts}
    files = {path.name for path in (migrations_dir() / "versions").glob("*.py")}
    assert set(named) == files
    assert all(name.startswith(f"{revision}_") for name, revision in named.items()), named
    assert shipped_head() == head_revision(db.engine)


def test_a_database_at_the_head_is_opened_without_alembic(db: Database, settings, monkeypatch):
    def no_alembic(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("Alembic ran for a database already at the head revision")

    monkeypatch.setattr(store_db, "upgrade", no_alembic)
    again = Database(settings)
    assert current_revision(again.engine) == head_revision(again.engine)
    again.dispose()


def test_a_database_behind_the_head_is_still_upgraded_on_opening(tmp_path):
    settings = make_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'behind.db'}")
    behind = Database(settings, auto_upgrade=False)
    store_db.upgrade(behind.engine, "0019")
    assert not at_shipped_head(behind.engine)
    behind.dispose()
    opened = Database(settings)
    assert current_revision(opened.engine) == head_revision(opened.engine) == shipped_head()
    assert at_shipped_head(opened.engine)
    opened.dispose()


def test_a_database_without_a_schema_is_not_taken_for_one_at_the_head(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert not at_shipped_head(engine)  # no alembic_version table: Alembic creates it
    engine.dispose()

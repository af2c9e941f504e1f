"""Lease upkeep reads the leased stories only, however many stories there are.

Every worker looks for its host's dead workers' leases once a minute
(claims.reclaim_from_dead_workers). Leases exist only while checks run, so a partial index on
the leased rows (``ix_stories_leased``, migration 0011) keeps that to a few hundred rows at a
million stories; a sequential scan would read them all (benchmarks/scaleout.py measures it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import event, inspect, select, text, update

from tracker.pipeline import claims
from tracker.services.stories import add_stories
from tracker.store.db import Database, alembic_config, upgrade
from tracker.store.models import Story

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
INDEX = "ix_stories_leased"


def leased_index(db: Database) -> dict | None:
    indexes = inspect(db.engine).get_indexes("stories")
    return next((index for index in indexes if index["name"] == INDEX), None)


def predicate(index: dict) -> str:
    options = index["dialect_options"]
    where = options.get("postgresql_where", options.get("sqlite_where"))
    return " ".join(str(where).strip("()").split())


def test_a_migrated_database_indexes_only_the_leased_stories(db: Database):
    index = leased_index(db)
    assert index is not None, "migrations must create the leased-stories index"
    assert index["column_names"] == ["lease_owner"]
    # Partial: stories not being checked (nearly all of them) are not in it at all.
    assert predicate(index) == "lease_owner IS NOT NULL"


def test_the_leased_stories_index_comes_and_goes_with_its_migration(db: Database):
    config = alembic_config(db.engine)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert leased_index(db) is None
    upgrade(db.engine)
    assert leased_index(db) is not None


def plans_of_reclaim(db: Database) -> list[str]:
    """The query plans of the statements reclaim_from_dead_workers runs (with a dead worker's
    lease to free, so it runs both its lookup and its update)."""
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, *_):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session() as session:
            freed = claims.reclaim_from_dead_workers(
                session, host="box", now=NOW, alive=lambda pid: False
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert freed == 1
    queries = [(s, p) for s, p in seen if s.lstrip().upper().startswith(("SELECT", "UPDATE"))]
    plans = []
    with db.engine.connect() as connection:
        if db.is_sqlite:
            explain = "EXPLAIN QUERY PLAN "
        else:
            # The test table is tiny: a sequential scan would be cheaper. What matters is that
            # the index can answer these queries, as the planner will choose at scale.
            connection.execute(text("SET enable_seqscan = off"))
            explain = "EXPLAIN "
        for statement, parameters in queries:
            rows = connection.exec_driver_sql(explain + statement, parameters).all()
            plans.append("\n".join(str(row) for row in rows))
        connection.rollback()
    return plans


def test_finding_a_dead_workers_leases_reads_the_leased_stories_index(db: Database):
    with db.session() as session:
        add_stories(session, [f"https://example.com/{n}" for n in range(20)], now=NOW)
        first = session.scalar(select(Story.id).order_by(Story.id).limit(1))
        session.execute(
            update(Story)
            .where(Story.id == first)
            .values(lease_owner="box:4242:aaaaaa", lease_expires_at=NOW + timedelta(minutes=5))
        )
    plans = plans_of_reclaim(db)
    assert len(plans) == 2, plans  # the lookup of dead owners, the update freeing their leases
    for plan in plans:
        assert INDEX in plan, f"not answered from the leased-stories index:\n{plan}"

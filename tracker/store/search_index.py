"""The full-text index of versions, as far as the rest of the store needs to know it.

The index is made and kept by the database (migration 0013): on SQLite an FTS5 table over
the view ``versions_search_source``, kept by triggers; on PostgreSQL the generated column
``versions.search_vector`` with a GIN index. Neither can be an ORM model, so Alembic's
comparison of models and schema must not see them (:func:`include_in_autogenerate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# SQLite: the FTS5 table (and the shadow tables FTS5 keeps its index in).
SQLITE_INDEX_TABLE = "versions_fts"
SQLITE_SOURCE_VIEW = "versions_search_source"
# PostgreSQL: the generated column and its index.
POSTGRESQL_COLUMN = "search_vector"
POSTGRESQL_INDEX = "ix_versions_search"

# Merges the FTS5 index's segments into one. Each write transaction adds a segment and
# FTS5 merges them only now and then, so a busy index holds many, and every lookup reads
# each of them: after 100,000 versions in 2,000-row batches, a search took three times the
# CPU it takes once merged (benchmarks/search.py). `tracker db vacuum` runs it.
SQLITE_OPTIMIZE = f"INSERT INTO {SQLITE_INDEX_TABLE}({SQLITE_INDEX_TABLE}) VALUES ('optimize')"


def include_in_autogenerate(
    name: str | None, type_: str, parent_names: Mapping[str, Any] | None = None
) -> bool:
    """Alembic's ``include_name`` hook: everything but the search index's own objects."""
    if name is None:
        return True
    if type_ == "table":
        return not (name == SQLITE_INDEX_TABLE or name.startswith(SQLITE_INDEX_TABLE + "_"))
    if type_ == "column":
        table = (parent_names or {}).get("table_name")
        return not (table == "versions" and name == POSTGRESQL_COLUMN)
    if type_ == "index":
        return name != POSTGRESQL_INDEX
    return True


# Leaf pages one incremental merge writes at most (about 4 KB each): the daemon's
# housekeeping runs one at a time in its transaction, so the write lock is held briefly.
MERGE_PAGES = 200


def merge_index_segments(session: Session, pages: int = MERGE_PAGES) -> None:
    """Some of the merging :data:`SQLITE_OPTIMIZE` does, bounded (FTS5 ``merge`` with a
    negative count: segments of any level, about `pages` pages written). Run on every
    housekeeping tick, it keeps a busy index in few segments. Nothing to do on PostgreSQL
    (GIN's pending list is merged by autovacuum)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(
        text(
            f"INSERT INTO {SQLITE_INDEX_TABLE}({SQLITE_INDEX_TABLE}, rank) VALUES ('merge', :pages)"
        ),
        {"pages": -abs(pages)},
    )

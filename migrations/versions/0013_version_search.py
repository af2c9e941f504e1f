"""full-text search over every version's text and every headline it stated

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:00:00.000000

The index lives in the database and is kept by the database, so every write path (the
ORM, bulk inserts, imports, deletes and the cascades of removing a story) keeps it in step:

- SQLite: an FTS5 table with external content, ``versions_fts`` (columns ``headlines``:
  the title and each headline the page stated, one a line; ``text``), whose content is the
  view ``versions_search_source`` over ``versions``. Triggers on ``versions`` add and
  remove a version's entry; they read the values through the same view, so what is removed
  is exactly what was added. The view also gives ``snippet()`` and ``highlight()`` the text.
- PostgreSQL: a stored generated ``tsvector`` column, ``versions.search_vector`` (the
  ``simple`` configuration: no stemming, no stop words, any language) with a GIN index.
  Stored, not an expression index: a phrase query rechecks each candidate row against its
  vector, and re-parsing the text of thousands of rows would cost seconds.

Neither is in the ORM models (a virtual table, a column SQLite does not have):
``tracker.store.search_index.include_in_autogenerate`` keeps Alembic's comparison off them.

Text beyond the first 200,000 characters is not indexed: PostgreSQL refuses a tsvector over
1 MB, and a version that cannot be stored would be far worse than one not found.

A later migration that recreates ``versions`` on SQLite (``batch_alter_table``) drops the
triggers with the old table: it must create them again (``SQLITE_TRIGGERS``).
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED_CHARS = 200_000

# Title first, then every other headline the page stated (h1, og:title, <title>), one a
# line. The headlines column is JSON; one that is not valid JSON is skipped, not an error
# (a trigger that raises would make the version impossible to store).
SQLITE_SOURCE_VIEW = f"""
CREATE VIEW versions_search_source AS
SELECT
    id,
    coalesce(title, '') || char(10) || coalesce((
        SELECT group_concat(value, char(10))
        FROM json_each(CASE WHEN json_valid(versions.headlines) THEN versions.headlines
                            ELSE '[]' END)
        WHERE value IS NOT versions.title
    ), '') AS headlines,
    substr(text, 1, {INDEXED_CHARS}) AS text
FROM versions
"""

SQLITE_INDEX_TABLE = """
CREATE VIRTUAL TABLE versions_fts USING fts5(
    headlines, text,
    content='versions_search_source', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
)
"""

_ADD = (
    "INSERT INTO versions_fts(rowid, headlines, text) "
    "SELECT id, headlines, text FROM versions_search_source WHERE id = new.id;"
)
_REMOVE = (
    "INSERT INTO versions_fts(versions_fts, rowid, headlines, text) "
    "SELECT 'delete', id, headlines, text FROM versions_search_source WHERE id = old.id;"
)

# Removal happens BEFORE the row changes, while the view still reads the old values.
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER versions_fts_insert AFTER INSERT ON versions BEGIN {_ADD} END",
    f"CREATE TRIGGER versions_fts_delete BEFORE DELETE ON versions BEGIN {_REMOVE} END",
    "CREATE TRIGGER versions_fts_update_old BEFORE UPDATE OF title, headlines, text "
    f"ON versions BEGIN {_REMOVE} END",
    "CREATE TRIGGER versions_fts_update_new AFTER UPDATE OF title, headlines, text "
    f"ON versions BEGIN {_ADD} END",
)

POSTGRESQL_COLUMN = f"""
ALTER TABLE versions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', coalesce(title, ''))
    || to_tsvector('simple', coalesce(headlines, '[]'::json))
    || to_tsvector('simple', left(coalesce(text, ''), {INDEXED_CHARS}))
) STORED
"""


def _require_fts5() -> None:
    bind = op.get_bind()
    has_fts5 = bind.exec_driver_sql("SELECT sqlite_compileoption_used('ENABLE_FTS5')").scalar()
    if not has_fts5:
        import sqlite3

        raise RuntimeError(
            f"this SQLite (version {sqlite3.sqlite_version}) was built without FTS5, which "
            "search needs: use a Python whose sqlite3 module has it (the python.org, Debian "
            "and Docker builds do), or PostgreSQL"
        )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        _require_fts5()
        op.execute(SQLITE_SOURCE_VIEW)
        op.execute(SQLITE_INDEX_TABLE)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        # Back-fill: every version stored so far.
        op.execute(
            "INSERT INTO versions_fts(rowid, headlines, text) "
            "SELECT id, headlines, text FROM versions_search_source"
        )
    else:
        # Adding a stored generated column computes it for every existing row.
        op.execute(POSTGRESQL_COLUMN)
        op.execute('CREATE INDEX ix_versions_search ON versions USING gin (search_vector)')


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for name in (
            'versions_fts_insert',
            'versions_fts_delete',
            'versions_fts_update_old',
            'versions_fts_update_new',
        ):
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        op.execute('DROP TABLE IF EXISTS versions_fts')
        op.execute('DROP VIEW IF EXISTS versions_search_source')
    else:
        op.execute('DROP INDEX IF EXISTS ix_versions_search')
        op.execute('ALTER TABLE versions DROP COLUMN IF EXISTS search_vector')

"""what the changes page reads: each version's excerpt and replaced headline, kinds indexable

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:00:00.000000

The changes page (/changes, /api/v1/changes, `tracker changes`) lists versions of every
story newest first, 50 a page, with a one-line excerpt of each change, and must answer in
under 100 ms with 100,000 versions. So:

- `versions.excerpt` (the first changed sentence as [op, text] segments) and
  `versions.previous_title` (the headline the version replaced) are decided once, when a
  version is written (tracker.core.excerpt), instead of diffing two article texts per row on
  every page view. Existing versions are back-filled here from their predecessor's text.
- `versions (captured_at, id, story_id)` is indexed: the page's order and its keyset cursor,
  so a page reads 51 index entries, not the table; with the story, a tag or site shared by
  many stories is tested version by version from the index alone. `versions (story_id, captured_at, id)` gives the
  versions of the stories a tag or site filter allows in the same order, from the index
  alone (the page's ids are found first, then only their rows are read).
- Kinds: `versions.kinds` is a JSON list, which no index on either database can search (a
  kind filter would read every version and parse its JSON; a rare kind, every version of
  the table for one page). `version_kinds` holds the same kinds a row each, with the
  version's capture time, and its index on (kind, captured_at, version_id) hands a kind's
  versions over newest first. A row per kind rather than a bit mask: a mask needs
  `kinds & :mask != 0`, which B-tree indexes cannot answer either. The JSON list stays, as
  the API and exports show it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tracker.core.excerpt import change_excerpt, excerpt_to_json, previous_headline
from tracker.store.base import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stories back-filled per round trip: bounded memory whatever the table's size.
STORIES_PER_BATCH = 200


def upgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("excerpt", sa.JSON(), nullable=True))
        batch_op.create_index(
            "ix_versions_captured_at_id_story_id", ["captured_at", "id", "story_id"], unique=False
        )
        batch_op.create_index(
            "ix_versions_story_id_captured_at_id", ["story_id", "captured_at", "id"], unique=False
        )
    op.create_table(
        "version_kinds",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("captured_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["versions.id"],
            name=op.f("fk_version_kinds_version_id_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "kind", name=op.f("pk_version_kinds")),
    )
    with op.batch_alter_table("version_kinds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_version_kinds_kind_captured_at",
            ["kind", "captured_at", "version_id"],
            unique=False,
        )
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        kinds = "json_array_elements_text(v.kinds::json)"
    else:
        kinds = "json_each(v.kinds)"
    value = "k" if connection.dialect.name == "postgresql" else "k.value"
    connection.execute(
        sa.text(
            "INSERT INTO version_kinds (version_id, kind, captured_at) "
            f"SELECT DISTINCT v.id, {value}, v.captured_at FROM versions v, {kinds} AS k "
            "WHERE v.kinds IS NOT NULL"
        )
    )
    _backfill_excerpts(connection)


def _backfill_excerpts(connection: sa.Connection) -> None:
    versions = sa.table(
        "versions",
        sa.column("id", sa.Integer),
        sa.column("story_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("text", sa.Text),
        sa.column("previous_title", sa.Text),
        sa.column("excerpt", sa.JSON),
    )
    update = (
        sa.update(versions)
        .where(versions.c.id == sa.bindparam("version_id"))
        .values(excerpt=sa.bindparam("new_excerpt"), previous_title=sa.bindparam("replaced"))
    )
    story_ids = [
        row[0]
        for row in connection.execute(
            sa.select(versions.c.story_id).distinct().order_by(versions.c.story_id)
        )
    ]
    for start in range(0, len(story_ids), STORIES_PER_BATCH):
        batch = story_ids[start : start + STORIES_PER_BATCH]
        rows = connection.execute(
            sa.select(versions.c.id, versions.c.story_id, versions.c.title, versions.c.text)
            .where(versions.c.story_id.in_(batch))
            .order_by(versions.c.story_id, versions.c.seq)
        )
        updates = []
        previous = None
        for row in rows:
            before = (
                previous if previous is not None and previous.story_id == row.story_id else None
            )
            updates.append(
                {
                    "version_id": row.id,
                    "new_excerpt": excerpt_to_json(
                        change_excerpt(before.text if before else None, row.text or "")
                    ),
                    "replaced": previous_headline(before.title if before else None, row.title),
                }
            )
            previous = row
        if updates:
            connection.execute(update, updates)


def downgrade() -> None:
    with op.batch_alter_table("version_kinds", schema=None) as batch_op:
        batch_op.drop_index("ix_version_kinds_kind_captured_at")
    op.drop_table("version_kinds")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index("ix_versions_story_id_captured_at_id")
        batch_op.drop_index("ix_versions_captured_at_id_story_id")
        batch_op.drop_column("excerpt")
        batch_op.drop_column("previous_title")

"""chain every version to the one before it (content, raw capture and link digests)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 15:00:00.000000

Back-fills the chain for the versions already stored, oldest first per story, exactly as
new versions are chained when written (tracker.core.chain). A version's raw digest is the
capture it points at today; a capture pruned before this upgrade is not in the chain.
"""

from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op

from tracker.core.chain import links_for

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_stories = sa.table('stories', sa.column('id', sa.Integer), sa.column('url', sa.String))
_versions = sa.table(
    'versions',
    sa.column('id', sa.Integer),
    sa.column('story_id', sa.Integer),
    sa.column('seq', sa.Integer),
    sa.column('captured_at', sa.DateTime(timezone=True)),
    sa.column('title', sa.Text),
    sa.column('headlines', sa.JSON),
    sa.column('byline', sa.Text),
    sa.column('published', sa.String),
    sa.column('modified', sa.String),
    sa.column('canonical_url', sa.String),
    sa.column('text', sa.Text),
    sa.column('entries', sa.JSON),
    sa.column('capture_sha256', sa.String),
    sa.column('content_sha256', sa.String),
    sa.column('raw_sha256', sa.String),
    sa.column('chain_sha256', sa.String),
)


# Plain ALTER TABLE, not a batch: on SQLite a batch that copies `versions` would break the
# search index's view and triggers on it (0013). SQLite has had ADD and DROP COLUMN since 3.35.
def upgrade() -> None:
    op.add_column('versions', sa.Column('content_sha256', sa.String(length=64), nullable=True))
    op.add_column('versions', sa.Column('raw_sha256', sa.String(length=64), nullable=True))
    op.add_column('versions', sa.Column('chain_sha256', sa.String(length=64), nullable=True))
    _back_fill(op.get_bind())


def _back_fill(connection: sa.Connection) -> None:
    urls = dict(connection.execute(sa.select(_stories.c.id, _stories.c.url)).all())
    story_ids = sorted(urls)
    # A few hundred stories at a time: memory stays bounded, and no cursor is open on the
    # table while it is updated.
    for start in range(0, len(story_ids), 200):
        chunk = story_ids[start : start + 200]
        rows = connection.execute(
            sa.select(_versions)
            .where(_versions.c.story_id.in_(chunk))
            .order_by(_versions.c.story_id, _versions.c.seq)
        ).mappings().all()
        by_story: dict[int, list[dict[str, object]]] = {}
        for row in rows:
            version = dict(row)
            captured = version['captured_at']
            if captured.tzinfo is None:  # SQLite keeps UTC without a zone
                version['captured_at'] = captured.replace(tzinfo=UTC)
            version['raw_sha256'] = version['capture_sha256']
            by_story.setdefault(version['story_id'], []).append(version)
        pending = [
            {
                'version_id': version['id'],
                'content': link.content_sha256,
                'raw': link.raw_sha256,
                'link': link.chain_sha256,
            }
            for story_id, versions in by_story.items()
            for version, link in zip(versions, links_for(urls[story_id], versions))
        ]
        _write(connection, pending)


def _write(connection: sa.Connection, pending: list[dict[str, object]]) -> None:
    if not pending:
        return
    connection.execute(
        _versions.update()
        .where(_versions.c.id == sa.bindparam('version_id'))
        .values(
            content_sha256=sa.bindparam('content'),
            raw_sha256=sa.bindparam('raw'),
            chain_sha256=sa.bindparam('link'),
        ),
        pending,
    )


def downgrade() -> None:
    op.drop_column('versions', 'chain_sha256')
    op.drop_column('versions', 'raw_sha256')
    op.drop_column('versions', 'content_sha256')

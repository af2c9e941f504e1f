"""headline variants and paragraphs that come and go: story_variants, stories.variants_since

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 17:10:00.000000

Nothing to back-fill: the rule (tracker.core.variants) reads a story's recent versions when
a flip comes, so stories that flipped before this upgrade are recognised at their next flip.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.store.base

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'story_variants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('story_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('first_seen_at', tracker.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', tracker.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('times_served', sa.Integer(), nullable=False),
        sa.Column('present', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ['story_id'],
            ['stories.id'],
            name=op.f('fk_story_variants_story_id_stories'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_story_variants')),
        sa.UniqueConstraint(
            'story_id', 'kind', 'digest', name=op.f('uq_story_variants_story_id_kind_digest')
        ),
    )
    # Plain ADD COLUMN on stories, as the earlier migrations of hot tables do.
    op.add_column(
        'stories',
        sa.Column('variants_since', tracker.store.base.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column('stories', 'variants_since')
    op.drop_table('story_variants')

"""web-archive hand-off: one submission row per version to be saved by a web archive

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 17:00:00.000000

New table only: versions stored before the hand-off was switched on are not submitted
(nothing to back-fill; `tracker archive-status` shows the queue).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.store.base

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'archive_submissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('story_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', tracker.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', tracker.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('submitted_at', tracker.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('job_id', sa.String(length=200), nullable=True),
        sa.Column('archived_url', sa.Text(), nullable=True),
        sa.Column('archived_at', tracker.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('lease_expires_at', tracker.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['story_id'], ['stories.id'],
            name=op.f('fk_archive_submissions_story_id_stories'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['version_id'], ['versions.id'],
            name=op.f('fk_archive_submissions_version_id_versions'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_submissions')),
        sa.UniqueConstraint('version_id', name=op.f('uq_archive_submissions_version_id')),
    )
    op.create_index(
        'ix_archive_submissions_status_next_attempt_at',
        'archive_submissions', ['status', 'next_attempt_at'], unique=False,
    )
    op.create_index(
        'ix_archive_submissions_submitted_at', 'archive_submissions', ['submitted_at'], unique=False
    )
    op.create_index(
        op.f('ix_archive_submissions_story_id'), 'archive_submissions', ['story_id'], unique=False
    )


def downgrade() -> None:
    op.drop_table('archive_submissions')

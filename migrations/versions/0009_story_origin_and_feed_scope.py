"""who added each story (user or feed); a feed's site scope and its last poll's warning

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('added_by', sa.String(length=16), server_default='user', nullable=False)
        )
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('any_site', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('last_warning', sa.Text(), nullable=True))
    # A story a feed created was linked to it in the same transaction, at the moment it was
    # added; a story added by hand and listed by a feed later was linked later. Anything
    # else stays "user": when in doubt, a story is protected from merges.
    op.execute(
        "UPDATE stories SET added_by = 'feed' WHERE EXISTS ("
        "SELECT 1 FROM feed_stories WHERE feed_stories.story_id = stories.id "
        "AND feed_stories.seen_at = stories.added_at)"
    )


def downgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('last_warning')
        batch_op.drop_column('any_site')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_column('added_by')

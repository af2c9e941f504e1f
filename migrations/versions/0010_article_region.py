"""where each story's article sits in its page, to skip extraction when it did not change

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty for every story until its next full read: the first check after the upgrade
    # extracts as before and records the region.
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_path', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('region_digest', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_column('region_digest')
        batch_op.drop_column('region_path')

"""how each story is fetched (render mode) and how trustworthy each extraction is

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('extraction_health', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('last_fetcher', sa.String(length=16), nullable=True))
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render', sa.String(length=16), nullable=True))
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_source', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('fetcher', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('health', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('health_reasons', sa.JSON(), nullable=True))
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetcher', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('render_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.drop_column('render_reason')
        batch_op.drop_column('fetcher')
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_column('health_reasons')
        batch_op.drop_column('health')
        batch_op.drop_column('fetcher')
        batch_op.drop_column('text_source')
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('render')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_column('last_fetcher')
        batch_op.drop_column('extraction_health')
        batch_op.drop_column('render')

"""index the leased stories only, so finding a dead worker's leases reads no more than them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 13:00:00.000000

Each worker looks once a minute for leases held by dead workers on its host
(claims.reclaim_from_dead_workers). Without an index that is a sequential scan of every
story: 155 ms at 1,000,000 stories (benchmarks/scaleout.py), growing with the table, per
worker. Leases live only while a check runs, so a partial index on the leased rows holds a
few hundred entries whatever the table's size.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEASED = sa.text('lease_owner IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.create_index(
            'ix_stories_leased',
            ['lease_owner'],
            unique=False,
            postgresql_where=LEASED,
            sqlite_where=LEASED,
        )


def downgrade() -> None:
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index('ix_stories_leased')

"""a screenshot of each version rendered in the browser (optional evidence)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screenshot_sha256', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_versions_screenshot_sha256_captures'),
            'captures',
            ['screenshot_sha256'],
            ['sha256'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_versions_screenshot_sha256_captures'), type_='foreignkey'
        )
        batch_op.drop_column('screenshot_sha256')

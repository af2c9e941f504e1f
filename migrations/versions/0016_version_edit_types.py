"""what a desk calls each version's edit: figures, quotes, names, correction notes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 15:45:00.000000

Versions stored from now on carry their edit types (tracker.core.edit_types), which alert
channels may subscribe to. Versions stored before keep NULL: typing them needs their
predecessor's text, and the research export computes the same types on the fly.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE (not a batch copy, which would break the search index's view on SQLite).
def upgrade() -> None:
    op.add_column('versions', sa.Column('edit_types', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('versions', 'edit_types')

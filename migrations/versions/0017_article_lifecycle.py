"""article lifecycle: unpublished, redirected, moved, paywalled, republished as events

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 17:00:00.000000

`stories.lifecycle` is where a story's page stands (tracker.core.lifecycle), "live" for every
existing story; `stories.live_url` is the article's address as last seen live, NULL until
the next check sees it (that first sight records no event, so an upgrade alerts nobody).
`events.data` keeps a lifecycle event's facts (from, to, status), and events are indexed by
(kind, created_at, id) for the changes view, which lists lifecycle events among versions.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "stories",
        sa.Column("lifecycle", sa.String(length=16), server_default="live", nullable=False),
    )
    op.add_column("stories", sa.Column("live_url", sa.String(length=2048), nullable=True))
    op.add_column("events", sa.Column("data", sa.JSON(), nullable=True))
    op.create_index(
        "ix_events_kind_created_at_id", "events", ["kind", "created_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_events_kind_created_at_id", table_name="events")
    op.drop_column("events", "data")
    op.drop_column("stories", "live_url")
    op.drop_column("stories", "lifecycle")

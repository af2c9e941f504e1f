"""workers' heartbeats; a check's wait for its host slot; channels' change-kind filter; paused feeds

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 15:00:00.000000

- ``workers``: each `tracker run` / `tracker worker` writes its row every 30 s and deletes
  it on a clean stop, so the web UI can tell when nothing is checking stories.
- ``checks.wait_ms``: the part of a check's duration spent waiting for the per-host slot.
- ``channels.kinds``: alert only on versions with one of these change kinds.
- ``feeds.paused``: a followed feed that is not polled until resumed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.store.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", tracker.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", tracker.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_last_seen_at"), ["last_seen_at"], unique=False)
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wait_ms", sa.Integer(), nullable=True))
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kinds", sa.JSON(), nullable=True))
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("paused")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("kinds")
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_column("wait_ms")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_last_seen_at"))
    op.drop_table("workers")

"""RFC 3161 timestamps of the stories' chain heads

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 17:00:00.000000

`chain_timestamps` holds each request to the configured time-stamping authority with its
answer (the DER TimeStampResp) or the error; `stamped_heads` the heads each one covered, a
story each. Nothing to back-fill: timestamps are requested from now on, when `tsa_url` is
set (docs/evidence.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tracker.store.base import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chain_timestamps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("tsa_url", sa.String(length=2048), nullable=False),
        sa.Column("hash_algorithm", sa.String(length=16), nullable=False),
        sa.Column("message_imprint", sa.String(length=128), nullable=False),
        sa.Column("heads_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gen_time", UTCDateTime(), nullable=True),
        sa.Column("response_der", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_timestamps")),
    )
    op.create_index(
        op.f("ix_chain_timestamps_requested_at"), "chain_timestamps", ["requested_at"]
    )
    op.create_table(
        "stamped_heads",
        sa.Column("timestamp_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("chain_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["timestamp_id"],
            ["chain_timestamps.id"],
            name=op.f("fk_stamped_heads_timestamp_id_chain_timestamps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name=op.f("fk_stamped_heads_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("timestamp_id", "story_id", name=op.f("pk_stamped_heads")),
    )
    op.create_index(
        "ix_stamped_heads_story_id_seq", "stamped_heads", ["story_id", "seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_stamped_heads_story_id_seq", table_name="stamped_heads")
    op.drop_table("stamped_heads")
    op.drop_index(op.f("ix_chain_timestamps_requested_at"), table_name="chain_timestamps")
    op.drop_table("chain_timestamps")

"""Concurrency limits (Prefect's global and tag limits) and the leases of their slots.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# the column type of ``store.types.UTCDateTime``, spelled out (migrations stay frozen in time)
_WHEN = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "concurrency_limit",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("active_slots", sa.Integer(), nullable=False),
        sa.Column("denied_slots", sa.Integer(), nullable=False),
        sa.Column("slot_decay_per_second", sa.Float(), nullable=False),
        sa.Column("decayed_at", sa.Float(), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("updated", _WHEN, nullable=False),
    )
    op.create_table(
        "concurrency_lease",
        sa.Column("lease_id", sa.String(), primary_key=True),
        sa.Column(
            "limit_name",
            sa.String(),
            sa.ForeignKey("concurrency_limit.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("holder_type", sa.String(), nullable=False),
        sa.Column("holder_id", sa.String(), nullable=False),
        sa.Column("holder_name", sa.String(), nullable=True),
        sa.Column("acquired", _WHEN, nullable=False),
        sa.Column("expires", _WHEN, nullable=False),
    )
    op.create_index(
        "ix_concurrency_lease_limit_expires", "concurrency_lease", ["limit_name", "expires"]
    )


def downgrade() -> None:
    op.drop_table("concurrency_lease")
    op.drop_table("concurrency_limit")

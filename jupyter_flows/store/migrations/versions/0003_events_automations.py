"""Events (flow-run state changes and emitted events), automations, reader cursors.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    type_ = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")
    return sa.Column(name, type_, nullable=nullable)


def _str(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", _SERIAL, nullable=False),
        _str("event", False),
        _str("resource"),
        sa.Column("payload", sa.JSON(), nullable=False),
        _ts("occurred", False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_event", "event", ["event"])
    op.create_index("ix_event_occurred", "event", ["occurred"])
    op.create_table(
        "automation",
        _str("id", False),
        _str("name", False),
        _str("description"),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("fired_count", sa.Integer(), nullable=False),
        _ts("last_fired"),
        _ts("created", False),
        _ts("updated", False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "cursor",
        _str("name", False),
        sa.Column("position", _SERIAL, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("cursor")
    op.drop_table("automation")
    op.drop_index("ix_event_occurred", table_name="event")
    op.drop_index("ix_event_event", table_name="event")
    op.drop_table("event")

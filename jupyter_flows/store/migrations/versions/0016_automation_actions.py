"""Automation actions: a queue of actions to do (and retry), and each automation's last error.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the column types of ``store.types.UTCDateTime`` and the serial ids, spelled out
_WHEN = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "automation",
        sa.Column("failed_actions", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("automation", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column("automation", sa.Column("last_error_at", _WHEN, nullable=True))
    with op.batch_alter_table("automation") as batch:  # the default only filled old rows
        batch.alter_column("failed_actions", server_default=None)
    op.create_table(
        "automation_action",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("automation_id", sa.String(), nullable=False),
        sa.Column("automation", sa.String(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("cause", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due", _WHEN, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created", _WHEN, nullable=False),
    )
    op.create_index("ix_automation_action_due", "automation_action", ["due"])
    op.create_index(
        "ix_automation_action_automation_id", "automation_action", ["automation_id"]
    )


def downgrade() -> None:
    op.drop_table("automation_action")
    with op.batch_alter_table("automation") as batch:
        batch.drop_column("last_error_at")
        batch.drop_column("last_error")
        batch.drop_column("failed_actions")

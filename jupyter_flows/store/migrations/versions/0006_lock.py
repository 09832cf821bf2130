"""Locks of serializable transactions across machines (``DatabaseLockManager``), and flow
results in ``result_record`` (a row without a task run).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# the column type of ``store.types.UTCDateTime``, spelled out (migrations stay frozen in time)
_WHEN = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lock",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("acquired", _WHEN, nullable=False),
        sa.Column("expires", _WHEN, nullable=True),
    )
    with op.batch_alter_table("result_record") as batch:
        batch.alter_column("task_run_id", existing_type=sa.String(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM result_record WHERE task_run_id IS NULL")
    with op.batch_alter_table("result_record") as batch:
        batch.alter_column("task_run_id", existing_type=sa.String(), nullable=False)
    op.drop_table("lock")

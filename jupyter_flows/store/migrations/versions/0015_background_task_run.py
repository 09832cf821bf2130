"""Background task runs (Prefect's ``Task.delay``): the queue task workers claim from.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# the column type of ``store.types.UTCDateTime``, spelled out (migrations stay frozen in time)
_WHEN = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "background_task_run",
        sa.Column("task_run_id", sa.String(), primary_key=True),
        sa.Column("queue_key", sa.String(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("parameters_location", sa.String(), nullable=True),
        sa.Column("wait_for", sa.JSON(), nullable=False),
        sa.Column("origin_flow_run_id", sa.String(), nullable=True),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("worker", sa.String(), nullable=True),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("lease_expires", _WHEN, nullable=True),
    )
    op.create_index(
        "ix_background_task_run_queue",
        "background_task_run",
        ["queue_key", "worker", "created"],
    )
    op.create_index(
        "ix_background_task_run_origin_flow_run_id",
        "background_task_run",
        ["origin_flow_run_id"],
    )


def downgrade() -> None:
    op.drop_table("background_task_run")

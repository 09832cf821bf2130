"""Deployments, work pools, workers; one scheduled run per (deployment, scheduled time).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    type_ = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")
    return sa.Column(name, type_, nullable=nullable)


def _str(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "deployment",
        _str("id", False),
        _str("name", False),
        _str("entrypoint", False),
        _str("kind", False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("parameter_schema", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        _str("description"),
        _str("version"),
        _str("work_pool", False),
        sa.Column("schedules", sa.JSON(), nullable=False),
        _str("missed_runs", False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        _ts("created", False),
        _ts("updated", False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "work_pool",
        _str("name", False),
        _str("type", False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        _str("description"),
        _ts("created", False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "worker",
        _str("name", False),
        _str("work_pool", False),
        _ts("last_heartbeat", False),
        sa.PrimaryKeyConstraint("name", "work_pool"),
    )
    op.create_index(
        "ux_flow_run_deployment_expected",
        "flow_run",
        ["deployment_id", "expected_start_time"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_flow_run_deployment_expected", table_name="flow_run")
    op.drop_table("worker")
    op.drop_table("work_pool")
    op.drop_table("deployment")

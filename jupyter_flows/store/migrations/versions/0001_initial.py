"""Initial schema: flows, flow and task runs, inputs, state history, logs, result records.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Also bump ``jupyter_flows.store.migrate.HEAD`` when adding a revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    # UTCDateTime: timestamptz on PostgreSQL, REAL epoch seconds on SQLite.
    type_ = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")
    return sa.Column(name, type_, nullable=nullable)


def _str(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _serial() -> sa.Column[object]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "flow",
        _str("id", False),
        _str("name", False),
        _str("description"),
        _ts("created", False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_flow_name", "flow", ["name"], unique=True)

    op.create_table(
        "flow_run",
        _str("id", False),
        _str("name", False),
        _str("flow_name", False),
        _str("flow_version"),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        _str("state_type"),
        _str("state_name"),
        _str("state_message"),
        _ts("created", False),
        _ts("start_time"),
        _ts("end_time"),
        _ts("expected_start_time"),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("total_run_time", sa.Float(), nullable=False),
        _str("parent_flow_run_id"),
        _str("parent_task_run_id"),
        _str("deployment_id"),
        _str("work_pool"),
        _str("worker"),
        _ts("heartbeat"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_flow_run_created", "flow_run", ["created"])
    op.create_index("ix_flow_run_flow_name_created", "flow_run", ["flow_name", "created"])
    op.create_index("ix_flow_run_state_type_created", "flow_run", ["state_type", "created"])
    op.create_index("ix_flow_run_parent_flow_run_id", "flow_run", ["parent_flow_run_id"])
    op.create_index("ix_flow_run_deployment_id", "flow_run", ["deployment_id"])

    op.create_table(
        "task_run",
        _str("id", False),
        _str("flow_run_id"),
        _str("task_key", False),
        _str("task_name", False),
        _str("name", False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("dynamic_key", sa.Integer(), nullable=False),
        _str("cache_key"),
        _str("description"),
        _str("version"),
        _str("state_type"),
        _str("state_name"),
        _str("state_message"),
        _ts("created", False),
        _ts("start_time"),
        _ts("end_time"),
        _ts("expected_start_time"),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("total_run_time", sa.Float(), nullable=False),
        _str("subflow_run_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_run_flow_run_id", "task_run", ["flow_run_id"])

    op.create_table(
        "task_run_input",
        _serial(),
        _str("task_run_id", False),
        _str("upstream_id", False),
        _str("kind", False),
        _str("parameter"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_run_input_task_run_id", "task_run_input", ["task_run_id"])

    op.create_table(
        "run_state",
        _serial(),
        _str("run_id", False),
        _str("run_kind", False),
        _str("flow_run_id"),
        _str("type", False),
        _str("name", False),
        _ts("timestamp", False),
        _str("message"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_run_state_run_id", "run_state", ["run_id"])
    op.create_index("ix_run_state_flow_run_id", "run_state", ["flow_run_id"])

    op.create_table(
        "run_log",
        _serial(),
        _str("flow_run_id"),
        _str("task_run_id"),
        sa.Column("level", sa.Integer(), nullable=False),
        _str("logger", False),
        _str("message", False),
        _ts("timestamp", False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_run_log_flow_run_id", "run_log", ["flow_run_id"])
    op.create_index("ix_run_log_task_run_id", "run_log", ["task_run_id"])

    op.create_table(
        "result_record",
        _str("key", False),
        _str("task_run_id", False),
        _str("flow_run_id"),
        _str("location", False),
        _str("serializer", False),
        _ts("created", False),
        _ts("expires"),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    for table in (
        "result_record",
        "run_log",
        "run_state",
        "task_run_input",
        "task_run",
        "flow_run",
        "flow",
    ):
        op.drop_table(table)

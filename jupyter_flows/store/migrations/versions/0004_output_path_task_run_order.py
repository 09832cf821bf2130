"""A notebook run's executed notebook in a column of its own (it was in a state message);
a run's task runs indexed in creation order (deep pages of a 100,000-task run); the servers'
shared key (signs worker and run tokens).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_PREFIX = "output: "


def upgrade() -> None:
    op.create_table(
        "server_key",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.drop_index("ix_task_run_flow_run_id", table_name="task_run")
    op.create_index(
        "ix_task_run_flow_run_created", "task_run", ["flow_run_id", "created", "id"]
    )
    op.add_column("flow_run", sa.Column("output_path", sa.String(), nullable=True))
    # runs recorded before: the path was the Completed message ("output: <path>")
    flow_run = sa.table(
        "flow_run", sa.column("output_path", sa.String()), sa.column("state_message", sa.String())
    )
    old = flow_run.c.state_message.like(_OLD_PREFIX + "%")
    op.execute(
        flow_run.update()
        .where(old)
        .values(output_path=sa.func.substr(flow_run.c.state_message, len(_OLD_PREFIX) + 1))
    )


def downgrade() -> None:
    with op.batch_alter_table("flow_run") as batch:
        batch.drop_column("output_path")
    op.drop_index("ix_task_run_flow_run_created", table_name="task_run")
    op.create_index("ix_task_run_flow_run_id", "task_run", ["flow_run_id"])
    op.drop_table("server_key")

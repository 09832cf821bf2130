"""Artifacts: markdown, tables, links, images and progress that runs show people.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# the column type of ``store.types.UTCDateTime``, spelled out (migrations stay frozen in time)
_WHEN = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "artifact",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.Column("task_run_id", sa.String(), nullable=True),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("updated", _WHEN, nullable=False),
    )
    op.create_index("ix_artifact_key_created", "artifact", ["key", "created"])
    op.create_index("ix_artifact_flow_run_id", "artifact", ["flow_run_id"])
    op.create_index("ix_artifact_task_run_id", "artifact", ["task_run_id"])
    op.create_index("ix_artifact_created", "artifact", ["created"])


def downgrade() -> None:
    op.drop_table("artifact")

"""Retry from failure: a flow run names the run it retries (``retry_of``).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flow_run") as batch:
        batch.add_column(sa.Column("retry_of", sa.String(), nullable=True))
        batch.create_index("ix_flow_run_retry_of", ["retry_of"])


def downgrade() -> None:
    with op.batch_alter_table("flow_run") as batch:
        batch.drop_index("ix_flow_run_retry_of")
        batch.drop_column("retry_of")

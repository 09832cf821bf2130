"""Flow run inputs: what a paused run waits for and what resumed it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the column type of ``store.types.UTCDateTime``, spelled out (migrations stay frozen in time)
_WHEN = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "flow_run_input",
        sa.Column("flow_run_id", sa.String(), primary_key=True),
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("created", _WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("flow_run_input")

"""Uploaded output notebooks in the database (every server of it serves a run's output).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the column type of ``store.types.UTCDateTime``, spelled out (migrations stay frozen in time)
_WHEN = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "run_output",
        sa.Column("flow_run_id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_output")

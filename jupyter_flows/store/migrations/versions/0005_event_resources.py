"""Prefect's event shape: an event's UUID, its resource's labels, the resources related to
it, and the event it follows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event", sa.Column("uuid", sa.String(), nullable=True))
    op.add_column("event", sa.Column("resource_labels", sa.JSON(), nullable=True))
    op.add_column("event", sa.Column("related", sa.JSON(), nullable=True))
    op.add_column("event", sa.Column("follows", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_column("follows")
        batch.drop_column("related")
        batch.drop_column("resource_labels")
        batch.drop_column("uuid")

"""An index on ``event.resource`` (the events feed filters by a run's resource).

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_event_resource", "event", ["resource"])


def downgrade() -> None:
    op.drop_index("ix_event_resource", table_name="event")

"""Work pools' base job templates; deployments' and flow runs' job variables.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("work_pool", "base_job_template"),
    ("deployment", "job_variables"),
    ("flow_run", "job_variables"),
)


def upgrade() -> None:
    for table, column in _COLUMNS:
        # the default stays: the recorder's own INSERTs (store._sql) name only their columns
        op.add_column(table, sa.Column(column, sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)

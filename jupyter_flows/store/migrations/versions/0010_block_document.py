"""Block documents: the values of blocks (Prefect's ``Block.save``), encrypted at rest.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# the column type of ``store.types.UTCDateTime``, spelled out (migrations stay frozen in time)
_WHEN = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "block_document",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("block_type_slug", sa.String(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),  # a Fernet token (store.encryption)
        sa.Column("secret_fields", sa.JSON(), nullable=False),
        sa.Column("key_fingerprint", sa.String(), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("updated", _WHEN, nullable=False),
    )
    op.create_index(
        "ux_block_document_type_name", "block_document", ["block_type_slug", "name"], unique=True
    )


def downgrade() -> None:
    op.drop_table("block_document")

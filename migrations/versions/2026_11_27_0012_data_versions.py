"""Data versions (klug.core.versions): a counter per kind of data, raised in the
transaction of every change, so that processes may keep pages in memory and know by one
small read whether they still hold.

Revision ID: 20261127_0012
Revises: 20261126_0011
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261127_0012"
down_revision: str | None = "20261126_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_data_version",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("core_data_version")

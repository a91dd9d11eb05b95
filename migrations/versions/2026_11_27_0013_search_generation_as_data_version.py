"""The search index's generation becomes the data version "search" (core_data_version):
one mechanism for every counter that tells kept answers and pages they are stale.

Revision ID: 20261127_0013
Revises: 20261127_0012
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261127_0013"
down_revision: str | None = "20261127_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO core_data_version (name, value) "
        "SELECT 'search', value FROM citizen_search_generation WHERE id = 1"
    )
    op.drop_table("citizen_search_generation")


def downgrade() -> None:
    table = op.create_table(
        "citizen_search_generation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])
    op.execute("DELETE FROM core_data_version WHERE name = 'search'")

"""Datastreams count changes to their aggregates, so readers may keep them in memory.

``aggregate_version`` grows with every change; ``aggregate_rewrites`` with every change
before the newest hour (late data, corrections, deletions). A reader that cached a
Datastream's hourly aggregates re-reads only the newest hour when just the version moved,
and everything when the rewrites moved.

Revision ID: 20261126_0005
Revises: 20261126_0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0005"
down_revision: str | None = "20261126_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sensors_datastream") as batch:
        batch.add_column(
            sa.Column("aggregate_version", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("aggregate_rewrites", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("sensors_datastream") as batch:
        batch.drop_column("aggregate_rewrites")
        batch.drop_column("aggregate_version")

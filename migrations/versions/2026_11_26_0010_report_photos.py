"""Photos of Mängelmelder reports: one re-encoded photo per report (published by staff
or not), and photos uploaded but not yet sent (the duplicates step), kept for an hour.

Revision ID: 20261126_0010
Revises: 20261126_0009
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0010"
down_revision: str | None = "20261126_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PHOTO = "citizen_report_photo"
PENDING = "citizen_report_photo_upload"


def upgrade() -> None:
    op.create_table(
        PHOTO,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer(),
            sa.ForeignKey(
                "citizen_report.id",
                ondelete="CASCADE",
                name="fk_citizen_report_photo_report_id_citizen_report",
            ),
            nullable=False,
        ),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("report_id", name="uq_citizen_report_photo_report_id"),
        sa.UniqueConstraint("stored_name", name="uq_citizen_report_photo_stored_name"),
    )
    op.create_table(
        PENDING,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("owner_hash", sa.String(64), nullable=False),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("location_read", sa.Boolean(), nullable=False),
        sa.Column("photo_lat", sa.Float(), nullable=True),
        sa.Column("photo_lon", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_citizen_report_photo_upload_token_hash"),
        sa.UniqueConstraint("stored_name", name="uq_citizen_report_photo_upload_stored_name"),
    )
    op.create_index("ix_citizen_report_photo_upload_created_at", PENDING, ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_citizen_report_photo_upload_created_at", table_name=PENDING)
    op.drop_table(PENDING)
    op.drop_table(PHOTO)

"""Citizen reports (Mängelmelder, Open311 GeoReport v2).

Revision ID: 20261126_0006
Revises: 20261126_0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0006"
down_revision: str | None = "20261126_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "citizen_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("category_code", sa.String(50), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("address_id", sa.String(64), nullable=True),
        sa.Column("location_text", sa.String(500), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("media_url", sa.String(500), nullable=True),
        sa.Column("agency_responsible", sa.String(200), nullable=False),
        sa.Column("status_notes", sa.Text(), nullable=True),
        sa.Column("supporters", sa.Integer(), nullable=False),
        sa.Column(
            "reporter_account_id",
            sa.Integer(),
            sa.ForeignKey(
                "identity_account.id",
                ondelete="SET NULL",
                name="fk_citizen_report_reporter_account_id_identity_account",
            ),
            nullable=True,
        ),
        sa.Column("contact_email", sa.String(320), nullable=True),
        sa.Column("token", sa.String(40), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column(
            "api_key_id",
            sa.Integer(),
            sa.ForeignKey(
                "identity_api_key.id",
                ondelete="SET NULL",
                name="fk_citizen_report_api_key_id_identity_api_key",
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("token", name="uq_citizen_report_token"),
    )
    op.create_index("ix_citizen_report_created_at", "citizen_report", ["created_at"])
    op.create_index(
        "ix_citizen_report_status_created_at", "citizen_report", ["status", "created_at"]
    )
    op.create_index(
        "ix_citizen_report_category_created_at", "citizen_report", ["category_code", "created_at"]
    )
    op.create_index(
        "ix_citizen_report_category_status_lat",
        "citizen_report",
        ["category_code", "status", "lat"],
    )
    op.create_index(
        "ix_citizen_report_reporter_account_id", "citizen_report", ["reporter_account_id"]
    )
    op.create_table(
        "citizen_report_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer(),
            sa.ForeignKey(
                "citizen_report.id",
                ondelete="CASCADE",
                name="fk_citizen_report_event_report_id_citizen_report",
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("public_note", sa.Text(), nullable=True),
        sa.Column("internal_note", sa.Text(), nullable=True),
        sa.Column(
            "actor_account_id",
            sa.Integer(),
            sa.ForeignKey(
                "identity_account.id",
                ondelete="SET NULL",
                name="fk_citizen_report_event_actor_account_id_identity_account",
            ),
            nullable=True,
        ),
    )
    op.create_index("ix_citizen_report_event_report_id", "citizen_report_event", ["report_id"])
    op.create_table(
        "citizen_report_supporter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer(),
            sa.ForeignKey(
                "citizen_report.id",
                ondelete="CASCADE",
                name="fk_citizen_report_supporter_report_id_citizen_report",
            ),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "identity_account.id",
                ondelete="CASCADE",
                name="fk_citizen_report_supporter_account_id_identity_account",
            ),
            nullable=True,
        ),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("report_id", "account_id", name="uq_citizen_report_supporter_account"),
        sa.UniqueConstraint("report_id", "email", name="uq_citizen_report_supporter_email"),
    )
    op.create_index(
        "ix_citizen_report_supporter_report_id", "citizen_report_supporter", ["report_id"]
    )
    revision_table = op.create_table(
        "citizen_report_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "revision": 0}])


def downgrade() -> None:
    op.drop_table("citizen_report_revision")
    op.drop_index("ix_citizen_report_supporter_report_id", table_name="citizen_report_supporter")
    op.drop_table("citizen_report_supporter")
    op.drop_index("ix_citizen_report_event_report_id", table_name="citizen_report_event")
    op.drop_table("citizen_report_event")
    for name in (
        "ix_citizen_report_reporter_account_id",
        "ix_citizen_report_category_status_lat",
        "ix_citizen_report_category_created_at",
        "ix_citizen_report_status_created_at",
        "ix_citizen_report_created_at",
    ):
        op.drop_index(name, table_name="citizen_report")
    op.drop_table("citizen_report")

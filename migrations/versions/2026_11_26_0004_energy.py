"""Energy programme: units (demand meters, generation), settings, operator alerts.

Revision ID: 20261126_0004
Revises: 20261126_0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0004"
down_revision: str | None = "20261126_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "energy_unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("renewable", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("peak_power_kw", sa.Float(), nullable=True),
        sa.Column("tilt_deg", sa.Float(), nullable=True),
        sa.Column("azimuth_deg", sa.Float(), nullable=True),
        sa.Column("losses_pct", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("power_datastream_id", sa.Integer(), nullable=True),
        sa.Column("energy_datastream_id", sa.Integer(), nullable=True),
        sa.Column("commissioned_on", sa.Date(), nullable=True),
        sa.Column("decommissioned_on", sa.Date(), nullable=True),
        sa.Column("alert_threshold", sa.Float(), nullable=False),
        sa.Column("alert_window_h", sa.Float(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_energy_unit_key"),
    )
    op.create_table(
        "energy_setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "energy_alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
    )
    op.create_index("ix_energy_alert_unit_id", "energy_alert", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_energy_alert_unit_id", table_name="energy_alert")
    op.drop_table("energy_alert")
    op.drop_table("energy_setting")
    op.drop_table("energy_unit")

"""Citizen applications: drafts and cases, attachments, messages, history, reference counter.

Revision ID: 20261126_0008
Revises: 20261126_0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0008"
down_revision: str | None = "20261126_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPLICATION = "citizen_application"


def _fk(table: str, column: str, target: str, ondelete: str, *, nullable: bool) -> sa.Column:
    return sa.Column(
        column,
        sa.Integer(),
        sa.ForeignKey(
            f"{target}.id", ondelete=ondelete, name=op.f(f"fk_{table}_{column}_{target}")
        ),
        nullable=nullable,
    )


def _at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        APPLICATION,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(20), nullable=True),
        sa.Column("service_slug", sa.String(64), nullable=False),
        sa.Column("form_key", sa.String(64), nullable=False),
        _fk(APPLICATION, "account_id", "identity_account", "SET NULL", nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("office", sa.String(200), nullable=False),
        _fk(APPLICATION, "assignee_id", "identity_account", "SET NULL", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("submitted_at", nullable=True),
        _at("due_at", nullable=True),
        _at("decided_at", nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("reference", name="uq_citizen_application_reference"),
    )
    op.create_index("ix_citizen_application_account_status", APPLICATION, ["account_id", "status"])
    op.create_index("ix_citizen_application_office_status", APPLICATION, ["office", "status"])
    op.create_index("ix_citizen_application_due_at", APPLICATION, ["due_at"])
    op.create_index("ix_citizen_application_assignee_id", APPLICATION, ["assignee_id"])

    table = "citizen_application_message"
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk(table, "application_id", APPLICATION, "CASCADE", nullable=False),
        _fk(table, "author_id", "identity_account", "SET NULL", nullable=True),
        sa.Column("from_staff", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at("created_at"),
    )
    op.create_index(f"ix_{table}_application_id", table, ["application_id"])

    table = "citizen_application_attachment"
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk(table, "application_id", APPLICATION, "CASCADE", nullable=False),
        _fk(table, "message_id", "citizen_application_message", "CASCADE", nullable=True),
        sa.Column("field", sa.String(40), nullable=True),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("original_name", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        _fk(table, "uploaded_by_id", "identity_account", "SET NULL", nullable=True),
        _at("created_at"),
        sa.UniqueConstraint("stored_name", name=f"uq_{table}_stored_name"),
    )
    op.create_index(f"ix_{table}_application_id", table, ["application_id"])
    op.create_index(f"ix_{table}_message_id", table, ["message_id"])

    table = "citizen_application_event"
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk(table, "application_id", APPLICATION, "CASCADE", nullable=False),
        _at("occurred_at"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        _fk(table, "assignee_id", "identity_account", "SET NULL", nullable=True),
        sa.Column("internal_note", sa.Text(), nullable=True),
        _fk(table, "actor_id", "identity_account", "SET NULL", nullable=True),
    )
    op.create_index(f"ix_{table}_application_id", table, ["application_id"])

    op.create_table(
        "citizen_application_counter",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("citizen_application_counter")
    op.drop_table("citizen_application_event")
    op.drop_table("citizen_application_attachment")
    op.drop_table("citizen_application_message")
    op.drop_table(APPLICATION)

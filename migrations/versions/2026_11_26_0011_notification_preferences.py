"""Notification preferences: how an account hears of its applications and reports
(at once, a daily digest, or not by e-mail), the entries waiting for the digest, and an
index for the reports a citizen supports.

Revision ID: 20261126_0011
Revises: 20261126_0010
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0011"
down_revision: str | None = "20261126_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIGEST = "citizen_digest_entry"


def upgrade() -> None:
    # Every existing account keeps what it had: a mail at once.
    op.add_column(
        "identity_account",
        sa.Column("notification_mode", sa.String(16), nullable=False, server_default="immediate"),
    )
    op.create_table(
        DIGEST,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "identity_account.id",
                ondelete="CASCADE",
                name="fk_citizen_digest_entry_account_id_identity_account",
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("link", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_citizen_digest_entry_account_id_id", DIGEST, ["account_id", "id"])
    # "Reports I support" in the citizen's account (/konto/meldungen).
    op.create_index(
        "ix_citizen_report_supporter_account_id", "citizen_report_supporter", ["account_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_citizen_report_supporter_account_id", table_name="citizen_report_supporter")
    op.drop_index("ix_citizen_digest_entry_account_id_id", table_name=DIGEST)
    op.drop_table(DIGEST)
    # A plain DROP COLUMN (SQLite ≥ 3.35): rebuilding the account table would cascade
    # into every table that refers to it.
    op.drop_column("identity_account", "notification_mode")

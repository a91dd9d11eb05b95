"""Foundation: accounts, sessions, API keys, audit log, mail outbox, notices.

The audit log is append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL) on both database engines.

Revision ID: 20261126_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_SQLITE_TRIGGERS = [
    """CREATE TRIGGER core_audit_event_no_update BEFORE UPDATE ON core_audit_event
       BEGIN SELECT RAISE(ABORT, 'core_audit_event is append-only'); END""",
    """CREATE TRIGGER core_audit_event_no_delete BEFORE DELETE ON core_audit_event
       BEGIN SELECT RAISE(ABORT, 'core_audit_event is append-only'); END""",
]
_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION core_audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'core_audit_event is append-only'; END $$""",
    """CREATE TRIGGER core_audit_event_no_change BEFORE UPDATE OR DELETE ON core_audit_event
       FOR EACH ROW EXECUTE FUNCTION core_audit_event_append_only()""",
    """CREATE TRIGGER core_audit_event_no_truncate BEFORE TRUNCATE ON core_audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION core_audit_event_append_only()""",
]


def _append_only_audit_log() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES_TRIGGERS if dialect == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "citizen_accessibility_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("page_url", sa.String(length=500), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reply_email", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_accessibility_feedback")),
    )
    with op.batch_alter_table("citizen_accessibility_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_citizen_accessibility_feedback_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "core_audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("target_kind", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_audit_event")),
    )
    with op.batch_alter_table("core_audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_core_audit_event_actor_id"), ["actor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_core_audit_event_occurred_at"), ["occurred_at"], unique=False
        )
    _append_only_audit_log()

    op.create_table(
        "core_outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_outgoing_mail")),
    )
    with op.batch_alter_table("core_outgoing_mail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_outgoing_mail_status"), ["status"], unique=False)

    op.create_table(
        "core_platform_flag",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_core_platform_flag")),
    )
    op.create_table(
        "identity_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_secret_sealed", sa.String(length=255), nullable=True),
        sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_account")),
        sa.UniqueConstraint("email", name=op.f("uq_identity_account_email")),
    )
    with op.batch_alter_table("identity_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_account_role"), ["role"], unique=False)

    op.create_table(
        "citizen_site_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title_de", sa.String(length=160), nullable=False),
        sa.Column("title_en", sa.String(length=160), nullable=False),
        sa.Column("body_de", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["identity_account.id"],
            name=op.f("fk_citizen_site_notice_created_by_id_identity_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_site_notice")),
    )
    with op.batch_alter_table("citizen_site_notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_citizen_site_notice_ends_at"), ["ends_at"], unique=False
        )

    op.create_table(
        "identity_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["identity_account.id"],
            name=op.f("fk_identity_api_key_created_by_id_identity_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_identity_api_key_prefix")),
    )
    op.create_table(
        "identity_email_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name=op.f("fk_identity_email_token_account_id_identity_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_email_token")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_identity_email_token_token_digest")),
    )
    with op.batch_alter_table("identity_email_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_email_token_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "identity_login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pending_totp_sealed", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name=op.f("fk_identity_login_session_account_id_identity_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_login_session")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_identity_login_session_token_digest")),
    )
    with op.batch_alter_table("identity_login_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_login_session_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_login_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_login_session_account_id"))

    op.drop_table("identity_login_session")
    with op.batch_alter_table("identity_email_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_email_token_account_id"))

    op.drop_table("identity_email_token")
    op.drop_table("identity_api_key")
    with op.batch_alter_table("citizen_site_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_site_notice_ends_at"))

    op.drop_table("citizen_site_notice")
    with op.batch_alter_table("identity_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_account_role"))

    op.drop_table("identity_account")
    op.drop_table("core_platform_flag")
    with op.batch_alter_table("core_outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_outgoing_mail_status"))

    op.drop_table("core_outgoing_mail")
    with op.batch_alter_table("core_audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_audit_event_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_core_audit_event_actor_id"))
        batch_op.drop_index(batch_op.f("ix_core_audit_event_action"))

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER core_audit_event_no_truncate ON core_audit_event")
        op.execute("DROP TRIGGER core_audit_event_no_change ON core_audit_event")
        op.execute("DROP FUNCTION core_audit_event_append_only()")
    op.drop_table("core_audit_event")
    with op.batch_alter_table("citizen_accessibility_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_accessibility_feedback_created_at"))

    op.drop_table("citizen_accessibility_feedback")

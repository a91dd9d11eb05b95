"""Accounts, login sessions, one-time e-mail tokens and API keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from klug.core import versions
from klug.core.db import Base, UtcDateTime, utcnow


class Account(Base):
    __tablename__ = "identity_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(2), default="de")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # TOTP seed sealed with a key derived from KLUG_SECRET_KEY (core.security.SecretBox).
    totp_secret_sealed: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    is_demo: Mapped[bool] = mapped_column(default=False)
    # How the person hears of their applications and reports: "immediate", "digest" or
    # "none" (klug.identity.notifications). Account and security mails are always sent.
    notification_mode: Mapped[str] = mapped_column(
        String(16), default="immediate", server_default="immediate"
    )

    sessions: Mapped[list[LoginSession]] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True
    )


class LoginSession(Base):
    """A browser's login. The cookie holds a random token; we keep only its digest."""

    __tablename__ = "identity_login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("identity_account.id", ondelete="CASCADE"), index=True
    )
    # "active", or a step still to do: "second_factor" (enter a code) or "enrol" (set up 2FA).
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # The TOTP seed offered during enrolment, until the first code confirms it.
    pending_totp_sealed: Mapped[str | None] = mapped_column(String(255))

    account: Mapped[Account] = relationship(back_populates="sessions")


class EmailToken(Base):
    """A one-time link sent by e-mail: verify the address, reset the password, unlock."""

    __tablename__ = "identity_email_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("identity_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class ApiKey(Base):
    """A machine credential: ``klug_<prefix>_<secret>``; we keep the prefix and a digest."""

    __tablename__ = "identity_api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_digest: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


# Pages that show staff names (e.g. the case list's assignees) are kept per accounts version.
versions.track(Account, "accounts")

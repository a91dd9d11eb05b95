"""The account itself in "download my data" and "delete my account".

Deleting a citizen's account anonymises its row rather than removing it: kept records
(submitted applications, audit entries) refer to it by id, and an anonymous tombstone
says "a deleted account" where a missing row would break them. Name, e-mail address,
password, second factor and sessions are gone; nobody can log in with it again.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from klug.core import audit
from klug.core.db import utcnow
from klug.core.personal_data import Export
from klug.core.security import hash_password
from klug.identity.models import Account, EmailToken, LoginSession


def export(session: Session, account_id: int, var_dir: Path) -> Export:
    account = session.get(Account, account_id)
    if account is None:
        return Export({})
    sessions = session.scalars(
        select(LoginSession).where(LoginSession.account_id == account_id)
    ).all()
    return Export(
        {
            "email": account.email,
            "display_name": account.display_name,
            "role": account.role,
            "language": account.language,
            "created_at": account.created_at,
            "email_verified_at": account.email_verified_at,
            "last_login_at": account.last_login_at,
            "second_factor_active": account.totp_enabled_at is not None,
            "notification_mode": account.notification_mode,
            "sessions": [
                {"created_at": s.created_at, "last_seen_at": s.last_seen_at} for s in sessions
            ],
        }
    )


def anonymise(*, session: Session, account: Account, actor: audit.Actor) -> None:
    """Remove everything that identifies the person; audited (as the account itself)."""
    audit.record(
        session,
        action="account.deleted_by_owner",
        actor=actor,
        detail={"account": account.id},
    )
    account.email = f"geloescht-{account.id}-{secrets.token_hex(4)}@invalid"
    account.display_name = None
    account.password_hash = hash_password(secrets.token_urlsafe(32))  # nobody knows it
    account.totp_secret_sealed = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    account.disabled_at = utcnow()
    session.execute(delete(LoginSession).where(LoginSession.account_id == account.id))
    session.execute(delete(EmailToken).where(EmailToken.account_id == account.id))
    session.flush()

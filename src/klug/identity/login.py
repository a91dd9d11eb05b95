"""Logging in: passwords, lock-out, second factor (TOTP) and login sessions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from klug.core import audit
from klug.core.audit import Actor, Outcome
from klug.core.db import utcnow
from klug.core.security import (
    SecretBox,
    hash_password,
    new_token,
    new_totp_secret,
    password_needs_rehash,
    token_digest,
    verify_password,
    verify_totp,
)
from klug.identity import service as account_service
from klug.identity.models import Account, LoginSession
from klug.identity.permissions import STAFF_ROLES, Role

MAX_FAILED_LOGINS = 10
STAFF_ABSOLUTE = dt.timedelta(hours=12)
CITIZEN_ABSOLUTE = dt.timedelta(days=30)
PENDING_ABSOLUTE = dt.timedelta(minutes=10)
TOUCH_EVERY = dt.timedelta(seconds=60)


class Stage(StrEnum):
    ACTIVE = "active"
    SECOND_FACTOR = "second_factor"
    ENROL = "enrol"


class Failure(StrEnum):
    INVALID = "invalid"
    LOCKED = "locked"
    UNVERIFIED = "unverified"
    DISABLED = "disabled"


@dataclass(frozen=True)
class SessionPolicy:
    staff_idle: dt.timedelta
    citizen_idle: dt.timedelta

    @classmethod
    def from_minutes(cls, *, staff: int, citizen: int) -> SessionPolicy:
        return cls(dt.timedelta(minutes=staff), dt.timedelta(minutes=citizen))


@dataclass(frozen=True)
class LoginResult:
    account: Account | None = None
    token: str | None = None
    stage: Stage | None = None
    failure: Failure | None = None


def _record_failure(
    session: Session, account: Account, *, reason: str, ip: str | None, base_url: str
) -> Failure:
    account.failed_logins += 1
    audit.record(
        session,
        action="login",
        outcome=Outcome.FAILURE,
        actor=Actor("account", account.id),
        target_kind="account",
        target_id=account.id,
        ip=ip,
        detail={"reason": reason},
    )
    if account.failed_logins >= MAX_FAILED_LOGINS and account.locked_at is None:
        account_service.lock(session=session, account=account, base_url=base_url, ip=ip)
        return Failure.LOCKED
    session.flush()
    return Failure.INVALID


def authenticate(
    *, session: Session, email: str, password: str, ip: str | None, base_url: str
) -> LoginResult:
    """Check e-mail and password; on success open a session at the right stage."""
    account = account_service.get_by_email(session=session, email=email)
    # verify_password also runs (against a dummy hash) for unknown addresses: same timing.
    password_ok = verify_password(account.password_hash if account else None, password)
    if account is None:
        audit.record(
            session,
            action="login",
            outcome=Outcome.FAILURE,
            actor=None,
            ip=ip,
            detail={"reason": "unknown_account"},
        )
        return LoginResult(failure=Failure.INVALID)
    if account.disabled_at is not None:
        audit.record(
            session,
            action="login",
            outcome=Outcome.DENIED,
            actor=Actor("account", account.id),
            target_kind="account",
            target_id=account.id,
            ip=ip,
            detail={"reason": "disabled"},
        )
        return LoginResult(failure=Failure.DISABLED)
    if account.locked_at is not None:
        audit.record(
            session,
            action="login",
            outcome=Outcome.DENIED,
            actor=Actor("account", account.id),
            target_kind="account",
            target_id=account.id,
            ip=ip,
            detail={"reason": "locked"},
        )
        return LoginResult(failure=Failure.LOCKED)
    if not password_ok:
        return LoginResult(
            failure=_record_failure(session, account, reason="password", ip=ip, base_url=base_url)
        )
    if account.email_verified_at is None:
        return LoginResult(failure=Failure.UNVERIFIED)
    if password_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    if account.totp_enabled_at is not None:
        stage = Stage.SECOND_FACTOR
    elif account_service.is_staff(account):
        stage = Stage.ENROL
    else:
        stage = Stage.ACTIVE
    token = _open_session(session, account, stage)
    if stage is Stage.ACTIVE:
        _succeeded(session, account, ip)
    return LoginResult(account=account, token=token, stage=stage)


def _succeeded(session: Session, account: Account, ip: str | None) -> None:
    account.failed_logins = 0
    account.last_login_at = utcnow()
    audit.record(
        session,
        action="login",
        actor=Actor("account", account.id),
        target_kind="account",
        target_id=account.id,
        ip=ip,
    )


def _open_session(session: Session, account: Account, stage: Stage) -> str:
    token = new_token()
    now = utcnow()
    if stage is not Stage.ACTIVE:
        lifetime = PENDING_ABSOLUTE
    else:
        lifetime = STAFF_ABSOLUTE if account_service.is_staff(account) else CITIZEN_ABSOLUTE
    session.add(
        LoginSession(
            token_digest=token_digest(token),
            account_id=account.id,
            stage=stage.value,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class LiveLogin:
    """What a request needs of a live login, read without loading ORM objects."""

    session_id: int
    stage: str
    account_id: int
    role: str
    email: str
    display_name: str | None


_LIVE_LOGIN = (
    select(
        LoginSession.id,
        LoginSession.stage,
        LoginSession.expires_at,
        LoginSession.last_seen_at,
        Account.id.label("account_id"),
        Account.role,
        Account.email,
        Account.display_name,
        Account.disabled_at,
        Account.locked_at,
    )
    .join(Account, Account.id == LoginSession.account_id)
    .where(LoginSession.token_digest == bindparam("digest"))
)


def peek(*, session: Session, token: str, policy: SessionPolicy) -> LiveLogin | None:
    """The login behind a cookie in one small read – when it is live and needs no write.

    None means "ask :func:`resolve`": no such login, or one that expired, idled out, was
    disabled or is due for its last-seen touch (resolve deletes or touches it). Every
    request of a logged-in visitor passes here, most within a minute of the last touch.
    """
    row = session.connection().execute(_LIVE_LOGIN, {"digest": token_digest(token)}).first()
    if row is None or row.disabled_at is not None or row.locked_at is not None:
        return None
    now = utcnow()
    idle = policy.staff_idle if Role(row.role) in STAFF_ROLES else policy.citizen_idle
    since_seen = now - row.last_seen_at
    if row.expires_at <= now or since_seen > idle or since_seen > TOUCH_EVERY:
        return None
    return LiveLogin(row.id, row.stage, row.account_id, row.role, row.email, row.display_name)


def resolve(*, session: Session, token: str, policy: SessionPolicy) -> LoginSession | None:
    """The live session behind a cookie, or None if it expired, idled out or was revoked."""
    login_session = session.scalar(
        select(LoginSession).where(LoginSession.token_digest == token_digest(token))
    )
    if login_session is None:
        return None
    now = utcnow()
    account = login_session.account
    idle = policy.staff_idle if account_service.is_staff(account) else policy.citizen_idle
    if (
        login_session.expires_at <= now
        or now - login_session.last_seen_at > idle
        or account.disabled_at is not None
        or account.locked_at is not None
    ):
        session.delete(login_session)
        session.flush()
        return None
    if now - login_session.last_seen_at > TOUCH_EVERY:
        login_session.last_seen_at = now
        session.flush()
    return login_session


def end(*, session: Session, token: str, ip: str | None) -> None:
    login_session = session.scalar(
        select(LoginSession).where(LoginSession.token_digest == token_digest(token))
    )
    if login_session is not None:
        audit.record(
            session, action="logout", actor=Actor("account", login_session.account_id), ip=ip
        )
        session.delete(login_session)
        session.flush()


def promote(*, session: Session, login_session: LoginSession, ip: str | None) -> str:
    """Finish a pending login: a fresh token (no fixation) for an active session."""
    account = login_session.account
    session.execute(delete(LoginSession).where(LoginSession.id == login_session.id))
    token = _open_session(session, account, Stage.ACTIVE)
    _succeeded(session, account, ip)
    return token


def complete_second_factor(
    *,
    session: Session,
    login_session: LoginSession,
    code: str,
    box: SecretBox,
    ip: str | None,
    base_url: str,
) -> tuple[str | None, Failure | None]:
    account = login_session.account
    secret = box.open(account.totp_secret_sealed or "")
    step = verify_totp(secret, code, last_step=account.totp_last_step) if secret else None
    if step is None:
        failure = _record_failure(
            session, account, reason="second_factor", ip=ip, base_url=base_url
        )
        return None, failure
    account.totp_last_step = step
    return promote(session=session, login_session=login_session, ip=ip), None


def offer_enrolment(*, session: Session, login_session: LoginSession, box: SecretBox) -> str:
    """The TOTP seed to show during enrolment (the same one until it is confirmed)."""
    secret = box.open(login_session.pending_totp_sealed or "")
    if secret is None:
        secret = new_totp_secret()
        login_session.pending_totp_sealed = box.seal(secret)
        session.flush()
    return secret


def confirm_enrolment(
    *, session: Session, login_session: LoginSession, code: str, box: SecretBox, ip: str | None
) -> bool:
    """Enable 2FA once the first code for the offered seed matches."""
    secret = box.open(login_session.pending_totp_sealed or "")
    step = verify_totp(secret, code, last_step=None) if secret else None
    if secret is None or step is None:
        return False
    account = login_session.account
    account.totp_secret_sealed = box.seal(secret)
    account.totp_enabled_at = utcnow()
    account.totp_last_step = step
    login_session.pending_totp_sealed = None
    audit.record(
        session,
        action="account.second_factor_enabled",
        actor=Actor("account", account.id),
        target_kind="account",
        target_id=account.id,
        ip=ip,
    )
    # Any other session of the account was opened without the second factor.
    account_service.revoke_sessions(
        session=session, account=account, keep_session_id=login_session.id
    )
    return True


def disable_second_factor(*, session: Session, account: Account, ip: str | None) -> None:
    account.totp_secret_sealed = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    audit.record(
        session,
        action="account.second_factor_disabled",
        actor=Actor("account", account.id),
        target_kind="account",
        target_id=account.id,
        ip=ip,
    )
    session.flush()

"""Accounts: creation, registration, e-mail links, passwords, administration."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from klug.core import audit
from klug.core.audit import Actor
from klug.core.db import utcnow
from klug.core.i18n import N_, Language, localise_path
from klug.core.mail import queue_mail
from klug.core.security import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    SecretBox,
    hash_password,
    new_token,
    token_digest,
)
from klug.identity import mails
from klug.identity.models import Account, EmailToken, LoginSession
from klug.identity.permissions import STAFF_ROLES, Role
from klug.identity.schemas import AccountCreate

VERIFY_TTL = dt.timedelta(hours=24)
RESET_TTL = dt.timedelta(hours=1)
UNLOCK_TTL = dt.timedelta(hours=24)
INVITE_TTL = dt.timedelta(hours=72)


class AccountError(ValueError):
    """A rule of account handling was broken; ``message`` is a translatable message id."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """What is wrong with a new password, as message ids (empty when it is fine).

    Length over composition rules, following NIST SP 800-63B §5.1.1.
    """
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(N_("The password must have at least 12 characters."))
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(N_("The password must have at most 256 characters."))
    if email and password.strip().lower() == normalise_email(email):
        problems.append(N_("The password must not be your e-mail address."))
    if password and len(set(password)) < 4:
        problems.append(N_("The password is too simple."))
    return problems


def is_staff(account: Account) -> bool:
    return Role(account.role) in STAFF_ROLES


def get(*, session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def get_by_email(*, session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == normalise_email(email)))


def create(
    *, session: Session, account_in: AccountCreate, verified: bool, actor: Actor | None
) -> Account:
    email = normalise_email(account_in.email)
    problems = password_problems(account_in.password, email=email)
    if problems:
        raise AccountError(problems[0])
    if get_by_email(session=session, email=email) is not None:
        raise AccountError(N_("An account with this e-mail address already exists."))
    account = Account(
        email=email,
        display_name=account_in.display_name,
        password_hash=hash_password(account_in.password),
        role=account_in.role.value,
        language=account_in.language,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        action="account.created",
        actor=actor,
        target_kind="account",
        target_id=account.id,
        detail={"role": account.role},
    )
    return account


def _issue_token(session: Session, account: Account, purpose: str, ttl: dt.timedelta) -> str:
    token = new_token()
    session.add(
        EmailToken(
            token_digest=token_digest(token),
            account_id=account.id,
            purpose=purpose,
            expires_at=utcnow() + ttl,
        )
    )
    session.flush()
    return token


def _link(base_url: str, language: str, path: str, token: str) -> str:
    return f"{base_url}{localise_path(path, 'en' if language == 'en' else 'de')}?token={token}"


def peek_token(*, session: Session, token: str, purpose: str) -> EmailToken | None:
    """The unused, unexpired token, without using it up (to show its confirmation form)."""
    return session.scalar(
        select(EmailToken).where(
            EmailToken.token_digest == token_digest(token),
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > utcnow(),
        )
    )


def _consume_token(session: Session, token: str, purpose: str) -> Account | None:
    found = peek_token(session=session, token=token, purpose=purpose)
    if found is None:
        return None
    # Conditional update: of two concurrent uses, exactly one wins.
    used = session.execute(
        update(EmailToken)
        .where(EmailToken.id == found.id, EmailToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not used:
        return None
    return session.get(Account, found.account_id)


def register(*, session: Session, account_in: AccountCreate, base_url: str) -> None:
    """Self-registration of a citizen. Answers the same whether the address is known
    or not, so that registration cannot be used to find out who has an account."""
    existing = get_by_email(session=session, email=account_in.email)
    if existing is not None:
        # The new-account path hashes a password; so does this one, so that the answer
        # takes as long whether or not the address already has an account.
        hash_password(account_in.password)
        language: Language = "en" if existing.language == "en" else "de"
        subject, body = mails.already_registered(
            existing.language,
            f"{base_url}{localise_path('/konto/anmelden', language)}",
            f"{base_url}{localise_path('/konto/passwort-vergessen', language)}",
        )
        queue_mail(session, recipient=existing.email, subject=subject, body=body)
        return
    account = create(
        session=session,
        account_in=account_in.model_copy(update={"role": Role.CITIZEN}),
        verified=False,
        actor=None,
    )
    token = _issue_token(session, account, "verify", VERIFY_TTL)
    subject, body = mails.verify_address(
        account.language, _link(base_url, account.language, "/konto/bestaetigen", token)
    )
    queue_mail(session, recipient=account.email, subject=subject, body=body)


def invite(
    *,
    session: Session,
    email: str,
    role: Role,
    display_name: str | None,
    actor: Actor,
    base_url: str,
    language: str = "de",
    ip: str | None = None,
) -> Account:
    """An administrator creates an account; the person sets the password from a mailed link."""
    account = create(
        session=session,
        account_in=AccountCreate(
            email=email,
            password=new_token(),
            role=role,
            display_name=display_name,
            language=language,
        ),
        verified=True,
        actor=actor,
    )
    token = _issue_token(session, account, "reset", INVITE_TTL)
    subject, body = mails.account_created(
        account.language, _link(base_url, account.language, "/konto/passwort-neu", token)
    )
    queue_mail(session, recipient=account.email, subject=subject, body=body)
    return account


def set_disabled(
    *, session: Session, account: Account, disabled: bool, actor: Actor, ip: str | None = None
) -> None:
    if disabled and account.role == Role.ADMIN and _admin_count(session) <= 1:
        raise AccountError(N_("The last administrator cannot be disabled."))
    account.disabled_at = utcnow() if disabled else None
    if disabled:
        revoke_sessions(session=session, account=account)
    session.flush()
    audit.record(
        session,
        action="account.disabled" if disabled else "account.enabled",
        actor=actor,
        target_kind="account",
        target_id=account.id,
        ip=ip,
    )


def verify_email(*, session: Session, token: str) -> Account | None:
    account = _consume_token(session, token, "verify")
    if account is None:
        return None
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
        audit.record(
            session,
            action="account.email_verified",
            actor=Actor("account", account.id),
            target_kind="account",
            target_id=account.id,
        )
    session.flush()
    return account


def request_password_reset(*, session: Session, email: str, base_url: str) -> None:
    account = get_by_email(session=session, email=email)
    if account is None or account.disabled_at is not None:
        return
    token = _issue_token(session, account, "reset", RESET_TTL)
    subject, body = mails.password_reset(
        account.language, _link(base_url, account.language, "/konto/passwort-neu", token)
    )
    queue_mail(session, recipient=account.email, subject=subject, body=body)


def reset_password(*, session: Session, token: str, new_password: str, ip: str | None) -> Account:
    found = peek_token(session=session, token=token, purpose="reset")
    if found is None:
        raise AccountError(N_("This link is invalid or has expired. Please request a new one."))
    account = session.get_one(Account, found.account_id)
    problems = password_problems(new_password, email=account.email)
    if problems:
        raise AccountError(problems[0])
    if _consume_token(session, token, "reset") is None:
        raise AccountError(N_("This link is invalid or has expired. Please request a new one."))
    account.password_hash = hash_password(new_password)
    was_locked = account.locked_at is not None
    account.locked_at = None
    account.failed_logins = 0
    # Receiving the mail proves the address, so a reset also verifies it.
    account.email_verified_at = account.email_verified_at or utcnow()
    revoke_sessions(session=session, account=account)
    audit.record(
        session,
        action="account.password_reset",
        actor=Actor("account", account.id),
        target_kind="account",
        target_id=account.id,
        ip=ip,
        detail={"unlocked": was_locked},
    )
    return account


def lock(*, session: Session, account: Account, base_url: str, ip: str | None) -> None:
    account.locked_at = utcnow()
    revoke_sessions(session=session, account=account)
    token = _issue_token(session, account, "unlock", UNLOCK_TTL)
    subject, body = mails.account_locked(
        account.language, _link(base_url, account.language, "/konto/entsperren", token)
    )
    queue_mail(session, recipient=account.email, subject=subject, body=body)
    audit.record(
        session,
        action="account.locked",
        actor=None,
        outcome=audit.Outcome.DENIED,
        target_kind="account",
        target_id=account.id,
        ip=ip,
        detail={"failed_logins": account.failed_logins},
    )


def unlock_by_token(*, session: Session, token: str, ip: str | None) -> Account | None:
    account = _consume_token(session, token, "unlock")
    if account is None:
        return None
    _unlock(session, account, Actor("account", account.id), ip)
    return account


def unlock(*, session: Session, account: Account, actor: Actor, ip: str | None = None) -> None:
    _unlock(session, account, actor, ip)


def _unlock(session: Session, account: Account, actor: Actor, ip: str | None) -> None:
    account.locked_at = None
    account.failed_logins = 0
    session.flush()
    audit.record(
        session,
        action="account.unlocked",
        actor=actor,
        target_kind="account",
        target_id=account.id,
        ip=ip,
    )


def change_role(
    *, session: Session, account: Account, role: Role, actor: Actor, ip: str | None = None
) -> None:
    old = account.role
    if old == role.value:
        return
    if old == Role.ADMIN and role != Role.ADMIN and _admin_count(session) <= 1:
        raise AccountError(N_("The last administrator cannot lose the administrator role."))
    account.role = role.value
    # A new role means new rights: old sessions must log in again (and may need 2FA).
    revoke_sessions(session=session, account=account)
    audit.record(
        session,
        action="account.role_changed",
        actor=actor,
        target_kind="account",
        target_id=account.id,
        ip=ip,
        detail={"from": old, "to": role.value},
    )


def reset_second_factor(
    *, session: Session, account: Account, actor: Actor, ip: str | None = None
) -> None:
    account.totp_secret_sealed = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    revoke_sessions(session=session, account=account)
    audit.record(
        session,
        action="account.second_factor_reset",
        actor=actor,
        target_kind="account",
        target_id=account.id,
        ip=ip,
    )


def set_password(*, session: Session, account: Account, new_password: str, actor: Actor) -> None:
    problems = password_problems(new_password, email=account.email)
    if problems:
        raise AccountError(problems[0])
    account.password_hash = hash_password(new_password)
    session.flush()
    audit.record(
        session,
        action="account.password_changed",
        actor=actor,
        target_kind="account",
        target_id=account.id,
    )


def revoke_sessions(
    *, session: Session, account: Account, keep_session_id: int | None = None
) -> None:
    query = delete(LoginSession).where(LoginSession.account_id == account.id)
    if keep_session_id is not None:
        query = query.where(LoginSession.id != keep_session_id)
    session.execute(query.execution_options(synchronize_session=False))
    session.flush()


def _admin_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.role == Role.ADMIN, Account.disabled_at.is_(None))
        )
        or 0
    )


@dataclass(frozen=True)
class AccountPage:
    accounts: list[Account]
    total: int


def active_names(*, session: Session, roles: tuple[Role, ...]) -> list[tuple[int, str]]:
    """Id and shown name (display name, else e-mail) of the active accounts in ``roles``:
    one narrow query, for pickers such as "assign to"."""
    rows = session.execute(
        select(Account.id, Account.display_name, Account.email).where(
            Account.role.in_([role.value for role in roles]), Account.disabled_at.is_(None)
        )
    )
    return [(account_id, name or email) for account_id, name, email in rows]


def search(
    *, session: Session, text: str | None, role: Role | None, limit: int, offset: int
) -> AccountPage:
    query = select(Account)
    if text:
        # Search for what was typed: % and _ are not wildcards here.
        escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                Account.email.like(pattern, escape="\\"),
                func.lower(Account.display_name).like(pattern, escape="\\"),
            )
        )
    if role:
        query = query.where(Account.role == role.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    accounts = session.scalars(query.order_by(Account.email).limit(limit).offset(offset)).all()
    return AccountPage(list(accounts), total)


def upsert_demo_account(
    *,
    session: Session,
    email: str,
    role: Role,
    password: str,
    totp_secret: str | None,
    box: SecretBox,
) -> Account:
    """A demo account with a fresh password (and, for staff, an enrolled TOTP seed)."""
    account = get_by_email(session=session, email=email)
    if account is None:
        account = Account(
            email=normalise_email(email), role=role.value, password_hash="", is_demo=True
        )
        session.add(account)
    account.role = role.value
    account.password_hash = hash_password(password)
    account.display_name = f"Demo {role.value}"
    account.email_verified_at = account.email_verified_at or utcnow()
    account.locked_at = None
    account.failed_logins = 0
    account.disabled_at = None
    account.is_demo = True
    account.totp_secret_sealed = box.seal(totp_secret) if totp_secret else None
    account.totp_enabled_at = utcnow() if totp_secret else None
    account.totp_last_step = None
    session.flush()
    revoke_sessions(session=session, account=account)
    return account

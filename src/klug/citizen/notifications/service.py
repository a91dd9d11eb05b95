"""Tell an account of a change the way it chose: a mail now, an entry of the daily digest,
or nothing (the status is then only in the account).

Everything happens in the caller's transaction: the mail (a row of the outbox) or the
digest entry is written with the change it tells of, so a rollback tells nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from klug.citizen.notifications import mails
from klug.citizen.notifications.models import DigestEntry
from klug.core.i18n import localise_path
from klug.core.mail import queue_mail
from klug.identity import notifications as preferences
from klug.identity import service as account_service

log = logging.getLogger(__name__)

# (language, link) → (subject, body) of the mail sent at once.
Compose = Callable[[str, str], tuple[str, str]]

MAILED = "mailed"
COLLECTED = "collected"
DROPPED = "dropped"

# Where the choice is made; linked from every digest.
SETTINGS_PATH = "/konto/#benachrichtigungen"


def account_link(base_url: str, language: str, path: str) -> str:
    return base_url + localise_path(path, "en" if language == "en" else "de")


def notify(
    *,
    session: Session,
    account_id: int,
    kind: str,
    reference: str,
    path: str,
    base_url: str,
    compose: Compose,
) -> str:
    """Mail now, collect for the digest, or drop – per the account's choice (``MAILED``,
    ``COLLECTED``, ``DROPPED``). ``path`` is the German path of the page to look at."""
    account = account_service.get(session=session, account_id=account_id)
    if account is None or account.disabled_at is not None:
        return DROPPED
    mode = account.notification_mode
    if mode == preferences.NONE:
        return DROPPED
    link = account_link(base_url, account.language, path)
    if mode == preferences.DIGEST:
        session.add(DigestEntry(account_id=account.id, kind=kind, reference=reference, link=link))
        session.flush()
        return COLLECTED
    subject, body = compose(account.language, link)
    queue_mail(session, recipient=account.email, subject=subject, body=body)
    return MAILED


def pending(*, session: Session, account_id: int) -> list[DigestEntry]:
    """The account's entries waiting for its next digest, oldest first."""
    return list(
        session.scalars(
            select(DigestEntry)
            .where(DigestEntry.account_id == account_id)
            .order_by(DigestEntry.created_at, DigestEntry.id)
        )
    )


def _send_one(session: Session, *, account_id: int, upto: int, base_url: str) -> bool | None:
    """Queue one account's digest and delete its entries; None when another run took them."""
    entries = list(
        session.scalars(
            select(DigestEntry)
            .where(DigestEntry.account_id == account_id, DigestEntry.id <= upto)
            .order_by(DigestEntry.created_at, DigestEntry.id)
        )
    )
    if not entries:
        return None
    # Deleting is the claim: a second process deletes nothing (on PostgreSQL it waits for
    # the first one's commit, then finds the rows gone) and sends nothing.
    removed = session.execute(
        delete(DigestEntry)
        .where(DigestEntry.id.in_([e.id for e in entries]))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if removed != len(entries):
        return None
    account = account_service.get(session=session, account_id=account_id)
    # Someone who chose "no e-mails" since, or deleted the account, gets none.
    if account is None or account.disabled_at is not None:
        return False
    if account.notification_mode == preferences.NONE:
        return False
    subject, body = mails.compose_digest(
        account.language,
        [(e.kind, e.reference, e.link) for e in entries],
        settings_link=account_link(base_url, account.language, SETTINGS_PATH),
    )
    queue_mail(session, recipient=account.email, subject=subject, body=body)
    return True


def send_digests(factory: sessionmaker[Session], *, base_url: str) -> int:
    """Per account one mail listing what was collected since its last digest; returns
    the number of mails queued. Each account's mail is queued in the transaction that
    deletes its entries, so running twice (or in two processes) sends each entry once;
    entries that arrive during the run wait for the next one."""
    with factory() as session:
        upto = session.scalar(select(func.max(DigestEntry.id)))
        if upto is None:
            return 0
        account_ids = sorted(
            session.scalars(select(DigestEntry.account_id).where(DigestEntry.id <= upto).distinct())
        )
    sent = 0
    for account_id in account_ids:
        with factory() as session:
            try:
                outcome = _send_one(session, account_id=account_id, upto=upto, base_url=base_url)
                if outcome is None:
                    session.rollback()
                    continue
                session.commit()
            except OperationalError:
                # SQLite: another writer took these rows first; the next run tries again.
                log.warning("digest of account %s not sent this time", account_id, exc_info=True)
                continue
            sent += int(outcome)
    return sent

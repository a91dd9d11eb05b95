"""Use cases of applicants: drafts, files, submission (reference, confirmation mail).

Keyword-only, session first; services ``flush()`` and never commit (the request does).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from klug.citizen.applications import attachments, mails
from klug.citizen.applications.attachments import PreparedFile
from klug.citizen.applications.models import (
    DRAFT,
    RECEIVED,
    Application,
    ApplicationAttachment,
    ApplicationCounter,
    ApplicationEvent,
)
from klug.citizen.notifications import models as notices
from klug.citizen.notifications import service as notification_service
from klug.citizen.services.catalogue import Service
from klug.core import audit
from klug.core.audit import Actor
from klug.core.db import utcnow
from klug.core.i18n import CITY_TZ, localise_path
from klug.core.mail import queue_mail
from klug.identity import service as account_service

REFERENCE_PREFIX = "KL"
# A citizen keeps at most this many drafts (a form left open is one; more is abuse).
MAX_DRAFTS = 50


class TooManyDrafts(Exception):
    """The account has reached ``MAX_DRAFTS``."""


def next_reference(session: Session, *, year: int) -> str:
    """The next reference of the year, ``KL-2026-000123``.

    The counter row is updated in the submission's own transaction: on PostgreSQL the
    row lock makes concurrent submissions wait for each other, on SQLite the database
    write lock does; a rollback gives the number back, so there are no gaps.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        make = sqlite_insert if dialect == "sqlite" else pg_insert
        session.execute(
            make(ApplicationCounter)
            .values(year=year, last_number=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
    elif session.get(ApplicationCounter, year) is None:  # pragma: no cover - other engines
        session.execute(insert(ApplicationCounter).values(year=year, last_number=0))
    number = session.execute(
        update(ApplicationCounter)
        .where(ApplicationCounter.year == year)
        .values(last_number=ApplicationCounter.last_number + 1)
        .returning(ApplicationCounter.last_number)
    ).scalar_one()
    return f"{REFERENCE_PREFIX}-{year}-{number:06d}"


# ---------------------------------------------------------------- reading


def own_applications(
    *, session: Session, account_id: int
) -> tuple[list[Application], list[Application]]:
    """The account's drafts (last edited first) and submitted cases (newest first)."""
    rows = session.scalars(
        select(Application)
        .where(Application.account_id == account_id)
        .order_by(Application.updated_at.desc(), Application.id.desc())
    ).all()
    drafts = [a for a in rows if a.status == DRAFT]
    cases = sorted(
        (a for a in rows if a.status != DRAFT),
        key=lambda a: a.submitted_at or a.created_at,
        reverse=True,
    )
    return drafts, cases


def get_draft(*, session: Session, draft_id: int, account_id: int) -> Application | None:
    """A draft of this account – None for anyone else's (the page answers 404)."""
    return session.scalar(
        select(Application).where(
            Application.id == draft_id,
            Application.account_id == account_id,
            Application.status == DRAFT,
        )
    )


def get_own_case(*, session: Session, reference: str, account_id: int) -> Application | None:
    """A submitted application of this account – None for anyone else's."""
    return session.scalar(
        select(Application).where(
            Application.reference == reference,
            Application.account_id == account_id,
            Application.status != DRAFT,
        )
    )


def field_files(*, session: Session, application_id: int) -> dict[str, ApplicationAttachment]:
    """The files of the form's file fields, by field."""
    rows = session.scalars(
        select(ApplicationAttachment).where(
            ApplicationAttachment.application_id == application_id,
            ApplicationAttachment.field.is_not(None),
        )
    ).all()
    return {a.field: a for a in rows if a.field}


def get_attachment(
    *, session: Session, application_id: int, attachment_id: int
) -> ApplicationAttachment | None:
    return session.scalar(
        select(ApplicationAttachment).where(
            ApplicationAttachment.id == attachment_id,
            ApplicationAttachment.application_id == application_id,
        )
    )


# ---------------------------------------------------------------- drafts


def save_draft(
    *,
    session: Session,
    application: Application | None,
    service: Service,
    account_id: int,
    values: dict[str, str],
    files: dict[str, PreparedFile],
    directory: Path,
) -> Application:
    """Create or update a draft with what was typed and the files chosen."""
    if application is None:
        count = session.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.account_id == account_id, Application.status == DRAFT)
        )
        if (count or 0) >= MAX_DRAFTS:
            raise TooManyDrafts
        application = Application(
            service_slug=service.slug,
            form_key=service.online_form or "",
            account_id=account_id,
            status=DRAFT,
            values={},
            answers={},
            office=service.office.name.de,
        )
        session.add(application)
    application.values = dict(values)
    application.updated_at = utcnow()
    session.flush()
    existing = field_files(session=session, application_id=application.id)
    for field, prepared in files.items():
        if field in existing:
            attachments.forget(session=session, attachment=existing[field], directory=directory)
        attachments.store(
            session=session,
            prepared=prepared,
            directory=directory,
            application_id=application.id,
            field=field,
            message_id=None,
            uploaded_by_id=account_id,
        )
    return application


def delete_draft(*, session: Session, application: Application, directory: Path) -> None:
    for attachment in field_files(session=session, application_id=application.id).values():
        attachments.forget(session=session, attachment=attachment, directory=directory)
    session.execute(delete(Application).where(Application.id == application.id))
    session.flush()


# ---------------------------------------------------------------- submission


def submit(
    *,
    session: Session,
    application: Application,
    service: Service,
    answers: dict[str, Any],
    directory: Path,
    actor: Actor,
    base_url: str,
    ip: str | None = None,
) -> Application:
    """Turn a checked draft into a case: reference, deadline, history, audit, mail."""
    files = field_files(session=session, application_id=application.id)
    for field, attachment in files.items():
        if field not in answers:  # a file of a field that no longer applies
            attachments.forget(session=session, attachment=attachment, directory=directory)
    now = utcnow()
    application.reference = next_reference(session, year=now.astimezone(CITY_TZ).year)
    application.answers = answers
    application.values = {}
    application.status = RECEIVED
    application.submitted_at = now
    application.updated_at = now
    if service.processing_days:
        application.due_at = now + dt.timedelta(days=service.processing_days)
    session.add(
        ApplicationEvent(
            application_id=application.id,
            occurred_at=now,
            kind="submitted",
            to_status=RECEIVED,
            actor_id=actor.id,
        )
    )
    session.flush()
    audit.record(
        session,
        action="applications.submitted",
        actor=actor,
        target_kind="application",
        target_id=application.id,
        ip=ip,
        detail={"reference": application.reference, "service": service.slug},
    )
    notify_applicant(session=session, application=application, base_url=base_url, kind="submitted")
    return application


def case_link(base_url: str, language: str, reference: str) -> str:
    return base_url + localise_path(
        f"/konto/antraege/{reference}", "en" if language == "en" else "de"
    )


# The news the applicant chooses how to hear of (at once, daily, not by mail).
NOTICE_KINDS = {"status": notices.APPLICATION_STATUS, "message": notices.APPLICATION_MESSAGE}


def notify_applicant(
    *,
    session: Session,
    application: Application,
    base_url: str,
    kind: str,
    status: str | None = None,
) -> None:
    """Mail the applicant that something happened – never what was written (the mail
    leaves our systems; the content stays behind the login).

    The confirmation of a submission is its receipt and always sent; status changes and
    messages follow the account's notification preference.
    """
    if application.account_id is None or application.reference is None:
        return
    reference = application.reference

    def compose(language: str, link: str) -> tuple[str, str]:
        return mails.compose(kind, language, reference=reference, link=link, status=status)

    if kind in NOTICE_KINDS:
        notification_service.notify(
            session=session,
            account_id=application.account_id,
            kind=NOTICE_KINDS[kind],
            reference=reference,
            path=f"/konto/antraege/{reference}",
            base_url=base_url,
            compose=compose,
        )
        return
    account = account_service.get(session=session, account_id=application.account_id)
    if account is None or account.disabled_at is not None:
        return
    subject, body = compose(account.language, case_link(base_url, account.language, reference))
    queue_mail(session, recipient=account.email, subject=subject, body=body)

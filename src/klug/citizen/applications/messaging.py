"""The message thread of a case between the applicant and the office.

A message from the office is announced to the applicant by a mail that says only that
there is a message (with a link); the text and files stay behind the login.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from klug.citizen.applications import attachments
from klug.citizen.applications import service as application_service
from klug.citizen.applications.attachments import PreparedFile
from klug.citizen.applications.models import Application, ApplicationAttachment, ApplicationMessage
from klug.core import audit
from klug.core.audit import Actor
from klug.core.db import utcnow

MAX_MESSAGE_CHARS = 5000


@dataclass(frozen=True)
class ThreadEntry:
    message: ApplicationMessage
    files: list[ApplicationAttachment]


def post(
    *,
    session: Session,
    case: Application,
    body: str,
    files: list[PreparedFile],
    author: Actor,
    from_staff: bool,
    directory: Path,
    base_url: str,
    notify: bool = True,
    ip: str | None = None,
) -> ApplicationMessage:
    """Add a message (with files) to the thread; staff messages are announced by mail."""
    message = ApplicationMessage(
        application_id=case.id,
        author_id=author.id,
        from_staff=from_staff,
        body=body[:MAX_MESSAGE_CHARS],
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    for prepared in files:
        attachments.store(
            session=session,
            prepared=prepared,
            directory=directory,
            application_id=case.id,
            field=None,
            message_id=message.id,
            uploaded_by_id=author.id,
        )
    case.updated_at = utcnow()
    audit.record(
        session,
        action="applications.message_posted",
        actor=author,
        target_kind="application",
        target_id=case.id,
        ip=ip,
        detail={"reference": case.reference, "from_staff": from_staff, "files": len(files)},
    )
    if from_staff and notify:
        application_service.notify_applicant(
            session=session, application=case, base_url=base_url, kind="message"
        )
    return message


def thread(*, session: Session, case: Application) -> list[ThreadEntry]:
    """The messages of a case, oldest first, each with its files."""
    messages = session.scalars(
        select(ApplicationMessage)
        .where(ApplicationMessage.application_id == case.id)
        .order_by(ApplicationMessage.created_at, ApplicationMessage.id)
    ).all()
    files = session.scalars(
        select(ApplicationAttachment)
        .where(
            ApplicationAttachment.application_id == case.id,
            ApplicationAttachment.message_id.is_not(None),
        )
        .order_by(ApplicationAttachment.id)
    ).all()
    by_message: dict[int, list[ApplicationAttachment]] = {}
    for attachment in files:
        by_message.setdefault(attachment.message_id or 0, []).append(attachment)
    return [ThreadEntry(m, by_message.get(m.id, [])) for m in messages]

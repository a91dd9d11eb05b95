"""An applicant's data for "download my data", and what "delete my account" does to it:
drafts go; submitted applications are administrative files the city must keep under its
retention rules, so they stay and lose their link to the account."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from klug.citizen.applications import attachments
from klug.citizen.applications import service as application_service
from klug.citizen.applications.models import (
    DRAFT,
    Application,
    ApplicationAttachment,
    ApplicationMessage,
)
from klug.core.personal_data import Export


def export(session: Session, account_id: int, var_dir: Path) -> Export:
    """Own applications with their answers, messages (never internal notes) and files."""
    directory = attachments.files_dir(var_dir)
    records = []
    files: list[tuple[str, Path]] = []
    owned = session.scalars(
        select(Application).where(Application.account_id == account_id).order_by(Application.id)
    ).all()
    for application in owned:
        messages = session.scalars(
            select(ApplicationMessage)
            .where(ApplicationMessage.application_id == application.id)
            .order_by(ApplicationMessage.id)
        ).all()
        stored = session.scalars(
            select(ApplicationAttachment).where(
                ApplicationAttachment.application_id == application.id
            )
        ).all()
        label = application.reference or f"entwurf-{application.id}"
        records.append(
            {
                "reference": application.reference,
                "service": application.service_slug,
                "status": application.status,
                "answers": application.values,
                "created_at": application.created_at,
                "submitted_at": application.submitted_at,
                "decided_at": application.decided_at,
                "messages": [
                    {"from_staff": m.from_staff, "text": m.body, "at": m.created_at}
                    for m in messages
                ],
                "files": [f"{label}/{a.id}-{a.original_name}" for a in stored],
            }
        )
        files += [
            (f"{label}/{a.id}-{a.original_name}", attachments.path_of(directory, a)) for a in stored
        ]
    return Export(records, files)


def erase(session: Session, account_id: int, var_dir: Path) -> None:
    directory = attachments.files_dir(var_dir)
    drafts = session.scalars(
        select(Application).where(Application.account_id == account_id, Application.status == DRAFT)
    ).all()
    for draft in drafts:
        application_service.delete_draft(session=session, application=draft, directory=directory)
    session.execute(
        update(Application).where(Application.account_id == account_id).values(account_id=None)
    )

"""What applicants see of their applications: explicit lists of public fields.

The applicant's pages, downloads and receipt are built only from these models, so
internal notes, assignees and the office's history cannot reach them, whoever asks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from klug.citizen.applications import messaging
from klug.citizen.applications.forms import FormDefinition, FormField
from klug.citizen.applications.models import Application, ApplicationAttachment, ApplicationEvent
from klug.core.i18n import current_language, format_number, gettext


class _Read(BaseModel):
    model_config = ConfigDict(frozen=True)


class AttachmentRead(_Read):
    id: int
    name: str
    media_type: str
    size_bytes: int


class AnswerRead(_Read):
    label: str
    text: str
    attachment: AttachmentRead | None = None


class SectionRead(_Read):
    title: str
    answers: list[AnswerRead]


class TimelineEntry(_Read):
    occurred_at: dt.datetime
    status: str


class MessageRead(_Read):
    created_at: dt.datetime
    from_staff: bool
    body: str
    files: list[AttachmentRead]


class CaseRead(_Read):
    """An application as its applicant sees it."""

    reference: str
    service_slug: str
    status: str
    submitted_at: dt.datetime
    due_at: dt.datetime | None
    sections: list[SectionRead]
    timeline: list[TimelineEntry]
    messages: list[MessageRead]


def attachment_read(attachment: ApplicationAttachment) -> AttachmentRead:
    return AttachmentRead(
        id=attachment.id,
        name=attachment.original_name,
        media_type=attachment.media_type,
        size_bytes=attachment.size_bytes,
    )


def _date(text: str, fmt: str) -> str:
    try:
        return format_date(dt.date.fromisoformat(text), format=fmt, locale=current_language())
    except ValueError:
        return text


def answer_text(field: FormField, value: Any) -> str:
    """An answer as a person reads it, in the current language."""
    language = current_language()
    if field.type == "address" and isinstance(value, dict):
        return (
            f"{value.get('street', '')} {value.get('house_number', '')}, "
            f"{value.get('postcode', '')} {value.get('city', '')}"
        )
    if field.type == "point" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lon')}"
    if field.type == "date":
        return _date(str(value), "medium")
    if field.type == "choice":
        if field.options_from == "collection_dates":
            return _date(str(value), "full")
        labels = {o.value: o.label.get(language) for o in field.options}
        return labels.get(str(value), str(value))
    if field.type == "consent":
        return gettext("Confirmed: %(text)s") % {
            "text": field.text.get(language) if field.text else ""
        }
    if field.type == "number" and isinstance(value, int | float):
        unit = f" {field.unit.get(language)}" if field.unit else ""
        return format_number(float(value), 0 if float(value).is_integer() else 2) + unit
    return str(value)


def answer_sections(
    form: FormDefinition, answers: dict[str, Any], files: dict[str, ApplicationAttachment]
) -> list[SectionRead]:
    """The given answers by section (fields without an answer are left out)."""
    language = current_language()
    sections = []
    for section in form.sections:
        shown = []
        for field in section.fields:
            if field.name not in answers:
                continue
            if field.type == "file":
                attachment = files.get(field.name)
                shown.append(
                    AnswerRead(
                        label=field.label.get(language),
                        text=attachment.original_name if attachment else str(answers[field.name]),
                        attachment=attachment_read(attachment) if attachment else None,
                    )
                )
            else:
                shown.append(
                    AnswerRead(
                        label=field.label.get(language),
                        text=answer_text(field, answers[field.name]),
                    )
                )
        if shown:
            sections.append(SectionRead(title=section.title.get(language), answers=shown))
    return sections


def public_timeline(*, session: Session, case: Application) -> list[TimelineEntry]:
    """Submission and status changes – only these two columns are read."""
    rows = session.execute(
        select(ApplicationEvent.occurred_at, ApplicationEvent.to_status)
        .where(
            ApplicationEvent.application_id == case.id,
            ApplicationEvent.kind.in_(("submitted", "status")),
        )
        .order_by(ApplicationEvent.occurred_at, ApplicationEvent.id)
    ).all()
    return [TimelineEntry(occurred_at=at, status=status or "") for at, status in rows]


def case_read(
    *,
    session: Session,
    case: Application,
    form: FormDefinition,
    files: dict[str, ApplicationAttachment],
) -> CaseRead:
    return CaseRead(
        reference=case.reference or "",
        service_slug=case.service_slug,
        status=case.status,
        submitted_at=case.submitted_at or case.created_at,
        due_at=case.due_at,
        sections=answer_sections(form, case.answers, files),
        timeline=public_timeline(session=session, case=case),
        messages=[
            MessageRead(
                created_at=entry.message.created_at,
                from_staff=entry.message.from_staff,
                body=entry.message.body,
                files=[attachment_read(a) for a in entry.files],
            )
            for entry in messaging.thread(session=session, case=case)
        ],
    )

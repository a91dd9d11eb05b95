"""Tables of online applications: the application (a draft, then a case), its files,
its history and its message thread, and the per-year counter of reference numbers.

Internal notes of staff live only in ``ApplicationEvent.internal_note``; every page and
file a citizen gets is built from explicit lists of public fields (``schemas``), never
from these rows as a whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from klug.core import versions
from klug.core.db import Base, UtcDateTime, utcnow

DRAFT = "draft"
RECEIVED = "received"
IN_REVIEW = "in_review"
MORE_INFO_NEEDED = "more_info_needed"
APPROVED = "approved"
REJECTED = "rejected"
COMPLETED = "completed"
CASE_STATUSES = (RECEIVED, IN_REVIEW, MORE_INFO_NEEDED, APPROVED, REJECTED, COMPLETED)
# Statuses in which the city still owes a decision: only these can be overdue.
PENDING_STATUSES = (RECEIVED, IN_REVIEW, MORE_INFO_NEEDED)


class Application(Base):
    """An application for a service: a draft of its applicant, then a case for staff."""

    __tablename__ = "citizen_application"
    __table_args__ = (
        Index("ix_citizen_application_account_status", "account_id", "status"),
        Index("ix_citizen_application_office_status", "office", "status"),
        Index("ix_citizen_application_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # KL-<year>-<6 digits>, given at submission; drafts have none.
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    service_slug: Mapped[str] = mapped_column(String(64))
    form_key: Mapped[str] = mapped_column(String(64))
    # Cases are kept when the account goes (retention rules of the procedure).
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    # What was typed, input by input (a draft shows it again, valid or not).
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The checked answers of the relevant fields, fixed at submission.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The responsible office (the catalogue's office name), for the staff queues.
    office: Mapped[str] = mapped_column(String(200), default="")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class ApplicationMessage(Base):
    """One message of the thread between the applicant and the city."""

    __tablename__ = "citizen_application_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_application.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )
    from_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ApplicationAttachment(Base):
    """A file of an application (a form field's upload) or of a message."""

    __tablename__ = "citizen_application_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_application.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizen_application_message.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str | None] = mapped_column(String(40))
    # Random name on disk; the original name is only shown, never used as a path.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ApplicationEvent(Base):
    """One step of a case's history: submitted, a status change, an assignment, a note."""

    __tablename__ = "citizen_application_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_application.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # submitted | status | assigned | note
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )
    # Never shown to the applicant.
    internal_note: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )


class ApplicationCounter(Base):
    """The last reference number given in a year (a row lock serialises submissions)."""

    __tablename__ = "citizen_application_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


# Kept case lists (the console queue) are valid while no application has changed.
versions.track(Application, "cases")

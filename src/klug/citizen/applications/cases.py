"""Case work: statuses and their allowed transitions, assignment, internal notes, queues.

Every change is one step of the case's history (``ApplicationEvent``, shown to staff)
and one entry of the audit log. The applicant hears of the status changes that matter
to them (``NOTIFIED``) by a mail that says only that the status changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from klug.citizen.applications import service as application_service
from klug.citizen.applications.models import (
    APPROVED,
    COMPLETED,
    DRAFT,
    IN_REVIEW,
    MORE_INFO_NEEDED,
    PENDING_STATUSES,
    RECEIVED,
    REJECTED,
    Application,
    ApplicationEvent,
)
from klug.core import audit
from klug.core.audit import Actor
from klug.core.db import utcnow

TRANSITIONS: dict[str, tuple[str, ...]] = {
    RECEIVED: (IN_REVIEW,),
    IN_REVIEW: (MORE_INFO_NEEDED, APPROVED, REJECTED),
    MORE_INFO_NEEDED: (IN_REVIEW,),
    APPROVED: (COMPLETED,),
    REJECTED: (COMPLETED,),
    COMPLETED: (),
}
# The changes the applicant is told about (the others are the office's own steps).
NOTIFIED = frozenset({MORE_INFO_NEEDED, APPROVED, REJECTED})
MAX_NOTE_CHARS = 5000


class TransitionRefused(Exception):
    """The case cannot go from its status to the one asked for."""

    def __init__(self, reference: str, from_status: str, to_status: str) -> None:
        super().__init__(f"{reference}: {from_status} → {to_status} is not allowed")
        self.reference = reference
        self.from_status = from_status
        self.to_status = to_status


def is_overdue(case: Application, now: dt.datetime) -> bool:
    return case.status in PENDING_STATUSES and case.due_at is not None and case.due_at < now


def get_case(*, session: Session, reference: str) -> Application | None:
    return session.scalar(
        select(Application).where(Application.reference == reference, Application.status != DRAFT)
    )


def change_status(
    *,
    session: Session,
    case: Application,
    to_status: str,
    actor: Actor,
    base_url: str,
    internal_note: str | None = None,
    ip: str | None = None,
) -> None:
    """Move a case on (raises ``TransitionRefused``); tells the applicant when flagged."""
    if to_status not in TRANSITIONS.get(case.status, ()):
        raise TransitionRefused(case.reference or "", case.status, to_status)
    now = utcnow()
    from_status = case.status
    case.status = to_status
    case.updated_at = now
    if to_status in (APPROVED, REJECTED):
        case.decided_at = now
    session.add(
        ApplicationEvent(
            application_id=case.id,
            occurred_at=now,
            kind="status",
            from_status=from_status,
            to_status=to_status,
            internal_note=(internal_note or "")[:MAX_NOTE_CHARS] or None,
            actor_id=actor.id,
        )
    )
    session.flush()
    audit.record(
        session,
        action="applications.status_changed",
        actor=actor,
        target_kind="application",
        target_id=case.id,
        ip=ip,
        detail={"reference": case.reference, "from": from_status, "to": to_status},
    )
    if to_status in NOTIFIED:
        application_service.notify_applicant(
            session=session, application=case, base_url=base_url, kind="status", status=to_status
        )


def assign(
    *,
    session: Session,
    case: Application,
    assignee_id: int | None,
    actor: Actor,
    ip: str | None = None,
) -> bool:
    """Give the case to a caseworker (None: back to the queue). False if nothing changed."""
    if case.assignee_id == assignee_id:
        return False
    case.assignee_id = assignee_id
    case.updated_at = utcnow()
    session.add(
        ApplicationEvent(
            application_id=case.id, kind="assigned", assignee_id=assignee_id, actor_id=actor.id
        )
    )
    session.flush()
    audit.record(
        session,
        action="applications.assigned",
        actor=actor,
        target_kind="application",
        target_id=case.id,
        ip=ip,
        detail={"reference": case.reference, "assignee_id": assignee_id},
    )
    return True


def add_note(
    *, session: Session, case: Application, text: str, actor: Actor, ip: str | None = None
) -> None:
    """An internal note: staff only, never shown to the applicant."""
    session.add(
        ApplicationEvent(
            application_id=case.id,
            kind="note",
            internal_note=text[:MAX_NOTE_CHARS],
            actor_id=actor.id,
        )
    )
    session.flush()
    audit.record(
        session,
        action="applications.note_added",
        actor=actor,
        target_kind="application",
        target_id=case.id,
        ip=ip,
        detail={"reference": case.reference},
    )


def history(*, session: Session, case: Application) -> list[ApplicationEvent]:
    """The whole history for staff (internal notes included), oldest first."""
    return list(
        session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == case.id)
            .order_by(ApplicationEvent.occurred_at, ApplicationEvent.id)
        )
    )


# ---------------------------------------------------------------- queues


@dataclass(frozen=True)
class QueueFilter:
    office: str | None = None
    status: str | None = None  # a status, or "open" for every pending one
    assignee: str | None = None  # "me", "none", or None for anyone
    overdue: bool = False
    service_slug: str | None = None
    reference: str | None = None


_Row = TypeVar("_Row", bound=Any)


def _filtered(
    query: Select[_Row], wanted: QueueFilter, me: int | None, now: dt.datetime
) -> Select[_Row]:
    query = query.where(Application.status != DRAFT)
    if wanted.office:
        query = query.where(Application.office == wanted.office)
    if wanted.status == "open":
        query = query.where(Application.status.in_(PENDING_STATUSES))
    elif wanted.status:
        query = query.where(Application.status == wanted.status)
    if wanted.assignee == "me":
        query = query.where(Application.assignee_id == me)
    elif wanted.assignee == "none":
        query = query.where(Application.assignee_id.is_(None))
    if wanted.overdue:
        query = query.where(Application.status.in_(PENDING_STATUSES), Application.due_at < now)
    if wanted.service_slug:
        query = query.where(Application.service_slug == wanted.service_slug)
    if wanted.reference:
        query = query.where(Application.reference == wanted.reference.strip().upper())
    return query


def queue(
    *,
    session: Session,
    wanted: QueueFilter,
    me: int | None,
    now: dt.datetime,
    limit: int,
    offset: int,
) -> tuple[list[Application], int]:
    """Cases by deadline (the most urgent first; cases without one last)."""
    query = _filtered(select(Application), wanted, me, now)
    total = session.scalar(_filtered(select(func.count(Application.id)), wanted, me, now)) or 0
    rows = session.scalars(
        query.order_by(
            or_(Application.status.not_in(PENDING_STATUSES), Application.due_at.is_(None)),
            Application.due_at,
            Application.submitted_at,
            Application.id,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def offices(*, session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Application.office)
            .where(Application.status != DRAFT)
            .distinct()
            .order_by(Application.office)
        )
    )


def by_references(*, session: Session, references: list[str]) -> list[Application]:
    if not references:
        return []
    return list(
        session.scalars(
            select(Application)
            .where(Application.reference.in_(references), Application.status != DRAFT)
            .order_by(Application.reference)
        )
    )

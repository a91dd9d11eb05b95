"""The audit log: an append-only record of security-relevant actions.

Rows are only ever inserted; database triggers (see the foundation migration)
refuse UPDATE and DELETE on SQLite and PostgreSQL alike. An entry names actors and
targets by kind and id, not by name or e-mail, to keep personal data out of a log
that is kept for a long time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from klug.core.db import Base, UtcDateTime, utcnow


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class AuditEvent(Base):
    __tablename__ = "core_audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    target_kind: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


@dataclass(frozen=True)
class Actor:
    """Who did it: an account, an API key, or the system (CLI, jobs)."""

    kind: str
    id: int | None = None


SYSTEM = Actor("system")


def record(
    session: Session,
    *,
    action: str,
    actor: Actor | None,
    outcome: Outcome = Outcome.SUCCESS,
    target_kind: str | None = None,
    target_id: object = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    entry = AuditEvent(
        action=action,
        outcome=outcome.value,
        actor_kind=actor.kind if actor else None,
        actor_id=actor.id if actor else None,
        target_kind=target_kind,
        target_id=None if target_id is None else str(target_id),
        ip=ip,
        detail=detail,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    outcome: Outcome | None = None
    actor_kind: str | None = None
    actor_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def search(
    session: Session, *, audit_filter: AuditFilter, limit: int = 50, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    """Newest first, with the total count for paging."""
    query = select(AuditEvent)
    if audit_filter.action:
        query = query.where(AuditEvent.action == audit_filter.action)
    if audit_filter.outcome:
        query = query.where(AuditEvent.outcome == audit_filter.outcome.value)
    if audit_filter.actor_kind:
        query = query.where(AuditEvent.actor_kind == audit_filter.actor_kind)
    if audit_filter.actor_id is not None:
        query = query.where(AuditEvent.actor_id == audit_filter.actor_id)
    if audit_filter.since:
        query = query.where(AuditEvent.occurred_at >= audit_filter.since)
    if audit_filter.until:
        query = query.where(AuditEvent.occurred_at < audit_filter.until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def known_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))

"""Use cases of the Mängelmelder: report, find duplicates, support ("me too"), handle.

Every change happens in the caller's transaction (the request's session): services
``flush()``, the request commits once. Staff changes are written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from klug.citizen.reports import calc
from klug.citizen.reports.categories import Category
from klug.citizen.reports.models import (
    CLOSED,
    OPEN_STATUSES,
    RECEIVED,
    Report,
    ReportEvent,
    ReportRevision,
    ReportSupporter,
)
from klug.citizen.reports.schemas import ReportCreate, ReportRead, StatusChange, TimelineEntry
from klug.core import audit
from klug.core.audit import Actor
from klug.core.db import utcnow

DUPLICATES_SHOWN = 5


def new_token() -> str:
    return secrets.token_urlsafe(18)


def create(
    *,
    session: Session,
    report_in: ReportCreate,
    category: Category,
    reporter_account_id: int | None = None,
    source: str = "web",
    api_key_id: int | None = None,
    now: dt.datetime | None = None,
    is_demo: bool = False,
) -> Report:
    """Store a new report (status "received") with the first step of its timeline."""
    now = now or utcnow()
    report = Report(
        category_code=category.code,
        status=RECEIVED,
        description=report_in.description,
        lat=report_in.lat,
        lon=report_in.lon,
        address=report_in.address,
        address_id=report_in.address_id,
        location_text=report_in.location_text,
        answers=dict(report_in.answers),
        media_url=report_in.media_url,
        # The office as it is named when the report arrives (Open311 agency_responsible);
        # German, the language of the administration.
        agency_responsible=category.office.de,
        supporters=0,
        reporter_account_id=reporter_account_id,
        # An account's reports reach it through the account; a second address is not kept.
        contact_email=None if reporter_account_id is not None else report_in.contact_email,
        token=new_token(),
        source=source,
        api_key_id=api_key_id,
        created_at=now,
        updated_at=now,
        is_demo=is_demo,
    )
    session.add(report)
    session.flush()
    session.add(ReportEvent(report_id=report.id, occurred_at=now, status=RECEIVED))
    session.flush()
    _changed(session)
    return report


def _changed(session: Session) -> None:
    """Raise the revision in this transaction: kept Open311 answers are then stale for
    every process (an atomic increment, so concurrent changes never share a number)."""
    raise_revision = (
        update(ReportRevision)
        .where(ReportRevision.id == 1)
        .values(revision=ReportRevision.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if session.execute(raise_revision).rowcount == 0:  # type: ignore[attr-defined]
        # The migration writes the row; a database whose tables were emptied has none.
        try:
            with session.begin_nested():
                session.add(ReportRevision(id=1, revision=1))
        except IntegrityError:  # written by a concurrent change meanwhile
            session.execute(raise_revision)


def changed(*, session: Session) -> None:
    """Mark a change of what Open311 answers show (e.g. a photo published elsewhere)."""
    _changed(session)


def revision(*, session: Session) -> tuple[int, int]:
    """What Open311 answers depend on: the revision and the newest id (which also sees
    rows written in bulk, past the service)."""
    row = session.execute(
        select(
            select(ReportRevision.revision).where(ReportRevision.id == 1).scalar_subquery(),
            select(func.max(Report.id)).scalar_subquery(),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def has_demo_reports(*, session: Session) -> bool:
    return bool(session.scalar(select(exists().where(Report.is_demo.is_(True)))))


def get(*, session: Session, report_id: int) -> Report | None:
    return session.get(Report, report_id)


def get_by_token(*, session: Session, token: str) -> Report | None:
    return session.scalar(select(Report).where(Report.token == token))


def public(report: Report) -> ReportRead:
    return ReportRead.model_validate(report)


def timeline(*, session: Session, report_id: int) -> list[TimelineEntry]:
    """The public history: statuses and public notes, oldest first."""
    events = session.scalars(
        select(ReportEvent)
        .where(ReportEvent.report_id == report_id)
        .order_by(ReportEvent.occurred_at, ReportEvent.id)
    )
    return [TimelineEntry.model_validate(e) for e in events]


def staff_timeline(*, session: Session, report_id: int) -> list[ReportEvent]:
    """The whole history including internal notes (console only)."""
    return list(
        session.scalars(
            select(ReportEvent)
            .where(ReportEvent.report_id == report_id)
            .order_by(ReportEvent.occurred_at, ReportEvent.id)
        )
    )


# ---------------------------------------------------------------- duplicates


@dataclass(frozen=True)
class Nearby:
    report: ReportRead
    distance_m: float


def find_duplicates(
    *, session: Session, category: Category, lat: float, lon: float, limit: int = DUPLICATES_SHOWN
) -> list[Nearby]:
    """Open reports of the same category within its duplicate radius, nearest first.

    A bounding box the index (category, status, lat) can serve first, then the exact
    haversine distance in Python – the same on SQLite and PostgreSQL, no GIS needed.
    """
    radius = category.duplicate_radius_m
    if radius <= 0:
        return []
    south, north, west, east = calc.bounding_box(lat, lon, radius)
    candidates = session.scalars(
        select(Report).where(
            Report.category_code == category.code,
            Report.status.in_(OPEN_STATUSES),
            Report.lat.between(south, north),
            Report.lon.between(west, east),
        )
    )
    found = []
    for report in candidates:
        assert report.lat is not None and report.lon is not None
        distance = calc.distance_m(lat, lon, report.lat, report.lon)
        if distance <= radius:
            found.append(Nearby(public(report), distance))
    found.sort(key=lambda n: (n.distance_m, -n.report.id))
    return found[:limit]


def support(*, session: Session, report: Report, account_id: int | None, email: str | None) -> bool:
    """Count a "me too" and keep who wants to follow the report; ``False`` if that
    account or address supports it already (the count then stays as it is)."""
    email = email.lower() if email and account_id is None else None
    if account_id is not None:
        exists = ReportSupporter.account_id == account_id
    elif email is not None:
        exists = ReportSupporter.email == email
    else:
        exists = None
    if exists is not None and session.scalar(
        select(ReportSupporter.id).where(ReportSupporter.report_id == report.id, exists)
    ):
        return False
    try:
        with session.begin_nested():
            session.add(ReportSupporter(report_id=report.id, account_id=account_id, email=email))
    except IntegrityError:  # the same supporter in a concurrent request
        return False
    session.execute(
        update(Report)
        .where(Report.id == report.id)
        .values(supporters=Report.supporters + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(report, ["supporters"])
    return True


# ---------------------------------------------------------------- staff


def change_status(
    *,
    session: Session,
    report: Report,
    change: StatusChange,
    actor: Actor,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> ReportEvent:
    """Set a report's status and notes (one timeline step), audited.

    The public note becomes the report's Open311 ``status_notes``; a new status without
    a note clears the old one, which explained the previous status.
    """
    now = now or utcnow()
    previous = report.status
    changed = change.status != previous
    report.status = change.status
    if change.public_note:
        report.status_notes = change.public_note
    elif changed:
        report.status_notes = None
    if change.status == CLOSED and previous != CLOSED:
        report.closed_at = now
    elif change.status != CLOSED:
        report.closed_at = None
    report.updated_at = now
    event = ReportEvent(
        report_id=report.id,
        occurred_at=now,
        status=change.status,
        public_note=change.public_note or None,
        internal_note=change.internal_note or None,
        actor_account_id=actor.id if actor.kind == "account" else None,
    )
    session.add(event)
    session.flush()
    _changed(session)
    # Notes may hold personal data; the audit log (kept long) says only that there was one.
    audit.record(
        session,
        action="report.status_changed" if changed else "report.noted",
        actor=actor,
        target_kind="report",
        target_id=report.id,
        ip=ip,
        detail={
            "from": previous,
            "to": change.status,
            "public_note": bool(change.public_note),
            "internal_note": bool(change.internal_note),
        },
    )
    return event


def is_overdue(report: Report | ReportRead, category: Category | None, now: dt.datetime) -> bool:
    return bool(
        category is not None
        and report.status != CLOSED
        and category.expected_at(report.created_at) < now
    )


# ---------------------------------------------------------------- lists


def _overdue(categories: Sequence[Category], now: dt.datetime) -> ColumnElement[bool]:
    """Open and older than their category's target time."""
    return and_(
        Report.status != CLOSED,
        or_(
            *(
                and_(
                    Report.category_code == c.code,
                    Report.created_at < now - dt.timedelta(days=c.target_days),
                )
                for c in categories
            )
        ),
    )


def list_reports(
    *,
    session: Session,
    category_code: str | None = None,
    statuses: Sequence[str] | None = None,
    overdue: tuple[Sequence[Category], dt.datetime] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Report], int]:
    """Newest first, with the total for paging; ``overdue`` = (categories, now) keeps
    only open reports past their target time."""
    query = select(Report)
    if category_code:
        query = query.where(Report.category_code == category_code)
    if statuses:
        query = query.where(Report.status.in_(statuses))
    if overdue is not None:
        query = query.where(_overdue(*overdue))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def open_on_map(
    *, session: Session, category_code: str | None = None, limit: int = 500
) -> tuple[Sequence[Row[int, str, str, float | None, float | None, bool]], int]:
    """Open reports with coordinates for the public map: (id, category_code, status, lat,
    lon, is_demo) rows, newest first, and how many there are in all."""
    query = select(
        Report.id, Report.category_code, Report.status, Report.lat, Report.lon, Report.is_demo
    ).where(Report.status.in_(OPEN_STATUSES), Report.lat.is_not(None), Report.lon.is_not(None))
    if category_code:
        query = query.where(Report.category_code == category_code)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
    ).all()
    return rows, total


# ---------------------------------------------------------------- Open311 reads

OPEN311_COLUMNS = (
    Report.id,
    Report.category_code,
    Report.status,
    Report.status_notes,
    Report.description,
    Report.agency_responsible,
    Report.created_at,
    Report.updated_at,
    Report.address,
    Report.address_id,
    Report.location_text,
    Report.lat,
    Report.lon,
    Report.media_url,
)


def open311_query(
    *,
    ids: Sequence[int] | None = None,
    category_codes: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 1000,
) -> Select[*tuple[Any, ...]]:
    """Public columns of reports, newest first; ``ids`` overrides every other filter
    (Open311). The indexes on (created_at), (status, created_at) and (category_code,
    created_at) serve it without sorting the table."""
    query = select(*OPEN311_COLUMNS)
    if ids is not None:
        query = query.where(Report.id.in_(ids))
    else:
        if category_codes:
            query = query.where(Report.category_code.in_(category_codes))
        if statuses:
            query = query.where(Report.status.in_(statuses))
        if start is not None:
            query = query.where(Report.created_at >= start)
        if end is not None:
            query = query.where(Report.created_at <= end)
    return query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)


def open311_rows(*, session: Session, **filters: Any) -> Sequence[Row[*tuple[Any, ...]]]:
    """Plain rows, not objects: a page of 1,000 is read as fast as it can be."""
    return session.execute(open311_query(**filters)).all()

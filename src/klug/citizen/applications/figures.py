"""What the city publishes about applications: per service how many were submitted, how
long decisions took against the processing time the catalogue promises, how many are
open and how many of those overdue – so citizens can hold the administration to it."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from klug.citizen.applications.models import PENDING_STATUSES, Application
from klug.citizen.services.catalogue import Service

DAY_S = 86_400.0


@dataclass(frozen=True)
class ServiceFigures:
    service: Service
    submitted: int  # in the window
    decided: int  # of those, decided (approved or rejected)
    median_days_to_decision: float | None
    decided_in_time: int  # decided within the service's processing days
    open_now: int  # pending today, whenever submitted
    overdue_now: int  # pending and past their due date

    @property
    def share_in_time(self) -> float | None:
        return self.decided_in_time / self.decided if self.decided else None


def statistics_by_service(
    *, session: Session, services: tuple[Service, ...], now: dt.datetime, days: int = 365
) -> list[ServiceFigures]:
    """Per online service, over the applications submitted in the last ``days`` days."""
    since = now - dt.timedelta(days=days)
    rows = session.execute(
        select(
            Application.service_slug,
            Application.status,
            Application.submitted_at,
            Application.decided_at,
            Application.due_at,
        ).where(Application.submitted_at.is_not(None))
    ).all()
    figures = []
    for service in services:
        if service.online_form is None:
            continue
        mine = [r for r in rows if r.service_slug == service.slug]
        recent = [r for r in mine if r.submitted_at >= since]
        decided = [r for r in recent if r.decided_at is not None]
        durations = [(r.decided_at - r.submitted_at).total_seconds() for r in decided]
        limit_s = service.processing_days * DAY_S if service.processing_days else None
        pending = [r for r in mine if r.status in PENDING_STATUSES]
        figures.append(
            ServiceFigures(
                service=service,
                submitted=len(recent),
                decided=len(decided),
                median_days_to_decision=statistics.median(durations) / DAY_S if durations else None,
                decided_in_time=sum(1 for d in durations if limit_s is None or d <= limit_s),
                open_now=len(pending),
                overdue_now=sum(1 for r in pending if r.due_at is not None and r.due_at < now),
            )
        )
    return figures

"""The transparency page: how the administration keeps its promises – applications per
service against the promised processing time, reports per category and their time to fix."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klug.citizen.applications import figures as application_figures
from klug.citizen.reports import figures as report_figures
from klug.citizen.reports.categories import catalogue as report_categories
from klug.citizen.services.catalogue import catalogue as service_catalogue
from klug.core.db import SessionDep
from klug.core.i18n import Language
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public

router = Router()
Anyone = Annotated[Principal, Depends(public)]
WINDOW_DAYS = 365


def _figures(session: Any, now: dt.datetime) -> tuple[list[Any], list[Any]]:
    applications = application_figures.statistics_by_service(
        session=session, services=service_catalogue(), now=now, days=WINDOW_DAYS
    )
    reports = report_figures.statistics(session=session, catalogue=report_categories())
    return applications, reports


@router.get("/transparenz", response_class=HTMLResponse, include_in_schema=False)
def transparency_page(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """Applications and reports: how many, how fast, against what was promised."""
    applications, reports = _figures(session, dt.datetime.now(dt.UTC))
    return render(
        request,
        "citizen/transparency.html",
        {"applications": applications, "reports": reports, "window_days": WINDOW_DAYS},
    )


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@router.get("/api/citizen/transparency")
def transparency_json(_: Anyone, session: SessionDep, lang: Language = "de") -> dict[str, Any]:
    """The transparency figures as open data (applications per service, reports per category)."""
    applications, reports = _figures(session, dt.datetime.now(dt.UTC))
    return {
        "window_days": WINDOW_DAYS,
        "applications": [
            {
                "service": f.service.slug,
                "title": f.service.title.get(lang),
                "submitted": f.submitted,
                "decided": f.decided,
                "median_days_to_decision": _round(f.median_days_to_decision),
                "processing_days": f.service.processing_days,
                "share_decided_in_time": _round(f.share_in_time, 3),
                "open_now": f.open_now,
                "overdue_now": f.overdue_now,
            }
            for f in applications
        ],
        "reports": [
            {
                "category": f.category.code,
                "open": f.open,
                "closed": f.closed,
                "median_days_to_fix": _round(f.median_days_to_fix),
                "closed_in_median": f.closed_in_median,
                "target_days": f.category.target_days,
            }
            for f in reports
        ],
    }

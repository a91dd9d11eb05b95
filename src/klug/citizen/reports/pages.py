"""Public pages of the Mängelmelder: recent reports, a report's page with its timeline,
"me too", the confirmation after sending, and the published statistics.

A report's page is built from ``ReportRead`` – public fields only – so the reporter's
contact data cannot reach it, whoever asks.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import EmailStr, TypeAdapter, ValidationError
from starlette.responses import FileResponse, RedirectResponse, Response

from klug.citizen.reports import figures
from klug.citizen.reports import photos as report_photos
from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import catalogue, shown_answers
from klug.citizen.reports.models import CLOSED, OPEN_STATUSES, Report
from klug.citizen.reports.reporting import is_citizen_login, submission_allowed
from klug.citizen.reports.texts import STATUS_LABELS
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import FormValues
from klug.core.i18n import current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)
Anyone = Annotated[Principal, Depends(public)]
PER_PAGE = 20
# Markers on the public map: the newest open reports; the list below it has them all.
MAP_MARKERS = 500
STATUS_FILTERS = {"offen": OPEN_STATUSES, "erledigt": (CLOSED,)}
_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def page_number(request: Request) -> int:
    raw = request.query_params.get("seite", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


def category_names() -> dict[str, str]:
    return {c.code: c.name.get() for c in catalogue().categories}


@router.get("/maengelmelder", response_class=HTMLResponse)
def reports_home(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """The Mängelmelder: what it is, recent reports with their status."""
    known = catalogue()
    code = request.query_params.get("kategorie", "")
    code = code if known.get(code) is not None else ""
    status = request.query_params.get("status", "")
    status = status if status in STATUS_FILTERS else ""
    page = page_number(request)
    reports, total = report_service.list_reports(
        session=session,
        category_code=code or None,
        statuses=STATUS_FILTERS.get(status),
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    return render(
        request,
        "reports/index.html",
        {
            "reports": [report_service.public(r) for r in reports],
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "names": category_names(),
            "categories": known.categories,
            "chosen_category": code,
            "chosen_status": status,
            "status_labels": STATUS_LABELS,
            "area": known.area,
        },
    )


@router.get("/maengelmelder/karte.json")
def reports_map(request: Request, session: SessionDep, _: Anyone) -> dict[str, Any]:
    """Open reports with coordinates for the map of the Mängelmelder, newest first."""
    code = request.query_params.get("kategorie", "")
    names = category_names()
    rows, total = report_service.open_on_map(
        session=session, category_code=code if code in names else None, limit=MAP_MARKERS
    )
    language = current_language()
    markers = []
    for report_id, category_code, status, lat, lon, is_demo in rows:
        state = gettext(STATUS_LABELS.get(status, status))
        markers.append(
            {
                "id": report_id,
                "lat": lat,
                "lon": lon,
                "category": category_code,
                "status": status,
                "title": gettext("Report no. %(id)s") % {"id": report_id}
                + ": "
                + names.get(category_code, category_code),
                "text": f"{state} ({gettext('demo')})" if is_demo else state,
                "url": localise_path(f"/maengelmelder/{report_id}", language),
            }
        )
    return {"markers": markers, "total": total}


def _report_or_404(session: SessionDep, report_id: int) -> Report:
    report = report_service.get(session=session, report_id=report_id)
    if report is None:
        raise NotFound(gettext("There is no report with this number."))
    return report


def _report_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    report: Report,
    *,
    message: str = "",
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    shown = report_service.public(report)
    category = catalogue().get(shown.category_code)
    return render(
        request,
        "reports/report.html",
        {
            "report": shown,
            "category": category,
            "answers": shown_answers(category, shown.answers),
            "timeline": report_service.timeline(session=session, report_id=shown.id),
            "expected_at": category.expected_at(shown.created_at) if category else None,
            "overdue": report_service.is_overdue(shown, category, dt.datetime.now(dt.UTC)),
            "status_labels": STATUS_LABELS,
            "message": message,
            "errors": errors or {},
            "anonymous": not is_citizen_login(principal),
            "photo": report_photos.public_view(session=session, report_id=shown.id),
        },
        status_code=400 if errors else 200,
    )


@router.get("/maengelmelder/{report_id:int}", response_class=HTMLResponse)
def report_page(
    request: Request, report_id: int, session: SessionDep, principal: Anyone
) -> HTMLResponse:
    """A report: category, place, status timeline with the city's public notes."""
    report = _report_or_404(session, report_id)
    supported = request.query_params.get("unterstuetzt", "")
    return _report_page(request, session, principal, report, message=supported)


@router.get("/maengelmelder/{report_id:int}/danke", response_class=HTMLResponse)
def report_sent(request: Request, report_id: int, session: SessionDep, _: Anyone) -> HTMLResponse:
    """The confirmation after sending a report: its number and where to follow it."""
    report = report_service.public(_report_or_404(session, report_id))
    return render(
        request,
        "reports/thanks.html",
        {"report": report, "category": catalogue().get(report.category_code)},
    )


@router.post("/maengelmelder/{report_id:int}/unterstuetzen", response_class=HTMLResponse)
def support_report(
    request: Request, report_id: int, session: SessionDep, values: FormValues, principal: Anyone
) -> Response:
    """ "Me too": count one more person with this problem, who may follow the report."""
    report = _report_or_404(session, report_id)
    if report.status == CLOSED:
        return _report_page(
            request,
            session,
            principal,
            report,
            errors={"support": gettext("This report is closed; please send a new one.")},
        )
    account_id = principal.id if is_citizen_login(principal) else None
    email = None if account_id is not None else values.get("email") or None
    if email is not None:
        try:
            email = _EMAIL.validate_python(email)
        except ValidationError:
            return _report_page(
                request,
                session,
                principal,
                report,
                errors={"email": gettext("Please enter a valid e-mail address.")},
            )
    submission_allowed(request, principal)
    added = report_service.support(
        session=session, report=report, account_id=account_id, email=email
    )
    target = localise_path(f"/maengelmelder/{report.id}", current_language())
    return RedirectResponse(
        f"{target}?unterstuetzt={'ja' if added else 'schon'}#unterstuetzen", status_code=303
    )


@router.get("/maengelmelder/statistik", response_class=HTMLResponse)
def statistics_page(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """Published figures: open and closed reports and the median time to fix, per category."""
    published = figures.statistics(session=session, catalogue=catalogue())
    return render(request, "reports/statistics.html", {"figures": published})


@router.get("/maengelmelder/{report_id:int}/foto/{name}")
def report_photo(
    request: Request, report_id: int, name: str, session: SessionDep, principal: Anyone
) -> Response:
    """A report's photo: once published for everyone, before that for staff only."""
    photo = report_photos.of_report(session=session, report_id=report_id)
    may_review = Permission.REPORTS_MANAGE in principal.permissions
    if photo is None or photo.stored_name != name or not (photo.published or may_review):
        raise NotFound
    path = report_photos.photos_dir(request.app.state.settings.var_dir) / photo.stored_name
    if not path.is_file():
        raise NotFound
    # A published photo never changes under its random name; one not yet published must
    # stay out of every shared cache.
    cache = "public, max-age=31536000, immutable" if photo.published else "private, no-store"
    return FileResponse(
        path,
        media_type=photo.media_type,
        headers={
            "Cache-Control": cache,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )

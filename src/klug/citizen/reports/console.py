"""Staff handle reports in the console: a filterable list that marks what is overdue,
and a report's page with its contact data, whole timeline and the status form.

Internal notes stay here: the public page and Open311 read the timeline through
``service.timeline``, which has no internal notes. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import RedirectResponse, Response

from klug.citizen.reports import notify as report_notify
from klug.citizen.reports import photos as report_photos
from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import catalogue, shown_answers
from klug.citizen.reports.models import STATUSES, Report
from klug.citizen.reports.pages import category_names, page_number
from klug.citizen.reports.schemas import StatusChange
from klug.citizen.reports.texts import STATUS_LABELS
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import FormValues, validate
from klug.core.i18n import current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity import service as account_service
from klug.identity.deps import Principal, client_ip, require
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)
Staff = Annotated[Principal, Depends(require(Permission.REPORTS_MANAGE))]
CONSOLE = "/console/meldungen"
PER_PAGE = 50


@router.get(CONSOLE, response_class=HTMLResponse)
def console_reports(request: Request, session: SessionDep, _: Staff) -> HTMLResponse:
    """Reports to handle: by status and category; overdue ones marked (or only those)."""
    known = catalogue()
    params = request.query_params
    status = params.get("status", "")
    status = status if status in STATUSES else ""
    code = params.get("kategorie", "")
    code = code if known.get(code) is not None else ""
    only_overdue = params.get("ueberfaellig") == "1"
    now = dt.datetime.now(dt.UTC)
    page = page_number(request)
    reports, total = report_service.list_reports(
        session=session,
        category_code=code or None,
        statuses=[status] if status else None,
        overdue=(known.categories, now) if only_overdue else None,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    rows = [(r, report_service.is_overdue(r, known.get(r.category_code), now)) for r in reports]
    return render(
        request,
        "reports/console_list.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "names": category_names(),
            "categories": known.categories,
            "statuses": STATUSES,
            "status_labels": STATUS_LABELS,
            "chosen_status": status,
            "chosen_category": code,
            "only_overdue": only_overdue,
        },
    )


def _report(session: SessionDep, report_id: int) -> Report:
    report = report_service.get(session=session, report_id=report_id)
    if report is None:
        raise NotFound
    return report


def _detail_page(
    request: Request,
    session: SessionDep,
    report: Report,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    category = catalogue().get(report.category_code)
    reporter = (
        account_service.get(session=session, account_id=report.reporter_account_id)
        if report.reporter_account_id is not None
        else None
    )
    return render(
        request,
        "reports/console_detail.html",
        {
            "report": report,
            "category": category,
            "answers": shown_answers(category, report.answers),
            "timeline": report_service.staff_timeline(session=session, report_id=report.id),
            "reporter_email": reporter.email if reporter else None,
            "overdue": report_service.is_overdue(report, category, dt.datetime.now(dt.UTC)),
            "expected_at": category.expected_at(report.created_at) if category else None,
            "statuses": STATUSES,
            "status_labels": STATUS_LABELS,
            "values": values or {"status": report.status},
            "errors": errors or {},
            "saved": request.query_params.get("ok") == "1",
            "photo": _photo_view(session, report),
            "photo_done": request.query_params.get("foto", ""),
        },
        status_code=400 if errors else 200,
    )


def _photo_view(session: SessionDep, report: Report) -> report_photos.PhotoView | None:
    photo = report_photos.of_report(session=session, report_id=report.id)
    return report_photos.view(photo) if photo is not None else None


@router.get(CONSOLE + "/{report_id:int}", response_class=HTMLResponse)
def console_report(request: Request, report_id: int, session: SessionDep, _: Staff) -> HTMLResponse:
    """A report with its contact data and whole history; change its status."""
    return _detail_page(request, session, _report(session, report_id))


@router.post(CONSOLE + "/{report_id:int}", response_class=HTMLResponse)
def console_change_report(
    request: Request, report_id: int, session: SessionDep, values: FormValues, principal: Staff
) -> Response:
    """Set the status, with a public note (shown to everyone) and an internal one."""
    report = _report(session, report_id)
    change, errors = validate(StatusChange, values)
    if change is not None and (
        change.status == report.status and not change.public_note and not change.internal_note
    ):
        errors = {"status": gettext("Nothing has changed: choose another status or write a note.")}
    if change is None or errors:
        return _detail_page(request, session, report, values=values, errors=errors)
    previous = report.status
    report_service.change_status(
        session=session, report=report, change=change, actor=principal.actor, ip=client_ip(request)
    )
    if report.status != previous:
        # Reporter and supporters hear of the new status – never of a note.
        report_notify.status_changed(
            session=session,
            report=report,
            base_url=request.app.state.settings.base_url,
            secret=request.app.state.secret,
        )
    target = localise_path(f"{CONSOLE}/{report.id}", current_language())
    return RedirectResponse(f"{target}?ok=1", status_code=303)


# What a photo action did, for the message after the redirect.
PHOTO_DONE = {
    "veroeffentlichen": "veroeffentlicht",
    "verbergen": "verborgen",
    "loeschen": "geloescht",
}


@router.post(CONSOLE + "/{report_id:int}/foto", response_class=HTMLResponse)
def console_report_photo(
    request: Request, report_id: int, session: SessionDep, values: FormValues, principal: Staff
) -> Response:
    """Publish the report's photo, hide it again, or delete it (each audited)."""
    report = _report(session, report_id)
    photo = report_photos.of_report(session=session, report_id=report.id)
    if photo is None:
        raise NotFound
    action = values.get("aktion", "")
    if action not in PHOTO_DONE:
        return _detail_page(
            request,
            session,
            report,
            errors={"photo": gettext("Please choose one of the offered options.")},
        )
    if action == "loeschen":
        if values.get("bestaetigt") != "1":
            errors = {"foto_bestaetigt": gettext("Please confirm that the photo is to be deleted.")}
            return _detail_page(request, session, report, errors=errors)
        report_photos.remove(
            session=session,
            report=report,
            photo=photo,
            directory=report_photos.photos_dir(request.app.state.settings.var_dir),
            actor=principal.actor,
            ip=client_ip(request),
        )
    else:
        report_photos.set_published(
            session=session,
            report=report,
            photo=photo,
            published=action == "veroeffentlichen",
            actor=principal.actor,
            ip=client_ip(request),
        )
    target = localise_path(f"{CONSOLE}/{report.id}", current_language())
    return RedirectResponse(f"{target}?foto={PHOTO_DONE[action]}#photo", status_code=303)

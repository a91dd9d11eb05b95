"""One case in the console: answers and files, the whole history with internal notes,
the message thread, status changes, assignment – and the receipt as the applicant has it.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from klug.citizen.applications import cases, messaging, receipt, schemas
from klug.citizen.applications import service as application_service
from klug.citizen.applications.console import CONSOLE, assignee_from, caseworkers
from klug.citizen.applications.forms import all_forms
from klug.citizen.applications.models import Application
from klug.citizen.applications.texts import STATUS_LABELS
from klug.citizen.applications.web import (
    Caseworker,
    base_url,
    download,
    files_directory,
    read_upload,
    text_values,
)
from klug.citizen.services import catalogue as services_catalogue
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import RawForm
from klug.core.i18n import current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import client_ip

router = Router(include_in_schema=False)
MESSAGE_ACCEPT = ["pdf", "jpeg", "png", "webp"]


def _case(session: Session, reference: str) -> Application:
    case = cases.get_case(session=session, reference=reference)
    if case is None:
        raise NotFound
    return case


def _view(session: Session, case: Application) -> schemas.CaseRead:
    files = application_service.field_files(session=session, application_id=case.id)
    return schemas.case_read(
        session=session, case=case, form=all_forms()[case.form_key], files=files
    )


def _page(
    request: Request,
    session: Session,
    case: Application,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    workers = caseworkers(session)
    return render(
        request,
        "applications/console_case.html",
        {
            "case": case,
            "view": _view(session, case),
            "service": services_catalogue.find(case.service_slug),
            "history": cases.history(session=session, case=case),
            "next_statuses": cases.TRANSITIONS.get(case.status, ()),
            "notified": cases.NOTIFIED,
            "status_labels": STATUS_LABELS,
            "workers": workers,
            "names": dict(workers),
            "overdue": cases.is_overdue(case, dt.datetime.now(dt.UTC)),
            "errors": errors or {},
            "values": values or {},
            "ok": request.query_params.get("ok"),
        },
        status_code=400 if errors else 200,
    )


def _back(reference: str, message: str, anchor: str = "") -> RedirectResponse:
    target = localise_path(f"{CONSOLE}/{reference}", current_language())
    return RedirectResponse(f"{target}?ok={message}{anchor}", status_code=303)


@router.get(CONSOLE + "/{reference}", response_class=HTMLResponse)
def case_page(request: Request, reference: str, session: SessionDep, _: Caseworker) -> HTMLResponse:
    """A case: answers, files, history with internal notes, messages, actions."""
    return _page(request, session, _case(session, reference))


@router.post(CONSOLE + "/{reference}/status", response_class=HTMLResponse)
def change_status(
    request: Request, reference: str, session: SessionDep, raw: RawForm, principal: Caseworker
) -> Response:
    """Move the case on (only along the allowed transitions), optionally with a message."""
    case = _case(session, reference)
    values = text_values(raw)
    to_status = values.get("to_status", "")
    message = values.get("message", "").strip()
    if len(message) > messaging.MAX_MESSAGE_CHARS:
        return _page(
            request,
            session,
            case,
            errors={"message": gettext("Please enter at most %(n)s characters.") % {"n": 5000}},
            values=values,
        )
    try:
        cases.change_status(
            session=session,
            case=case,
            to_status=to_status,
            actor=principal.actor,
            base_url=base_url(request),
            internal_note=values.get("status_note", "").strip() or None,
            ip=client_ip(request),
        )
    except cases.TransitionRefused:
        return _page(
            request,
            session,
            case,
            errors={"to_status": gettext("This status change is not allowed for this case.")},
            values=values,
        )
    if message:
        # The status mail already points the applicant to the case page: no second mail.
        messaging.post(
            session=session,
            case=case,
            body=message,
            files=[],
            author=principal.actor,
            from_staff=True,
            directory=files_directory(request),
            base_url=base_url(request),
            notify=to_status not in cases.NOTIFIED,
            ip=client_ip(request),
        )
    return _back(reference, "status")


@router.post(CONSOLE + "/{reference}/zuweisung", response_class=HTMLResponse)
def assign_case(
    request: Request, reference: str, session: SessionDep, raw: RawForm, principal: Caseworker
) -> Response:
    """Take the case, give it to a colleague, or put it back into the queue."""
    case = _case(session, reference)
    assignee = assignee_from(str(raw.get("assignee", "")), principal, caseworkers(session))
    cases.assign(
        session=session,
        case=case,
        assignee_id=assignee,
        actor=principal.actor,
        ip=client_ip(request),
    )
    return _back(reference, "assigned")


@router.post(CONSOLE + "/{reference}/notiz", response_class=HTMLResponse)
def add_note(
    request: Request, reference: str, session: SessionDep, raw: RawForm, principal: Caseworker
) -> Response:
    """An internal note (staff only, never shown to the applicant)."""
    case = _case(session, reference)
    text = text_values(raw).get("note", "").strip()
    if not text:
        return _page(request, session, case, errors={"note": gettext("This field is required.")})
    cases.add_note(
        session=session, case=case, text=text, actor=principal.actor, ip=client_ip(request)
    )
    return _back(reference, "note", "#verlauf")


@router.post(CONSOLE + "/{reference}/nachrichten", response_class=HTMLResponse)
def write_message(
    request: Request, reference: str, session: SessionDep, raw: RawForm, principal: Caseworker
) -> Response:
    """Write to the applicant (the mail says only that there is a message)."""
    case = _case(session, reference)
    values = text_values(raw)
    body = values.get("body", "").strip()
    prepared, file_error = read_upload(request, raw, "file", MESSAGE_ACCEPT)
    errors: dict[str, str] = {}
    if not body and prepared is None and file_error is None:
        errors["body"] = gettext("Please write a message or attach a file.")
    elif len(body) > messaging.MAX_MESSAGE_CHARS:
        errors["body"] = gettext("Please enter at most %(n)s characters.") % {"n": 5000}
    if file_error is not None:
        errors["file"] = file_error
    if errors:
        return _page(request, session, case, errors=errors, values=values)
    messaging.post(
        session=session,
        case=case,
        body=body,
        files=[prepared] if prepared is not None else [],
        author=principal.actor,
        from_staff=True,
        directory=files_directory(request),
        base_url=base_url(request),
        ip=client_ip(request),
    )
    return _back(reference, "message", "#nachrichten")


@router.get(CONSOLE + "/{reference}/dateien/{attachment_id:int}")
def case_file(
    request: Request, reference: str, attachment_id: int, session: SessionDep, _: Caseworker
) -> Response:
    """A file of the case or of its messages."""
    case = _case(session, reference)
    attachment = application_service.get_attachment(
        session=session, application_id=case.id, attachment_id=attachment_id
    )
    if attachment is None:
        raise NotFound
    return download(request, attachment)


@router.get(CONSOLE + "/{reference}/quittung.pdf")
def case_receipt(reference: str, session: SessionDep, _: Caseworker) -> Response:
    """The receipt exactly as the applicant downloads it."""
    case = _case(session, reference)
    service = services_catalogue.find(case.service_slug)
    if service is None:
        raise NotFound
    return Response(
        receipt.render_receipt(_view(session, case), service),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{reference}.pdf"'},
    )

"""The applicant's own applications under "My account": drafts, cases with their status
timeline and messages, the receipt and the files.

Every case, file and receipt is looked up together with the account asking for it:
someone else's reference answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from klug.citizen.applications import messaging, receipt, schemas
from klug.citizen.applications import service as application_service
from klug.citizen.applications.forms import all_forms
from klug.citizen.applications.models import Application
from klug.citizen.applications.texts import STATUS_LABELS
from klug.citizen.applications.web import (
    Applicant,
    base_url,
    download,
    files_directory,
    read_upload,
    submission_allowed,
    text_values,
)
from klug.citizen.services import catalogue as services_catalogue
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import RawForm
from klug.core.i18n import current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, client_ip

router = Router(include_in_schema=False)
MESSAGE_ACCEPT = ["pdf", "jpeg", "png", "webp"]


def _titles() -> dict[str, str]:
    language = current_language()
    return {s.slug: s.title.get(language) for s in services_catalogue.catalogue()}


@router.get("/konto/antraege", response_class=HTMLResponse)
def my_applications(request: Request, session: SessionDep, principal: Applicant) -> HTMLResponse:
    """My drafts and submitted applications with their status."""
    drafts, cases = application_service.own_applications(
        session=session, account_id=principal.id or 0
    )
    message = next((k for k in ("gespeichert", "geloescht") if request.query_params.get(k)), None)
    return render(
        request,
        "applications/mine.html",
        {
            "drafts": drafts,
            "cases": cases,
            "titles": _titles(),
            "status_labels": STATUS_LABELS,
            "message": message,
        },
    )


def _own_case(session: Session, principal: Principal, reference: str) -> Application:
    case = application_service.get_own_case(
        session=session, reference=reference, account_id=principal.id or 0
    )
    if case is None:
        raise NotFound(gettext("There is no application with this reference in your account."))
    return case


def _case_view(session: Session, case: Application) -> schemas.CaseRead:
    form = all_forms()[case.form_key]
    files = application_service.field_files(session=session, application_id=case.id)
    return schemas.case_read(session=session, case=case, form=form, files=files)


def _case_page(
    request: Request,
    session: Session,
    case: Application,
    *,
    errors: dict[str, str] | None = None,
    body: str = "",
) -> HTMLResponse:
    service = services_catalogue.find(case.service_slug)
    return render(
        request,
        "applications/case.html",
        {
            "case": _case_view(session, case),
            "service": service,
            "status_labels": STATUS_LABELS,
            "submitted": bool(request.query_params.get("eingereicht")),
            "sent": bool(request.query_params.get("gesendet")),
            "errors": errors or {},
            "body": body,
        },
        status_code=400 if errors else 200,
    )


@router.get("/konto/antraege/{reference}", response_class=HTMLResponse)
def my_case(
    request: Request, reference: str, session: SessionDep, principal: Applicant
) -> HTMLResponse:
    """One of my applications: status timeline, answers, messages, receipt."""
    return _case_page(request, session, _own_case(session, principal, reference))


@router.post("/konto/antraege/{reference}/nachrichten", response_class=HTMLResponse)
def write_message(
    request: Request, reference: str, session: SessionDep, raw: RawForm, principal: Applicant
) -> Response:
    """Write to the office about my application (with a file if needed)."""
    case = _own_case(session, principal, reference)
    body = text_values(raw).get("body", "").strip()
    prepared, file_error = read_upload(request, raw, "file", MESSAGE_ACCEPT)
    errors: dict[str, str] = {}
    if not body and prepared is None and file_error is None:
        errors["body"] = gettext("Please write a message or attach a file.")
    elif len(body) > messaging.MAX_MESSAGE_CHARS:
        errors["body"] = gettext("Please enter at most %(n)s characters.") % {
            "n": messaging.MAX_MESSAGE_CHARS
        }
    if file_error is not None:
        errors["file"] = file_error
    if errors:
        return _case_page(request, session, case, errors=errors, body=body)
    submission_allowed(request, principal)
    messaging.post(
        session=session,
        case=case,
        body=body,
        files=[prepared] if prepared is not None else [],
        author=principal.actor,
        from_staff=False,
        directory=files_directory(request),
        base_url=base_url(request),
        ip=client_ip(request),
    )
    target = localise_path(f"/konto/antraege/{reference}", current_language())
    return RedirectResponse(target + "?gesendet=1#nachrichten", status_code=303)


@router.get("/konto/antraege/{reference}/quittung.pdf")
def my_receipt(reference: str, session: SessionDep, principal: Applicant) -> Response:
    """The PDF receipt of my application."""
    case = _own_case(session, principal, reference)
    service = services_catalogue.find(case.service_slug)
    if service is None:
        raise NotFound
    pdf = receipt.render_receipt(_case_view(session, case), service)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{reference}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/konto/antraege/{reference}/dateien/{attachment_id:int}")
def my_file(
    request: Request,
    reference: str,
    attachment_id: int,
    session: SessionDep,
    principal: Applicant,
) -> Response:
    """A file of my application or of its messages."""
    case = _own_case(session, principal, reference)
    attachment = application_service.get_attachment(
        session=session, application_id=case.id, attachment_id=attachment_id
    )
    if attachment is None:
        raise NotFound
    return download(request, attachment)

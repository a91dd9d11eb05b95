"""The application form of a service (``/leistungen/{slug}/antrag``) and its drafts.

Anyone may look at a form; applying needs an account, because an application is
followed by its status, messages and receipt. Sending the form either saves it as a
draft (as typed, valid or not) or submits it (checked; then a case with a reference).
A refused file stores nothing at all: the files are checked before anything is
written, and a file on disk goes again if the transaction does not commit.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from klug.citizen.applications import schemas, validation
from klug.citizen.applications import service as application_service
from klug.citizen.applications.attachments import PreparedFile
from klug.citizen.applications.forms import FormDefinition, form_for
from klug.citizen.applications.models import Application
from klug.citizen.applications.web import (
    Anyone,
    Applicant,
    base_url,
    files_directory,
    read_upload,
    submission_allowed,
    text_values,
    today,
)
from klug.citizen.services import catalogue as services_catalogue
from klug.citizen.services.catalogue import Service
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import RawForm
from klug.core.i18n import current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, client_ip

router = Router(include_in_schema=False)


def _service_and_form(slug: str) -> tuple[Service, FormDefinition]:
    service = services_catalogue.find(slug)
    form = form_for(service) if service is not None else None
    if service is None or form is None:
        raise NotFound
    return service, form


def condition_hints(form: FormDefinition) -> dict[str, str]:
    """For each conditional field: when it is needed (shown to visitors without JS)."""
    language = current_language()
    hints = {}
    for field in form.fields():
        condition = field.shown_values()
        if condition is None:
            continue
        controller = form.field(condition[0])
        assert controller is not None
        labels = {o.value: o.label.get(language) for o in controller.options}
        wanted = " / ".join(labels.get(v, v) for v in condition[1])
        hints[field.name] = gettext("Only needed if you chose “%(choice)s” for “%(question)s”.") % {
            "choice": wanted,
            "question": controller.label.get(language),
        }
    return hints


def form_page(
    request: Request,
    *,
    service: Service,
    form: FormDefinition,
    principal: Principal,
    draft: Application | None = None,
    values: dict[str, str] | None = None,
    files: dict[str, schemas.AttachmentRead] | None = None,
    errors: dict[str, str] | None = None,
    saved_as_draft: bool = False,
) -> HTMLResponse:
    day = today()
    choices = {f.name: validation.options(f, day) for f in form.fields() if f.type == "choice"}
    action = (
        f"/konto/antraege/entwuerfe/{draft.id}"
        if draft is not None
        else f"/leistungen/{service.slug}/antrag"
    )
    return render(
        request,
        "applications/form.html",
        {
            "service": service,
            "form": form,
            "values": values or {},
            "files": files or {},
            "errors": errors or {},
            "choices": choices,
            "conditions": condition_hints(form),
            "point_area": validation.POINT_AREA,
            "action": action,
            "draft": draft,
            "saved_as_draft": saved_as_draft,
            "anonymous": not (principal.kind == "account" and principal.is_authenticated),
        },
        status_code=400 if errors else 200,
    )


@router.get("/leistungen/{slug}/antrag", response_class=HTMLResponse)
def application_form(request: Request, slug: str, principal: Anyone) -> HTMLResponse:
    """The application form of a service (to apply, log in or register first)."""
    service, form = _service_and_form(slug)
    return form_page(request, service=service, form=form, principal=principal)


def _handle(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    service: Service,
    form: FormDefinition,
    draft: Application | None,
    raw: FormData,
) -> Response:
    """Save or submit; re-show the form with every mistake at once when needed."""
    values = validation.raw_values(form, text_values(raw))
    relevant = {f.name: f for f in validation.relevant_fields(form, values)}
    prepared: dict[str, PreparedFile] = {}
    file_errors: dict[str, str] = {}
    for field in form.fields():
        if field.type != "file" or field.name not in relevant:
            continue
        upload, error = read_upload(request, raw, field.name, list(field.accept))
        if error is not None:
            file_errors[field.name] = error
        elif upload is not None:
            prepared[field.name] = upload
    stored = (
        application_service.field_files(session=session, application_id=draft.id)
        if draft is not None
        else {}
    )
    shown_files = {name: schemas.attachment_read(a) for name, a in stored.items()}
    have = {name: a.original_name for name, a in stored.items()} | {
        name: p.original_name for name, p in prepared.items()
    }
    checked = validation.check(form, values, today=today(), files=have)
    if file_errors:
        # Nothing is stored when a file is refused: the form comes back as it was sent.
        errors = dict(checked.errors) | file_errors
        rank = {name: i for i, name in enumerate(form.input_order())}
        errors = dict(sorted(errors.items(), key=lambda item: rank.get(item[0], -1)))
        return form_page(
            request,
            service=service,
            form=form,
            principal=principal,
            draft=draft,
            values=values,
            files=shown_files,
            errors=errors,
        )
    submitting = raw.get("action") != "save"
    if submitting and not checked.errors:
        submission_allowed(request, principal)
    directory = files_directory(request)
    try:
        application = application_service.save_draft(
            session=session,
            application=draft,
            service=service,
            account_id=principal.id or 0,
            values=values,
            files=prepared,
            directory=directory,
        )
    except application_service.TooManyDrafts:
        return form_page(
            request,
            service=service,
            form=form,
            principal=principal,
            draft=draft,
            values=values,
            files=shown_files,
            errors={
                form.input_order()[0]: gettext(
                    "You have too many drafts. Please delete drafts you no longer need."
                )
            },
        )
    language = current_language()
    if not submitting:
        return RedirectResponse(
            localise_path("/konto/antraege", language) + "?gespeichert=1", status_code=303
        )
    if checked.errors:
        files = application_service.field_files(session=session, application_id=application.id)
        return form_page(
            request,
            service=service,
            form=form,
            principal=principal,
            draft=application,
            values=values,
            files={name: schemas.attachment_read(a) for name, a in files.items()},
            errors=checked.errors,
            saved_as_draft=True,
        )
    application_service.submit(
        session=session,
        application=application,
        service=service,
        answers=checked.answers,
        directory=directory,
        actor=principal.actor,
        base_url=base_url(request),
        ip=client_ip(request),
    )
    target = localise_path(f"/konto/antraege/{application.reference}", language)
    return RedirectResponse(target + "?eingereicht=1", status_code=303)


@router.post("/leistungen/{slug}/antrag", response_class=HTMLResponse)
def start_application(
    request: Request, slug: str, session: SessionDep, raw: RawForm, principal: Applicant
) -> Response:
    """Save a new application as a draft, or submit it."""
    service, form = _service_and_form(slug)
    return _handle(request, session, principal, service=service, form=form, draft=None, raw=raw)


def _own_draft(session: Session, principal: Principal, draft_id: int) -> Application:
    draft = application_service.get_draft(
        session=session, draft_id=draft_id, account_id=principal.id or 0
    )
    if draft is None:
        raise NotFound
    return draft


@router.get("/konto/antraege/entwuerfe/{draft_id:int}", response_class=HTMLResponse)
def draft_form(
    request: Request, draft_id: int, session: SessionDep, principal: Applicant
) -> HTMLResponse:
    """Continue a saved draft."""
    draft = _own_draft(session, principal, draft_id)
    service, form = _service_and_form(draft.service_slug)
    files = application_service.field_files(session=session, application_id=draft.id)
    return form_page(
        request,
        service=service,
        form=form,
        principal=principal,
        draft=draft,
        values=draft.values,
        files={name: schemas.attachment_read(a) for name, a in files.items()},
    )


@router.post("/konto/antraege/entwuerfe/{draft_id:int}", response_class=HTMLResponse)
def save_draft(
    request: Request, draft_id: int, session: SessionDep, raw: RawForm, principal: Applicant
) -> Response:
    """Save a draft again, or submit it."""
    draft = _own_draft(session, principal, draft_id)
    service, form = _service_and_form(draft.service_slug)
    return _handle(request, session, principal, service=service, form=form, draft=draft, raw=raw)


@router.post("/konto/antraege/entwuerfe/{draft_id:int}/loeschen", response_class=HTMLResponse)
def delete_draft(
    request: Request, draft_id: int, session: SessionDep, _raw: RawForm, principal: Applicant
) -> Response:
    """Delete a draft and its files."""
    draft = _own_draft(session, principal, draft_id)
    application_service.delete_draft(
        session=session, application=draft, directory=files_directory(request)
    )
    return RedirectResponse(
        localise_path("/konto/antraege", current_language()) + "?geloescht=1", status_code=303
    )

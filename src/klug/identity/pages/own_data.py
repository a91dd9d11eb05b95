"""The own data: download all of it (GDPR Art. 15 and 20) and delete the account (Art. 17)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from klug.core import audit
from klug.core.db import SessionDep
from klug.core.forms import FormValues, validate
from klug.core.i18n import gettext
from klug.core.personal_data import PersonalDataRegistry
from klug.core.routes import Router
from klug.core.security import verify_password
from klug.core.web import render
from klug.identity import personal_data
from klug.identity import service as account_service
from klug.identity.deps import Principal, account_of, clear_session_cookie, require
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)
Self = Annotated[Principal, Depends(require(Permission.ACCOUNT_SELF))]


class DeleteForm(BaseModel):
    delete_password: str = Field(min_length=1, max_length=256)


def _registry(request: Request) -> PersonalDataRegistry:
    registry: PersonalDataRegistry = request.app.state.personal_data
    return registry


@router.get("/konto/daten.zip", response_class=Response)
def download_my_data(request: Request, session: SessionDep, principal: Self) -> Response:
    """Everything the platform keeps about me: JSON plus my files, as a ZIP archive."""
    assert principal.id is not None
    body = _registry(request).export_zip(session, principal.id, request.app.state.settings.var_dir)
    audit.record(session, action="account.data_exported", actor=principal.actor, detail={})
    return Response(
        body,
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="meine-daten.zip"',
            "Cache-Control": "no-store",
        },
    )


def _delete_page(
    request: Request, session: SessionDep, principal: Principal, errors: dict[str, str]
) -> HTMLResponse:
    account = account_of(session, principal)
    return render(
        request,
        "identity/delete.html",
        {"staff": account_service.is_staff(account), "errors": errors},
        status_code=400 if errors else 200,
    )


@router.get("/konto/loeschen", response_class=HTMLResponse)
def delete_form(request: Request, session: SessionDep, principal: Self) -> HTMLResponse:
    """What deleting the account does, and the confirmation with the password."""
    return _delete_page(request, session, principal, {})


@router.post("/konto/loeschen", response_class=HTMLResponse)
def delete_account(
    request: Request, session: SessionDep, values: FormValues, principal: Self
) -> Response:
    """Delete my account: personal data erased everywhere, kept files unlinked (audited)."""
    account = account_of(session, principal)
    if account_service.is_staff(account):
        # Staff accounts carry duties (cases, alerts): administrators close them.
        return _delete_page(
            request,
            session,
            principal,
            {"form": gettext("Staff accounts are closed by an administrator.")},
        )
    form, _errors = validate(DeleteForm, values)
    if form is None or not verify_password(account.password_hash, form.delete_password):
        return _delete_page(
            request,
            session,
            principal,
            {"delete_password": gettext("The current password is not correct.")},
        )
    _registry(request).erase(session, account.id, request.app.state.settings.var_dir)
    personal_data.anonymise(session=session, account=account, actor=principal.actor)
    response = render(request, "identity/deleted.html", {})
    clear_session_cookie(request, response)
    return response

"""The own account: overview, password, second factor, other sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from klug.core.db import SessionDep
from klug.core.forms import FormValues, validate
from klug.core.i18n import current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.security import verify_password
from klug.core.web import render
from klug.identity import login, notifications
from klug.identity import service as account_service
from klug.identity.deps import Principal, account_of, client_ip, current_login_session, require
from klug.identity.pages.login import SECOND_FACTOR_FAILED, CodeForm, enrolment_context
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)

Self = Annotated[Principal, Depends(require(Permission.ACCOUNT_SELF))]


class PasswordChangeForm(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=256)
    password_repeat: str = Field(min_length=1, max_length=256)


class PasswordConfirmForm(BaseModel):
    disable_password: str = Field(min_length=1, max_length=256)


def _overview(
    request: Request, session: SessionDep, principal: Principal, **extra: object
) -> HTMLResponse:
    account = account_of(session, principal)
    context: dict[str, object] = {
        "account": account,
        "staff": account_service.is_staff(account),
        "errors": {},
        "message": request.query_params.get("ok"),
        "notification_modes": notifications.MODES,
        "notification_labels": notifications.MODE_LABELS,
        "notification_mode": account.notification_mode,
        "notification_errors": {},
    }
    context.update(extra)
    status = 400 if extra.get("errors") or extra.get("notification_errors") else 200
    return render(request, "identity/account.html", context, status_code=status)


def _back(message: str) -> RedirectResponse:
    return RedirectResponse(
        localise_path("/konto/", current_language()) + f"?ok={message}", status_code=303
    )


@router.get("/konto/", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, principal: Self) -> HTMLResponse:
    """The own account."""
    return _overview(request, session, principal)


@router.post("/konto/passwort", response_class=HTMLResponse)
def change_password(
    request: Request, session: SessionDep, values: FormValues, principal: Self
) -> Response:
    """Change the password (the current one is required); other sessions end."""
    account = account_of(session, principal)
    form, errors = validate(PasswordChangeForm, values)
    if form is not None:
        if not verify_password(account.password_hash, form.current_password):
            errors = {"current_password": gettext("The current password is not correct.")}
        elif form.password != form.password_repeat:
            errors = {"password_repeat": gettext("The two passwords are not the same.")}
        else:
            problems = account_service.password_problems(form.password, email=account.email)
            if problems:
                errors = {"password": gettext(problems[0])}
    if form is None or errors:
        return _overview(request, session, principal, errors=errors)
    account_service.set_password(
        session=session, account=account, new_password=form.password, actor=principal.actor
    )
    account_service.revoke_sessions(
        session=session, account=account, keep_session_id=principal.session_id
    )
    return _back("password")


@router.post("/konto/benachrichtigungen", response_class=HTMLResponse)
def change_notifications(
    request: Request, session: SessionDep, values: FormValues, principal: Self
) -> Response:
    """Choose how to hear about own applications and reports: at once, daily, or not."""
    account = account_of(session, principal)
    form, errors = validate(notifications.NotificationForm, values)
    if form is None:
        return _overview(request, session, principal, notification_errors=errors)
    notifications.set_mode(
        session=session,
        account=account,
        mode=form.notification_mode,
        actor=principal.actor,
        ip=client_ip(request),
    )
    return _back("notifications")


@router.post("/konto/andere-sitzungen-beenden", response_class=HTMLResponse)
def end_other_sessions(session: SessionDep, principal: Self) -> RedirectResponse:
    """Log out every other browser of this account."""
    account = account_of(session, principal)
    account_service.revoke_sessions(
        session=session, account=account, keep_session_id=principal.session_id
    )
    return _back("sessions")


@router.get("/konto/zwei-faktor/aktivieren", response_class=HTMLResponse)
def second_factor_setup(request: Request, session: SessionDep, principal: Self) -> HTMLResponse:
    """Set up an authenticator app for this account."""
    context = enrolment_context(request, session, principal)
    context.update(next=None, action="/konto/zwei-faktor/aktivieren")
    return render(request, "identity/enrol.html", context)


@router.post("/konto/zwei-faktor/aktivieren", response_class=HTMLResponse)
def second_factor_confirm(
    request: Request, session: SessionDep, values: FormValues, principal: Self
) -> Response:
    """Turn the second factor on once the app's first code matches."""
    login_session = current_login_session(session, principal)
    form, errors = validate(CodeForm, values)
    if form is not None and login.confirm_enrolment(
        session=session,
        login_session=login_session,
        code=form.code,
        box=request.app.state.secret_box,
        ip=client_ip(request),
    ):
        return _back("second_factor_on")
    context = enrolment_context(request, session, principal)
    context.update(errors=errors, next=None, action="/konto/zwei-faktor/aktivieren")
    if not errors:
        context["failure"] = gettext(SECOND_FACTOR_FAILED)
    return render(request, "identity/enrol.html", context, status_code=400)


@router.post("/konto/zwei-faktor/deaktivieren", response_class=HTMLResponse)
def second_factor_disable(
    request: Request, session: SessionDep, values: FormValues, principal: Self
) -> Response:
    """Citizens may turn the second factor off again; staff may not."""
    account = account_of(session, principal)
    if account_service.is_staff(account):
        return _overview(
            request,
            session,
            principal,
            errors={"form": gettext("Staff accounts must keep the second factor.")},
        )
    form, _errors = validate(PasswordConfirmForm, values)
    if form is None or not verify_password(account.password_hash, form.disable_password):
        return _overview(
            request,
            session,
            principal,
            errors={"disable_password": gettext("The current password is not correct.")},
        )
    login.disable_second_factor(session=session, account=account, ip=client_ip(request))
    return _back("second_factor_off")

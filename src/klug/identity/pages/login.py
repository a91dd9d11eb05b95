"""Logging in and out, the second factor, registration, e-mail links."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, EmailStr, Field
from starlette.responses import Response

from klug.core.db import SessionDep
from klug.core.errors import Problem
from klug.core.forms import FormValues, validate
from klug.core.i18n import N_, current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.security import totp_uri
from klug.core.web import render
from klug.identity import login
from klug.identity import service as account_service
from klug.identity.deps import (
    Principal,
    clear_session_cookie,
    client_ip,
    current_login_session,
    public,
    require_stage,
    set_session_cookie,
)
from klug.identity.login import Failure, Stage
from klug.identity.schemas import AccountCreate

router = Router(include_in_schema=False)

Anyone = Annotated[Principal, Depends(public)]
EnteringCode = Annotated[Principal, Depends(require_stage(Stage.SECOND_FACTOR))]
Enrolling = Annotated[Principal, Depends(require_stage(Stage.ENROL))]

FAILURE_TEXT = {
    Failure.INVALID: N_("E-mail address or password is wrong."),
    Failure.LOCKED: N_(
        "This account is locked after too many failed attempts. We have sent an e-mail with an "
        "unlock link; you can also reset your password."
    ),
    Failure.UNVERIFIED: N_(
        "Please confirm your e-mail address first: open the link in the e-mail we sent you."
    ),
    Failure.DISABLED: N_("This account has been disabled. Please contact the city administration."),
}
SECOND_FACTOR_FAILED = N_(
    "The code is not correct. Please enter the current 6-digit code from your app."
)
INVALID_LINK = N_("This link is invalid or has expired. Please request a new one.")


class LoginForm(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=256)


class CodeForm(BaseModel):
    code: str = Field(min_length=6, max_length=10)


class RegistrationForm(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    display_name: str | None = Field(default=None, max_length=120)
    privacy: str = Field(min_length=1)


class EmailForm(BaseModel):
    email: EmailStr


class NewPasswordForm(BaseModel):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=256)
    password_repeat: str = Field(min_length=1, max_length=256)


class TokenForm(BaseModel):
    token: str = Field(min_length=10, max_length=200)


def _here(path: str) -> str:
    return localise_path(path, current_language())


def _safe_next(target: str | None) -> str | None:
    """Only local paths: a login link must not redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


async def _throttle_login(request: Request) -> None:
    """Per-IP ceiling on login attempts, on top of the per-account lock-out."""
    ip = client_ip(request) or "unknown"
    verdict = await request.app.state.rate_limiter.hit(
        request.app.state.settings.rate_limit_login, "login", ip
    )
    if not verdict.allowed:
        raise Problem(429, headers={"Retry-After": str(verdict.retry_after_s)})


def _after_login(
    request: Request, token: str, next_path: str | None, *, staff: bool
) -> RedirectResponse:
    default = "/console/" if staff else "/konto/"
    response = _redirect(_safe_next(next_path) or _here(default))
    set_session_cookie(request, response, token, max_age_s=None if staff else 30 * 24 * 3600)
    return response


def _pending_step(principal: Principal) -> str | None:
    if principal.kind == "account" and principal.stage is Stage.SECOND_FACTOR:
        return "/konto/zwei-faktor"
    if principal.kind == "account" and principal.stage is Stage.ENROL:
        return "/konto/zwei-faktor/einrichten"
    return None


@router.get("/konto/anmelden", response_class=HTMLResponse)
async def login_form(request: Request, principal: Anyone) -> Response:
    """The login form."""
    step = _pending_step(principal)
    next_path = _safe_next(request.query_params.get("next"))
    if step:
        return _redirect(_here(step) + (f"?next={next_path}" if next_path else ""))
    if principal.is_authenticated and principal.kind == "account":
        return _redirect(next_path or _here("/console/" if principal.is_staff else "/konto/"))
    return render(
        request,
        "identity/login.html",
        {"errors": {}, "values": {}, "failure": None, "next": next_path},
    )


@router.post(
    "/konto/anmelden", response_class=HTMLResponse, dependencies=[Depends(_throttle_login)]
)
def login_submit(request: Request, session: SessionDep, values: FormValues, _: Anyone) -> Response:
    """Check e-mail and password; continue to the second factor where needed."""
    next_path = _safe_next(values.get("next"))
    form, errors = validate(LoginForm, values)
    context = {
        "errors": errors,
        "values": {"email": values.get("email", "")},
        "failure": None,
        "next": next_path,
    }
    if form is None:
        return render(request, "identity/login.html", context, status_code=400)
    result = login.authenticate(
        session=session,
        email=form.email,
        password=form.password,
        ip=client_ip(request),
        base_url=request.app.state.settings.base_url,
    )
    if result.failure is not None or result.token is None or result.account is None:
        context["failure"] = gettext(FAILURE_TEXT[result.failure or Failure.INVALID])
        return render(request, "identity/login.html", context, status_code=401)
    if result.stage is Stage.ACTIVE:
        return _after_login(
            request, result.token, next_path, staff=account_service.is_staff(result.account)
        )
    step = (
        "/konto/zwei-faktor"
        if result.stage is Stage.SECOND_FACTOR
        else "/konto/zwei-faktor/einrichten"
    )
    response = _redirect(_here(step) + (f"?next={next_path}" if next_path else ""))
    set_session_cookie(request, response, result.token, max_age_s=None)
    return response


@router.get("/konto/zwei-faktor", response_class=HTMLResponse)
async def second_factor_form(request: Request, _: EnteringCode) -> HTMLResponse:
    """Ask for the code of the authenticator app."""
    next_path = _safe_next(request.query_params.get("next"))
    return render(
        request, "identity/second_factor.html", {"errors": {}, "failure": None, "next": next_path}
    )


@router.post(
    "/konto/zwei-faktor", response_class=HTMLResponse, dependencies=[Depends(_throttle_login)]
)
def second_factor_submit(
    request: Request, session: SessionDep, values: FormValues, principal: EnteringCode
) -> Response:
    """Check the code and finish the login."""
    next_path = _safe_next(values.get("next"))
    form, errors = validate(CodeForm, values)
    context = {"errors": errors, "failure": None, "next": next_path}
    if form is None:
        return render(request, "identity/second_factor.html", context, status_code=400)
    login_session = current_login_session(session, principal)
    staff = account_service.is_staff(login_session.account)
    token, failure = login.complete_second_factor(
        session=session,
        login_session=login_session,
        code=form.code,
        box=request.app.state.secret_box,
        ip=client_ip(request),
        base_url=request.app.state.settings.base_url,
    )
    if token is None:
        if failure is Failure.LOCKED:
            response = render(
                request,
                "identity/login.html",
                {
                    "errors": {},
                    "values": {},
                    "next": None,
                    "failure": gettext(FAILURE_TEXT[Failure.LOCKED]),
                },
                status_code=401,
            )
            clear_session_cookie(request, response)
            return response
        context["failure"] = gettext(SECOND_FACTOR_FAILED)
        return render(request, "identity/second_factor.html", context, status_code=401)
    return _after_login(request, token, next_path, staff=staff)


def qr_svg(uri: str) -> str:
    """The provisioning URI as an inline SVG QR code (no external service, no script)."""
    return str(
        segno.make(uri, error="m").svg_inline(
            scale=5, border=2, dark="#000", light="#fff", omitsize=False
        )
    )


def enrolment_context(
    request: Request, session: SessionDep, principal: Principal
) -> dict[str, object]:
    login_session = current_login_session(session, principal)
    secret = login.offer_enrolment(
        session=session, login_session=login_session, box=request.app.state.secret_box
    )
    uri = totp_uri(secret, account_name=login_session.account.email)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {"qr_svg": qr_svg(uri), "secret": grouped, "errors": {}, "failure": None}


@router.get("/konto/zwei-faktor/einrichten", response_class=HTMLResponse)
def enrolment_form(request: Request, session: SessionDep, principal: Enrolling) -> HTMLResponse:
    """Set up the authenticator app (mandatory for staff)."""
    context = enrolment_context(request, session, principal)
    context["next"] = _safe_next(request.query_params.get("next"))
    context["action"] = "/konto/zwei-faktor/einrichten"
    return render(request, "identity/enrol.html", context)


@router.post(
    "/konto/zwei-faktor/einrichten",
    response_class=HTMLResponse,
    dependencies=[Depends(_throttle_login)],
)
def enrolment_submit(
    request: Request, session: SessionDep, values: FormValues, principal: Enrolling
) -> Response:
    """Confirm the app with its first code; the login then completes."""
    next_path = _safe_next(values.get("next"))
    login_session = current_login_session(session, principal)
    staff = account_service.is_staff(login_session.account)
    form, errors = validate(CodeForm, values)
    if form is not None and login.confirm_enrolment(
        session=session,
        login_session=login_session,
        code=form.code,
        box=request.app.state.secret_box,
        ip=client_ip(request),
    ):
        token = login.promote(session=session, login_session=login_session, ip=client_ip(request))
        return _after_login(request, token, next_path, staff=staff)
    context = enrolment_context(request, session, principal)
    context.update(errors=errors, next=next_path, action="/konto/zwei-faktor/einrichten")
    if not errors:
        context["failure"] = gettext(SECOND_FACTOR_FAILED)
    return render(request, "identity/enrol.html", context, status_code=400)


@router.post("/konto/abmelden", response_class=HTMLResponse)
def logout(request: Request, session: SessionDep, _: Anyone) -> RedirectResponse:
    """End this browser's session."""
    token = request.cookies.get("klug_session")
    if token:
        login.end(session=session, token=token, ip=client_ip(request))
    response = _redirect(_here("/"))
    clear_session_cookie(request, response)
    return response


@router.get("/konto/registrieren", response_class=HTMLResponse)
async def registration_form(request: Request, _: Anyone) -> HTMLResponse:
    """Create a citizen account."""
    return render(request, "identity/register.html", {"errors": {}, "values": {}, "done": False})


@router.post(
    "/konto/registrieren", response_class=HTMLResponse, dependencies=[Depends(_throttle_login)]
)
def registration_submit(
    request: Request, session: SessionDep, values: FormValues, _: Anyone
) -> HTMLResponse:
    """Register and send the confirmation e-mail."""
    form, errors = validate(RegistrationForm, values)
    if form is not None:
        problems = account_service.password_problems(form.password, email=form.email)
        errors = {"password": gettext(problems[0])} if problems else {}
    shown = {k: v for k, v in values.items() if "password" not in k}
    if form is None or errors:
        return render(
            request,
            "identity/register.html",
            {"errors": errors, "values": shown, "done": False},
            status_code=400,
        )
    account_service.register(
        session=session,
        account_in=AccountCreate(
            email=form.email,
            password=form.password,
            display_name=form.display_name,
            language=current_language(),
        ),
        base_url=request.app.state.settings.base_url,
    )
    return render(request, "identity/register.html", {"errors": {}, "values": {}, "done": True})


def _token_page(request: Request, session: SessionDep, purpose: str, template: str) -> HTMLResponse:
    token = request.query_params.get("token", "")
    valid = (
        bool(token)
        and account_service.peek_token(session=session, token=token, purpose=purpose) is not None
    )
    return render(
        request,
        template,
        {"token": token, "valid": valid, "done": False, "errors": {}},
        status_code=200 if valid else 400,
    )


@router.get("/konto/bestaetigen", response_class=HTMLResponse)
def confirm_email_form(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """Confirm an e-mail address (a button, so that mail scanners cannot confirm by opening)."""
    return _token_page(request, session, "verify", "identity/confirm.html")


@router.post("/konto/bestaetigen", response_class=HTMLResponse)
def confirm_email_submit(
    request: Request, session: SessionDep, values: FormValues, _: Anyone
) -> HTMLResponse:
    """Mark the address as confirmed."""
    form, _errors = validate(TokenForm, values)
    account = account_service.verify_email(session=session, token=form.token) if form else None
    return render(
        request,
        "identity/confirm.html",
        {"token": "", "valid": account is not None, "done": account is not None, "errors": {}},
        status_code=200 if account else 400,
    )


@router.get("/konto/passwort-vergessen", response_class=HTMLResponse)
async def forgot_password_form(request: Request, _: Anyone) -> HTMLResponse:
    """Ask for a password reset link."""
    return render(request, "identity/forgot.html", {"errors": {}, "values": {}, "done": False})


@router.post(
    "/konto/passwort-vergessen",
    response_class=HTMLResponse,
    dependencies=[Depends(_throttle_login)],
)
def forgot_password_submit(
    request: Request, session: SessionDep, values: FormValues, _: Anyone
) -> HTMLResponse:
    """Send a reset link if the address has an account (the answer is the same either way)."""
    form, errors = validate(EmailForm, values)
    if form is None:
        return render(
            request,
            "identity/forgot.html",
            {"errors": errors, "values": values, "done": False},
            status_code=400,
        )
    account_service.request_password_reset(
        session=session, email=form.email, base_url=request.app.state.settings.base_url
    )
    return render(request, "identity/forgot.html", {"errors": {}, "values": {}, "done": True})


@router.get("/konto/passwort-neu", response_class=HTMLResponse)
def new_password_form(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """Choose a new password from a mailed link."""
    return _token_page(request, session, "reset", "identity/new_password.html")


@router.post("/konto/passwort-neu", response_class=HTMLResponse)
def new_password_submit(
    request: Request, session: SessionDep, values: FormValues, _: Anyone
) -> HTMLResponse:
    """Set the new password; this also unlocks the account and ends all its sessions."""
    form, errors = validate(NewPasswordForm, values)
    token = values.get("token", "")
    if form is not None and form.password != form.password_repeat:
        errors = {"password_repeat": gettext("The two passwords are not the same.")}
    if form is not None and not errors:
        try:
            account_service.reset_password(
                session=session, token=form.token, new_password=form.password, ip=client_ip(request)
            )
        except account_service.AccountError as exc:
            field = "token" if exc.message == INVALID_LINK else "password"
            errors = {field: gettext(exc.message)}
        else:
            return render(
                request,
                "identity/new_password.html",
                {"token": "", "valid": True, "done": True, "errors": {}},
            )
    return render(
        request,
        "identity/new_password.html",
        {"token": token, "valid": "token" not in errors, "done": False, "errors": errors},
        status_code=400,
    )


@router.get("/konto/entsperren", response_class=HTMLResponse)
def unlock_form(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """Unlock a locked account from the mailed link."""
    return _token_page(request, session, "unlock", "identity/unlock.html")


@router.post("/konto/entsperren", response_class=HTMLResponse)
def unlock_submit(
    request: Request, session: SessionDep, values: FormValues, _: Anyone
) -> HTMLResponse:
    """Unlock the account."""
    form, _errors = validate(TokenForm, values)
    account = (
        account_service.unlock_by_token(session=session, token=form.token, ip=client_ip(request))
        if form
        else None
    )
    return render(
        request,
        "identity/unlock.html",
        {"token": "", "valid": account is not None, "done": account is not None, "errors": {}},
        status_code=200 if account else 400,
    )

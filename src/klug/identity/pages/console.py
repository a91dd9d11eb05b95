"""Console pages of administrators: accounts, API keys, audit log."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, EmailStr, Field
from starlette.responses import Response

from klug.core import audit
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import FormValues, RawForm, validate
from klug.core.i18n import CITY_TZ, current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity import apikeys
from klug.identity import service as account_service
from klug.identity.deps import Principal, client_ip, require
from klug.identity.models import Account, ApiKey
from klug.identity.permissions import API_SCOPES, Permission, Role

router = Router(include_in_schema=False)

ManagesAccounts = Annotated[Principal, Depends(require(Permission.ACCOUNTS_MANAGE))]
ManagesKeys = Annotated[Principal, Depends(require(Permission.APIKEYS_MANAGE))]
ReadsAudit = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]

PAGE_SIZE = 50


class InviteForm(BaseModel):
    email: EmailStr
    role: Role
    display_name: str | None = Field(default=None, max_length=120)
    language: str = Field(default="de", pattern="^(de|en)$")


class RoleForm(BaseModel):
    role: Role


class ApiKeyForm(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(min_length=1)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("seite", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


def _to(path: str) -> RedirectResponse:
    return RedirectResponse(localise_path(path, current_language()), status_code=303)


def _account(session: SessionDep, account_id: int) -> Account:
    account = account_service.get(session=session, account_id=account_id)
    if account is None:
        raise NotFound
    return account


@router.get("/console/konten", response_class=HTMLResponse)
def accounts(request: Request, session: SessionDep, _: ManagesAccounts) -> HTMLResponse:
    """Accounts, searchable by e-mail or name and filterable by role."""
    text = request.query_params.get("suche", "").strip()[:100] or None
    role_raw = request.query_params.get("rolle", "")
    role = Role(role_raw) if role_raw in set(Role) else None
    page = _page_number(request)
    found = account_service.search(
        session=session, text=text, role=role, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        request,
        "identity/console_accounts.html",
        {
            "accounts": found.accounts,
            "total": found.total,
            "page": page,
            "pages": max(1, math.ceil(found.total / PAGE_SIZE)),
            "text": text or "",
            "role": role_raw,
            "roles": list(Role),
            "errors": {},
            "values": {},
        },
    )


@router.post("/console/konten", response_class=HTMLResponse)
def invite_account(
    request: Request, session: SessionDep, values: FormValues, principal: ManagesAccounts
) -> Response:
    """Create an account; the person gets an e-mail to choose a password."""
    form, errors = validate(InviteForm, values)
    if form is not None:
        try:
            account = account_service.invite(
                session=session,
                email=form.email,
                role=form.role,
                display_name=form.display_name,
                actor=principal.actor,
                base_url=request.app.state.settings.base_url,
                language=form.language,
                ip=client_ip(request),
            )
        except account_service.AccountError as exc:
            errors = {"email": gettext(exc.message)}
        else:
            return _to(f"/console/konten/{account.id}")
    found = account_service.search(session=session, text=None, role=None, limit=PAGE_SIZE, offset=0)
    return render(
        request,
        "identity/console_accounts.html",
        {
            "accounts": found.accounts,
            "total": found.total,
            "page": 1,
            "pages": max(1, math.ceil(found.total / PAGE_SIZE)),
            "text": "",
            "role": "",
            "roles": list(Role),
            "errors": errors,
            "values": values,
        },
        status_code=400,
    )


def _detail(
    request: Request, account: Account, principal: Principal, *, error: str | None = None
) -> HTMLResponse:
    return render(
        request,
        "identity/console_account.html",
        {
            "account": account,
            "roles": list(Role),
            "error": error,
            "is_self": account.id == principal.id,
        },
        status_code=400 if error else 200,
    )


@router.get("/console/konten/{account_id}", response_class=HTMLResponse)
def account_detail(
    request: Request, account_id: int, session: SessionDep, principal: ManagesAccounts
) -> HTMLResponse:
    """One account: role, lock, second factor, status."""
    return _detail(request, _account(session, account_id), principal)


@router.post("/console/konten/{account_id}/rolle", response_class=HTMLResponse)
def change_role(
    request: Request,
    account_id: int,
    session: SessionDep,
    values: FormValues,
    principal: ManagesAccounts,
) -> Response:
    """Give the account another role (audited; its sessions end)."""
    account = _account(session, account_id)
    form, _errors = validate(RoleForm, values)
    if form is None:
        return _detail(
            request, account, principal, error=gettext("Please choose one of the offered options.")
        )
    try:
        account_service.change_role(
            session=session,
            account=account,
            role=form.role,
            actor=principal.actor,
            ip=client_ip(request),
        )
    except account_service.AccountError as exc:
        return _detail(request, account, principal, error=gettext(exc.message))
    return _to(f"/console/konten/{account_id}")


@router.post("/console/konten/{account_id}/entsperren", response_class=HTMLResponse)
def unlock(
    request: Request, account_id: int, session: SessionDep, principal: ManagesAccounts
) -> RedirectResponse:
    """Lift a lock-out."""
    account_service.unlock(
        session=session,
        account=_account(session, account_id),
        actor=principal.actor,
        ip=client_ip(request),
    )
    return _to(f"/console/konten/{account_id}")


@router.post("/console/konten/{account_id}/zwei-faktor-zuruecksetzen", response_class=HTMLResponse)
def reset_second_factor(
    request: Request, account_id: int, session: SessionDep, principal: ManagesAccounts
) -> RedirectResponse:
    """Remove the second factor (lost phone); staff set up a new one at the next login."""
    account_service.reset_second_factor(
        session=session,
        account=_account(session, account_id),
        actor=principal.actor,
        ip=client_ip(request),
    )
    return _to(f"/console/konten/{account_id}")


@router.post("/console/konten/{account_id}/status", response_class=HTMLResponse)
def set_status(
    request: Request,
    account_id: int,
    session: SessionDep,
    values: FormValues,
    principal: ManagesAccounts,
) -> Response:
    """Disable or re-enable an account."""
    account = _account(session, account_id)
    if account.id == principal.id:
        return _detail(
            request, account, principal, error=gettext("You cannot disable your own account.")
        )
    try:
        account_service.set_disabled(
            session=session,
            account=account,
            disabled=values.get("disabled") == "1",
            actor=principal.actor,
            ip=client_ip(request),
        )
    except account_service.AccountError as exc:
        return _detail(request, account, principal, error=gettext(exc.message))
    return _to(f"/console/konten/{account_id}")


def _keys_page(
    request: Request,
    keys: list[ApiKey],
    *,
    new_key: str | None = None,
    errors: dict[str, str] | None = None,
    values: Mapping[str, object] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "identity/console_apikeys.html",
        {
            "keys": keys,
            "scopes": sorted(API_SCOPES),
            "new_key": new_key,
            "errors": errors or {},
            "values": values or {},
        },
        status_code=400 if errors else 200,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/console/api-schluessel", response_class=HTMLResponse)
def api_keys(request: Request, session: SessionDep, _: ManagesKeys) -> HTMLResponse:
    """API keys of machines and partners."""
    return _keys_page(request, apikeys.list_all(session=session))


@router.post("/console/api-schluessel", response_class=HTMLResponse)
def create_api_key(
    request: Request, session: SessionDep, form: RawForm, principal: ManagesKeys
) -> HTMLResponse:
    """Create a key; it is shown exactly once."""
    values = {
        "name": str(form.get("name") or "").strip(),
        "scopes": [s for s in form.getlist("scopes") if isinstance(s, str)],
    }
    parsed, errors = validate(ApiKeyForm, values)
    if parsed is not None:
        try:
            _key, plain = apikeys.create(
                session=session,
                name=parsed.name,
                scopes=",".join(parsed.scopes),
                actor=principal.actor,
                ip=client_ip(request),
            )
        except ValueError:
            errors = {"scopes": gettext("Please choose one of the offered options.")}
        else:
            return _keys_page(request, apikeys.list_all(session=session), new_key=plain)
    return _keys_page(request, apikeys.list_all(session=session), errors=errors, values=values)


@router.post("/console/api-schluessel/{key_id}/widerrufen", response_class=HTMLResponse)
def revoke_api_key(
    request: Request, key_id: int, session: SessionDep, principal: ManagesKeys
) -> RedirectResponse:
    """Revoke a key at once."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound
    apikeys.revoke(session=session, key=key, actor=principal.actor, ip=client_ip(request))
    return _to("/console/api-schluessel")


def _parse_day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _day_start_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=CITY_TZ).astimezone(dt.UTC)


@router.get("/console/protokoll", response_class=HTMLResponse)
def audit_log(request: Request, session: SessionDep, _: ReadsAudit) -> HTMLResponse:
    """The audit log, newest first, filterable by action, outcome, account and days."""
    query = request.query_params
    action = query.get("aktion") or None
    outcome_raw = query.get("ergebnis", "")
    outcome = audit.Outcome(outcome_raw) if outcome_raw in set(audit.Outcome) else None
    account_raw = query.get("konto", "")
    since, until = _parse_day(query.get("von")), _parse_day(query.get("bis"))
    errors = {}
    if query.get("von") and since is None:
        errors["von"] = gettext("Please enter a valid date.")
    if query.get("bis") and until is None:
        errors["bis"] = gettext("Please enter a valid date.")
    account_id = None
    if account_raw:
        found = account_service.get_by_email(session=session, email=account_raw)
        account_id = found.id if found else -1
    page = _page_number(request)
    entries, total = audit.search(
        session,
        audit_filter=audit.AuditFilter(
            action=action,
            outcome=outcome,
            actor_kind="account" if account_id is not None else None,
            actor_id=account_id,
            since=_day_start_utc(since) if since else None,
            until=_day_start_utc(until + dt.timedelta(days=1)) if until else None,
        ),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "identity/console_audit.html",
        {
            "entries": entries,
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / PAGE_SIZE)),
            "actions": audit.known_actions(session),
            "outcomes": list(audit.Outcome),
            "errors": errors,
            "filters": {
                "aktion": action or "",
                "ergebnis": outcome_raw,
                "konto": account_raw,
                "von": query.get("von", ""),
                "bis": query.get("bis", ""),
            },
        },
        status_code=400 if errors else 200,
    )

"""Who is asking, and may they? Route dependencies for authentication and permission.

Every route declares its access explicitly with exactly one of:

* ``Depends(public)`` - anyone, including anonymous visitors;
* ``Depends(require(Permission.X))`` - an account session or API key holding X;
* ``Depends(require_stage(Stage.Y))`` - a login still in progress (2FA steps).

``klug.app`` refuses to start if a route declares none (see ``access_marker``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from klug.core.audit import Actor
from klug.core.db import SessionDep, request_session
from klug.core.errors import Forbidden, LoginRequired, Problem
from klug.core.http import CSRF_COOKIE
from klug.core.i18n import gettext
from klug.core.security import new_token
from klug.identity import apikeys, login
from klug.identity import service as account_service
from klug.identity.login import SessionPolicy, Stage
from klug.identity.models import LoginSession
from klug.identity.permissions import ROLE_PERMISSIONS, Permission, Role

SESSION_COOKIE = "klug_session"


@dataclass(frozen=True)
class Principal:
    kind: Literal["anonymous", "account", "apikey"]
    id: int | None = None
    permissions: frozenset[Permission] = frozenset()
    role: Role | None = None
    stage: Stage | None = None
    email: str | None = None
    display_name: str | None = None
    session_id: int | None = field(default=None, compare=False)

    @property
    def is_authenticated(self) -> bool:
        return self.kind == "apikey" or (self.kind == "account" and self.stage is Stage.ACTIVE)

    @property
    def is_staff(self) -> bool:
        return self.is_authenticated and Permission.CONSOLE in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, self.id)

    @property
    def label(self) -> str:
        return self.display_name or self.email or ""


ANONYMOUS = Principal(kind="anonymous")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _presented_api_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key")


def _policy(request: Request) -> SessionPolicy:
    return request.app.state.session_policy  # type: ignore[no-any-return]


async def resolve_principal(request: Request) -> Principal:
    """Authenticate once per request: API key header first, then the session cookie.

    Anonymous requests (no key, no cookie) never touch the database. A live login is
    read in the request's own session when the route opened it already (its session
    parameter comes before its principal): one transaction for the whole request, which
    the route then ends in its own thread (``klug.core.routes``). What writes – an API
    key's or a login's last-use mark, an expired login's removal – commits at once in a
    session of its own, whatever the route does next.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    presented = _presented_api_key(request)
    token = request.cookies.get(SESSION_COOKIE)
    if presented is None and not token:
        principal = ANONYMOUS
    else:
        principal = await run_in_threadpool(_authenticate, request, presented, token)
    request.state.principal = principal
    return principal


def _authenticate(request: Request, presented: str | None, token: str | None) -> Principal:
    factory: sessionmaker[Session] = request.app.state.session_factory
    if presented is None:
        assert token is not None
        shared = request_session(request)
        with contextlib.nullcontext(shared) if shared is not None else factory() as session:
            live = login.peek(session=session, token=token, policy=_policy(request))
            if shared is None:
                session.commit()
        if live is not None:
            return _live_principal(live)
    with factory() as own:
        if presented is not None:
            key = apikeys.authenticate(session=own, presented=presented)
            own.commit()
            if key is None:
                raise Problem(
                    401,
                    gettext("The API key is invalid, expired or revoked."),
                    headers={"WWW-Authenticate": 'Bearer realm="klug", error="invalid_token"'},
                )
            return Principal(
                kind="apikey", id=key.id, permissions=apikeys.scopes_of(key), display_name=key.name
            )
        assert token is not None
        login_session = login.resolve(session=own, token=token, policy=_policy(request))
        principal = _account_principal(login_session) if login_session is not None else ANONYMOUS
        own.commit()
        return principal


def _live_principal(live: login.LiveLogin) -> Principal:
    stage = Stage(live.stage)
    role = Role(live.role)
    return Principal(
        kind="account",
        id=live.account_id,
        permissions=ROLE_PERMISSIONS[role] if stage is Stage.ACTIVE else frozenset(),
        role=role,
        stage=stage,
        email=live.email,
        display_name=live.display_name,
        session_id=live.session_id,
    )


def _account_principal(login_session: LoginSession) -> Principal:
    account = login_session.account
    return _live_principal(
        login.LiveLogin(
            login_session.id,
            login_session.stage,
            account.id,
            account.role,
            account.email,
            account.display_name,
        )
    )


PrincipalDep = Annotated[Principal, Depends(resolve_principal)]


async def _limit_account(request: Request, principal: Principal) -> None:
    if principal.kind == "anonymous":
        return
    verdict = await request.app.state.rate_limiter.hit(
        request.app.state.settings.rate_limit_account, principal.kind, str(principal.id)
    )
    if not verdict.allowed:
        raise Problem(429, headers={"Retry-After": str(verdict.retry_after_s)})


async def public(request: Request, principal: PrincipalDep) -> Principal:
    """Open to everyone (the page may still greet a logged-in visitor)."""
    await _limit_account(request, principal)
    return principal


public.__klug_access__ = "public"  # type: ignore[attr-defined]


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    async def dependency(request: Request, principal: PrincipalDep) -> Principal:
        if not principal.is_authenticated:
            raise LoginRequired
        await _limit_account(request, principal)
        if permission not in principal.permissions:
            raise Forbidden
        return principal

    dependency.__klug_access__ = f"permission:{permission}"  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{permission.value.replace('.', '_')}"
    return dependency


def require_stage(stage: Stage) -> Callable[..., Awaitable[Principal]]:
    """For the steps of a login in progress (enter a code, set up 2FA)."""

    async def dependency(request: Request, principal: PrincipalDep) -> Principal:
        if principal.kind != "account" or principal.stage is not stage:
            raise LoginRequired
        await _limit_account(request, principal)
        return principal

    dependency.__klug_access__ = f"stage:{stage}"  # type: ignore[attr-defined]
    return dependency


def access_marker(dependency: object) -> str | None:
    return getattr(dependency, "__klug_access__", None)


def current_login_session(session: SessionDep, principal: Principal) -> LoginSession:
    if principal.session_id is None:
        raise LoginRequired
    login_session = session.get(LoginSession, principal.session_id)
    if login_session is None:
        raise LoginRequired
    return login_session


def set_session_cookie(
    request: Request, response: Response, token: str, *, max_age_s: int | None
) -> None:
    """Set the login cookie, and a fresh CSRF cookie with it: a form token planted
    before the login (e.g. through a sibling subdomain) must not outlive it."""
    secure = request.app.state.settings.cookies_secure
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE, new_token(24), httponly=True, samesite="lax", secure=secure, path="/"
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookies_secure,
        path="/",
    )


def account_of(session: SessionDep, principal: Principal) -> account_service.Account:
    account = account_service.get(session=session, account_id=principal.id or 0)
    if account is None:
        raise LoginRequired
    return account

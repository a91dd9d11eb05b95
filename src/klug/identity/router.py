"""JSON API of the identity domain: the own account, and the audit log for SIEMs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict

from klug.core import audit
from klug.core.db import SessionDep
from klug.core.routes import Router
from klug.identity.deps import Principal, account_of, require
from klug.identity.permissions import Permission
from klug.identity.schemas import AccountRead

router = Router(tags=["identity"])


@router.get("/api/identity/me", response_model=AccountRead)
def me(
    session: SessionDep, principal: Annotated[Principal, Depends(require(Permission.ACCOUNT_SELF))]
) -> AccountRead:
    """The logged-in account."""
    account = account_of(session, principal)
    return AccountRead(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        role=account.role,
        language=account.language,
        created_at=account.created_at,
        email_verified_at=account.email_verified_at,
        second_factor_enabled=account.totp_enabled_at is not None,
    )


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: dt.datetime
    action: str
    outcome: str
    actor_kind: str | None
    actor_id: int | None
    target_kind: str | None
    target_id: str | None
    ip: str | None
    detail: dict[str, Any] | None


class AuditEventPage(BaseModel):
    total: int
    items: list[AuditEventRead]


@router.get("/api/identity/audit", response_model=AuditEventPage)
def audit_events(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(Permission.AUDIT_READ))],
    action: Annotated[str | None, Query(max_length=64)] = None,
    outcome: audit.Outcome | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditEventPage:
    """Audit events, newest first (for export to a SIEM with an ``audit.read`` key)."""
    entries, total = audit.search(
        session,
        audit_filter=audit.AuditFilter(action=action, outcome=outcome, since=since, until=until),
        limit=limit,
        offset=offset,
    )
    return AuditEventPage(total=total, items=[AuditEventRead.model_validate(e) for e in entries])

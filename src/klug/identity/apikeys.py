"""API keys for machines: ``klug_<prefix>_<secret>``, scoped, revocable, audited."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from klug.core import audit
from klug.core.audit import Actor
from klug.core.db import utcnow
from klug.core.security import token_digest
from klug.identity.models import ApiKey
from klug.identity.permissions import Permission, parse_scopes

KEY_PREFIX = "klug"
LAST_USED_EVERY = dt.timedelta(minutes=5)


def create(
    *,
    session: Session,
    name: str,
    scopes: str,
    actor: Actor,
    expires_at: dt.datetime | None = None,
    ip: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 120:
        raise ValueError("the name must have 1 to 120 characters")
    parsed = parse_scopes(scopes)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_digest=token_digest(secret),
        scopes=",".join(sorted(parsed)),
        created_by_id=actor.id if actor.kind == "account" else None,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        action="apikey.created",
        actor=actor,
        target_kind="apikey",
        target_id=key.id,
        ip=ip,
        detail={"name": name, "scopes": sorted(parsed)},
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def authenticate(*, session: Session, presented: str) -> ApiKey | None:
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or not hmac.compare_digest(key.secret_digest, token_digest(parts[2])):
        return None
    now = utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        key.last_used_at = now
        session.flush()
    return key


def scopes_of(key: ApiKey) -> frozenset[Permission]:
    return frozenset(Permission(s) for s in key.scopes.split(",") if s)


def revoke(*, session: Session, key: ApiKey, actor: Actor, ip: str | None = None) -> None:
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    session.flush()
    audit.record(
        session, action="apikey.revoked", actor=actor, target_kind="apikey", target_id=key.id, ip=ip
    )


def list_all(*, session: Session) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())
        )
    )

"""Input and output models of the identity domain."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from klug.identity.permissions import Role


class AccountCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    role: Role = Role.CITIZEN
    display_name: str | None = Field(default=None, max_length=120)
    language: str = Field(default="de", pattern="^(de|en)$")


class AccountRead(BaseModel):
    """What an account may see of itself; never the hash or the TOTP seed."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str | None
    role: Role
    language: str
    created_at: dt.datetime
    email_verified_at: dt.datetime | None
    second_factor_enabled: bool


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

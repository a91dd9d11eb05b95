"""Input and output models of site notices and accessibility feedback."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator


class NoticeCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title_de: str = Field(min_length=1, max_length=160)
    title_en: str = Field(min_length=1, max_length=160)
    body_de: str = Field(default="", max_length=2000)
    body_en: str = Field(default="", max_length=2000)
    severity: Literal["info", "warning"] = "info"
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> NoticeCreate:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class NoticeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title_de: str
    title_en: str
    body_de: str
    body_en: str
    severity: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    message: str = Field(min_length=10, max_length=5000)
    page_url: str = Field(default="", max_length=500)
    reply_email: EmailStr | None = None

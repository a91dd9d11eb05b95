"""Input and output models of notices, accessibility feedback, pages, news and events."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from klug.core.i18n import CITY_TZ


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


# --- pages, news and events -----------------------------------------------------------

ContentKind = Literal["page", "news", "event"]
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _in_city_time(value: dt.datetime) -> dt.datetime:
    # A form's datetime-local field has no zone: editors mean the city's wall clock.
    if value.tzinfo is None:
        value = value.replace(tzinfo=CITY_TZ)
    return value.astimezone(dt.UTC)


CityDateTime = Annotated[dt.datetime, AfterValidator(_in_city_time)]


class ItemCreate(BaseModel):
    """A page, news item or event as the console form sends it.

    Only German is required; empty English fields fall back to German on the pages.
    """

    model_config = ConfigDict(str_strip_whitespace=True)

    kind: ContentKind
    slug: str = Field(default="", max_length=120)
    title_de: str = Field(min_length=1, max_length=200)
    title_en: str = Field(default="", max_length=200)
    summary_de: str = Field(default="", max_length=500)
    summary_en: str = Field(default="", max_length=500)
    body_de: str = Field(min_length=1, max_length=50_000)
    body_en: str = Field(default="", max_length=50_000)
    published_at: CityDateTime | None = None
    # Events only: a start and a place are required there (checked below).
    starts_at: CityDateTime | None = Field(default=None, validate_default=True)
    ends_at: CityDateTime | None = None
    place_de: str = Field(default="", max_length=200, validate_default=True)
    place_en: str = Field(default="", max_length=200)

    @field_validator("slug")
    @classmethod
    def _slug_is_a_path_segment(cls, value: str) -> str:
        value = value.lower()
        if value and not re.fullmatch(SLUG_PATTERN, value):
            raise PydanticCustomError("slug", "lower-case letters, digits and single hyphens")
        return value

    @field_validator("starts_at", "place_de")
    @classmethod
    def _events_have_start_and_place(cls, value: object, info: ValidationInfo) -> object:
        # "missing" is the error type the forms explain as "This field is required."
        if info.data.get("kind") == "event" and not value:
            raise PydanticCustomError("missing", "an event needs a start and a place")
        return value

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: dt.datetime | None, info: ValidationInfo) -> object:
        starts_at = info.data.get("starts_at")
        if value is not None and starts_at is not None and value < starts_at:
            raise PydanticCustomError("ends_before_start", "an event cannot end before it starts")
        return value


class ImageAlt(BaseModel):
    """The text alternative of an image, required in both languages (WCAG 1.1.1)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    alt_de: str = Field(min_length=1, max_length=300)
    alt_en: str = Field(min_length=1, max_length=300)

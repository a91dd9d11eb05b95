"""Input and output models of reports.

Input comes as flat text fields from two places – the citizens' form and Open311's
``POST requests`` – which use the same names (``lat``, ``long``, ``address_string``,
``email``, …), so one reader checks both and explains every problem in the current
language. Output models carry public fields only: no contact data, no internal notes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, ValidationError

from klug.citizen.reports.categories import Answer, Area, Category
from klug.core.i18n import gettext

DESCRIPTION_MAX = 4000  # Open311: "free form text limited to 4,000 characters"
ADDRESS_MAX = 300
LOCATION_TEXT_MAX = 500
NOTE_MAX = 2000
MEDIA_URL_MAX = 500

# Characters XML 1.0 cannot carry (and nobody types): removed from free text on the way
# in, so that every stored report can be answered as Open311 XML.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def clean_text(value: str) -> str:
    """Free text as stored: line breaks normalised, control characters removed, trimmed."""
    return _NOT_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


class ReportCreate(BaseModel):
    """A checked new report (built by ``read_report``)."""

    model_config = ConfigDict(frozen=True)

    category_code: str
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=ADDRESS_MAX)
    address_id: str | None = Field(default=None, max_length=64)
    location_text: str | None = Field(default=None, max_length=LOCATION_TEXT_MAX)
    contact_email: str | None = None
    media_url: str | None = Field(default=None, max_length=MEDIA_URL_MAX)
    answers: dict[str, Answer] = {}


class StatusChange(BaseModel):
    """What staff change on a report: its status and notes."""

    model_config = ConfigDict(str_strip_whitespace=True)

    status: Literal["received", "in_progress", "closed"]
    public_note: str = Field(default="", max_length=NOTE_MAX)
    internal_note: str = Field(default="", max_length=NOTE_MAX)


class ReportRead(BaseModel):
    """What anyone may see of a report (pages, Open311)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category_code: str
    status: str
    description: str
    lat: float | None
    lon: float | None
    address: str | None
    address_id: str | None
    location_text: str | None
    media_url: str | None
    agency_responsible: str
    status_notes: str | None
    supporters: int
    answers: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    is_demo: bool

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    @property
    def place(self) -> str:
        """The location in words, as a list shows it."""
        return (
            self.address
            or self.location_text
            or (
                f"{self.lat:.5f}, {self.lon:.5f}"
                if self.lat is not None and self.lon is not None
                else ""
            )
        )


class TimelineEntry(BaseModel):
    """A public step of a report's history."""

    model_config = ConfigDict(from_attributes=True)

    occurred_at: dt.datetime
    status: str
    public_note: str | None


def _degrees(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _location(
    values: Mapping[str, str], area: Area, errors: dict[str, str]
) -> tuple[float | None, float | None]:
    raw_lat, raw_lon = values.get("lat", "").strip(), values.get("long", "").strip()
    if not raw_lat and not raw_lon:
        return None, None
    if not raw_lat or not raw_lon:
        missing = "lat" if not raw_lat else "long"
        errors[missing] = gettext("Please give both latitude and longitude.")
        return None, None
    lat, lon = _degrees(raw_lat), _degrees(raw_lon)
    if lat is None or not -90 <= lat <= 90:
        errors["lat"] = gettext("The latitude must be a number of degrees between -90 and 90.")
    if lon is None or not -180 <= lon <= 180:
        errors["long"] = gettext("The longitude must be a number of degrees between -180 and 180.")
    if "lat" in errors or "long" in errors or lat is None or lon is None:
        return None, None
    if not area.contains(lat, lon):
        errors["lat"] = gettext("This place is outside the city of Kaiserslautern.")
        return None, None
    return lat, lon


def _limited(values: Mapping[str, str], name: str, limit: int, errors: dict[str, str]) -> str:
    text = clean_text(values.get(name, ""))
    if len(text) > limit:
        errors[name] = gettext("Please enter at most %(n)s characters.") % {"n": limit}
    return text


def read_report(
    values: Mapping[str, str],
    *,
    category: Category,
    answers: dict[str, Answer],
    area: Area,
    description_required: bool,
) -> tuple[ReportCreate | None, dict[str, str]]:
    """Check the text fields of a new report; errors by field name, in the current language.

    A location is required, but the map is not: coordinates (``lat`` + ``long``), an
    address (``address_string``, Open311's ``address_id``) or a description of the place
    (``location_text``) each suffice.
    """
    errors: dict[str, str] = {}
    description = _limited(values, "description", DESCRIPTION_MAX, errors)
    if description_required and not description and "description" not in errors:
        errors["description"] = gettext("Please describe the problem.")
    lat, lon = _location(values, area, errors)
    address = _limited(values, "address_string", ADDRESS_MAX, errors)
    address_id = _limited(values, "address_id", 64, errors)
    location_text = _limited(values, "location_text", LOCATION_TEXT_MAX, errors)
    has_coordinates = values.get("lat", "").strip() or values.get("long", "").strip()
    if not (has_coordinates or address or address_id or location_text):
        errors["location"] = gettext(
            "Please say where the problem is: a point on the map or its coordinates,"
            " an address or a description of the place."
        )
    email = values.get("email", "").strip()
    if email:
        try:
            email = _EMAIL.validate_python(email)
        except ValidationError:
            errors["email"] = gettext("Please enter a valid e-mail address.")
    media_url = values.get("media_url", "").strip()
    if media_url and (
        not media_url.lower().startswith(("https://", "http://"))
        or len(media_url) > MEDIA_URL_MAX
        or any(c.isspace() for c in media_url)
    ):
        errors["media_url"] = gettext("The media URL must be an http or https address.")
    if errors:
        return None, errors
    return (
        ReportCreate(
            category_code=category.code,
            description=description,
            lat=lat,
            lon=lon,
            address=address or None,
            address_id=address_id or None,
            location_text=location_text or None,
            contact_email=email.lower() or None,
            media_url=media_url or None,
            answers=answers,
        ),
        {},
    )

"""A submitted form checked against its definition, with errors in the visitor's language.

Only the relevant fields are checked and kept: a field whose ``show_if`` condition does
not hold is dropped, whatever was typed into it (without JavaScript every field is on
the page). Errors are keyed by the id of the input they are about, so that the error
summary links straight to it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date

from klug.citizen.applications import calc
from klug.citizen.applications.forms import ADDRESS_PARTS, FormDefinition, FormField
from klug.core.i18n import current_language, gettext

MAX_INPUT_CHARS = 10_000
# Kaiserslautern's city area with a margin (WGS84): a point outside is a typing error.
CITY_LAT = (49.35, 49.52)
CITY_LON = (7.60, 7.95)
# The same box for the map of a point field (components/map.html).
POINT_AREA = {"south": CITY_LAT[0], "west": CITY_LON[0], "north": CITY_LAT[1], "east": CITY_LON[1]}
_POSTCODE = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class Checked:
    answers: dict[str, Any]
    errors: dict[str, str]


def raw_values(form: FormDefinition, submitted: Mapping[str, str]) -> dict[str, str]:
    """The form's own inputs as typed (a draft keeps them, valid or not)."""
    known = set(form.input_order())
    return {
        key: value.strip()[:MAX_INPUT_CHARS]
        for key, value in submitted.items()
        if key in known and isinstance(value, str) and value.strip()
    }


def options(field: FormField, today: dt.date) -> list[tuple[str, str]]:
    """A choice's options as (value, label) in the current language."""
    language = current_language()
    if field.options_from == "collection_dates":
        return [
            (day.isoformat(), format_date(day, format="full", locale=language))
            for day in calc.collection_dates(today)
        ]
    return [(o.value, o.label.get(language)) for o in field.options]


def relevant_fields(form: FormDefinition, values: Mapping[str, str]) -> list[FormField]:
    """The fields that apply to these answers (conditions evaluated in form order)."""
    kept: dict[str, FormField] = {}
    for field in form.fields():
        condition = field.shown_values()
        if condition is not None:
            name, wanted = condition
            if name not in kept or values.get(name, "") not in wanted:
                continue
        kept[field.name] = field
    return list(kept.values())


def _number(text: str) -> float:
    number = float(text.replace(",", ".").replace(" ", ""))
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _shown_number(value: float) -> str:
    text = str(int(value)) if float(value).is_integer() else str(value)
    return text.replace(".", ",") if current_language() == "de" else text


def parse_date(text: str) -> dt.date:
    """ISO (what date inputs send) or the German TT.MM.JJJJ (typed without a date picker)."""
    german = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    if german:
        day, month, year = (int(g) for g in german.groups())
        return dt.date(year, month, day)
    return dt.date.fromisoformat(text)


def _shown_date(day: dt.date) -> str:
    return format_date(day, format="medium", locale=current_language())


def _check_text(field: FormField, text: str) -> str | None:
    if len(text) > field.max_length:
        return gettext("Please enter at most %(n)s characters.") % {"n": field.max_length}
    if field.pattern and not re.fullmatch(field.pattern, text):
        if field.pattern_message:
            return field.pattern_message.get(current_language())
        return gettext("Please check the format of this entry.")
    return None


def _check_number(field: FormField, text: str) -> tuple[float | None, str | None]:
    try:
        number = _number(text)
    except ValueError:
        return None, gettext("Please enter a number.")
    if field.integer and not number.is_integer():
        return None, gettext("Please enter a whole number.")
    if field.min is not None and number < field.min:
        return None, gettext("Please enter at least %(min)s.") % {"min": _shown_number(field.min)}
    if field.max is not None and number > field.max:
        return None, gettext("Please enter at most %(max)s.") % {"max": _shown_number(field.max)}
    return (int(number) if field.integer else number), None


def _check_date(
    field: FormField, text: str, today: dt.date, dates: dict[str, dt.date]
) -> tuple[dt.date | None, str | None]:
    try:
        day = parse_date(text)
    except ValueError:
        return None, gettext("Please enter a date, e.g. 24.12.2026.")
    if field.min_days_ahead is not None:
        earliest = today + dt.timedelta(days=field.min_days_ahead)
        if day < earliest:
            return None, gettext("Please choose a date on or after %(date)s.") % {
                "date": _shown_date(earliest)
            }
    if field.max_days_ahead is not None:
        latest = today + dt.timedelta(days=field.max_days_ahead)
        if day > latest:
            return None, gettext("Please choose a date on or before %(date)s.") % {
                "date": _shown_date(latest)
            }
    if field.autocomplete == "bday" and day >= today:
        return None, gettext("Please enter a date in the past.")
    start = dates.get(field.not_before or "")
    if start is not None and day < start:
        return None, gettext("This date must not be before %(date)s.") % {
            "date": _shown_date(start)
        }
    return day, None


def _check_address(
    field: FormField, values: Mapping[str, str], errors: dict[str, str]
) -> dict[str, str] | None:
    parts = {part: values.get(f"{field.name}-{part}", "") for part in ADDRESS_PARTS}
    if not any(parts.values()):
        if field.required:
            errors[f"{field.name}-street"] = gettext("Please enter the street.")
        return None
    messages = {
        "street": gettext("Please enter the street."),
        "house_number": gettext("Please enter the house number."),
        "postcode": gettext("Please enter a postcode of five digits."),
        "city": gettext("Please enter the town."),
    }
    for part in ADDRESS_PARTS:
        if not parts[part] or len(parts[part]) > 100:
            errors[f"{field.name}-{part}"] = messages[part]
    if parts["postcode"] and not _POSTCODE.match(parts["postcode"]):
        errors[f"{field.name}-postcode"] = messages["postcode"]
    elif field.postcodes and parts["postcode"] not in field.postcodes:
        errors[f"{field.name}-postcode"] = gettext(
            "This service covers only the postcodes %(postcodes)s."
        ) % {"postcodes": ", ".join(field.postcodes)}
    return parts if not any(k.startswith(f"{field.name}-") for k in errors) else None


def _check_point(
    field: FormField, values: Mapping[str, str], errors: dict[str, str]
) -> dict[str, float] | None:
    lat_text = values.get(f"{field.name}-lat", "")
    lon_text = values.get(f"{field.name}-lon", "")
    if not lat_text and not lon_text:
        if field.required:
            errors[f"{field.name}-lat"] = gettext("Please enter a latitude and a longitude.")
        return None
    try:
        lat, lon = _number(lat_text), _number(lon_text)
    except ValueError:
        errors[f"{field.name}-lat"] = gettext("Please enter a latitude and a longitude.")
        return None
    if not (CITY_LAT[0] <= lat <= CITY_LAT[1] and CITY_LON[0] <= lon <= CITY_LON[1]):
        errors[f"{field.name}-lat"] = gettext(
            "The point is not in Kaiserslautern (latitude 49.35 to 49.52, longitude 7.60 to 7.95)."
        )
        return None
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


def check(
    form: FormDefinition,
    values: Mapping[str, str],
    *,
    today: dt.date,
    files: Mapping[str, str],
) -> Checked:
    """Check the relevant fields; ``files`` names the file fields that have a file."""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    dates: dict[str, dt.date] = {}
    for field in relevant_fields(form, values):
        text = values.get(field.name, "")
        if field.type == "address":
            address = _check_address(field, values, errors)
            if address is not None:
                answers[field.name] = address
            continue
        if field.type == "point":
            point = _check_point(field, values, errors)
            if point is not None:
                answers[field.name] = point
            continue
        if field.type == "file":
            if field.name in files:
                answers[field.name] = files[field.name]
            elif field.required:
                errors[field.name] = gettext("Please attach a file.")
            continue
        if not text:
            if field.required:
                errors[field.name] = (
                    gettext("Please confirm this to continue.")
                    if field.type == "consent"
                    else gettext("This field is required.")
                )
            continue
        error: str | None = None
        if field.type in ("text", "textarea"):
            error = _check_text(field, text)
            answers[field.name] = text
        elif field.type == "number":
            number, error = _check_number(field, text)
            answers[field.name] = number
        elif field.type == "date":
            day, error = _check_date(field, text, today, dates)
            if day is not None:
                dates[field.name] = day
                answers[field.name] = day.isoformat()
        elif field.type == "choice":
            if text not in {value for value, _label in options(field, today)}:
                error = gettext("Please choose one of the offered options.")
            answers[field.name] = text
        elif field.type == "consent":
            answers[field.name] = True
        if error is not None:
            errors[field.name] = error
            answers.pop(field.name, None)
    for rule in form.at_least_one_of:
        given = [name for name in rule.fields if name in answers]
        wrong = [i for name in rule.fields for i in form.field(name).input_ids() if i in errors]  # type: ignore[union-attr]
        if not given and not wrong:
            first = form.field(rule.fields[0])
            assert first is not None
            errors[first.input_ids()[0]] = rule.message.get(current_language())
    rank = {name: i for i, name in enumerate(form.input_order())}
    ordered = dict(sorted(errors.items(), key=lambda item: rank.get(item[0], -1)))
    return Checked(answers if not ordered else {}, ordered)

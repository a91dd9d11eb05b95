"""The console's configuration forms: form fields ↔ the configuration, and every error put
next to the field it is about, in the visitor's language.

Fields are named after the schema (``peak_power_kw``), but for shares, which the form
takes in per cent (``alert_threshold_pct`` ↔ ``alert_threshold``). Decimals may use a comma.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from klug.core.i18n import N_, current_language, gettext
from klug.energy import configuration, service
from klug.energy.schemas import EnergyConfig, UnitConfig

UNIT_FORM = "unit-form"  # the form's id: where an error that belongs to no field leads
GOAL_FORM = "goal-form"
SPARE_FACTOR_ROWS = 3
MAX_FACTOR_ROWS = 100

_DATASTREAMS = ("power_datastream", "energy_datastream")
_PLANT = ("peak_power_kw", "tilt_deg", "azimuth_deg", "losses_pct")
_DECIMALS = (*_PLANT, "alert_window_h")
_DATES = ("commissioned_on", "decommissioned_on")
# The unit form's fields in their order (the error summary follows it).
UNIT_FIELDS: tuple[str, ...] = (UNIT_FORM, "role", "key", "name", "source", "status")
UNIT_FIELDS += (*_DATASTREAMS, *_PLANT, *_DATES, "alert_threshold_pct", "alert_window_h")
WEATHER_FIELDS = (
    "ghi_datastream",
    "temperature_datastream",
    "wind_speed_datastream",
    "ghi_forecast_datastream",
    "cloud_cover_forecast_datastream",
)
_PERCENT = {"alert_threshold_pct": "alert_threshold"}
_TARGET_FIELDS = ("share_pct", "year", "next_share_pct", "next_year")

_DATASTREAM_ID = N_("Please enter the number (id) of a Datastream.")
_DATE = N_("Please enter a date.")
_FIELD_MESSAGES = {
    "key": N_("Use 1 to 64 lower-case letters, digits, - or _, starting with a letter or digit."),
    "peak_power_kw": N_("Please enter a power above 0 kWp."),
    "tilt_deg": N_("Please enter a tilt from 0 to 90°."),
    "azimuth_deg": N_("Please enter an azimuth from 0 to below 360°."),
    "losses_pct": N_("Please enter losses from 0 to below 100 %."),
    "power_datastream": _DATASTREAM_ID,
    "energy_datastream": _DATASTREAM_ID,
    "commissioned_on": _DATE,
    "decommissioned_on": _DATE,
    "alert_threshold_pct": N_("Please enter a share above 0 and below 100 %."),
    "alert_window_h": N_("Please enter a window from 0.5 to 12 hours."),
    "share_pct": N_("Please enter a share above 0 and up to 100 %."),
    "next_share_pct": N_("Please enter a share above 0 and up to 100 %."),
    "year": N_("Please enter a year from 2000 to 2100."),
    "next_year": N_("Please enter a year from 2000 to 2100."),
    "ghi_datastream": _DATASTREAM_ID,
    "temperature_datastream": _DATASTREAM_ID,
    "wind_speed_datastream": _DATASTREAM_ID,
    "ghi_forecast_datastream": _DATASTREAM_ID,
    "cloud_cover_forecast_datastream": _DATASTREAM_ID,
}
# What the schema's cross-field checks say (English, for the API) → the field and our words.
_MODEL_ERRORS = (
    (
        "exactly one of power_datastream or energy_datastream",
        "power_datastream",
        N_(
            "Give either a power meter or an energy meter (one of the two); "
            "a planned unit needs none."
        ),
    ),
    ("needs peak_power_kw", "peak_power_kw", N_("A PV unit needs its peak power.")),
    (
        "decommissioned before commissioned",
        "decommissioned_on",
        N_("The unit cannot be decommissioned before it was commissioned."),
    ),
    ("unit keys must be unique", "key", N_("Another unit already has this key.")),
    (
        "at least one emission factor",
        "factor_year_0",
        N_("Please give at least one emission factor."),
    ),
)
_METER_MESSAGES = {
    "missing": N_("Datastream %(id)s does not exist."),
    "weather_unit": N_(
        "Datastream %(id)s has the wrong unit: irradiance in W/m², cloud cover in %%."
    ),
    "not_energy": N_(
        "Datastream %(id)s measures neither power nor energy (W, kW, MW, Wh, kWh, MWh)."
    ),
    "measures_power": N_(
        "Datastream %(id)s measures power (W, kW, MW): enter it as the power meter."
    ),
    "measures_energy": N_(
        "Datastream %(id)s measures energy per interval (Wh, kWh, MWh): "
        "enter it as the energy meter."
    ),
    "interval": N_(
        "Datastream %(id)s needs an expected interval that divides an hour "
        "(properties.expectedInterval, e.g. PT15M)."
    ),
}

Errors = dict[str, str]


# ---------------------------------------------------------------- values shown in a form


def show_number(value: float | None, scale: float = 1.0) -> str:
    """A number as the form shows it: no trailing .0, a decimal comma in German."""
    if value is None:
        return ""
    number = round(value * scale, 6)
    text = str(int(number)) if number.is_integer() else repr(number)
    return text.replace(".", ",") if current_language() == "de" else text


def unit_values(role: str, unit: UnitConfig | None) -> dict[str, str]:
    """The form's fields of a unit (a new one: the defaults)."""
    if unit is None:
        return {
            "role": role,
            "status": "operating",
            "alert_threshold_pct": "80",
            "alert_window_h": "2",
        }
    values = {
        "role": role,
        "key": unit.key,
        "name": unit.name,
        "source": unit.source,
        "status": unit.status,
        "power_datastream": str(unit.power_datastream or ""),
        "energy_datastream": str(unit.energy_datastream or ""),
        "commissioned_on": unit.commissioned_on.isoformat() if unit.commissioned_on else "",
        "decommissioned_on": unit.decommissioned_on.isoformat() if unit.decommissioned_on else "",
        "alert_threshold_pct": show_number(unit.alert_threshold, 100),
    }
    for name in _DECIMALS:
        values[name] = show_number(getattr(unit, name))
    if unit.simulated:
        values["simulated"] = "on"
    return values


def goal_values(config: EnergyConfig) -> dict[str, str]:
    target, weather = config.target, config.weather
    values = {
        "share_pct": show_number(target.share, 100),
        "year": str(target.year),
        "next_share_pct": show_number(target.next_share, 100),
        "next_year": str(target.next_year or ""),
    }
    for i, (year, factor) in enumerate(sorted(config.emission_factors_g_per_kwh.items())):
        values[f"factor_year_{i}"] = str(year)
        values[f"factor_value_{i}"] = show_number(factor)
    for name in WEATHER_FIELDS:
        values[name] = str(getattr(weather, name) or "")
    return values


def factor_rows(values: dict[str, str]) -> int:
    """How many rows the emission-factor table shows: the filled ones and a few empty ones."""
    used = [
        int(key.rsplit("_", 1)[1]) + 1
        for key in values
        if key.startswith(("factor_year_", "factor_value_")) and key.rsplit("_", 1)[1].isdigit()
    ]
    return min(max(used, default=0) + SPARE_FACTOR_ROWS, MAX_FACTOR_ROWS)


# ---------------------------------------------------------------- reading a form


def _decimal(text: str) -> float:
    number = float(text.replace(",", "."))
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _integer(text: str) -> int:
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


def _message(field: str, error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return gettext("This field is required.")
    if kind == "string_too_long":
        return gettext("Please enter at most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind in {"literal_error", "enum"}:
        return gettext("Please choose one of the offered options.")
    if field in _FIELD_MESSAGES:
        return gettext(_FIELD_MESSAGES[field])
    return gettext("Please check this entry.")


def _model_error(message: str, fallback: str) -> tuple[str, str]:
    for phrase, field, ours in _MODEL_ERRORS:
        if phrase in message:
            return field, gettext(ours)
    return fallback, message.removeprefix("Value error, ")


def _collect(exc: ValidationError, fields: dict[str, str], fallback: str, errors: Errors) -> None:
    """Pydantic's errors by form field (``fields``: schema location → field name)."""
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        if loc in fields:
            errors.setdefault(fields[loc], _message(fields[loc], dict(error)))
        elif loc == "demand":
            errors.setdefault("role", gettext("The first unit must be a demand meter."))
        else:
            field, message = _model_error(str(error["msg"]), fallback)
            errors.setdefault(field, message)


def unit_from_form(
    values: dict[str, str], *, role: str, base: UnitConfig | None
) -> tuple[UnitConfig | None, Errors]:
    """The unit the form describes. What the form does not show is kept: the location and
    ``renewable`` (set through YAML or the API), and a demand meter's plant settings."""
    data = base.model_dump() if base is not None else {}
    if base is None and "key" in values:
        data["key"] = values["key"]
    numbers = [*_DATASTREAMS, *_DECIMALS, *_PERCENT]
    if role == "demand" and base is not None:
        numbers = list(_DATASTREAMS)
    for name in ("name", "source", "status", *numbers):
        data.pop(_PERCENT.get(name, name), None)
        if name in values and name not in numbers:
            data[name] = values[name]
    if role == "demand":
        data["source"] = "load"
    errors: Errors = {}
    for name in numbers:
        if name not in values:
            continue
        try:
            if name in _DATASTREAMS:
                data[name] = _integer(values[name])
            elif name in _PERCENT:
                data[_PERCENT[name]] = _decimal(values[name]) / 100
            else:
                data[name] = _decimal(values[name])
        except ValueError:
            errors[name] = _message(name, {})
    for name in _DATES:
        data[name] = values.get(name) or None
    data["simulated"] = "simulated" in values
    fields = {name: name for name in UNIT_FIELDS[1:]} | {v: k for k, v in _PERCENT.items()}
    try:
        unit = UnitConfig.model_validate(data)
    except ValidationError as exc:
        _collect(exc, fields, UNIT_FORM, errors)
        # The cross-field checks run only on valid fields: once more without the wrong
        # ones, so that the form shows every mistake at once.
        rest = {k: v for k, v in data.items() if fields.get(k) not in errors}
        try:
            UnitConfig.model_validate(rest)
        except ValidationError as again:
            _collect(again, fields, UNIT_FORM, errors)
        return None, ordered(errors, UNIT_FIELDS)
    return (None, ordered(errors, UNIT_FIELDS)) if errors else (unit, {})


def config_errors(exc: ValidationError, fallback: str) -> Errors:
    """A whole configuration refused by the schema: which field, in our words."""
    errors: Errors = {}
    _collect(exc, {}, fallback, errors)
    return errors


def _meter_message(exc: service.ConfigError) -> str:
    """The meters' check in the visitor's language (the unit named when it is known)."""
    template = _METER_MESSAGES.get(exc.reason)
    if template is None:
        return str(exc)
    message = gettext(template) % {"id": exc.datastream}
    if exc.unit:
        return gettext("Unit %(unit)s: %(problem)s") % {"unit": exc.unit, "problem": message}
    return message


def meter_error(exc: service.ConfigError, fields: dict[int, str], fallback: str) -> Errors:
    """The meters' check refused a Datastream: the message next to the field that names it
    (``fields``: Datastream id → field), or at the top of the form when another unit does."""
    field = fields.get(exc.datastream or 0)
    if field is not None and exc.reason in _METER_MESSAGES:
        return {field: gettext(_METER_MESSAGES[exc.reason]) % {"id": exc.datastream}}
    return {fallback: _meter_message(exc)}


def text_error(exc: service.ConfigError) -> str:
    """What is wrong with an uploaded configuration, in the visitor's language."""
    if exc.reason == "too_large":
        kb = configuration.MAX_CONFIG_BYTES // 1024
        return gettext("A configuration has at most %(kb)s KB.") % {"kb": kb}
    if exc.reason == "syntax":
        return gettext("The text is not valid YAML or JSON.")
    if exc.reason == "invalid":
        return gettext("The configuration does not follow the schema.")
    return _meter_message(exc)


def goal_from_form(
    values: dict[str, str], config: EnergyConfig
) -> tuple[EnergyConfig | None, Errors]:
    """The configuration with the form's goal, emission factors and weather Datastreams."""
    errors: Errors = {}
    target: dict[str, Any] = {}
    for field, key in (("share_pct", "share"), ("next_share_pct", "next_share")):
        if field in values:
            try:
                target[key] = _decimal(values[field]) / 100
            except ValueError:
                errors[field] = _message(field, {})
    for field in ("year", "next_year"):
        if field in values:
            try:
                target[field] = _integer(values[field])
            except ValueError:
                errors[field] = _message(field, {})
    for field in ("share_pct", "year"):
        if field not in values:
            errors[field] = gettext("This field is required.")
    factors = _factors(values, errors)
    # Weather Datastreams that the form does not show (set through YAML) are kept.
    weather = {k: v for k, v in config.weather.model_dump().items() if k not in WEATHER_FIELDS}
    for field in WEATHER_FIELDS:
        if field in values:
            try:
                weather[field] = _integer(values[field])
            except ValueError:
                errors[field] = _message(field, {})
    data = config.model_dump()
    data.update(target=target, emission_factors_g_per_kwh=factors, weather=weather)
    fields = {
        "target.share": "share_pct",
        "target.year": "year",
        "target.next_share": "next_share_pct",
        "target.next_year": "next_year",
    } | {f"weather.{name}": name for name in WEATHER_FIELDS}
    try:
        new = EnergyConfig.model_validate(data)
    except ValidationError as exc:
        _collect(exc, fields, GOAL_FORM, errors)
    else:
        if not errors:
            return new, {}
    return None, ordered(errors, goal_fields(values))


def goal_fields(values: dict[str, str]) -> tuple[str, ...]:
    """The goal form's fields in their order."""
    rows = [(f"factor_year_{i}", f"factor_value_{i}") for i in range(factor_rows(values))]
    return (GOAL_FORM, *_TARGET_FIELDS, *(name for row in rows for name in row), *WEATHER_FIELDS)


def _factors(values: dict[str, str], errors: Errors) -> dict[int, float]:
    """The emission-factor table; an empty row is ignored."""
    factors: dict[int, float] = {}
    for i in range(factor_rows(values)):
        year_field, value_field = f"factor_year_{i}", f"factor_value_{i}"
        year_text, value_text = values.get(year_field), values.get(value_field)
        if not year_text and not value_text:
            continue
        if not year_text or not value_text:
            errors[value_field if year_text else year_field] = gettext("This field is required.")
            continue
        try:
            year = _integer(year_text)
        except ValueError:
            errors[year_field] = gettext("Please enter a year.")
            continue
        try:
            factor = _decimal(value_text)
            if factor < 0:
                raise ValueError(value_text)
        except ValueError:
            errors[value_field] = gettext("Please enter a factor of 0 g/kWh or more.")
            continue
        if year in factors:
            errors[year_field] = gettext("This year is in the table twice.")
            continue
        factors[year] = factor
    return factors


def ordered(errors: Errors, fields: tuple[str, ...]) -> Errors:
    """The errors in the order of the form (the summary reads like the form)."""
    rank = {name: i for i, name in enumerate(fields)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], -1)))

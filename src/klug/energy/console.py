"""Operators change the energy configuration in the console: one unit at a time, the goal
with the emission factors and weather Datastreams, or the whole configuration as YAML.

Every change builds the whole new configuration, checks it like ``PUT /api/energy/config``
(schema, then the meters) and stores it only when nothing is wrong; each is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from klug.core import audit
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import FormValues, RawForm
from klug.core.i18n import current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.energy import config_forms, configuration, service
from klug.energy.config_forms import GOAL_FORM, UNIT_FORM, Errors
from klug.energy.schemas import EnergyConfig, UnitConfig
from klug.identity.deps import Principal, require
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)
Operator = Annotated[Principal, Depends(require(Permission.ENERGY_MANAGE))]
CONSOLE = "/console/energie"
# "neu" is the path of the form for a new unit: a unit of that key could not be opened.
RESERVED_KEYS = frozenset({"neu"})


def _done(message: str) -> RedirectResponse:
    """Back to the energy console, which confirms what was done."""
    return RedirectResponse(
        localise_path(CONSOLE, current_language()) + f"?ok={message}", status_code=303
    )


def _store(
    session: Session, config: EnergyConfig, principal: Principal, action: str, unit: str
) -> None:
    service.replace_config(session, config)
    audit.record(session, action=action, actor=principal.actor, detail={"unit": unit})


# ---------------------------------------------------------------- units


def _unit_page(
    request: Request,
    *,
    role: str,
    unit: UnitConfig | None,
    values: dict[str, str],
    errors: Errors,
    configured: bool = True,
) -> HTMLResponse:
    return render(
        request,
        "energy/console_unit.html",
        {
            "role": role,
            "unit": unit,
            "values": values,
            "errors": errors,
            "configured": configured,
        },
        status_code=400 if errors else 200,
    )


def _meter_fields(values: dict[str, str]) -> dict[int, str]:
    """Datastream id → the field that names it (to put the meters' check next to it)."""
    return {
        int(values[name]): name
        for name in ("energy_datastream", "power_datastream")
        if values.get(name, "").isdigit()
    }


@router.get(CONSOLE + "/einheiten/neu", response_class=HTMLResponse)
def new_unit_form(request: Request, session: SessionDep, _: Operator) -> HTMLResponse:
    """A form for a new unit; without a configuration, the first must be a demand meter."""
    configured = service.current_config(session) is not None
    role = "generation" if configured else "demand"
    return _unit_page(
        request,
        role=role,
        unit=None,
        values=config_forms.unit_values(role, None),
        errors={},
        configured=configured,
    )


@router.post(CONSOLE + "/einheiten/neu", response_class=HTMLResponse)
def create_unit(
    request: Request, session: SessionDep, values: FormValues, principal: Operator
) -> Response:
    """Add a unit (the first demand meter creates the configuration)."""
    config = service.current_config(session)
    role = values.get("role", "")
    errors: Errors = {}
    if role not in ("demand", "generation"):
        errors["role"] = gettext("Please choose one of the offered options.")
        role = "generation" if config is not None else "demand"
    if values.get("key") in RESERVED_KEYS:
        errors["key"] = gettext("This key is reserved; please choose another one.")
    unit, unit_errors = config_forms.unit_from_form(values, role=role, base=None)
    errors = config_forms.ordered(unit_errors | errors, config_forms.UNIT_FIELDS)
    new = None
    if unit is not None and not errors:
        try:
            new = configuration.add_unit(
                config, unit, "demand" if role == "demand" else "generation"
            )
            service.check_meters(session, new)
        except ValidationError as exc:
            errors = config_forms.config_errors(exc, UNIT_FORM)
        except service.ConfigError as exc:
            errors = config_forms.meter_error(exc, _meter_fields(values), UNIT_FORM)
    if unit is None or new is None or errors:
        return _unit_page(
            request,
            role=role,
            unit=None,
            values={**values, "role": role},
            errors=errors,
            configured=config is not None,
        )
    _store(session, new, principal, "energy.config.unit_saved", unit.key)
    return _done("unit_added")


def _existing(session: Session, key: str) -> tuple[EnergyConfig, str, UnitConfig]:
    config = service.current_config(session)
    found = configuration.find_unit(config, key)
    if config is None or found is None:
        raise NotFound
    role, unit = found
    return config, role, unit


@router.get(CONSOLE + "/einheiten/{key}", response_class=HTMLResponse)
def unit_form(request: Request, key: str, session: SessionDep, _: Operator) -> HTMLResponse:
    """One unit's settings: meter, plant, operating dates, alert threshold."""
    _config, role, unit = _existing(session, key)
    return _unit_page(
        request, role=role, unit=unit, values=config_forms.unit_values(role, unit), errors={}
    )


@router.post(CONSOLE + "/einheiten/{key}", response_class=HTMLResponse)
def save_unit(
    request: Request, key: str, session: SessionDep, values: FormValues, principal: Operator
) -> Response:
    """Save a unit's settings (checked against the meters, audited)."""
    config, role, current = _existing(session, key)
    unit, errors = config_forms.unit_from_form(values, role=role, base=current)
    new = None
    if unit is not None:
        try:
            new = configuration.replace_unit(config, unit)
            service.check_meters(session, new)
        except ValidationError as exc:
            errors = config_forms.config_errors(exc, UNIT_FORM)
        except service.ConfigError as exc:
            errors = config_forms.meter_error(exc, _meter_fields(values), UNIT_FORM)
    if new is None or errors:
        shown = {**values, "role": role, "key": key}
        return _unit_page(request, role=role, unit=current, values=shown, errors=errors)
    _store(session, new, principal, "energy.config.unit_saved", key)
    return _done("unit_saved")


@router.post(CONSOLE + "/einheiten/{key}/entfernen", response_class=HTMLResponse)
def remove_unit(
    request: Request, key: str, session: SessionDep, _values: FormValues, principal: Operator
) -> Response:
    """Remove a unit from the configuration (its measurements stay in the sensor backbone)."""
    config, role, unit = _existing(session, key)
    try:
        new = configuration.remove_unit(config, key)
    except service.ConfigError:
        message = gettext(
            "This is the only demand meter: the energy programme needs one. "
            "Add another demand meter first."
        )
        return _unit_page(
            request,
            role=role,
            unit=unit,
            values=config_forms.unit_values(role, unit),
            errors={UNIT_FORM: message},
        )
    _store(session, new, principal, "energy.config.unit_removed", key)
    return _done("unit_removed")


# ---------------------------------------------------------------- goal and factors


def _goal_page(
    request: Request, values: dict[str, str], errors: Errors, *, configured: bool = True
) -> HTMLResponse:
    return render(
        request,
        "energy/console_goal.html",
        {
            "values": values,
            "errors": errors,
            "rows": config_forms.factor_rows(values),
            "configured": configured,
        },
        status_code=400 if errors else 200,
    )


@router.get(CONSOLE + "/ziel", response_class=HTMLResponse)
def goal_form(request: Request, session: SessionDep, _: Operator) -> HTMLResponse:
    """The goal, the emission factors per year and the weather Datastreams."""
    config = service.current_config(session)
    if config is None:
        return _goal_page(request, {}, {}, configured=False)
    return _goal_page(request, config_forms.goal_values(config), {})


@router.post(CONSOLE + "/ziel", response_class=HTMLResponse)
def save_goal(
    request: Request, session: SessionDep, values: FormValues, principal: Operator
) -> Response:
    """Save the goal, emission factors and weather Datastreams (audited)."""
    config = service.current_config(session)
    if config is None:
        return _goal_page(request, {}, {}, configured=False)
    new, errors = config_forms.goal_from_form(values, config)
    if new is not None:
        weather = {
            int(values[n]): n for n in config_forms.WEATHER_FIELDS if values.get(n, "").isdigit()
        }
        try:
            service.check_meters(session, new)
        except service.ConfigError as exc:
            errors = config_forms.meter_error(exc, weather, GOAL_FORM)
    if new is None or errors:
        return _goal_page(request, values, errors)
    service.replace_config(session, new)
    audit.record(
        session,
        action="energy.config.goal_saved",
        actor=principal.actor,
        detail={"share": new.target.share, "year": new.target.year},
    )
    return _done("goal_saved")


# ---------------------------------------------------------------- the whole configuration


@router.get(CONSOLE + "/konfiguration.yaml", response_class=Response)
def download_config(session: SessionDep, _: Operator) -> Response:
    """The whole configuration as a YAML file (what the upload form and the API read)."""
    config = service.current_config(session)
    if config is None:
        raise NotFound
    return Response(
        configuration.dump_config(config),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="energie-konfiguration.yaml"'},
    )


def _config_page(
    request: Request,
    session: Session,
    text: str | None = None,
    *,
    error: str | None = None,
    detail: str | None = None,
) -> HTMLResponse:
    config = service.current_config(session)
    if text is None:
        text = configuration.dump_config(config) if config is not None else ""
    return render(
        request,
        "energy/console_config.html",
        {"text": text, "error": error, "detail": detail, "configured": config is not None},
        status_code=400 if error else 200,
    )


@router.get(CONSOLE + "/konfiguration", response_class=HTMLResponse)
def config_form(request: Request, session: SessionDep, _: Operator) -> HTMLResponse:
    """Replace the whole configuration with a YAML (or JSON) file or text."""
    return _config_page(request, session)


@router.post(CONSOLE + "/konfiguration", response_class=HTMLResponse)
def upload_config(
    request: Request, session: SessionDep, form: RawForm, principal: Operator
) -> Response:
    """Store an uploaded configuration when it is valid and fits the meters (audited)."""
    upload, pasted = form.get("file"), form.get("yaml")
    raw = b""
    if isinstance(upload, UploadFile) and upload.filename:
        raw = upload.file.read(configuration.MAX_CONFIG_BYTES + 1)
    elif isinstance(pasted, str):
        raw = pasted.encode("utf-8")
    text = raw[: configuration.MAX_CONFIG_BYTES].decode("utf-8", errors="replace")
    if not raw.strip():
        message = gettext("Please choose a file or paste the configuration.")
        return _config_page(request, session, text, error=message)
    try:
        config = configuration.parse_config(raw)
        configuration.replace(session, config, actor=principal.actor)
    except service.ConfigError as exc:
        error = config_forms.text_error(exc)
        return _config_page(request, session, text, error=error, detail=str(exc))
    return _done("config_replaced")

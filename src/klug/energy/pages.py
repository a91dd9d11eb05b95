"""Pages of the energy programme: the public dashboard and the scenario planner.

Every figure is also a table and every chart's data a CSV download; the pages work
without JavaScript (forms and links), which only adds charts and live updates.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import FormValues
from klug.core.i18n import current_language, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.energy import dashboard, forecasts, monitoring, planner, service
from klug.energy.calc.scenario import AREAS
from klug.energy.schemas import ScenarioIn
from klug.identity.deps import Principal, public, require
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)
Anyone = Annotated[Principal, Depends(public)]
Operator = Annotated[Principal, Depends(require(Permission.ENERGY_MANAGE))]
PERIOD_NAMES = ("today", "month", "year", "rolling12")
CHART_RESOLUTION = {"today": "hour", "month": "day", "year": "month", "rolling12": "month"}


@router.get("/energie", response_class=HTMLResponse)
def energy_home(
    request: Request, session: SessionDep, _: Anyone, zeitraum: str = "rolling12"
) -> HTMLResponse:
    """The energy programme: renewable share against the goal, the mix now, CO2 avoided."""
    chosen = zeitraum if zeitraum in PERIOD_NAMES else "rolling12"
    now = dt.datetime.now(dt.UTC)
    span = service.period(chosen, now)
    try:
        figures = dashboard.summary(session, span, now)
        mix = dashboard.live_mix(session)
        chart = dashboard.chart(session, span, CHART_RESOLUTION[chosen])
    except dashboard.NotConfigured:
        return render(request, "energy/index.html", {"configured": False})
    rows = _chart_rows(chart["columns"])
    return render(
        request,
        "energy/index.html",
        {
            "configured": True,
            "periods": PERIOD_NAMES,
            "chosen": chosen,
            "figures": figures,
            "goal": figures["goal"],
            "mix": mix,
            "chart": chart,
            "chart_rows": rows,
            "chart_sources": [c for c in chart["columns"] if c not in ("t", "demand_kwh")],
            "resolution": CHART_RESOLUTION[chosen],
            "live_streams": ",".join(str(s) for s in dashboard.live_datastreams(session)),
            "simulated": any(u["simulated"] for u in mix["units"]),
        },
    )


def _chart_rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _scenario_form(params: dict[str, str]) -> tuple[ScenarioIn | None, dict[str, str]]:
    """The planner form's fields → scenario inputs, or the errors per field."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    numbers = {
        "demand_gwh_per_year": "demand_gwh_per_year",
        "added_wind_mw": "added_wind_mw",
        "storage_mwh": "storage_mwh",
        "target_share_pct": "target_share",
    }
    for field, key in numbers.items():
        text = params.get(field, "").strip().replace(",", ".")
        if text:
            try:
                value = float(text)
            except ValueError:
                errors[field] = "number"
                continue
            data[key] = value / 100 if field == "target_share_pct" else value
    added: dict[str, float] = {}
    for area in AREAS:
        field = f"pv_{area.key}"
        text = params.get(field, "").strip().replace(",", ".")
        if text:
            try:
                added[area.key] = float(text)
            except ValueError:
                errors[field] = "number"
    data["added_pv_mwp"] = added
    try:
        body = ScenarioIn.model_validate(data)
        return (None, errors) if errors else (body, {})
    except ValidationError as exc:  # every field's error at once, not one per attempt
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            if loc and loc[0] == "added_pv_mwp" and len(loc) > 1:
                errors[f"pv_{loc[1]}"] = "range"
            elif loc:
                name = "target_share_pct" if loc[0] == "target_share" else loc[0]
                errors[name] = "range"
        return None, errors


@router.get("/energie/prognose", response_class=HTMLResponse)
def forecast_page(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """Tomorrow's load and solar output, with how good such forecasts have been."""
    try:
        data = forecasts.day_ahead(session, dt.datetime.now(dt.UTC))
    except dashboard.NotConfigured:
        return render(request, "energy/forecast.html", {"data": None})
    rows = []
    pv_data = data.get("pv") or {}
    for i, hour in enumerate(data["hours"]):
        load = data["load"]["kwh"][i] if data.get("load") else None
        solar = sum(v[i] for v in pv_data.get("kw", {}).values()) if pv_data else None
        rows.append({"hour": hour[11:16], "load_kwh": load, "pv_kw": solar})
    names = {r.key: r.name for r in service.units(session)}
    return render(
        request,
        "energy/forecast.html",
        {"data": data, "rows": rows, "pv": pv_data, "names": names},
    )


@router.get("/energie/szenario", response_class=HTMLResponse)
def scenario_page(request: Request, _: Anyone) -> HTMLResponse:
    """What does it take to reach 50 %? A planning year for a chosen mix."""
    params = dict(request.query_params)
    body, errors = _scenario_form(params) if params else (ScenarioIn(), {})
    result = None
    if body is not None:
        try:
            result = planner.run_json(body)
        except planner.ScenarioError as exc:
            errors["added_pv"] = str(exc)
    return render(
        request,
        "energy/scenario.html",
        {
            "areas": AREAS,
            "params": params,
            "errors": errors,
            "result": result,
            "defaults": ScenarioIn(),
            "csv_query": request.url.query,
        },
        status_code=400 if errors else 200,
    )


@router.get("/energie/szenario.csv", response_class=Response)
def scenario_csv(request: Request, _: Anyone) -> Response:
    """The planning year hour by hour (CSV), for the planner form's inputs."""
    body, errors = _scenario_form(dict(request.query_params))
    if body is None:
        return Response(
            "Eingaben prüfen / check the inputs: " + ", ".join(sorted(errors)),
            status_code=400,
            media_type="text/plain; charset=utf-8",
        )
    try:
        result = planner.run(body)
    except planner.ScenarioError as exc:
        return Response(str(exc), status_code=400, media_type="text/plain; charset=utf-8")
    return Response(
        planner.to_csv(body, result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="energie-szenario.csv"'},
    )


@router.get("/energie/daten.csv", response_class=Response)
def dashboard_csv(session: SessionDep, _: Anyone, zeitraum: str = "rolling12") -> Response:
    """The dashboard chart's data as CSV."""
    chosen = zeitraum if zeitraum in PERIOD_NAMES else "rolling12"
    span = service.period(chosen, dt.datetime.now(dt.UTC))
    try:
        chart = dashboard.chart(session, span, CHART_RESOLUTION[chosen])
    except dashboard.NotConfigured:
        return Response("", status_code=404)
    return dashboard.csv_response(chart["columns"], f"energie-{chosen}.csv")


@router.get("/energie/solar", response_class=HTMLResponse)
def solar_page(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """The city's solar plants: expected against actual, performance ratio per day."""
    try:
        found = monitoring.reports(session, dt.datetime.now(dt.UTC))
    except dashboard.NotConfigured:
        found = []
    plants = [{"unit": r.unit, "basis": r.basis, "days": r.days()} for r in found]
    return render(request, "energy/solar.html", {"plants": plants})


@router.get("/console/energie", response_class=HTMLResponse)
def console_page(request: Request, session: SessionDep, _: Operator) -> HTMLResponse:
    """Operators: units and meters, data quality, alerts to acknowledge."""
    units = service.units(session)
    alerts = monitoring.recent_alerts(session)
    try:
        span = service.period("custom", dt.datetime.now(dt.UTC), *_last_week())
        snap = dashboard.snapshot(session)
        completeness = service.accounts(session, snap.rows, snap.factors, span).figures
        by_meter = completeness.completeness_by_meter
    except dashboard.NotConfigured:
        by_meter = {}
    return render(
        request,
        "energy/console.html",
        {
            "units": units,
            "alerts": alerts,
            "names": {u.id: u.name for u in units},
            "completeness": by_meter,
            "configured": any(u.role == "demand" for u in units),
            "message": request.query_params.get("ok"),
        },
    )


def _last_week() -> tuple[dt.date, dt.date]:
    today = dt.datetime.now(service.BERLIN).date()
    return today - dt.timedelta(days=7), today + dt.timedelta(days=1)


@router.post("/console/energie/meldungen/{alert_id}/quittieren", response_class=HTMLResponse)
def acknowledge(
    request: Request, alert_id: int, session: SessionDep, _values: FormValues, principal: Operator
) -> Response:
    """Acknowledge an alert (audited): a person has seen it and takes care of it."""
    if not monitoring.acknowledge(session, alert_id, principal):
        raise NotFound
    return RedirectResponse(localise_path("/console/energie", current_language()), status_code=303)

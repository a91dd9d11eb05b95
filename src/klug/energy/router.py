"""JSON API of the energy programme under ``/api/energy/`` (CSV for every chart)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from starlette.responses import Response

from klug.core.db import SessionDep
from klug.core.errors import Problem
from klug.core.jsontext import JsonResponse
from klug.core.routes import Router
from klug.energy import configuration, dashboard, forecasts, planner, service
from klug.energy.schemas import ScenarioIn
from klug.identity.deps import Principal, public, require
from klug.identity.permissions import Permission

router = Router(tags=["energy"])
Anyone = Annotated[Principal, Depends(public)]
CanManage = Annotated[Principal, Depends(require(Permission.ENERGY_MANAGE))]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _span(period: str, from_: dt.date | None, to: dt.date | None) -> service.Period:
    try:
        return service.period(period, _now(), from_, to)
    except service.PeriodError as exc:
        raise Problem(400, str(exc)) from None


def _configured() -> Problem:
    return Problem(404, "the energy programme has no configuration yet (no demand meter)")


PeriodQuery = Annotated[
    str, Query(description="today, month, year, rolling12 or custom (with from/to)")
]
FromQuery = Annotated[dt.date | None, Query(alias="from", description="custom: first day")]
ToQuery = Annotated[dt.date | None, Query(description="custom: day after the last")]


@router.get("/api/energy/summary", response_class=JsonResponse)
def summary(
    session: SessionDep,
    _: Anyone,
    period: PeriodQuery = "rolling12",
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Demand, renewable generation by source, share, hour-matched share, CO2 avoided and the
    goal for a period; every figure with the completeness of its data."""
    span = _span(period, from_, to)
    try:
        return JsonResponse(dashboard.summary(session, span, _now()))
    except dashboard.NotConfigured:
        raise _configured() from None


@router.get("/api/energy/forecast", response_class=JsonResponse)
def forecast(session: SessionDep, _: Anyone) -> Response:
    """Tomorrow (local day) hour by hour: city load and PV per plant, each with how good
    such forecasts were over the last 14 days (load: MAPE; PV: nRMSE in % of kWp)."""
    try:
        return JsonResponse(forecasts.day_ahead(session, _now()))
    except dashboard.NotConfigured:
        raise _configured() from None


@router.get("/api/energy/mix", response_class=JsonResponse)
def mix(session: SessionDep, _: Anyone) -> Response:
    """Power right now by source, from each meter's latest value (stale meters not summed)."""
    try:
        return JsonResponse(dashboard.live_mix(session))
    except dashboard.NotConfigured:
        raise _configured() from None


def _chart(session: Any, period: str, from_: Any, to: Any, resolution: str) -> dict[str, Any]:
    span = _span(period, from_, to)
    try:
        return dashboard.chart(session, span, resolution)
    except dashboard.NotConfigured:
        raise _configured() from None
    except service.PeriodError as exc:
        raise Problem(400, str(exc)) from None


@router.get("/api/energy/series", response_class=JsonResponse)
def chart_series(
    session: SessionDep,
    _: Anyone,
    period: PeriodQuery = "month",
    from_: FromQuery = None,
    to: ToQuery = None,
    resolution: Annotated[str, Query(description="hour, day or month")] = "day",
) -> Response:
    """Demand and generation by source (kWh) per hour, day or month; null marks a gap."""
    return JsonResponse(_chart(session, period, from_, to, resolution))


@router.get("/api/energy/series.csv", response_class=Response)
def chart_csv(
    session: SessionDep,
    _: Anyone,
    period: PeriodQuery = "month",
    from_: FromQuery = None,
    to: ToQuery = None,
    resolution: Annotated[str, Query(description="hour, day or month")] = "day",
) -> Response:
    """The chart data as CSV (empty cell = gap)."""
    data = _chart(session, period, from_, to, resolution)
    return dashboard.csv_response(data["columns"], f"energie-{period}-{resolution}.csv")


@router.post("/api/energy/scenario", response_class=JsonResponse)
def scenario(body: ScenarioIn, _: Anyone) -> Response:
    """One planning year (8,760 h) for a generation mix: shares, curtailment, CO2, land use."""
    try:
        return JsonResponse(planner.run_json(body))
    except planner.ScenarioError as exc:
        raise Problem(400, str(exc)) from None


@router.post("/api/energy/scenario.csv", response_class=Response)
def scenario_csv(body: ScenarioIn, _: Anyone) -> Response:
    """The planning year hour by hour as CSV (inputs in the first lines as comments)."""
    try:
        result = planner.run(body)
    except planner.ScenarioError as exc:
        raise Problem(400, str(exc)) from None
    return Response(
        planner.to_csv(body, result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="energie-szenario.csv"'},
    )


@router.get("/api/energy/config")
def get_config(session: SessionDep, _: CanManage) -> dict[str, Any]:
    """The energy configuration (units, meters, goal, emission factors, weather)."""
    config = service.current_config(session)
    if config is None:
        raise _configured()
    return config.model_dump(mode="json")


@router.put("/api/energy/config")
async def put_config(request: Request, session: SessionDep, principal: CanManage) -> dict[str, Any]:
    """Replace the configuration: JSON, or YAML with ``Content-Type: application/yaml``."""
    raw = await request.body()
    try:
        config = configuration.parse_config(raw)
        configuration.replace(session, config, actor=principal.actor)
    except configuration.ConfigTextError as exc:
        status = 413 if exc.reason == "too_large" else 400
        extra: dict[str, Any] = {} if exc.problems is None else {"errors": exc.problems}
        raise Problem(status, str(exc), **extra) from None
    except service.ConfigError as exc:
        raise Problem(400, str(exc)) from None
    return config.model_dump(mode="json")

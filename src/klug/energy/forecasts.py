"""Tomorrow's PV per plant and city load, with the backtest figures that say how good
such forecasts have been here (rolling origin over the last two weeks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from klug.energy import dashboard, service
from klug.energy.calc import forecast, pv
from klug.sensors import series
from klug.sensors.hourly import read_counters

HISTORY_DAYS = 42  # four weeks of training before each of the 14 backtest days
BACKTEST_DAYS = 14


def _plants(snap: dashboard.Snapshot) -> list[tuple[Any, pv.Plant]]:
    return [
        (
            row,
            pv.Plant(
                row.key,
                row.peak_power_kw or 0.0,
                tilt_deg=row.tilt_deg if row.tilt_deg is not None else 30.0,
                azimuth_deg=row.azimuth_deg if row.azimuth_deg is not None else 180.0,
                losses_pct=row.losses_pct if row.losses_pct is not None else 14.0,
            ),
        )
        for row in snap.rows
        if row.role == "generation"
        and row.source == "pv"
        and row.status == "operating"
        and row.peak_power_kw
        and (row.power_datastream_id or row.energy_datastream_id)
    ]


# Weather forecast archives the PV forecast can use, best first (see calc.forecast).
FORECAST_INPUTS = {
    "ghi_forecast_datastream": "ghi_forecast_w_m2",
    "cloud_cover_forecast_datastream": "cloud_cover_pct",
}


def _forecast_streams(snap: dashboard.Snapshot) -> dict[str, int]:
    weather = snap.settings.get("weather") or {}
    return {
        arg: int(weather[field]) for field, arg in FORECAST_INPUTS.items() if weather.get(field)
    }


def day_ahead(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Forecasts for tomorrow (local) and their backtests; memoised like the summary."""
    snap = dashboard.snapshot(session)
    watched = service.meter_ids(snap.rows) + sorted(_forecast_streams(snap).values())
    counters = read_counters(session, watched)
    today = now.astimezone(service.BERLIN).date()
    key = ("forecast", today, snap.fingerprint, tuple(sorted(counters.items())))
    return dashboard.memo_for(session).get_or_compute(
        key, lambda: _day_ahead(session, snap, today, now, counters)
    )


def _day_ahead(
    session: Session,
    snap: dashboard.Snapshot,
    today: dt.date,
    now: dt.datetime,
    counters: dict[int, tuple[int, int]],
) -> dict[str, Any]:
    tomorrow = today + dt.timedelta(days=1)
    span = service.period("custom", now, today - dt.timedelta(days=HISTORY_DAYS), today)
    result = service.accounts(session, snap.rows, snap.factors, span, counters=counters)
    hours = pd.to_datetime(result.hours, unit="us", utc=True)
    target_hours = forecast.day_hours(tomorrow)
    out: dict[str, Any] = {
        "day": tomorrow.isoformat(),
        "hours": [t.isoformat() for t in target_hours.tz_convert(service.BERLIN)],
        "history_days": HISTORY_DAYS,
        "backtest_days": BACKTEST_DAYS,
    }
    demand = result.demand.kwh
    if np.isfinite(demand).sum() >= 7 * 24:
        load_kwh = forecast.load_day_ahead(hours, demand, tomorrow)
        load_test = forecast.backtest_load(hours, demand, days=BACKTEST_DAYS)
        out["load"] = {
            "kwh": [None if np.isnan(v) else round(float(v), 1) for v in load_kwh.to_numpy()],
            "backtest_mape_pct": _round(load_test.mape_pct),
            "baseline_mape_pct": _round(load_test.baseline_mape_pct),
            "days_evaluated": load_test.days_evaluated,
        }
    else:
        out["load"] = None  # less than a week of demand data: no honest forecast
    plants = _plants(snap)
    by_key = {g.name: g for _, g in result.units}
    if plants:
        actual = pd.DataFrame(
            {p.name: by_key[p.name].hourly.kwh for _, p in plants if p.name in by_key},
            index=hours,
        )
        usable = [p for _, p in plants if p.name in actual]
        site = pv.location(*pv.KAISERSLAUTERN)
        clearness = forecast.recent_clearness(usable, actual, site=site)
        mid = target_hours + forecast.HALF_HOUR
        archived, ahead = _weather_forecasts(session, snap, hours, target_hours, now)
        made = forecast.pv_day_ahead(usable, mid, site=site, recent_clearness=clearness, **ahead)
        test = forecast.backtest_pv(usable, actual, site=site, days=BACKTEST_DAYS, **archived)
        out["pv"] = {
            "method": made.method,
            "kw": {
                name: [round(float(v), 1) for v in made.ac_kw[name].to_numpy()]
                for name in made.ac_kw.columns
            },
            "clearness": {k: _round(v, 3) for k, v in (made.clearness or {}).items()},
            "backtest_nrmse_pct_of_capacity": {
                k: _round(v) for k, v in test.nrmse_pct_of_capacity.items()
            },
            "backtest_fleet_nrmse_pct_of_capacity": _round(test.fleet_nrmse_pct_of_capacity),
            "days_evaluated": test.days_evaluated,
            "backtest_days_by_method": dict(sorted(test.days_by_method.items())),
        }
    else:
        out["pv"] = None
    return out


def _weather_forecasts(
    session: Session,
    snap: dashboard.Snapshot,
    history: pd.DatetimeIndex,
    tomorrow: pd.DatetimeIndex,
    now: dt.datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The configured forecast archives, aligned with the history's hours as they were
    known before each local day began (for the backtest), and with tomorrow's hours as
    known now."""
    streams = _forecast_streams(snap)
    archived: dict[str, Any] = {}
    ahead: dict[str, Any] = {}
    if not streams or not len(history):
        return archived, ahead
    hist_us = history.as_unit("us").asi8
    next_us = tomorrow.as_unit("us").asi8
    midnights = history.tz_convert(service.BERLIN).normalize().as_unit("us").asi8
    now_us = int(now.timestamp() * 1_000_000)
    for arg, ds in streams.items():
        found = series.issued(
            session, ds, start=int(hist_us[0]), end=int(next_us[-1]) + forecast.HOUR_US
        )
        known = (found.valid, found.issued, found.value)
        archived[arg] = forecast.as_known_at(hist_us, midnights, *known)
        ahead[arg] = forecast.as_known_at(next_us, now_us, *known)
    return archived, ahead


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)

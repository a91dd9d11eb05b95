"""Day-ahead PV per plant on the best input at hand, and its rolling-origin backtest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pvlib.location import Location

from klug.energy.calc import pv
from klug.energy.calc.forecast.common import (
    HALF_HOUR,
    PvMethod,
    _floats,
    _last_whole_days,
    _local_dates,
    _part,
    nrmse_pct,
    utc_hours,
)

# Larson et al. 2016, "Day-ahead forecasting of solar power output from photovoltaic
# plants in the American Southwest", Renewable Energy 91, 11-20: GHI falls linearly with
# total cloud cover to 35 % of clear sky. pvlib had it as
# ``ForecastModel.cloud_cover_to_ghi_linear`` until pvlib.forecast was removed (0.11).
OVERCAST_GHI_PCT = 35.0


# Below this many daylight hours a clearness index is noise, not a sky.
MIN_CLEARNESS_HOURS = 10


def cloud_cover_to_ghi_w_m2(
    cloud_cover_pct: ArrayLike, ghi_clear_w_m2: ArrayLike, offset_pct: float = OVERCAST_GHI_PCT
) -> NDArray[np.float64]:
    """GHI under a forecast total cloud cover (Larson et al. 2016, linear model) [W/m²].

    0 % cover gives clear-sky GHI, 100 % gives ``offset_pct`` % of it.
    """
    cover = np.clip(np.asarray(cloud_cover_pct, dtype=np.float64), 0.0, 100.0) / 100.0
    offset = offset_pct / 100.0
    return np.asarray((offset + (1.0 - offset) * (1.0 - cover)) * np.asarray(ghi_clear_w_m2))


def clearness_index(
    actual_kwh: ArrayLike, clear_sky_kwh: ArrayLike, *, min_hours: int = MIN_CLEARNESS_HOURS
) -> float | None:
    """Σ measured / Σ clear-sky expected energy over hours with a positive expectation.

    A ratio of sums weights hours by energy, so dawn and dusk cannot dominate. It absorbs
    the plant's own bias (soiling, shading) with the sky's, hence one per plant. Unknown
    hours are skipped; None with fewer than ``min_hours`` usable hours.
    """
    a, c = np.asarray(actual_kwh, dtype=np.float64), np.asarray(clear_sky_kwh, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(c) & (c > 0)
    if ok.sum() < min_hours:
        return None
    return float(a[ok].sum() / c[ok].sum())


@dataclass(frozen=True)
class PvForecast:
    """AC power per plant (columns) [kW] and how it was made; ``clearness`` is the factor
    on each plant's clear sky (None: that plant is plain clear sky)."""

    ac_kw: pd.DataFrame
    method: PvMethod
    clearness: dict[str, float | None] | None = None


def pv_day_ahead(
    plants: Sequence[pv.Plant],
    times: pd.DatetimeIndex,
    *,
    site: Location | None = None,
    ghi_forecast_w_m2: ArrayLike | None = None,
    cloud_cover_pct: ArrayLike | None = None,
    temp_air_c: ArrayLike | None = None,
    recent_clearness: float | Mapping[str, float | None] | None = None,
) -> PvForecast:
    """Day-ahead AC power of each plant at ``times`` (tz-aware instants) [kW].

    Uses the first complete input: irradiance forecast [W/m²], cloud cover [%], clear sky
    × recent clearness (:func:`recent_clearness`), clear sky. An input with a gap is not
    used, so no method covers only part of the horizon. For hourly energy, pass mid-hours.
    """
    site = site or pv.location(*pv.KAISERSLAUTERN)
    n = len(times)
    temp = _floats(temp_air_c, n, "temp_air_c")
    ghi = _floats(ghi_forecast_w_m2, n, "ghi_forecast_w_m2")
    cloud = _floats(cloud_cover_pct, n, "cloud_cover_pct")
    if ghi is not None and np.isfinite(ghi).all():
        ac = pv.expected_power(plants, times, site=site, ghi_w_m2=ghi, temp_air_c=temp).ac_kw
        return PvForecast(ac, "irradiance")
    if cloud is not None and np.isfinite(cloud).all():
        clear_ghi = site.get_clearsky(times)["ghi"].to_numpy(dtype=np.float64)
        ghi = cloud_cover_to_ghi_w_m2(cloud, clear_ghi)
        ac = pv.expected_power(plants, times, site=site, ghi_w_m2=ghi, temp_air_c=temp).ac_kw
        return PvForecast(ac, "cloud_cover")
    clear = pv.expected_power(plants, times, site=site, temp_air_c=temp).ac_kw
    if recent_clearness is None:
        return PvForecast(clear, "clear_sky")
    if isinstance(recent_clearness, Mapping):
        factors = {p.name: recent_clearness.get(p.name) for p in plants}
    else:
        factors = {p.name: float(recent_clearness) for p in plants}
    if any(k is not None and not (np.isfinite(k) and k >= 0) for k in factors.values()):
        raise ValueError(f"clearness must be finite and non-negative: {factors}")
    if all(k is None for k in factors.values()):
        return PvForecast(clear, "clear_sky")
    scale = pd.Series({name: 1.0 if k is None else k for name, k in factors.items()})
    return PvForecast(clear * scale, "clear_sky_x_clearness", factors)


def recent_clearness(
    plants: Sequence[pv.Plant],
    actual_kwh: pd.DataFrame,
    *,
    site: Location | None = None,
    days: int = 7,
    temp_air_c: ArrayLike | None = None,
) -> dict[str, float | None]:
    """Clearness of each plant over the last ``days`` local days of ``actual_kwh``.

    ``actual_kwh``: hourly energy, tz-aware hour starts, a column per plant name (NaN: gap).
    """
    idx = utc_hours(pd.DatetimeIndex(actual_kwh.index))
    dates = _local_dates(idx)
    window = np.isin(dates, np.unique(dates)[-days:])
    if not window.any():
        return {p.name: None for p in plants}
    temp = _part(_floats(temp_air_c, len(idx), "temp_air_c"), window)
    clear = pv.expected_power(plants, idx[window] + HALF_HOUR, site=site, temp_air_c=temp).ac_kw
    return {
        p.name: clearness_index(actual_kwh[p.name].to_numpy(np.float64)[window], clear[p.name])
        for p in plants
    }


@dataclass(frozen=True)
class PvBacktest:
    """Day-ahead skill per plant and of the fleet (sum), RMSE in % of installed kWp."""

    nrmse_pct_of_capacity: dict[str, float | None]
    fleet_nrmse_pct_of_capacity: float | None
    hours_evaluated: dict[str, int]
    days_evaluated: int
    days_by_method: dict[PvMethod, int]


def backtest_pv(
    plants: Sequence[pv.Plant],
    actual_kwh: pd.DataFrame,
    *,
    site: Location | None = None,
    days: int = 28,
    clearness_days: int = 7,
    ghi_forecast_w_m2: ArrayLike | None = None,
    cloud_cover_pct: ArrayLike | None = None,
    temp_air_c: ArrayLike | None = None,
) -> PvBacktest:
    """Rolling-origin backtest of :func:`pv_day_ahead` over the last ``days`` whole days.

    ``actual_kwh`` as in :func:`recent_clearness`; archived forecasts (irradiance [W/m²],
    cloud cover [%]) and temperature align with its rows. Each day gets the method
    :func:`pv_day_ahead` would have chosen, with clearness from the ``clearness_days``
    before it. Errors count **daylight hours only** (sun up at mid-hour): night hours
    would add free zeros and flatter the figure.
    """
    site = site or pv.location(*pv.KAISERSLAUTERN)
    idx = utc_hours(pd.DatetimeIndex(actual_kwh.index))
    names = [p.name for p in plants]
    actual = actual_kwh[names].to_numpy(dtype=np.float64)
    n = len(idx)
    temp = _floats(temp_air_c, n, "temp_air_c")
    mid = idx + HALF_HOUR
    clear = pv.expected_power(plants, mid, site=site, temp_air_c=temp)
    clear_kw = clear.ac_kw[names].to_numpy()
    daylight = clear.sun_elevation_deg.to_numpy() > 0
    ghi = _floats(ghi_forecast_w_m2, n, "ghi_forecast_w_m2")
    cloud = _floats(cloud_cover_pct, n, "cloud_cover_pct")
    dates = _local_dates(idx)
    forecast = np.full_like(actual, np.nan)
    methods: Counter[PvMethod] = Counter()
    evaluated = _last_whole_days(idx, days)
    for day in evaluated:
        today = dates == day
        if not np.isfinite(actual[today & daylight]).any():
            continue
        earlier = (dates >= day - np.timedelta64(clearness_days, "D")) & (dates < day)
        clearness = {
            name: clearness_index(actual[earlier, j], clear_kw[earlier, j])
            for j, name in enumerate(names)
        }
        result = pv_day_ahead(
            plants,
            mid[today],
            site=site,
            ghi_forecast_w_m2=_part(ghi, today),
            cloud_cover_pct=_part(cloud, today),
            temp_air_c=_part(temp, today),
            recent_clearness=clearness,
        )
        forecast[today] = result.ac_kw[names].to_numpy()
        methods[result.method] += 1
    rows = daylight & np.isin(dates, evaluated)
    a, f = actual[rows], forecast[rows]
    per_plant = {
        p.name: nrmse_pct(a[:, j], f[:, j], p.peak_power_kwp) for j, p in enumerate(plants)
    }
    hours = dict(zip(names, (np.isfinite(a) & np.isfinite(f)).sum(axis=0).tolist(), strict=True))
    # A plain sum is NaN unless every plant is known: the fleet's hour needs all of them.
    fleet = nrmse_pct(a.sum(axis=1), f.sum(axis=1), sum(p.peak_power_kwp for p in plants))
    return PvBacktest(per_plant, fleet, hours, sum(methods.values()), dict(methods))

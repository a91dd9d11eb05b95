"""Day-ahead forecasts of PV output per plant and of the city's load, and their backtests.

Archived weather forecasts are read as they were known before each day (archive.py).
PV: the plant model (:func:`.pv.expected_power`) on the best input at hand — irradiance
forecast, else cloud-cover forecast (Larson et al. 2016), else clear sky × the plant's
recent clearness, else clear sky. The method travels with the forecast: a clear-sky
upper bound must never pass for a weather forecast.
Load: least squares on hourly history — a level per local hour and day type (workday,
Saturday, Sunday or Rhineland-Palatinate holiday, as in the BDEW profiles) plus heating
and cooling degree hours. Backtests are rolling-origin: each day is forecast from data
before it only. Unknown hours (NaN) are skipped everywhere, never read as zero.
"""

from __future__ import annotations

from klug.energy.calc.forecast.archive import HOUR_US, as_known_at
from klug.energy.calc.forecast.common import (
    HALF_HOUR,
    TIME_ZONE,
    Hours,
    PvMethod,
    day_hours,
    mape_pct,
    nrmse_pct,
    utc_hours,
)
from klug.energy.calc.forecast.demand import (
    COOLING_BASE_C,
    HEATING_BASE_C,
    MIN_TRAINING_HOURS,
    SATURDAY,
    SUNDAY_OR_HOLIDAY,
    WORKDAY,
    LoadBacktest,
    LoadModel,
    backtest_load,
    day_type,
    load_day_ahead,
)
from klug.energy.calc.forecast.solar import (
    MIN_CLEARNESS_HOURS,
    OVERCAST_GHI_PCT,
    PvBacktest,
    PvForecast,
    backtest_pv,
    clearness_index,
    cloud_cover_to_ghi_w_m2,
    pv_day_ahead,
    recent_clearness,
)

__all__ = [
    "COOLING_BASE_C",
    "HALF_HOUR",
    "HEATING_BASE_C",
    "HOUR_US",
    "MIN_CLEARNESS_HOURS",
    "MIN_TRAINING_HOURS",
    "OVERCAST_GHI_PCT",
    "SATURDAY",
    "SUNDAY_OR_HOLIDAY",
    "TIME_ZONE",
    "WORKDAY",
    "Hours",
    "LoadBacktest",
    "LoadModel",
    "PvBacktest",
    "PvForecast",
    "PvMethod",
    "as_known_at",
    "backtest_load",
    "backtest_pv",
    "clearness_index",
    "cloud_cover_to_ghi_w_m2",
    "day_hours",
    "day_type",
    "load_day_ahead",
    "mape_pct",
    "nrmse_pct",
    "pv_day_ahead",
    "recent_clearness",
    "utc_hours",
]

"""Day-ahead city load (hour of day × day type with RP holidays, degree hours) and its backtest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from klug.energy.calc import load
from klug.energy.calc.forecast.common import (
    TIME_ZONE,
    Hours,
    _floats,
    _last_whole_days,
    _local_dates,
    _part,
    _series,
    day_hours,
    mape_pct,
    utc_hours,
)

# Degree-hour bases: 15 °C is the heating limit of the German degree-day figures (G20/15);
# above ~22 °C cooling starts to show in electricity demand.
HEATING_BASE_C = 15.0


COOLING_BASE_C = 22.0


WORKDAY, SATURDAY, SUNDAY_OR_HOLIDAY = 0, 1, 2


_SLOTS = 24 * 3  # hour of day × day type


# A week gives every hour of every day type at least one sample.
MIN_TRAINING_HOURS = 7 * 24


def day_type(hours_utc: Hours) -> NDArray[np.int8]:
    """0 workday, 1 Saturday, 2 Sunday or public holiday in Rhineland-Palatinate (local)."""
    idx = utc_hours(hours_utc)
    dates = _local_dates(idx)
    out = np.zeros(len(idx), dtype=np.int8)
    years = np.unique(dates.astype("datetime64[Y]").astype(np.int64) + 1970).tolist()
    holidays = np.array(list(load.rhineland_palatinate_holidays(years)), dtype="datetime64[D]")
    weekday = idx.tz_convert(TIME_ZONE).weekday.to_numpy()
    out[weekday == 5] = SATURDAY
    out[(weekday == 6) | np.isin(dates, holidays)] = SUNDAY_OR_HOLIDAY
    return out


def _design(idx: pd.DatetimeIndex, temp_c: NDArray[np.float64] | None) -> NDArray[np.float64]:
    # On the 25-hour October day local hour 2 occurs twice and shares its level; on the
    # 23-hour March day it does not occur at all.
    hour = idx.tz_convert(TIME_ZONE).hour.to_numpy()
    slot = hour * 3 + day_type(idx)
    columns = _SLOTS + (0 if temp_c is None else 2)
    x = np.zeros((len(idx), columns))
    x[np.arange(len(idx)), slot] = 1.0
    if temp_c is not None:
        x[:, _SLOTS] = np.maximum(0.0, HEATING_BASE_C - temp_c)
        x[:, _SLOTS + 1] = np.maximum(0.0, temp_c - COOLING_BASE_C)
    return x


@dataclass(frozen=True)
class LoadModel:
    """Hourly load [kWh]: a level per slot (local hour × 3 + day type), then with
    temperature kWh per heating and cooling degree hour. A slot never seen in training
    forecasts NaN, not a made-up zero."""

    coef_kwh: NDArray[np.float64]
    slot_seen: NDArray[np.bool_]
    uses_temperature: bool
    training_hours: int

    @classmethod
    def fit(
        cls, hours_utc: Hours, load_kwh: ArrayLike, temp_c: ArrayLike | None = None
    ) -> LoadModel:
        """Least-squares fit on hourly history, skipping hours of unknown load or temperature."""
        idx = utc_hours(hours_utc)
        y = _series(load_kwh, len(idx), "load_kwh")
        return cls._from_design(_design(idx, _floats(temp_c, len(idx), "temp_c")), y)

    @classmethod
    def _from_design(cls, x: NDArray[np.float64], y: NDArray[np.float64]) -> LoadModel:
        ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
        if ok.sum() < MIN_TRAINING_HOURS:
            raise ValueError(f"{int(ok.sum())} usable hours, at least {MIN_TRAINING_HOURS} needed")
        # Normal equations (74 × 74) instead of an SVD of the whole history: cheap enough to
        # refit every backtest day, and the one-hot design is well conditioned. lstsq
        # still gives the minimum-norm answer for unseen slots.
        xs = x[ok]
        coef, *_ = np.linalg.lstsq(xs.T @ xs, xs.T @ y[ok], rcond=None)
        seen = np.asarray(x[ok, :_SLOTS].any(axis=0), dtype=np.bool_)
        return cls(np.asarray(coef, dtype=np.float64), seen, x.shape[1] > _SLOTS, int(ok.sum()))

    @property
    def heating_kwh_per_k(self) -> float | None:
        """Extra load per heating degree hour [kWh per K·h]; None without temperature."""
        return float(self.coef_kwh[_SLOTS]) if self.uses_temperature else None

    @property
    def cooling_kwh_per_k(self) -> float | None:
        """Extra load per cooling degree hour [kWh per K·h]; None without temperature."""
        return float(self.coef_kwh[_SLOTS + 1]) if self.uses_temperature else None

    def predict(self, hours_utc: Hours, temp_c: ArrayLike | None = None) -> NDArray[np.float64]:
        """Forecast load [kWh per hour]; a model fitted without temperature ignores ``temp_c``."""
        idx = utc_hours(hours_utc)
        temp = _floats(temp_c, len(idx), "temp_c")
        if self.uses_temperature and temp is None:
            raise ValueError("the model uses temperature: give the temperature of these hours")
        return self._predict_design(_design(idx, temp if self.uses_temperature else None))

    def _predict_design(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.asarray(x @ self.coef_kwh, dtype=np.float64)
        out[~self.slot_seen[x[:, :_SLOTS].argmax(axis=1)]] = np.nan
        return out


def load_day_ahead(
    hours_utc: Hours,
    load_kwh: ArrayLike,
    day: date,
    *,
    temp_c: ArrayLike | None = None,
    temp_forecast_c: ArrayLike | None = None,
    train_days: int = 28,
) -> pd.Series:
    """Load of local day ``day`` [kWh per UTC hour], from the ``train_days`` before it.

    A sliding window of four weeks (four of each weekday) rather than all history: the
    daily shape of the load changes with the season, and a recent window follows it.
    """
    idx = utc_hours(hours_utc)
    dates = _local_dates(idx)
    first = np.datetime64(day) - np.timedelta64(train_days, "D")
    window = (dates >= first) & (dates < np.datetime64(day))
    y = _series(load_kwh, len(idx), "load_kwh")
    model = LoadModel.fit(
        idx[window], y[window], _part(_floats(temp_c, len(idx), "temp_c"), window)
    )
    hours = day_hours(day)
    return pd.Series(model.predict(hours, temp_forecast_c), index=hours, name="load_kwh")


@dataclass(frozen=True)
class LoadBacktest:
    """Day-ahead skill of the load model; ``baseline_mape_pct`` is same-hour-yesterday."""

    mape_pct: float | None
    baseline_mape_pct: float | None
    days_evaluated: int
    hours_evaluated: int


def backtest_load(
    hours_utc: Hours,
    load_kwh: ArrayLike,
    *,
    temp_c: ArrayLike | None = None,
    days: int = 28,
    train_days: int = 28,
) -> LoadBacktest:
    """Rolling-origin backtest of :func:`load_day_ahead` over the last ``days`` whole days.

    The day's measured temperature stands in for its forecast (so weather-forecast error
    is excluded). MAPE pools the hours; days without any (too little history, no data)
    are not counted. The baseline is the load 24 h earlier.
    """
    idx = utc_hours(hours_utc)
    y = _series(load_kwh, len(idx), "load_kwh")
    temp = _floats(temp_c, len(idx), "temp_c")
    x = _design(idx, temp)
    dates = _local_dates(idx)
    previous = pd.Series(y, index=idx).reindex(idx - pd.Timedelta(hours=24)).to_numpy()
    actual, forecast, baseline, counted = [], [], [], 0
    for day in _last_whole_days(idx, days):
        train = (dates >= day - np.timedelta64(train_days, "D")) & (dates < day)
        today = (dates == day) & np.isfinite(y)
        try:
            model = LoadModel._from_design(x[train], y[train])
        except ValueError:
            continue
        predicted = model._predict_design(x[today])
        kept = np.isfinite(predicted)
        if not kept.any():
            continue
        counted += 1
        actual.append(y[today][kept])
        forecast.append(predicted[kept])
        baseline.append(previous[today][kept])
    if not counted:
        return LoadBacktest(None, None, 0, 0)
    a = np.concatenate(actual)
    return LoadBacktest(
        mape_pct(a, np.concatenate(forecast)),
        mape_pct(a, np.concatenate(baseline)),
        counted,
        int(np.count_nonzero(a)),
    )

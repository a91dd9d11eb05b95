"""Day-ahead forecasts of PV output per plant and of the city's load, and their backtests.

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

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pvlib.location import Location

from klug.energy.calc import load, pv

TIME_ZONE = pv.TIME_ZONE
# Hourly energies are labelled by the start of their hour; the mean power of the hour
# is best approximated by the model's power at the middle of the hour.
HALF_HOUR = pd.Timedelta(minutes=30)

# Larson et al. 2016, "Day-ahead forecasting of solar power output from photovoltaic
# plants in the American Southwest", Renewable Energy 91, 11-20: GHI falls linearly with
# total cloud cover to 35 % of clear sky. pvlib had it as
# ``ForecastModel.cloud_cover_to_ghi_linear`` until pvlib.forecast was removed (0.11).
OVERCAST_GHI_PCT = 35.0

# Degree-hour bases: 15 °C is the heating limit of the German degree-day figures (G20/15);
# above ~22 °C cooling starts to show in electricity demand.
HEATING_BASE_C = 15.0
COOLING_BASE_C = 22.0

WORKDAY, SATURDAY, SUNDAY_OR_HOLIDAY = 0, 1, 2
_SLOTS = 24 * 3  # hour of day × day type
# A week gives every hour of every day type at least one sample.
MIN_TRAINING_HOURS = 7 * 24
# Below this many daylight hours a clearness index is noise, not a sky.
MIN_CLEARNESS_HOURS = 10

PvMethod = Literal["irradiance", "cloud_cover", "clear_sky_x_clearness", "clear_sky"]
Hours: TypeAlias = pd.DatetimeIndex | NDArray[np.int64]


def utc_hours(hours: Hours) -> pd.DatetimeIndex:
    """Hours as a UTC index: a tz-aware index, or ``int64`` µs since the epoch."""
    if isinstance(hours, pd.DatetimeIndex):
        if hours.tz is None:
            raise ValueError("hours must be timezone-aware")
        return hours.tz_convert("UTC")
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(hours, dtype=np.int64), unit="us", utc=True))


def day_hours(day: date) -> pd.DatetimeIndex:
    """The UTC hours of a local calendar day in Europe/Berlin (23, 24 or 25 of them)."""
    start = pd.Timestamp(day).tz_localize(TIME_ZONE)
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(TIME_ZONE)
    return pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq="h", inclusive="left")


def _local_dates(idx: pd.DatetimeIndex) -> NDArray[np.datetime64]:
    wall = idx.tz_convert(TIME_ZONE).tz_localize(None)
    return np.asarray(wall.to_numpy().astype("datetime64[D]"))


def _last_whole_days(idx: pd.DatetimeIndex, days: int) -> NDArray[np.datetime64]:
    # A day only partly inside the history (today, so far) would be judged on some hours.
    if not len(idx):
        return np.array([], dtype="datetime64[D]")
    dates = np.unique(_local_dates(idx))
    starts = pd.DatetimeIndex(dates).tz_localize(TIME_ZONE)
    ends = pd.DatetimeIndex(dates + np.timedelta64(1, "D")).tz_localize(TIME_ZONE)
    whole = (starts >= idx.min()) & (ends - pd.Timedelta(hours=1) <= idx.max())
    return np.asarray(dates[np.asarray(whole)][-days:], dtype="datetime64[D]")


def _floats(values: ArrayLike | None, n: int, name: str) -> NDArray[np.float64] | None:
    return None if values is None else _series(values, n, name)


def _part(x: NDArray[np.float64] | None, rows: NDArray[np.bool_]) -> NDArray[np.float64] | None:
    return None if x is None else x[rows]


def _series(values: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    out = np.asarray(values, dtype=np.float64)
    if out.shape != (n,):
        raise ValueError(f"{name} has shape {out.shape}, expected ({n},)")
    return out


def nrmse_pct(actual: ArrayLike, forecast: ArrayLike, capacity_kw: float) -> float | None:
    """Root-mean-square error as % of capacity, over the pairs where both are known.

    Normalised by installed capacity (not by mean output) so that plants of different
    size compare and winter days do not inflate the figure. None without any pair.
    """
    if capacity_kw <= 0:
        raise ValueError("capacity_kw must be positive")
    a, f = np.asarray(actual, dtype=np.float64), np.asarray(forecast, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(f)
    if not ok.any():
        return None
    return float(np.sqrt(np.mean((f[ok] - a[ok]) ** 2)) / capacity_kw * 100.0)


def mape_pct(actual: ArrayLike, forecast: ArrayLike) -> float | None:
    """Mean absolute percentage error; pairs with an unknown or zero actual are skipped."""
    a, f = np.asarray(actual, dtype=np.float64), np.asarray(forecast, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(f) & (a != 0)
    if not ok.any():
        return None
    return float(np.mean(np.abs((f[ok] - a[ok]) / a[ok])) * 100.0)


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

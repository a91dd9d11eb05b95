"""What the forecasts share: hour indexes, local days, input checks and the error metrics."""

from __future__ import annotations

from datetime import date
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from klug.energy.calc import pv

TIME_ZONE = pv.TIME_ZONE


# Hourly energies are labelled by the start of their hour; the mean power of the hour
# is best approximated by the model's power at the middle of the hour.
HALF_HOUR = pd.Timedelta(minutes=30)


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

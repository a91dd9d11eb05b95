"""City load from the German standard load profiles (BDEW H0/G0/L0 via demandlib).

The profiles are defined on local wall-clock time. A year in Europe/Berlin has a 23-hour
day in March and a 25-hour day in October; the UTC hours of the year are mapped to
their wall-clock hour, so the missing hour is skipped and the repeated hour occurs
twice, and the year is then scaled to its annual energy again.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd
from demandlib import bdew
from numpy.typing import NDArray

TIME_ZONE = "Europe/Berlin"
# Demand of the city area: ~620 GWh/a (2014, the latest published figure;
# ../shared/data/README.md).
CITY_DEMAND_KWH_PER_YEAR = 620e6
# Share of each profile in the city's demand: households (H0), trade and services (G0),
# agriculture (L0); industry is modelled as a flat band. A planning assumption, stated
# on the planner page and changeable there.
CITY_MIX = {"h0": 0.30, "g0": 0.38, "l0": 0.02, "band": 0.30}


def year_hours(year: int) -> pd.DatetimeIndex:
    """The UTC hours of a local calendar year in Europe/Berlin (8,760 or 8,784)."""
    start = pd.Timestamp(year=year, month=1, day=1, tz=TIME_ZONE)
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz=TIME_ZONE)
    return pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq="h", inclusive="left")


def rhineland_palatinate_holidays(years: range | list[int]) -> holidays.HolidayBase:
    """Public holidays of Rhineland-Palatinate (Kaiserslautern's state)."""
    return holidays.Germany(subdiv="RP", years=list(years))


@lru_cache(maxsize=8)
def _profiles_kw(year: int) -> pd.DataFrame:
    # Hourly mean power on naive local wall-clock time, each profile scaled to 1 kWh/a.
    # demandlib 0.2 calls warnings.simplefilter("error") inside ElecSlp; without this
    # block every later warning in the process would be raised as an exception.
    with warnings.catch_warnings():
        slp = bdew.ElecSlp(year, holidays=rhineland_palatinate_holidays([year]))
        # Households: the dynamised H0 (BDEW's day-of-year factor, more in winter, less
        # in summer), as the BDEW method prescribes for H0.
        frame = slp.get_scaled_power_profiles({"h0_dyn": 1.0, "g0": 1.0, "l0": 1.0})
    frame = frame.rename(columns={"h0_dyn": "h0"})
    return frame.resample("h").mean()


def profile_kwh(year: int, annual_kwh: Mapping[str, float]) -> NDArray[np.float64]:
    """Hourly demand (kWh per UTC hour of the local year) for the given annual energies.

    ``annual_kwh`` maps ``h0``, ``g0``, ``l0`` and ``band`` (a constant load) to kWh/a.
    """
    unknown = set(annual_kwh) - {"h0", "g0", "l0", "band"}
    if unknown:
        raise ValueError(f"unknown load profiles: {sorted(unknown)}")
    hours = year_hours(year)
    wall = hours.tz_convert(TIME_ZONE).tz_localize(None).floor("h")
    table = _profiles_kw(year)
    total = np.zeros(len(hours))
    for name, kwh in annual_kwh.items():
        if name == "band":
            shape = np.ones(len(hours))
        else:
            # The repeated October hour appears twice, the skipped March hour not at all.
            shape = table[name].reindex(wall).to_numpy(dtype=np.float64)
        total += shape / shape.sum() * kwh
    return total


def city_demand_kwh(year: int, annual_kwh: float = CITY_DEMAND_KWH_PER_YEAR) -> NDArray[np.float64]:
    return profile_kwh(year, {name: share * annual_kwh for name, share in CITY_MIX.items()})

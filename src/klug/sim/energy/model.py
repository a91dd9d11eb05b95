"""The demo city's weather, PV, biomass and load, 15 min by 15 min (pure, repeatable).

Each value is the mean (energy: the sum) over a 15-min interval ``[t, t + 15 min)``,
evaluated at the interval's middle.

* Cloud cover: two AR(1) processes, a day-to-day weather regime and 15-min variability,
  through the normal CDF into a cloud fraction N; the clear-sky index follows Kasten &
  Czeplak (1980), ``GHI / GHI_clear = 1 - 0.75 · N^3.4``, with a monthly offset
  calibrated so that each month meets Kaiserslautern's typical irradiation
  (``pv.TYPICAL_MONTHLY_GHI_KWH_M2``); clear sky from pvlib (Ineichen).
* Air temperature: seasonal and daily cycles (a wider swing under clear skies) and warm
  or cold spells; wind speed: a seasonal mean, a regime and gusts.
* PV: :func:`klug.energy.calc.pv.expected_power` from that weather (as rounded for
  sending), plus 1 % noise, so the platform's own monitoring sees healthy plants.
* Load: the BDEW standard load profiles (:func:`klug.energy.calc.load.city_demand_kwh`,
  620 GWh/a), interpolated from hourly means to 15 min, plus 1.5 % noise.

The noise comes from generators seeded by (quantity, UTC day): a slot's value is the same
whenever and in whatever range it is computed, so a value sent twice is one Observation
to the platform (same Datastream, time and result).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import NDArray
from scipy.signal import lfilter
from scipy.special import ndtr

from klug.energy.calc import load, pv

STEP_US = 15 * 60 * 1_000_000
DAY_US = 86_400_000_000
SLOTS_PER_DAY = DAY_US // STEP_US
SEED = 20_261_126

# The city's PV: the utility's two parks (../shared/data/README.md) and, as a planning
# assumption, 25 MWp of rooftop systems modelled as one south-facing aggregate.
PLANTS = {
    "pv-hoelzengraben": pv.Plant("Solarpark Hölzengraben", 6400.0, tilt_deg=20.0),
    "pv-schweinsdell": pv.Plant("Solarpark P+R Schweinsdell", 2000.0, tilt_deg=15.0),
    "pv-dachanlagen": pv.Plant("Dachanlagen Stadtgebiet", 25_000.0, losses_pct=18.0),
}
CHP_KW = 2000.0  # biomass CHP, electrical; an assumption, as in the planner
CHP_AVAILABILITY = 0.94
WEATHER_KEYS = ("ghi", "temperature", "wind_speed")
KEYS = (*WEATHER_KEYS, *PLANTS, "bhkw-biomasse", "stadtgebiet")
# How far the cloud index swings around its monthly offset: wide enough for both clear
# and overcast days in every month.
CLOUD_SPREAD = 1.4


def _slot_noise(kind: int, days: NDArray[np.int64]) -> NDArray[np.float64]:
    """Standard normal noise, one row of 96 per UTC day, fixed by (kind, day)."""
    return np.stack(
        [np.random.default_rng((SEED, kind, int(d))).standard_normal(SLOTS_PER_DAY) for d in days]
    )


def _regime(
    kind: int, days: NDArray[np.int64], phi: float, memory: int = 20
) -> NDArray[np.float64]:
    """Day-to-day AR(1) (unit variance) as its moving-average form truncated after
    ``memory`` days (phi^memory is negligible), so any day can be computed on its own."""
    first = int(days.min()) - memory + 1
    span = np.arange(first, int(days.max()) + 1)
    shocks = np.array(
        [np.random.default_rng((SEED, kind, int(d), 0)).standard_normal() for d in span]
    )
    weights = phi ** np.arange(memory) * math.sqrt(1.0 - phi**2)
    return np.asarray(np.convolve(shocks, weights)[days - first], dtype=np.float64)


def _intraday(kind: int, days: NDArray[np.int64], phi: float) -> NDArray[np.float64]:
    """15-min AR(1) (unit variance) per day, warmed up over the day before."""
    shocks = np.concatenate([_slot_noise(kind, days - 1), _slot_noise(kind, days)], axis=1)
    series = lfilter([math.sqrt(1.0 - phi**2)], [1.0, -phi], shocks, axis=1)
    return np.asarray(series[:, SLOTS_PER_DAY:], dtype=np.float64)


@lru_cache(maxsize=1)
def _cloud_offsets() -> NDArray[np.float64]:
    """Per month, the offset of the cloud index that makes the mean clear-sky index equal
    typical / clear-sky irradiation (a reference year: the ratio barely varies)."""
    site = pv.location(*pv.KAISERSLAUTERN)
    hours = pd.date_range("2025-01-01", "2026-01-01", freq="h", tz="UTC", inclusive="left")
    clear = site.get_clearsky(hours)["ghi"]
    clear_kwh = clear.groupby(hours.month).sum().to_numpy() / 1000.0
    ratio = np.clip(np.array(pv.TYPICAL_MONTHLY_GHI_KWH_M2) / clear_kwh, 0.3, 0.95)
    nodes, weights = hermegauss(40)
    weights = weights / weights.sum()
    offsets = np.zeros(12)
    for month in range(12):
        low, high = -4.0, 4.0
        for _ in range(50):
            mid = (low + high) / 2
            mean_index = np.sum(weights * _clear_sky_index(ndtr(CLOUD_SPREAD * nodes + mid)))
            low, high = (mid, high) if mean_index > ratio[month] else (low, mid)
        offsets[month] = (low + high) / 2
    return offsets


def _clear_sky_index(cloud_fraction: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 - 0.75 * cloud_fraction**3.4  # Kasten & Czeplak 1980


def _city_kw(mid_us: NDArray[np.int64]) -> NDArray[np.float64]:
    """The BDEW city load at the given instants, interpolated between hourly means."""
    edges = pd.to_datetime([mid_us.min() - DAY_US, mid_us.max() + DAY_US], unit="us", utc=True)
    local_years = edges.tz_convert(load.TIME_ZONE).year
    years = range(int(local_years[0]), int(local_years[1]) + 1)
    hours = np.concatenate([load.year_hours(y).as_unit("us").asi8 for y in years])
    kwh = np.concatenate([load.city_demand_kwh(y) for y in years])
    # An hour's mean power belongs to the middle of the hour.
    return np.asarray(np.interp(mid_us, hours + 1_800_000_000, kwh), dtype=np.float64)


def cloud_fraction(slots_us: NDArray[np.int64]) -> NDArray[np.float64]:
    """The demo sky's total cloud fraction (0–1) in 15-min slots (starts, µs)."""
    slots_us = np.asarray(slots_us, dtype=np.int64)
    months = pd.DatetimeIndex(pd.to_datetime(slots_us + STEP_US // 2, unit="us", utc=True)).month
    days_all = slots_us // DAY_US
    days = np.unique(days_all)
    row, col = np.searchsorted(days, days_all), (slots_us % DAY_US) // STEP_US
    # Weights with squares summing to ~1 keep the index at unit variance, as calibrated.
    cloud_index = 0.75 * _regime(1, days, 0.7)[row] + 0.66 * _intraday(2, days, 0.93)[row, col]
    return np.asarray(ndtr(CLOUD_SPREAD * cloud_index + _cloud_offsets()[months - 1]))


def simulate(slots_us: NDArray[np.int64]) -> dict[str, NDArray[np.float64]]:
    """Every demo meter's value for 15-min slots (starts, µs): weather, PV kW, CHP kWh per
    slot, load kW; rounded as a meter would send them."""
    slots_us = np.asarray(slots_us, dtype=np.int64)
    mid = slots_us + STEP_US // 2
    times = pd.DatetimeIndex(pd.to_datetime(mid, unit="us", utc=True))
    days_all = slots_us // DAY_US
    days = np.unique(days_all)
    row, col = np.searchsorted(days, days_all), (slots_us % DAY_US) // STEP_US

    def regime(kind: int, phi: float) -> NDArray[np.float64]:
        return _regime(kind, days, phi)[row]

    def intraday(kind: int, phi: float) -> NDArray[np.float64]:
        return _intraday(kind, days, phi)[row, col]

    def noise(kind: int) -> NDArray[np.float64]:
        return _slot_noise(kind, days)[row, col]

    site = pv.location(*pv.KAISERSLAUTERN)
    clear = site.get_clearsky(times)["ghi"].to_numpy()
    cloud = cloud_fraction(slots_us)
    ghi = np.round(clear * _clear_sky_index(cloud))
    # 1 in mid-January, -1 in mid-July. Temperatures roughly as in Kaiserslautern (annual
    # mean near 10 °C, January near 1 °C, July near 19 °C): a demo assumption.
    season = np.cos(2 * np.pi * (times.dayofyear.to_numpy() - 18) / 365.25)
    solar_hour = times.hour.to_numpy() + times.minute.to_numpy() / 60 + pv.KAISERSLAUTERN[1] / 15
    # Clear skies widen the daily swing; the regime brings warm and cold spells.
    swing = (2.0 + 4.0 * (1.0 - cloud)) * np.cos(2 * np.pi * (solar_hour - 15.0) / 24)
    temperature = np.round(9.8 - 8.8 * season + swing + 3.0 * regime(3, 0.8), 1)
    wind = 3.4 + 0.7 * season + 1.3 * regime(4, 0.6) + 0.5 * intraday(5, 0.9) + (cloud - 0.6)
    wind = np.round(np.clip(wind, 0.2, None), 1)
    ac = pv.expected_power(
        list(PLANTS.values()),
        times,
        site=site,
        ghi_w_m2=ghi,
        temp_air_c=temperature,
        wind_speed_m_s=wind,
    ).ac_kw
    out = {"ghi": ghi, "temperature": temperature, "wind_speed": wind}
    for kind, (key, plant) in enumerate(PLANTS.items(), start=10):
        out[key] = np.round(
            np.clip(ac[plant.name].to_numpy() * (1 + 0.01 * noise(kind)), 0.0, None), 1
        )
    availability = CHP_AVAILABILITY + 0.015 * noise(20)
    out["bhkw-biomasse"] = np.round(CHP_KW * STEP_US / 3.6e9 * availability, 1)
    out["stadtgebiet"] = np.round(_city_kw(mid) * (1 + 0.015 * noise(21)), 1)
    return out

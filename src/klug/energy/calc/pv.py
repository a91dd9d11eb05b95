"""Solar plants: expected output (pvlib ModelChain, PVWatts), performance, faults, data quality.

One ModelChain models every plant of a call as one Array each, so the sun's position
and the sky are computed once for all of them; each plant gets its own PVWatts DC
model, losses and inverter (pvlib's PVWatts inverter, applied per plant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pvlib import inverter, irradiance
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import Array, FixedMount, PVSystem
from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

# Kaiserslautern city centre, ~250 m a.s.l. (../shared/data/README.md)
KAISERSLAUTERN = (49.4447, 7.7690, 250.0)
TIME_ZONE = "Europe/Berlin"

# Approximate monthly global horizontal irradiation in Kaiserslautern, kWh/m²
# (sum ≈ 1,090 kWh/m²·a, inside the 1,000–1,100 kWh/m²·a the state reports for
# Rhineland-Palatinate). Used to turn clear-sky irradiance into a typical year when no
# measured weather exists; planning only, never for monitoring.
TYPICAL_MONTHLY_GHI_KWH_M2 = (25, 45, 85, 125, 150, 160, 160, 135, 95, 60, 30, 20)


@dataclass(frozen=True, slots=True)
class Plant:
    """A PV plant as its operator describes it."""

    name: str
    peak_power_kwp: float
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0  # 180 = south
    losses_pct: float = 14.0  # soiling, wiring, mismatch, availability … (PVWatts default)
    dc_ac_ratio: float = 1.1
    inverter_efficiency: float = 0.96
    gamma_pdc_per_k: float = -0.0037  # power temperature coefficient, crystalline silicon


def _array(plant: Plant) -> Array:
    return Array(
        mount=FixedMount(surface_tilt=plant.tilt_deg, surface_azimuth=plant.azimuth_deg),
        name=plant.name,
        module_parameters={
            "pdc0": plant.peak_power_kwp * 1000.0,
            "gamma_pdc": plant.gamma_pdc_per_k,
        },
        temperature_model_parameters=TEMPERATURE_MODEL_PARAMETERS["sapm"][
            "open_rack_glass_polymer"
        ],
    )


def location(latitude: float, longitude: float, altitude_m: float) -> Location:
    return Location(latitude, longitude, tz=TIME_ZONE, altitude=altitude_m)


def _weather(
    site: Location,
    times: pd.DatetimeIndex,
    ghi_w_m2: NDArray[np.float64] | None,
    temp_air_c: NDArray[np.float64] | None,
    wind_speed_m_s: NDArray[np.float64] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    solar = site.get_solarposition(times)
    if ghi_w_m2 is None:
        sky = site.get_clearsky(times, solar_position=solar)
        weather = sky[["ghi", "dni", "dhi"]].copy()
    else:
        # Positional, never aligned by index labels (a Series on another index would
        # silently become NaN); no light with the sun below the horizon (a pyranometer's
        # night offset must not become night output).
        values = np.clip(np.asarray(ghi_w_m2, dtype=np.float64), 0.0, None)
        values = np.where(solar["apparent_elevation"].to_numpy() > 0.0, values, 0.0)
        ghi = pd.Series(values, index=times)
        split = irradiance.erbs(ghi, solar["zenith"], times)
        weather = pd.DataFrame({"ghi": ghi, "dni": split["dni"], "dhi": split["dhi"]})
    weather["temp_air"] = 12.0 if temp_air_c is None else np.asarray(temp_air_c, dtype=float)
    weather["wind_speed"] = (
        1.5 if wind_speed_m_s is None else np.asarray(wind_speed_m_s, dtype=float)
    )
    return weather, solar


@dataclass(frozen=True)
class Expected:
    """Expected AC power per plant (columns, kW), plane-of-array irradiance (W/m²) and sun."""

    ac_kw: pd.DataFrame
    poa_w_m2: pd.DataFrame
    sun_elevation_deg: pd.Series


def expected_power(
    plants: Sequence[Plant],
    times: pd.DatetimeIndex,
    *,
    site: Location | None = None,
    ghi_w_m2: NDArray[np.float64] | None = None,
    temp_air_c: NDArray[np.float64] | None = None,
    wind_speed_m_s: NDArray[np.float64] | None = None,
) -> Expected:
    """Expected AC output of each plant at ``times`` (tz-aware), from measured weather.

    Without measured global horizontal irradiance the sky is clear (pvlib's Ineichen
    model with Linke turbidity climatology): an upper bound, labelled as such by callers.
    """
    if not plants:
        raise ValueError("at least one plant")
    names = [p.name for p in plants]
    if len(set(names)) < len(names):
        # Results are keyed by name: a second plant of that name would replace the first.
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"plant names must be unique: {twice}")
    site = site or location(*KAISERSLAUTERN)
    weather, solar = _weather(site, times, ghi_w_m2, temp_air_c, wind_speed_m_s)
    system = PVSystem(arrays=[_array(p) for p in plants])
    chain = ModelChain(
        system,
        site,
        aoi_model="physical",
        spectral_model="no_loss",
        dc_model="pvwatts",
        ac_model=_no_inverter,
        losses_model="no_loss",
    )
    chain.run_model(weather)
    ac = {}
    poa = {}
    dcs, irrs = chain.results.dc, chain.results.total_irrad
    if not isinstance(dcs, tuple):  # pvlib unwraps the tuple for a single array
        dcs, irrs = (dcs,), (irrs,)
    for plant, dc_w, irr in zip(plants, dcs, irrs, strict=True):
        dc_w = dc_w * (1.0 - plant.losses_pct / 100.0)
        pdc0 = plant.peak_power_kwp * 1000.0 / plant.dc_ac_ratio
        ac_w = inverter.pvwatts(dc_w, pdc0 / plant.inverter_efficiency, plant.inverter_efficiency)
        ac[plant.name] = np.clip(ac_w, 0.0, None) / 1000.0
        poa[plant.name] = irr["poa_global"].fillna(0.0)
    return Expected(
        pd.DataFrame(ac, index=times),
        pd.DataFrame(poa, index=times),
        90.0 - solar["apparent_zenith"],
    )


def _no_inverter(chain: ModelChain) -> ModelChain:
    # The inverter is applied per plant afterwards (pvlib's PVWatts inverter sums all
    # arrays into one inverter, which would merge the plants).
    dc = chain.results.dc
    chain.results.ac = (dc[0] if isinstance(dc, tuple) else dc) * 0.0
    return chain


def typical_year_ghi(site: Location, times: pd.DatetimeIndex) -> NDArray[np.float64]:
    """Clear-sky GHI scaled month by month to the typical monthly sums (planning year)."""
    clear = site.get_clearsky(times)["ghi"]
    months = times.month
    step_h = (times[1] - times[0]).total_seconds() / 3600.0 if len(times) > 1 else 1.0
    out: NDArray[np.float64] = np.array(clear.to_numpy(dtype=np.float64), dtype=np.float64)
    for month in range(1, 13):
        mask = months == month
        clear_kwh = out[mask].sum() * step_h / 1000.0
        if clear_kwh > 0:
            out[mask] *= TYPICAL_MONTHLY_GHI_KWH_M2[month - 1] / clear_kwh
    return out


def performance_ratio(actual_kwh: float, peak_power_kwp: float, poa_kwh_m2: float) -> float | None:
    """IEC 61724 performance ratio: yield over reference yield (POA insolation / 1 kW/m²)."""
    if peak_power_kwp <= 0 or poa_kwh_m2 <= 0:
        return None
    return (actual_kwh / peak_power_kwp) / poa_kwh_m2


@dataclass(frozen=True, slots=True)
class Underperformance:
    start: pd.Timestamp
    end: pd.Timestamp
    ratio: float  # actual / expected energy over the window


def detect_underperformance(
    actual_kw: pd.Series,
    expected_kw: pd.Series,
    sun_elevation_deg: pd.Series,
    *,
    peak_power_kwp: float,
    threshold: float = 0.8,
    window: str = "2h",
    min_elevation_deg: float = 15.0,
) -> list[Underperformance]:
    """Windows in which a plant yields less than ``threshold`` × what the weather allows.

    Only daytime samples count (sun above ``min_elevation_deg`` and an expectation of
    at least 5 % of peak power), so dawn, dusk and overcast hours where modelling is
    least accurate cannot raise alarms. ``expected_kw`` must come from *measured*
    irradiance: against clear sky every cloudy day would look like a fault.
    """
    frame = pd.DataFrame({"actual": actual_kw, "expected": expected_kw, "sun": sun_elevation_deg})
    day = (frame["sun"] >= min_elevation_deg) & (frame["expected"] >= 0.05 * peak_power_kwp)
    frame = frame[day & frame["actual"].notna()]
    if frame.empty:
        return []
    span = pd.Timedelta(window)
    rolled = frame[["actual", "expected"]].rolling(span).sum()
    # A window counts only when it is (nearly) full of daytime samples.
    covered = frame["actual"].rolling(span).count()
    step = frame.index.to_series().diff().median()
    full = covered >= max(1, round(span / step * 0.9)) if pd.notna(step) else covered > 0
    ratio = rolled["actual"] / rolled["expected"]
    bad = (ratio < threshold) & full
    found: list[Underperformance] = []
    for time in bad[bad].index:
        start = time - span + step if pd.notna(step) else time
        if found and start <= found[-1].end:
            last = found[-1]
            found[-1] = Underperformance(last.start, time, min(last.ratio, float(ratio[time])))
        else:
            found.append(Underperformance(start, time, float(ratio[time])))
    return found


@dataclass(frozen=True, slots=True)
class QualityIssue:
    kind: str  # negative | night_output | stuck | above_capacity
    count: int
    first: pd.Timestamp


def quality_issues(
    power_kw: pd.Series,
    sun_elevation_deg: pd.Series,
    *,
    peak_power_kwp: float,
    stuck_samples: int = 8,
) -> list[QualityIssue]:
    """Implausible meter readings of a PV plant."""
    p = power_kw.dropna()
    sun = sun_elevation_deg.reindex(p.index)
    tolerance = 0.01 * peak_power_kwp
    checks = {
        "negative": p < -tolerance,
        "night_output": (sun < -6.0) & (p > tolerance),
        "above_capacity": p > 1.2 * peak_power_kwp,
    }
    # A value that does not move for stuck_samples daytime readings: frozen meter.
    daytime = p[sun > 10.0]
    runs = (daytime.diff() != 0).cumsum()
    run_length = runs.map(runs.value_counts())
    checks["stuck"] = pd.Series(False, index=p.index)
    checks["stuck"].loc[daytime.index] = (run_length >= stuck_samples) & (daytime > tolerance)
    issues = []
    for kind, mask in checks.items():
        hits = mask[mask.fillna(False)]
        if len(hits):
            issues.append(QualityIssue(kind, len(hits), hits.index[0]))
    return issues

"""A planning year, hour by hour: demand, generation mix, storage — what reaches 50 %?

Demand follows the standard load profiles (:mod:`.load`), PV the pvlib model of each
plant on a typical year (:func:`.pv.typical_year_ghi`), wind a synthetic but repeatable
wind year, biomass a steady output. A battery charges from surpluses and discharges into
deficits (greedy dispatch). All series are UTC hours of the local calendar year, so the
DST days have 23 and 25 hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klug.energy.calc import load, pv

# Planning density of ground-mounted PV in Germany: about 1 ha per MWp (current modules,
# row spacing for fixed south-facing tables). Car-park canopies use the parking area.
HECTARE_PER_MWP = 1.0


@dataclass(frozen=True, slots=True)
class Area:
    """A candidate area for new PV."""

    key: str
    label_de: str
    label_en: str
    hectares: float
    tilt_deg: float = 20.0
    azimuth_deg: float = 180.0


# The city's candidate areas (Kaiserslautern's solar-park planning): ~160 ha of open
# land, ~80 ha along railway and motorway, ~18 ha of car parks.
AREAS = (
    Area("open_land", "Freiflächen", "Open land", 160.0),
    Area("rail_motorway", "Entlang Bahn und Autobahn", "Along railway and motorway", 80.0),
    Area("car_parks", "Parkplätze (Überdachung)", "Car parks (canopies)", 18.0, tilt_deg=10.0),
)


@dataclass(frozen=True, slots=True)
class Unit:
    """A generation unit of the scenario (existing or added)."""

    name: str
    source: str  # pv | wind | biomass
    capacity_kw: float
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0
    availability: float = 0.85  # biomass: share of the year at full output


@dataclass(frozen=True)
class Inputs:
    year: int = 2025
    demand_kwh_per_year: float = load.CITY_DEMAND_KWH_PER_YEAR
    units: Sequence[Unit] = ()
    added_pv_mwp_by_area: dict[str, float] = field(default_factory=dict)
    added_wind_mw: float = 0.0
    storage_mwh: float = 0.0
    storage_power_mw: float | None = None  # default: capacity / 2 h
    storage_round_trip: float = 0.9
    export_limit_mw: float | None = None  # surplus above it is curtailed
    target_share: float = 0.5
    emission_factor_g_per_kwh: float = 363.0  # UBA, electricity mix 2024


class ScenarioError(ValueError):
    pass


@dataclass
class Result:
    hours: pd.DatetimeIndex
    demand_kwh: NDArray[np.float64]
    generation_kwh: dict[str, NDArray[np.float64]]  # by source
    charge_kwh: NDArray[np.float64]
    discharge_kwh: NDArray[np.float64]
    state_of_charge_kwh: NDArray[np.float64]
    grid_import_kwh: NDArray[np.float64]
    export_kwh: NDArray[np.float64]
    curtailed_kwh: NDArray[np.float64]
    annual_share: float
    matched_share: float
    co2_avoided_t: float
    land_use_ha: dict[str, float]
    pv_yield_kwh_per_kwp: float | None
    added_pv_mwp_for_target: float | None  # more PV (MWp) for the target share, annual netting

    @property
    def renewable_kwh(self) -> NDArray[np.float64]:
        return np.sum(list(self.generation_kwh.values()), axis=0)  # type: ignore[no-any-return]


def wind_capacity_factor(hours: pd.DatetimeIndex, seed: int = 7) -> NDArray[np.float64]:
    """A repeatable synthetic wind year for an onshore turbine at ~140 m hub height.

    Hourly wind speeds: an AR(1) process (persistence of weather systems) mapped to a
    Weibull distribution (k = 2, stronger in winter), through a generic power curve
    (cut-in 3 m/s, rated 12 m/s, cut-out 25 m/s). Gives ~1,700 full-load hours, typical
    for inland sites in Rhineland-Palatinate.
    """
    rng = np.random.default_rng(seed)
    n = len(hours)
    noise = rng.standard_normal(n)
    phi = 0.97
    z = np.empty(n)
    z[0] = noise[0]
    scale = np.sqrt(1 - phi**2)
    for i in range(1, n):
        z[i] = phi * z[i - 1] + scale * noise[i]
    u = 0.5 * (1.0 + _erf(z / np.sqrt(2.0)))
    day = hours.dayofyear.to_numpy()
    weibull_scale = 7.0 + 1.3 * np.cos(2 * np.pi * (day - 15) / 365.0)  # m/s, winter peak
    speed = weibull_scale * np.sqrt(-np.log1p(-np.clip(u, 0, 1 - 1e-12)))
    cf = np.clip((speed**3 - 3.0**3) / (12.0**3 - 3.0**3), 0.0, 1.0)
    cf[speed >= 25.0] = 0.0
    return np.asarray(cf, dtype=np.float64)


def _erf(x: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.special import erf  # scipy comes with pvlib

    return erf(x)  # type: ignore[no-any-return]


def _plants(inputs: Inputs) -> list[tuple[pv.Plant, str]]:
    # Numbered: pv.expected_power keys plants by name, and two existing plants may share one.
    plants = [
        (pv.Plant(f"{i}:{u.name}", u.capacity_kw, u.tilt_deg, u.azimuth_deg), "pv")
        for i, u in enumerate(inputs.units)
        if u.source == "pv" and u.capacity_kw > 0
    ]
    for area in AREAS:
        mwp = inputs.added_pv_mwp_by_area.get(area.key, 0.0)
        if mwp > 0:
            plant = pv.Plant(f"added:{area.key}", mwp * 1000.0, area.tilt_deg, area.azimuth_deg)
            plants.append((plant, "pv"))
    return plants


def check(inputs: Inputs) -> dict[str, float]:
    """Validate the inputs; the land use per area (ha)."""
    known = {a.key: a for a in AREAS}
    land: dict[str, float] = {}
    for key, mwp in inputs.added_pv_mwp_by_area.items():
        if key not in known:
            raise ScenarioError(f"unknown area '{key}'")
        if mwp < 0:
            raise ScenarioError(f"added PV on '{key}' must not be negative")
        need = mwp * HECTARE_PER_MWP
        if need > known[key].hectares + 1e-9:
            raise ScenarioError(
                f"{mwp:g} MWp need {need:g} ha, but '{key}' has {known[key].hectares:g} ha"
            )
        land[key] = need
    for name, value in (
        ("added_wind_mw", inputs.added_wind_mw),
        ("storage_mwh", inputs.storage_mwh),
        ("storage_power_mw", inputs.storage_power_mw or 0.0),
        ("export_limit_mw", inputs.export_limit_mw or 0.0),
        ("demand_kwh_per_year", inputs.demand_kwh_per_year),
        *((f"capacity_kw of '{u.name}'", u.capacity_kw) for u in inputs.units),
    ):
        if value < 0:
            raise ScenarioError(f"{name} must not be negative")
    if not 0.5 <= inputs.storage_round_trip <= 1.0:
        raise ScenarioError("storage_round_trip must be between 0.5 and 1")
    if not 1990 <= inputs.year <= 2100:
        raise ScenarioError("year must be between 1990 and 2100")
    return land


def run(inputs: Inputs) -> Result:
    land = check(inputs)
    hours = load.year_hours(inputs.year)
    demand = load.city_demand_kwh(inputs.year, inputs.demand_kwh_per_year)
    generation: dict[str, NDArray[np.float64]] = {}
    plants = _plants(inputs)
    pv_kwp = sum(p.peak_power_kwp for p, _ in plants)
    yield_kwh_per_kwp = None
    if plants:
        # Hourly energy ≈ power in the middle of the hour.
        middle = (hours + pd.Timedelta(minutes=30)).tz_convert(pv.TIME_ZONE)
        site = pv.location(*pv.KAISERSLAUTERN)
        ghi = pv.typical_year_ghi(site, middle)
        expected = pv.expected_power([p for p, _ in plants], middle, site=site, ghi_w_m2=ghi)
        generation["pv"] = expected.ac_kw.to_numpy().sum(axis=1)
        yield_kwh_per_kwp = float(generation["pv"].sum() / pv_kwp)
    wind_kw = inputs.added_wind_mw * 1000.0 + sum(
        u.capacity_kw for u in inputs.units if u.source == "wind"
    )
    if wind_kw > 0:
        generation["wind"] = wind_kw * wind_capacity_factor(hours)
    for unit in inputs.units:
        if unit.source not in ("pv", "wind") and unit.capacity_kw > 0:
            steady = np.full(len(hours), unit.capacity_kw * unit.availability)
            generation[unit.source] = generation.get(unit.source, 0.0) + steady
    renewable = np.sum(list(generation.values()), axis=0) if generation else np.zeros(len(hours))
    dispatch = _dispatch(renewable, demand, inputs)
    charge, discharge, soc, grid_import, export, curtailed = dispatch
    total_demand = float(demand.sum())
    used = np.minimum(renewable, demand) + discharge
    factor = inputs.emission_factor_g_per_kwh
    # The added PV goes onto the candidate areas (20° south, the reference plant), not
    # onto the roofs of the existing plants, whose yield may differ by 10 % and more.
    missing = inputs.target_share * total_demand - float(renewable.sum())
    needed = max(0.0, missing / _reference_yield(inputs.year) / 1000.0)
    return Result(
        hours=hours,
        demand_kwh=demand,
        generation_kwh=generation,
        charge_kwh=charge,
        discharge_kwh=discharge,
        state_of_charge_kwh=soc,
        grid_import_kwh=grid_import,
        export_kwh=export,
        curtailed_kwh=curtailed,
        annual_share=float(renewable.sum()) / total_demand if total_demand else 0.0,
        matched_share=float(used.sum()) / total_demand if total_demand else 0.0,
        co2_avoided_t=float(renewable.sum() - curtailed.sum()) * factor / 1e6,
        land_use_ha=land,
        pv_yield_kwh_per_kwp=yield_kwh_per_kwp,
        added_pv_mwp_for_target=needed,
    )


@lru_cache(maxsize=8)
def _reference_yield(year: int) -> float:
    hours = load.year_hours(year)
    middle = (hours + pd.Timedelta(minutes=30)).tz_convert(pv.TIME_ZONE)
    site = pv.location(*pv.KAISERSLAUTERN)
    ghi = pv.typical_year_ghi(site, middle)
    ref = pv.expected_power([pv.Plant("ref", 1.0, 20.0)], middle, site=site, ghi_w_m2=ghi)
    return float(ref.ac_kw.to_numpy().sum())


def _dispatch(
    renewable: NDArray[np.float64], demand: NDArray[np.float64], inputs: Inputs
) -> tuple[NDArray[np.float64], ...]:
    n = len(demand)
    surplus = renewable - demand
    charge = np.zeros(n)
    discharge = np.zeros(n)
    soc = np.zeros(n)
    capacity = inputs.storage_mwh * 1000.0
    if capacity > 0:
        power = (
            inputs.storage_power_mw * 1000.0
            if inputs.storage_power_mw is not None
            else capacity / 2.0
        )
        eta = np.sqrt(inputs.storage_round_trip)  # half the loss in, half out
        level = 0.0
        for i, s in enumerate(surplus.tolist()):
            if s > 0:
                into = min(s, power, (capacity - level) / eta)
                # Clamped: rounding must not leave the level a hair outside [0, capacity].
                level = min(capacity, level + into * eta)
                charge[i] = into
            elif s < 0:
                out = min(-s, power, level * eta)
                level = max(0.0, level - out / eta)
                discharge[i] = out
            soc[i] = level
    remaining = surplus - charge + discharge
    export = np.clip(remaining, 0.0, None)
    grid_import = np.clip(-remaining, 0.0, None)
    curtailed = np.zeros(n)
    if inputs.export_limit_mw is not None:
        limit = inputs.export_limit_mw * 1000.0
        curtailed = np.clip(export - limit, 0.0, None)
        export = export - curtailed
    return charge, discharge, soc, grid_import, export, curtailed

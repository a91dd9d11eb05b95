"""Honest hour-by-hour energy accounting.

Meters deliver power (kW, W, MW) or energy per interval (kWh, Wh, MWh) at their own
cadence (15 min, hourly …). Everything is brought to **hourly energy in kWh** with a
*coverage* per hour: the share of the hour that measurements exist for. An hour with too
little coverage is a **gap** (NaN) — never a zero — and every figure derived from hours
says how many of its hours were complete.

Share, matched share and CO2 are computed over the hours in which demand and every
generation unit in operation have data ("comparable hours"): comparing a full month of
demand with half a month of generation would flatter or hurt the share, depending on
which half is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

HOUR_US = 3_600_000_000
SECONDS_PER_HOUR = 3_600

Kind = Literal["power", "energy"]

# Unit symbols as they appear in a Datastream's unitOfMeasurement (UCUM and plain).
_UNITS: dict[str, tuple[Kind, float]] = {
    "W": ("power", 1e-3),
    "kW": ("power", 1.0),
    "MW": ("power", 1e3),
    "Wh": ("energy", 1e-3),
    "W.h": ("energy", 1e-3),
    "kWh": ("energy", 1.0),
    "kW.h": ("energy", 1.0),
    "MWh": ("energy", 1e3),
    "MW.h": ("energy", 1e3),
}

# An hour counts when at least this share of it is measured; its energy is then
# extrapolated from the measured part (mean power × 1 h).
MIN_COVERAGE = 0.75


class UnitError(ValueError):
    """A Datastream's unit is not a power or energy unit klug can convert."""


def unit_kind(symbol: str) -> tuple[Kind, float]:
    """``("power", factor to kW)`` or ``("energy", factor to kWh)`` for a unit symbol."""
    try:
        return _UNITS[symbol.strip()]
    except KeyError:
        known = ", ".join(sorted(_UNITS))
        raise UnitError(f"unit '{symbol}' is neither power nor energy (known: {known})") from None


@dataclass(frozen=True, slots=True)
class Hourly:
    """Hourly energy of one meter: ``kwh[i]`` is NaN when hour ``i`` is a gap."""

    hours: NDArray[np.int64]  # µs, start of each hour, ascending, every hour of the range
    kwh: NDArray[np.float64]
    coverage: NDArray[np.float64]  # 0..1 share of the hour with measurements
    over_delivered: int = 0  # hours with more samples than the declared interval allows

    @property
    def complete(self) -> NDArray[np.bool_]:
        return ~np.isnan(self.kwh)

    @property
    def completeness(self) -> float:
        return float(self.complete.mean()) if len(self.kwh) else 0.0


def hour_range(start_us: int, end_us: int) -> NDArray[np.int64]:
    """Every hour start in ``[start, end)``, start rounded down to a full hour."""
    first = start_us - start_us % HOUR_US
    return np.arange(first, end_us, HOUR_US, dtype=np.int64)


def hourly_from_buckets(
    hours: NDArray[np.int64],
    bucket_start_us: NDArray[np.int64],
    value_sum: NDArray[np.float64],
    value_count: NDArray[np.int64],
    *,
    unit: str,
    interval_s: int,
    min_coverage: float = MIN_COVERAGE,
) -> Hourly:
    """Hourly kWh from hourly aggregates (sum and count of the raw values per hour).

    ``interval_s`` is the meter's declared cadence (900 for 15-min values, 3600 for
    hourly): each value stands for that much time. Power values give
    ``mean × 1 h``; energy values (per interval) give ``sum / coverage``. Hours below
    ``min_coverage`` are gaps.
    """
    if interval_s <= 0 or interval_s > SECONDS_PER_HOUR or SECONDS_PER_HOUR % interval_s:
        raise UnitError(f"interval {interval_s} s does not divide an hour")
    kind, factor = unit_kind(unit)
    per_hour = SECONDS_PER_HOUR // interval_s
    count = np.zeros(len(hours), dtype=np.float64)
    total = np.zeros(len(hours), dtype=np.float64)
    # ``hours`` is every hour of a range, so a bucket's position is arithmetic; and
    # aggregates have one bucket per hour, so plain assignment does (np.add.at and
    # searchsorted cost 10× more on a year of hours).
    starts = np.asarray(bucket_start_us, dtype=np.int64)
    first = int(hours[0]) if len(hours) else 0
    index = (starts - first) // HOUR_US
    inside = (index >= 0) & (index < len(hours)) & ((starts - first) % HOUR_US == 0)
    count[index[inside]] = value_count[inside]
    total[index[inside]] = value_sum[inside]
    over = int(np.count_nonzero(count > per_hour))
    coverage = np.minimum(count / per_hour, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Power: mean kW × 1 h. Energy per interval: the mean per interval × intervals
        # per hour (more values than the cadence allows cannot count energy twice; the
        # hour is reported as over-delivered).
        kwh = total / count * factor if kind == "power" else total / count * per_hour * factor
    kwh[coverage < min_coverage] = np.nan
    return Hourly(hours, kwh, coverage, over)


def hourly_from_samples(
    hours: NDArray[np.int64],
    times_us: NDArray[np.int64],
    values: NDArray[np.float64],
    *,
    unit: str,
    interval_s: int,
    min_coverage: float = MIN_COVERAGE,
) -> Hourly:
    """Like :func:`hourly_from_buckets`, from raw samples (each at the start of its interval)."""
    starts = times_us - times_us % HOUR_US
    unique, inverse = np.unique(starts, return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=len(unique)).astype(np.float64)
    counts = np.bincount(inverse, minlength=len(unique)).astype(np.int64)
    return hourly_from_buckets(
        hours, unique, sums, counts, unit=unit, interval_s=interval_s, min_coverage=min_coverage
    )


@dataclass(frozen=True, slots=True)
class Generation:
    """One generation unit's hourly energy and whether it runs on renewables."""

    name: str
    source: str  # pv | wind | biomass | hydro | chp_gas | …
    renewable: bool
    hourly: Hourly
    # Hours before commissioning (or after decommissioning) are real zeros, not gaps.
    in_operation: NDArray[np.bool_] | None = None


@dataclass
class PeriodFigures:
    hours_total: int
    hours_comparable: int
    demand_kwh: float
    renewable_kwh: float
    generation_kwh_by_source: dict[str, float]
    share: float | None  # renewable / demand over the comparable hours
    matched_share: float | None  # Σ min(renewable, demand) / Σ demand, hour by hour
    co2_avoided_t: float
    completeness: float  # comparable hours / all hours
    completeness_by_meter: dict[str, float] = field(default_factory=dict)
    emission_factor_years: dict[int, int] = field(default_factory=dict)  # year -> table year used


def emission_factor_g_per_kwh(year: int, table: Mapping[int, float]) -> tuple[float, int]:
    """The factor for ``year``, else the latest earlier year's (UBA publishes late)."""
    if year in table:
        return table[year], year
    earlier = [y for y in table if y <= year]
    chosen = max(earlier) if earlier else min(table)
    return table[chosen], chosen


def period_figures(
    demand: Hourly,
    units: list[Generation],
    *,
    local_years: NDArray[np.int64],
    emission_factors_g_per_kwh: Mapping[int, float],
) -> PeriodFigures:
    """Share, hour-matched share and CO2 avoided over one period.

    ``local_years[i]`` is the calendar year (Europe/Berlin) of hour ``i``: the UBA
    factor of that year applies to it.
    """
    n = len(demand.hours)
    comparable = demand.complete.copy()
    completeness = {"demand": demand.completeness}
    gen_by_source: dict[str, NDArray[np.float64]] = {}
    renewable = np.zeros(n)
    for unit in units:
        kwh = unit.hourly.kwh
        if unit.in_operation is not None:
            kwh = np.where(unit.in_operation, kwh, 0.0)
            present = unit.hourly.complete | ~unit.in_operation
        else:
            present = unit.hourly.complete
        completeness[unit.name] = float(present.mean()) if n else 0.0
        comparable &= present
        clean = np.nan_to_num(kwh, nan=0.0)
        gen_by_source.setdefault(unit.source, np.zeros(n))
        gen_by_source[unit.source] += clean
        if unit.renewable:
            renewable += clean
    demand_kwh = np.where(comparable, demand.kwh, 0.0)
    renewable = np.where(comparable, renewable, 0.0)
    total_demand = float(demand_kwh.sum())
    total_renewable = float(renewable.sum())
    matched = float(np.minimum(renewable, np.maximum(demand_kwh, 0.0)).sum())
    factors = np.zeros(n)
    used: dict[int, int] = {}
    for year in np.unique(local_years[comparable]) if n else []:
        factor, table_year = emission_factor_g_per_kwh(int(year), emission_factors_g_per_kwh)
        factors[local_years == year] = factor
        used[int(year)] = table_year
    co2_t = float((renewable * factors).sum() / 1e6)
    return PeriodFigures(
        hours_total=n,
        hours_comparable=int(comparable.sum()),
        demand_kwh=total_demand,
        renewable_kwh=total_renewable,
        generation_kwh_by_source={
            source: float(np.where(comparable, kwh, 0.0).sum())
            for source, kwh in sorted(gen_by_source.items())
        },
        share=total_renewable / total_demand if total_demand > 0 else None,
        matched_share=matched / total_demand if total_demand > 0 else None,
        co2_avoided_t=co2_t,
        completeness=float(comparable.mean()) if n else 0.0,
        completeness_by_meter=completeness,
        emission_factor_years=used,
    )

"""Hourly accounting: units, coverage and gaps, share, matched share and CO2 over DST days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from klug.energy.calc import accounting
from klug.energy.calc.accounting import Generation, Hourly, UnitError

BERLIN = "Europe/Berlin"
HOUR = accounting.HOUR_US
QUARTER = HOUR // 4
# UBA factors (g CO2 per kWh of the German electricity mix); the values only need to
# differ so that applying the wrong year's factor shows.
FACTORS = {2023: 386.0, 2024: 363.0, 2025: 350.0}
# Float sums of a few dozen values: anything looser would hide a lost quarter-hour.
RTOL = 1e-12


def _us(local: str) -> int:
    return pd.Timestamp(local, tz=BERLIN).value // 1000


def _local_day(day: str) -> np.ndarray:
    start = pd.Timestamp(day, tz=BERLIN)
    return accounting.hour_range(start.value // 1000, (start + pd.DateOffset(days=1)).value // 1000)


def _local_hour_of_day(hours: np.ndarray) -> np.ndarray:
    return pd.to_datetime(hours, unit="us", utc=True).tz_convert(BERLIN).hour.to_numpy()


def _local_years(hours: np.ndarray) -> np.ndarray:
    return pd.to_datetime(hours, unit="us", utc=True).tz_convert(BERLIN).year.to_numpy()


def _quarter_samples(hours: np.ndarray, kw_per_hour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Four 15-min power samples per hour, all at the hour's value."""
    times = (hours[:, None] + QUARTER * np.arange(4)[None, :]).ravel()
    return times, np.repeat(kw_per_hour, 4).astype(np.float64)


# --- units -------------------------------------------------------------------------------

# One hour of a meter that reads 10, 20, 30, 40 kW in its four quarter-hours: 25 kWh.
QUARTER_KW = np.array([10.0, 20.0, 30.0, 40.0])


@pytest.mark.parametrize(
    ("unit", "values"),
    [
        ("kW", QUARTER_KW),
        ("W", QUARTER_KW * 1e3),
        ("MW", QUARTER_KW / 1e3),
        ("kWh", QUARTER_KW / 4),  # energy per 15-min interval
        ("kW.h", QUARTER_KW / 4),
        ("Wh", QUARTER_KW / 4 * 1e3),
        ("W.h", QUARTER_KW / 4 * 1e3),
        ("MWh", QUARTER_KW / 4 / 1e3),
        (" MW.h ", QUARTER_KW / 4 / 1e3),  # stray blanks from a hand-typed Datastream
    ],
)
def test_power_and_energy_units_give_the_same_hourly_kwh(unit: str, values: np.ndarray) -> None:
    hours = accounting.hour_range(_us("2025-06-02 00:00"), _us("2025-06-02 03:00"))
    times = hours[1] + QUARTER * np.arange(4)
    hourly = accounting.hourly_from_samples(hours, times, values, unit=unit, interval_s=900)
    assert_allclose(hourly.kwh[1], 25.0, rtol=RTOL)
    # The hours without samples are gaps, not zero kWh.
    assert np.isnan(hourly.kwh[[0, 2]]).all()
    assert_allclose(hourly.coverage, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("unit", ["°C", "Cel", "%", "m/s", "kWh/m2", "", "kvar"])
def test_non_energy_units_raise_unit_error(unit: str) -> None:
    with pytest.raises(UnitError, match="neither power nor energy"):
        accounting.unit_kind(unit)
    hours = accounting.hour_range(_us("2025-06-02 00:00"), _us("2025-06-02 01:00"))
    with pytest.raises(UnitError):
        accounting.hourly_from_samples(hours, hours, np.array([21.5]), unit=unit, interval_s=3600)


@pytest.mark.parametrize("interval_s", [0, -900, 7200, 700])
def test_an_interval_that_does_not_divide_an_hour_is_refused(interval_s: int) -> None:
    hours = accounting.hour_range(0, HOUR)
    with pytest.raises(UnitError, match="does not divide an hour"):
        accounting.hourly_from_samples(
            hours, hours, np.array([1.0]), unit="kW", interval_s=interval_s
        )


# --- coverage and gaps ---------------------------------------------------------------------


def test_coverage_extrapolates_the_measured_part_and_marks_gaps() -> None:
    hours = accounting.hour_range(_us("2025-06-02 10:00"), _us("2025-06-02 14:00"))
    # Hour 0: all four quarters; hour 1: three (75 %, still counts); hour 2: two (a gap);
    # hour 3: none.
    times = np.concatenate([hours[0] + QUARTER * np.arange(4), hours[1] + QUARTER * np.arange(3)])
    times = np.concatenate([times, hours[2] + QUARTER * np.arange(2)])
    power_kw = np.array([8.0, 8.0, 12.0, 12.0, 10.0, 20.0, 30.0, 50.0, 70.0])
    energy_kwh = power_kw / 4

    by_power = accounting.hourly_from_samples(hours, times, power_kw, unit="kW", interval_s=900)
    by_energy = accounting.hourly_from_samples(hours, times, energy_kwh, unit="kWh", interval_s=900)

    # Power: the mean of what was measured × 1 h; energy: the measured sum / coverage.
    expected = [10.0, 20.0, np.nan, np.nan]
    assert_allclose(by_power.kwh, expected, rtol=RTOL)
    assert_allclose(by_energy.kwh, expected, rtol=RTOL)
    assert_allclose(by_power.coverage, [1.0, 0.75, 0.5, 0.0])
    assert by_power.complete.tolist() == [True, True, False, False]
    assert by_power.completeness == 0.5
    assert by_power.over_delivered == 0


def test_min_coverage_is_a_parameter() -> None:
    hours = accounting.hour_range(0, HOUR)
    times = QUARTER * np.arange(2)
    strict = accounting.hourly_from_samples(
        hours, times, np.array([4.0, 6.0]), unit="kW", interval_s=900
    )
    lenient = accounting.hourly_from_samples(
        hours, times, np.array([4.0, 6.0]), unit="kW", interval_s=900, min_coverage=0.5
    )
    assert np.isnan(strict.kwh[0])
    assert_allclose(lenient.kwh, [5.0], rtol=RTOL)


def test_more_samples_than_the_cadence_allows_are_averaged_and_reported() -> None:
    # An hourly energy meter that re-sent its value: the hour's energy must not double.
    hours = accounting.hour_range(0, 2 * HOUR)
    times = np.array([0, 0, HOUR])
    hourly = accounting.hourly_from_samples(
        hours, times, np.array([7.0, 7.0, 9.0]), unit="kWh", interval_s=3600
    )
    assert_allclose(hourly.kwh, [7.0, 9.0], rtol=RTOL)
    assert hourly.over_delivered == 1
    assert_allclose(hourly.coverage, [1.0, 1.0])


def test_buckets_match_samples_and_ignore_buckets_outside_the_range() -> None:
    hours = accounting.hour_range(_us("2025-06-02 00:00"), _us("2025-06-02 03:00"))
    rng = np.random.default_rng(1)
    times = hours[0] + QUARTER * np.arange(12)
    values = rng.uniform(0.0, 50.0, size=12)
    from_samples = accounting.hourly_from_samples(hours, times, values, unit="kW", interval_s=900)
    # Aggregates as the database returns them, plus one hour before and one not on the hour.
    starts = np.concatenate([hours[:1] - HOUR, hours, hours[:1] + 1])
    sums = np.concatenate([[1e6], values.reshape(3, 4).sum(axis=1), [1e6]])
    counts = np.array([4, 4, 4, 4, 4])
    from_buckets = accounting.hourly_from_buckets(
        hours, starts, sums, counts, unit="kW", interval_s=900
    )
    assert_allclose(from_buckets.kwh, from_samples.kwh, rtol=RTOL)
    assert_allclose(from_buckets.kwh, values.reshape(3, 4).mean(axis=1), rtol=RTOL)


def test_an_empty_period_is_empty_not_an_error() -> None:
    hours = accounting.hour_range(HOUR, HOUR)
    hourly = accounting.hourly_from_samples(
        hours, np.array([0], dtype=np.int64), np.array([3.0]), unit="kW", interval_s=900
    )
    assert len(hourly.kwh) == 0
    assert hourly.completeness == 0.0


def test_hour_range_rounds_the_start_down() -> None:
    hours = accounting.hour_range(HOUR + 5, 3 * HOUR)
    assert hours.tolist() == [HOUR, 2 * HOUR]


# --- share, matched share, CO2 -------------------------------------------------------------


def test_the_dst_days_have_23_and_25_hours() -> None:
    assert len(_local_day("2025-03-30")) == 23
    assert len(_local_day("2025-10-26")) == 25
    assert len(_local_day("2025-06-02")) == 24


def test_spring_day_with_15_min_demand_hourly_pv_and_gaps() -> None:
    hours = _local_day("2025-03-30")  # 23 h: 02:00 does not exist
    local_hour = _local_hour_of_day(hours)
    assert 2 not in local_hour

    # Demand: a 15-min power meter at 40 kW, except 50 kW from 18:00.
    demand_kw = np.where(local_hour >= 18, 50.0, 40.0)
    times, values = _quarter_samples(hours, demand_kw)
    # 04:00 loses two quarter-hours (a gap), 20:00 one (still counted, extrapolated).
    drop = {(4, 2), (4, 3), (20, 1)}
    keep = np.array([(local_hour[i // 4], i % 4) not in drop for i in range(len(times))])
    demand = accounting.hourly_from_samples(
        hours, times[keep], values[keep], unit="kW", interval_s=900
    )

    # PV: an hourly energy meter in Wh; 60 kWh from 10:00 to 15:00, nothing else,
    # and the 12:00 value never arrived.
    pv_wh = np.where((local_hour >= 10) & (local_hour <= 15), 60_000.0, 0.0)
    pv_present = local_hour != 12
    pv = accounting.hourly_from_samples(
        hours, hours[pv_present], pv_wh[pv_present], unit="Wh", interval_s=3600
    )

    figures = accounting.period_figures(
        demand,
        [Generation("Schulzentrum Süd", "pv", True, pv)],
        local_years=_local_years(hours),
        emission_factors_g_per_kwh=FACTORS,
    )

    # Comparable hours: 23 minus the demand gap at 04:00 and the PV gap at 12:00.
    assert figures.hours_total == 23
    assert figures.hours_comparable == 21
    assert_allclose(figures.completeness, 21 / 23, rtol=RTOL)
    assert_allclose(figures.completeness_by_meter["demand"], 22 / 23, rtol=RTOL)
    assert_allclose(figures.completeness_by_meter["Schulzentrum Süd"], 22 / 23, rtol=RTOL)
    # Demand by hand: local hours 0..23 without 02:00, 04:00 (gap) and 12:00 (PV gap);
    # 00–17 are 40 kWh (15 hours left), 18–23 are 50 kWh (6 hours).
    demand_kwh = 15 * 40.0 + 6 * 50.0
    renewable_kwh = 5 * 60.0  # 10, 11, 13, 14, 15
    assert_allclose(figures.demand_kwh, demand_kwh, rtol=RTOL)
    assert_allclose(figures.renewable_kwh, renewable_kwh, rtol=RTOL)
    assert figures.generation_kwh_by_source.keys() == {"pv"}
    assert_allclose(figures.generation_kwh_by_source["pv"], renewable_kwh, rtol=RTOL)
    assert_allclose(figures.share, renewable_kwh / demand_kwh, rtol=RTOL)
    # Hour by hour only the 40 kWh of demand can be met by the 60 kWh of PV.
    assert_allclose(figures.matched_share, 5 * 40.0 / demand_kwh, rtol=RTOL)
    assert_allclose(figures.co2_avoided_t, renewable_kwh * FACTORS[2025] / 1e6, rtol=RTOL)
    assert figures.emission_factor_years == {2025: 2025}


def test_autumn_day_with_hourly_demand_in_mwh_and_15_min_wind_in_kw() -> None:
    hours = _local_day("2025-10-26")  # 25 h: 02:00 occurs twice
    local_hour = _local_hour_of_day(hours)
    assert np.count_nonzero(local_hour == 2) == 2

    demand_mwh = np.full(len(hours), 0.1)
    demand = accounting.hourly_from_samples(hours, hours, demand_mwh, unit="MWh", interval_s=3600)
    # Wind: 15-min power in kW; 150 kW through the night until 06:00, then 30 kW. Both
    # 02:00 hours blow at 150 kW; the first 02:00 hour lost a quarter-hour (still counted).
    wind_kw = np.where(local_hour < 6, 150.0, 30.0)
    times, values = _quarter_samples(hours, wind_kw)
    first_two = int(np.argmax(local_hour == 2))
    keep = np.ones(len(times), dtype=bool)
    keep[first_two * 4 + 3] = False
    wind = accounting.hourly_from_samples(
        hours, times[keep], values[keep], unit="kW", interval_s=900
    )
    # Gas CHP: fossil, counts for generation by source but not for the share.
    chp = accounting.hourly_from_samples(
        hours, hours, np.full(len(hours), 20.0), unit="kWh", interval_s=3600
    )

    figures = accounting.period_figures(
        demand,
        [Generation("Windpark", "wind", True, wind), Generation("BHKW", "chp_gas", False, chp)],
        local_years=_local_years(hours),
        emission_factors_g_per_kwh=FACTORS,
    )

    night = 7  # local 00, 01, 02, 02, 03, 04, 05
    assert figures.hours_total == figures.hours_comparable == 25
    assert figures.completeness == 1.0
    assert_allclose(figures.demand_kwh, 25 * 100.0, rtol=RTOL)
    renewable_kwh = night * 150.0 + (25 - night) * 30.0
    assert_allclose(figures.renewable_kwh, renewable_kwh, rtol=RTOL)
    by_source = figures.generation_kwh_by_source
    assert list(by_source) == ["chp_gas", "wind"]
    assert_allclose(
        [by_source["chp_gas"], by_source["wind"]], [25 * 20.0, renewable_kwh], rtol=RTOL
    )
    assert_allclose(figures.share, renewable_kwh / 2500.0, rtol=RTOL)
    assert_allclose(figures.matched_share, (night * 100.0 + 18 * 30.0) / 2500.0, rtol=RTOL)
    assert_allclose(figures.co2_avoided_t, renewable_kwh * FACTORS[2025] / 1e6, rtol=RTOL)


def test_gaps_do_not_count_as_zero() -> None:
    hours = accounting.hour_range(_us("2025-06-02 00:00"), _us("2025-06-02 04:00"))
    demand = Hourly(hours, np.array([10.0, 10.0, np.nan, 10.0]), np.array([1.0, 1.0, 0.0, 1.0]))
    pv = Hourly(hours, np.array([4.0, np.nan, 8.0, 6.0]), np.array([1.0, 0.0, 1.0, 1.0]))
    figures = accounting.period_figures(
        demand,
        [Generation("pv", "pv", True, pv)],
        local_years=_local_years(hours),
        emission_factors_g_per_kwh=FACTORS,
    )
    # Hours 1 and 2 drop out on both sides; a zero in their place would give 10/30 or
    # 18/30 instead of 10/20.
    assert figures.hours_comparable == 2
    assert_allclose(figures.share, 10.0 / 20.0, rtol=RTOL)
    assert_allclose(figures.completeness, 0.5)
    assert_allclose(figures.completeness_by_meter["pv"], 0.75)


def test_hours_out_of_operation_are_real_zeros() -> None:
    hours = accounting.hour_range(_us("2025-06-02 00:00"), _us("2025-06-02 04:00"))
    demand = Hourly(hours, np.full(4, 10.0), np.ones(4))
    # Commissioned in hour 2: no readings before, and none are missing.
    pv = Hourly(hours, np.array([np.nan, np.nan, 5.0, 7.0]), np.array([0.0, 0.0, 1.0, 1.0]))
    in_operation = np.array([False, False, True, True])
    figures = accounting.period_figures(
        demand,
        [Generation("pv", "pv", True, pv, in_operation=in_operation)],
        local_years=_local_years(hours),
        emission_factors_g_per_kwh=FACTORS,
    )
    assert figures.hours_comparable == 4
    assert figures.completeness_by_meter["pv"] == 1.0
    assert_allclose(figures.share, 12.0 / 40.0, rtol=RTOL)


def test_negative_demand_is_not_matched() -> None:
    # A net meter behind unmetered rooftop PV can read below zero; nothing of the
    # renewable energy is matched in that hour.
    hours = accounting.hour_range(0, 2 * HOUR)
    figures = accounting.period_figures(
        Hourly(hours, np.array([-5.0, 10.0]), np.ones(2)),
        [Generation("pv", "pv", True, Hourly(hours, np.array([3.0, 4.0]), np.ones(2)))],
        local_years=np.full(2, 2025),
        emission_factors_g_per_kwh=FACTORS,
    )
    assert_allclose(figures.matched_share, 4.0 / 5.0, rtol=RTOL)


def test_without_demand_there_is_no_share() -> None:
    hours = accounting.hour_range(0, 2 * HOUR)
    demand = Hourly(hours, np.full(2, np.nan), np.zeros(2))
    pv = Hourly(hours, np.full(2, 3.0), np.ones(2))
    figures = accounting.period_figures(
        demand,
        [Generation("pv", "pv", True, pv)],
        local_years=_local_years(hours),
        emission_factors_g_per_kwh=FACTORS,
    )
    assert figures.share is None
    assert figures.matched_share is None
    assert figures.co2_avoided_t == 0.0
    assert figures.completeness == 0.0


def test_co2_applies_each_local_years_factor_across_new_year() -> None:
    # 2024-12-31 00:00 to 2025-01-01 06:00 local: 24 hours of 2024, then 6 of 2025.
    # New Year starts at 23:00 UTC, so UTC years would put one hour in the wrong year.
    hours = accounting.hour_range(_us("2024-12-31 00:00"), _us("2025-01-01 06:00"))
    n = len(hours)
    assert n == 30
    demand = Hourly(hours, np.full(n, 50.0), np.ones(n))
    pv = Hourly(hours, np.full(n, 10.0), np.ones(n))
    figures = accounting.period_figures(
        demand,
        [Generation("pv", "pv", True, pv)],
        local_years=_local_years(hours),
        emission_factors_g_per_kwh=FACTORS,
    )
    expected_t = (24 * 10.0 * FACTORS[2024] + 6 * 10.0 * FACTORS[2025]) / 1e6
    assert_allclose(figures.co2_avoided_t, expected_t, rtol=RTOL)
    assert figures.emission_factor_years == {2024: 2024, 2025: 2025}


def test_a_year_without_published_factor_uses_the_latest_earlier_one() -> None:
    assert accounting.emission_factor_g_per_kwh(2024, FACTORS) == (363.0, 2024)
    assert accounting.emission_factor_g_per_kwh(2027, FACTORS) == (350.0, 2025)
    # Before the table starts there is nothing earlier: the first year stands in.
    assert accounting.emission_factor_g_per_kwh(2010, FACTORS) == (386.0, 2023)

    hours = accounting.hour_range(_us("2026-03-01 00:00"), _us("2026-03-01 02:00"))
    figures = accounting.period_figures(
        Hourly(hours, np.full(2, 5.0), np.ones(2)),
        [Generation("pv", "pv", True, Hourly(hours, np.full(2, 2.0), np.ones(2)))],
        local_years=_local_years(hours),
        emission_factors_g_per_kwh=FACTORS,
    )
    assert figures.emission_factor_years == {2026: 2025}
    assert_allclose(figures.co2_avoided_t, 4.0 * FACTORS[2025] / 1e6, rtol=RTOL)


def test_renewable_sources_add_up_before_the_hourly_minimum() -> None:
    # Matching PV and wind separately against demand would give (0+6+10 + 3+6+0) / 30.
    hours = accounting.hour_range(0, 3 * HOUR)
    demand = Hourly(hours, np.array([10.0, 10.0, 10.0]), np.ones(3))
    pv = Hourly(hours, np.array([0.0, 6.0, 12.0]), np.ones(3))
    wind = Hourly(hours, np.array([3.0, 6.0, 0.0]), np.ones(3))
    figures = accounting.period_figures(
        demand,
        [Generation("pv", "pv", True, pv), Generation("wind", "wind", True, wind)],
        local_years=np.full(3, 2025),
        emission_factors_g_per_kwh=FACTORS,
    )
    assert_allclose(figures.share, 27.0 / 30.0, rtol=RTOL)
    assert_allclose(figures.matched_share, (3.0 + 10.0 + 10.0) / 30.0, rtol=RTOL)
    assert figures.matched_share <= figures.share

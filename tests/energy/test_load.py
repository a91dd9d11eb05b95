"""Standard load profiles on the UTC hours of a local year: sums, DST days, weekdays, holidays."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from klug.energy.calc import load

BERLIN = "Europe/Berlin"
# Normalising 8,760 values: exact up to float summation.
RTOL = 1e-9


def _local(year: int, values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=load.year_hours(year).tz_convert(BERLIN))


def _day(series: pd.Series, day: str) -> pd.Series:
    return series[series.index.strftime("%Y-%m-%d") == day]


@pytest.fixture(scope="module")
def g0_2025() -> pd.Series:
    return _local(2025, load.profile_kwh(2025, {"g0": 1e6}))


@pytest.fixture(scope="module")
def h0_2025() -> pd.Series:
    return _local(2025, load.profile_kwh(2025, {"h0": 1e6}))


@pytest.mark.parametrize(("year", "hours"), [(2025, 8760), (2024, 8784), (2026, 8760)])
def test_a_local_year_has_its_utc_hours(year: int, hours: int) -> None:
    index = load.year_hours(year)
    assert len(index) == hours
    assert str(index.tz) == "UTC"
    # The local year starts at midnight in Berlin: 23:00 UTC the day before (CET).
    assert index[0] == pd.Timestamp(f"{year - 1}-12-31 23:00", tz="UTC")
    assert index[-1] == pd.Timestamp(f"{year}-12-31 22:00", tz="UTC")
    assert (np.diff(index.asi8) == 3_600 * 10**9).all()
    assert len(load.profile_kwh(year, {"h0": 1.0})) == hours


@pytest.mark.parametrize(
    "annual_kwh",
    [
        {"h0": 2_500.0},
        {"g0": 1e6},
        {"l0": 30_000.0},
        {"band": 8_760.0},
        {"h0": 186e6, "g0": 235.6e6, "l0": 12.4e6, "band": 186e6},
    ],
    ids=["h0", "g0", "l0", "band", "mix"],
)
@pytest.mark.parametrize("year", [2024, 2025])
def test_the_year_sums_to_the_requested_energy(year: int, annual_kwh: dict[str, float]) -> None:
    profile = load.profile_kwh(year, annual_kwh)
    assert_allclose(profile.sum(), sum(annual_kwh.values()), rtol=RTOL)
    assert np.isfinite(profile).all()
    assert (profile > 0).all()


def test_the_band_is_flat() -> None:
    assert_allclose(load.profile_kwh(2024, {"band": 8_784.0}), 1.0, rtol=RTOL)


def test_the_city_demand_sums_to_the_published_figure() -> None:
    demand = load.city_demand_kwh(2025)
    assert_allclose(demand.sum(), load.CITY_DEMAND_KWH_PER_YEAR, rtol=RTOL)
    assert_allclose(sum(load.CITY_MIX.values()), 1.0, rtol=RTOL)
    assert_allclose(load.city_demand_kwh(2024, 1_000.0).sum(), 1_000.0, rtol=RTOL)


def test_the_profiles_add_up_linearly() -> None:
    mix = load.profile_kwh(2025, {"h0": 3.0, "g0": 5.0, "band": 2.0})
    parts = sum(
        load.profile_kwh(2025, {name: kwh})
        for name, kwh in [("h0", 3.0), ("g0", 5.0), ("band", 2.0)]
    )
    assert_allclose(mix, parts, rtol=RTOL)


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="h1"):
        load.profile_kwh(2025, {"h0": 1.0, "h1": 2.0})


@pytest.mark.parametrize(
    ("day", "hours"), [("2025-03-30", 23), ("2025-10-26", 25), ("2025-06-18", 24)]
)
def test_the_dst_days_have_23_and_25_hours(g0_2025: pd.Series, day: str, hours: int) -> None:
    assert len(_day(g0_2025, day)) == hours


def test_spring_forward_follows_the_wall_clock(h0_2025: pd.Series) -> None:
    # Sunday 30 March against Sunday 23 March (same season): every wall-clock hour has
    # the same value; 02:00 does not exist. A fixed UTC+1 mapping would shift the
    # afternoon by an hour.
    switch = _day(h0_2025, "2025-03-30")
    before = _day(h0_2025, "2025-03-23")
    assert switch.index.hour.tolist() == [0, 1, *range(3, 24)]
    expected = before[before.index.hour != 2].to_numpy()
    # H0 is dynamised (a factor per day of the year): compare the days' shapes.
    # (the factor moves by a few parts per million within a day)
    assert_allclose(switch.to_numpy() / switch.mean(), expected / expected.mean(), rtol=1e-4)


def test_fall_back_repeats_the_wall_clock_hour(h0_2025: pd.Series) -> None:
    # Sunday 26 October against Sunday 19 October: 02:00 occurs twice with 02:00's value.
    switch = _day(h0_2025, "2025-10-26")
    before = _day(h0_2025, "2025-10-19")
    assert switch.index.hour.tolist() == [0, 1, 2, 2, *range(3, 24)]
    expected = before.to_numpy()[[0, 1, 2, 2, *range(3, 24)]]
    # H0 is dynamised (a factor per day of the year): compare the days' shapes.
    # (the factor moves by a few parts per million within a day)
    assert_allclose(switch.to_numpy() / switch.mean(), expected / expected.mean(), rtol=1e-4)
    # And the profile really changes between those hours, or the check above is void.
    assert np.ptp(expected[:6]) > 0.1 * expected.mean()


def test_trade_works_on_weekdays_not_on_sundays(g0_2025: pd.Series) -> None:
    wednesday = _day(g0_2025, "2025-06-18")
    sunday = _day(g0_2025, "2025-06-22")
    # BDEW G0: a Sunday uses roughly half the energy of a working day, and the midday
    # peak of the working day is missing.
    assert sunday.sum() < 0.6 * wednesday.sum()
    assert wednesday.iloc[10:14].mean() > 2 * sunday.iloc[10:14].mean()
    # Saturday lies in between.
    saturday = _day(g0_2025, "2025-06-21")
    assert sunday.sum() < saturday.sum() < wednesday.sum()


def test_corpus_christi_is_a_sunday_in_rhineland_palatinate(g0_2025: pd.Series) -> None:
    # Fronleichnam (Thursday 19 June 2025) is a public holiday in RP: G0 as on a Sunday.
    holiday = _day(g0_2025, "2025-06-19")
    sunday = _day(g0_2025, "2025-06-22")
    assert_allclose(holiday.to_numpy(), sunday.to_numpy(), rtol=RTOL)
    assert holiday.sum() < 0.6 * _day(g0_2025, "2025-06-26").sum()  # the next Thursday


def test_a_holiday_of_other_states_is_a_working_day_in_rhineland_palatinate(
    g0_2025: pd.Series,
) -> None:
    # Heilige Drei Könige (Monday 6 January 2025) is a holiday in Bavaria, Baden-Württemberg
    # and Saxony-Anhalt; Mariä Himmelfahrt (Friday 15 August) in Saarland.
    for holiday_elsewhere, same_weekday in [
        ("2025-01-06", "2025-01-13"),
        ("2025-08-15", "2025-08-08"),
    ]:
        assert_allclose(
            _day(g0_2025, holiday_elsewhere).to_numpy(),
            _day(g0_2025, same_weekday).to_numpy(),
            rtol=RTOL,
        )


def test_the_rp_holiday_calendar() -> None:
    days = load.rhineland_palatinate_holidays([2025])
    assert pd.Timestamp("2025-06-19").date() in days  # Fronleichnam
    assert pd.Timestamp("2025-11-01").date() in days  # Allerheiligen
    assert pd.Timestamp("2025-08-15").date() not in days
    assert pd.Timestamp("2025-01-06").date() not in days
    assert pd.Timestamp("2025-10-31").date() not in days  # Reformationstag: not in RP


def test_building_profiles_leaves_the_warning_filters_alone() -> None:
    # demandlib 0.2 calls warnings.simplefilter("error") while building profiles; leaked
    # into the process, every later warning (a numpy division, a deprecation) would
    # become an exception in the web app.
    load._profiles_kw.cache_clear()
    before = list(warnings.filters)
    load.profile_kwh(2027, {"g0": 1.0})
    assert warnings.filters == before

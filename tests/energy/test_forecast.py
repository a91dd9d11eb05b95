"""Day-ahead forecasts: error metrics, PV methods, the load model, rolling-origin backtests."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pvlib.location import Location

from klug.energy.calc import forecast, load, pv

BERLIN = "Europe/Berlin"
# Arithmetic that the code and the test do the same way agrees to rounding.
RTOL = 1e-9
# Synthetic city load: the standard load profile, ~1.5 MWh per heating degree hour,
# ~2.5 MWh per cooling degree hour, and 2 % multiplicative noise — so no model can get
# the MAPE below ~1.6 % (the mean of |N(0, 2 %)|).
HEATING_KWH_PER_K = 1500.0
COOLING_KWH_PER_K = 2500.0
NOISE = 0.02


@pytest.fixture(scope="module")
def site() -> Location:
    return pv.location(*pv.KAISERSLAUTERN)


@pytest.fixture(scope="module")
def city() -> pd.DataFrame:
    """A synthetic 2025 of hourly city load [kWh] and air temperature [°C]."""
    rng = np.random.default_rng(7)
    hours = load.year_hours(2025)
    local = hours.tz_convert(BERLIN)
    weather = np.zeros(len(hours))
    for i in range(1, len(hours)):  # weather systems: an AR(1) anomaly lasting days
        weather[i] = 0.98 * weather[i - 1] + rng.normal(0.0, 0.4)
    temp_c = (
        10.0
        - 9.0 * np.cos(2 * np.pi * (local.dayofyear.to_numpy() - 15) / 365)
        + 4.0 * np.sin(2 * np.pi * (local.hour.to_numpy() - 9) / 24)
        + weather
    )
    load_kwh = (
        load.city_demand_kwh(2025)
        + HEATING_KWH_PER_K * np.maximum(0.0, 15.0 - temp_c)
        + COOLING_KWH_PER_K * np.maximum(0.0, temp_c - 22.0)
    ) * (1.0 + rng.normal(0.0, NOISE, len(hours)))
    return pd.DataFrame({"load_kwh": load_kwh, "temp_c": temp_c}, index=hours)


def _before(city: pd.DataFrame, day: str) -> pd.DataFrame:
    return city[city.index < pd.Timestamp(day, tz=BERLIN)]


# ---------------------------------------------------------------- metrics


def test_nrmse_is_rmse_over_known_pairs_in_percent_of_capacity() -> None:
    actual = pd.Series([0.0, 10.0, 20.0, np.nan, 30.0])
    predicted = np.array([1.0, 12.0, 17.0, 5.0, np.nan])
    # errors 1, 2, -3 → RMSE √(14/3) kW of 50 kW
    assert_allclose(forecast.nrmse_pct(actual, predicted, 50.0), np.sqrt(14 / 3) / 50 * 100, RTOL)
    assert forecast.nrmse_pct([np.nan], [1.0], 50.0) is None
    with pytest.raises(ValueError, match="capacity"):
        forecast.nrmse_pct([1.0], [1.0], 0.0)


def test_mape_skips_unknown_and_zero_actuals() -> None:
    actual = np.array([100.0, 0.0, 50.0, np.nan, 200.0])
    predicted = np.array([110.0, 5.0, 40.0, 1.0, 200.0])
    # |10/100|, |-10/50|, 0 → 10 %; the zero and the NaN actual are left out, not ∞ or 0
    assert_allclose(forecast.mape_pct(actual, predicted), 10.0, RTOL)
    assert forecast.mape_pct([0.0, np.nan], [1.0, 1.0]) is None


def test_clearness_is_energy_ratio_over_daylight_hours_with_data() -> None:
    actual = np.array([0.1, 2.0, 3.0, np.nan, 0.5, 4.0])
    clear = np.array([0.0, 4.0, 6.0, 8.0, 1.0, np.nan])
    # night hour (clear sky 0) and the two gaps are skipped: 5.5 / 11
    assert_allclose(forecast.clearness_index(actual, clear, min_hours=3), 0.5, RTOL)
    assert forecast.clearness_index(actual, clear, min_hours=4) is None


def test_cloud_cover_scales_clear_sky_ghi_linearly_down_to_35_pct() -> None:
    ghi = forecast.cloud_cover_to_ghi_w_m2([0.0, 50.0, 100.0, 130.0], np.full(4, 800.0))
    assert_allclose(ghi, [800.0, 800.0 * 0.675, 280.0, 280.0], RTOL)


# ---------------------------------------------------------------- PV


PLANTS = (pv.Plant("depot_roof", 120.0), pv.Plant("school_east", 30.0, 15.0, 100.0))


@pytest.fixture(scope="module")
def june_day() -> pd.DatetimeIndex:
    return forecast.day_hours(date(2025, 6, 10)) + pd.Timedelta(minutes=30)


def test_pv_with_irradiance_forecast_is_the_plant_model_on_that_irradiance(
    site: Location, june_day: pd.DatetimeIndex
) -> None:
    ghi = 0.6 * site.get_clearsky(june_day)["ghi"].to_numpy()
    temp = np.full(len(june_day), 24.0)
    result = forecast.pv_day_ahead(
        PLANTS, june_day, site=site, ghi_forecast_w_m2=ghi, temp_air_c=temp, recent_clearness=0.2
    )
    expected = pv.expected_power(PLANTS, june_day, site=site, ghi_w_m2=ghi, temp_air_c=temp)
    assert result.method == "irradiance"
    assert_allclose(result.ac_kw.to_numpy(), expected.ac_kw.to_numpy(), RTOL)


def test_pv_fallback_scales_clear_sky_by_each_plants_clearness(
    site: Location, june_day: pd.DatetimeIndex
) -> None:
    clear = forecast.pv_day_ahead(PLANTS, june_day, site=site)
    assert clear.method == "clear_sky"
    assert_allclose(
        clear.ac_kw.to_numpy(), pv.expected_power(PLANTS, june_day, site=site).ac_kw, RTOL
    )
    half = forecast.pv_day_ahead(PLANTS, june_day, site=site, recent_clearness=0.5)
    assert half.method == "clear_sky_x_clearness"
    assert_allclose(half.ac_kw.to_numpy(), 0.5 * clear.ac_kw.to_numpy(), RTOL)
    mixed = forecast.pv_day_ahead(
        PLANTS, june_day, site=site, recent_clearness={"depot_roof": 0.8, "school_east": None}
    )
    assert mixed.clearness == {"depot_roof": 0.8, "school_east": None}
    assert_allclose(mixed.ac_kw["depot_roof"], 0.8 * clear.ac_kw["depot_roof"], RTOL)
    assert_allclose(mixed.ac_kw["school_east"], clear.ac_kw["school_east"], RTOL)


def test_cloudy_forecast_is_below_a_clear_one_and_incomplete_inputs_fall_back(
    site: Location, june_day: pd.DatetimeIndex
) -> None:
    n = len(june_day)
    bright = forecast.pv_day_ahead(PLANTS, june_day, site=site, cloud_cover_pct=np.full(n, 5.0))
    overcast = forecast.pv_day_ahead(PLANTS, june_day, site=site, cloud_cover_pct=np.full(n, 95.0))
    assert bright.method == overcast.method == "cloud_cover"
    bright_kwh, overcast_kwh = bright.ac_kw.sum(), overcast.ac_kw.sum()
    assert (overcast_kwh < 0.6 * bright_kwh).all()
    assert (overcast_kwh > 0.2 * bright_kwh).all()  # diffuse light remains under overcast
    gappy_ghi = np.full(n, 300.0)
    gappy_ghi[12] = np.nan
    fallback = forecast.pv_day_ahead(
        PLANTS, june_day, site=site, ghi_forecast_w_m2=gappy_ghi, cloud_cover_pct=np.full(n, 95.0)
    )
    assert fallback.method == "cloud_cover"
    assert_allclose(fallback.ac_kw.to_numpy(), overcast.ac_kw.to_numpy(), RTOL)


@pytest.fixture(scope="module")
def pv_history(site: Location) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Hourly energy of the two plants, May–June 2025, under a sky that changes daily."""
    rng = np.random.default_rng(11)
    hours = pd.date_range("2025-05-01", "2025-07-01", freq="h", tz=BERLIN, inclusive="left")
    mid = hours + pd.Timedelta(minutes=30)
    dates = hours.date
    day_clearness = pd.Series(rng.uniform(0.3, 1.0, len(set(dates))), index=sorted(set(dates)))
    ghi = site.get_clearsky(mid)["ghi"].to_numpy() * day_clearness.loc[dates].to_numpy()
    ghi *= np.clip(rng.normal(1.0, 0.1, len(hours)), 0.0, None)
    energy = pv.expected_power(PLANTS, mid, site=site, ghi_w_m2=ghi).ac_kw
    energy.index = hours
    return energy, ghi, day_clearness.to_numpy()


def test_backtest_with_the_true_irradiance_has_no_error(
    site: Location, pv_history: tuple[pd.DataFrame, np.ndarray, np.ndarray]
) -> None:
    # Zero error only if hourly energy is compared with power at mid-hour: a half-hour
    # shift alone costs more than 1 % of capacity here.
    energy, ghi, _ = pv_history
    result = forecast.backtest_pv(PLANTS, energy, site=site, days=10, ghi_forecast_w_m2=ghi)
    assert result.days_evaluated == 10
    assert result.days_by_method == {"irradiance": 10}
    for name in ("depot_roof", "school_east"):
        assert_allclose(result.nrmse_pct_of_capacity[name], 0.0, atol=1e-9)


def test_backtest_of_the_clearness_fallback_reports_a_plausible_nrmse(
    site: Location, pv_history: tuple[pd.DataFrame, np.ndarray, np.ndarray]
) -> None:
    energy, ghi, _ = pv_history
    energy = energy.copy()
    energy.loc["2025-06-20":"2025-06-21", "school_east"] = np.nan  # a meter outage
    result = forecast.backtest_pv(PLANTS, energy, site=site, days=14)
    assert result.days_evaluated == 14
    assert result.days_by_method == {"clear_sky_x_clearness": 14}
    sun_up = pv.expected_power(PLANTS, energy.index + pd.Timedelta(minutes=30), site=site)
    daylight = (sun_up.sun_elevation_deg > 0).to_numpy() & (energy.index >= "2025-06-17")
    assert result.hours_evaluated["depot_roof"] == daylight.sum()
    assert result.hours_evaluated["school_east"] == (daylight & energy["school_east"].notna()).sum()
    # A sky that changes every day between 30 % and 100 % of clear: persistence of last
    # week's clearness misses by roughly a tenth of capacity — far from 0, far below
    # the clear-sky upper bound.
    clear_sky_only = forecast.nrmse_pct(
        energy.loc[daylight, "depot_roof"], sun_up.ac_kw.loc[daylight, "depot_roof"], 120.0
    )
    for value in result.nrmse_pct_of_capacity.values():
        assert value is not None and 3.0 < value < 20.0
    assert result.nrmse_pct_of_capacity["depot_roof"] < 0.8 * clear_sky_only
    archived_clouds = forecast.backtest_pv(
        PLANTS, energy, site=site, days=14, ghi_forecast_w_m2=ghi
    )
    assert archived_clouds.fleet_nrmse_pct_of_capacity < result.fleet_nrmse_pct_of_capacity


def test_recent_clearness_recovers_a_steady_sky(site: Location) -> None:
    hours = pd.date_range("2025-04-01", "2025-04-15", freq="h", tz=BERLIN, inclusive="left")
    clear = pv.expected_power(PLANTS, hours + pd.Timedelta(minutes=30), site=site).ac_kw
    measured = clear * pd.Series({"depot_roof": 0.7, "school_east": 0.4})
    measured.index = hours
    measured.iloc[-30:, 0] = np.nan
    assert_allclose(
        list(forecast.recent_clearness(PLANTS, measured, site=site).values()), [0.7, 0.4], RTOL
    )


# ---------------------------------------------------------------- load


def test_load_model_beats_yesterday_in_every_season(city: pd.DataFrame) -> None:
    for end in ("2025-02-15", "2025-05-20", "2025-11-15"):
        history = _before(city, end)
        result = forecast.backtest_load(
            history.index, history["load_kwh"], temp_c=history["temp_c"], days=14
        )
        last_14 = history.index >= pd.Timestamp(end, tz=BERLIN) - pd.Timedelta(days=14)
        yesterday = history["load_kwh"].shift(freq="24h").reindex(history.index)
        assert result.days_evaluated == 14
        assert result.hours_evaluated == last_14.sum()
        assert_allclose(
            result.baseline_mape_pct,
            forecast.mape_pct(history["load_kwh"][last_14], yesterday[last_14]),
            RTOL,
        )
        # Twice the noise floor: the standard load profiles switch their daily shape at
        # fixed dates (winter from 1 November, summer from 15 May), a step the 4-week
        # training window straddles.
        assert result.mape_pct < 3.5, end
        assert result.mape_pct < 0.5 * result.baseline_mape_pct, end


def test_load_model_recovers_the_heating_effect_and_uses_it(city: pd.DataFrame) -> None:
    history = _before(city, "2025-02-15")
    recent = history.iloc[-28 * 24 :]
    model = forecast.LoadModel.fit(recent.index, recent["load_kwh"], recent["temp_c"])
    assert_allclose(model.heating_kwh_per_k, HEATING_KWH_PER_K, rtol=0.05)
    assert forecast.LoadModel.fit(recent.index, recent["load_kwh"]).heating_kwh_per_k is None
    with_temp = forecast.backtest_load(history.index, history["load_kwh"], temp_c=history["temp_c"])
    without = forecast.backtest_load(history.index, history["load_kwh"])
    assert with_temp.mape_pct < 0.7 * without.mape_pct


def test_gaps_are_skipped_not_read_as_zero(city: pd.DataFrame) -> None:
    history = _before(city, "2025-03-01").iloc[-35 * 24 :]
    gappy = history["load_kwh"].copy()
    gappy.iloc[100:160] = np.nan
    gappy.iloc[::17] = np.nan
    day = forecast.day_hours(date(2025, 3, 3))
    temp = np.full(len(day), 4.0)
    full = forecast.LoadModel.fit(history.index, history["load_kwh"], history["temp_c"])
    skipped = forecast.LoadModel.fit(history.index, gappy, history["temp_c"])
    zeroed = forecast.LoadModel.fit(history.index, gappy.fillna(0.0), history["temp_c"])
    assert skipped.training_hours == gappy.notna().sum()
    assert forecast.mape_pct(full.predict(day, temp), skipped.predict(day, temp)) < 1.0
    assert forecast.mape_pct(full.predict(day, temp), zeroed.predict(day, temp)) > 4.0


def test_corpus_christi_is_forecast_like_a_sunday(city: pd.DataFrame) -> None:
    # Fronleichnam is a public holiday in Rhineland-Palatinate (not in every state).
    history = _before(city, "2025-06-19")
    model = forecast.LoadModel.fit(history.index, history["load_kwh"], history["temp_c"])
    mild = np.full(24, 18.0)
    holiday, sunday, thursday = (forecast.day_hours(date(2025, 6, d)) for d in (19, 22, 12))
    assert (forecast.day_type(holiday) == forecast.SUNDAY_OR_HOLIDAY).all()
    assert_allclose(model.predict(holiday, mild), model.predict(sunday, mild), RTOL)
    assert (
        model.predict(holiday, mild)[10:16].sum() < 0.9 * model.predict(thursday, mild)[10:16].sum()
    )
    day_ahead = forecast.load_day_ahead(
        history.index,
        history["load_kwh"],
        date(2025, 6, 19),
        temp_c=history["temp_c"],
        temp_forecast_c=city["temp_c"].reindex(holiday),
    )
    assert forecast.mape_pct(city["load_kwh"].reindex(holiday), day_ahead) < 4.0


@pytest.mark.parametrize(("day", "hours"), [(date(2025, 3, 30), 23), (date(2025, 10, 26), 25)])
def test_daylight_saving_days_have_their_own_number_of_hours(
    city: pd.DataFrame, day: date, hours: int
) -> None:
    history = _before(city, day.isoformat())
    predicted = forecast.load_day_ahead(
        history.index,
        history["load_kwh"],
        day,
        temp_c=history["temp_c"],
        temp_forecast_c=city["temp_c"].reindex(forecast.day_hours(day)),
    )
    assert len(predicted) == hours
    assert np.isfinite(predicted).all()
    local_hour = predicted.index.tz_convert(BERLIN).hour
    assert list(local_hour).count(2) == hours - 23  # 02:00 skipped in March, twice in October
    assert forecast.mape_pct(city["load_kwh"].reindex(predicted.index), predicted) < 4.0
    # The same forecast from hours given as µs since the epoch (the calc convention).
    recent = history.iloc[-28 * 24 :]
    as_us = forecast.LoadModel.fit(recent.index.asi8 // 1000, recent["load_kwh"], recent["temp_c"])
    temp = city["temp_c"].reindex(predicted.index)
    assert_allclose(as_us.predict(predicted.index.asi8 // 1000, temp), predicted, RTOL)


def test_a_day_type_never_seen_is_not_forecast(city: pd.DataFrame) -> None:
    history = _before(city, "2025-03-01").iloc[-21 * 24 :]
    workdays_only = history["load_kwh"].where(forecast.day_type(history.index) == 0)
    model = forecast.LoadModel.fit(history.index, workdays_only)
    saturday = model.predict(forecast.day_hours(date(2025, 3, 1)))
    monday = model.predict(forecast.day_hours(date(2025, 3, 3)))
    assert np.isnan(saturday).all()
    assert np.isfinite(monday).all()
    with pytest.raises(ValueError, match="usable hours"):
        forecast.LoadModel.fit(history.index[:100], history["load_kwh"][:100])

"""The planning year: input checks, hourly balance, storage, shares, PV needed for a target."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from klug.energy.calc import load, scenario
from klug.energy.calc.scenario import Inputs, ScenarioError, Unit

BERLIN = "Europe/Berlin"
# A small city with plenty of sun and wind, so that there are surpluses to store,
# export and curtail.
RICH = Inputs(
    demand_kwh_per_year=150e6,
    units=[
        Unit("Schulzentrum Süd", "pv", 1_500.0),
        Unit("Biogas Erlenbach", "biomass", 2_000.0, availability=0.85),
    ],
    added_pv_mwp_by_area={"open_land": 160.0, "rail_motorway": 80.0},
    added_wind_mw=30.0,
    storage_mwh=200.0,
    export_limit_mw=60.0,
)


@pytest.fixture(scope="module")
def rich() -> scenario.Result:
    return scenario.run(RICH)


@pytest.fixture(scope="module")
def storage_sweep() -> list[scenario.Result]:
    return [
        scenario.run(dataclasses.replace(RICH, storage_mwh=mwh, export_limit_mw=None))
        for mwh in (0.0, 50.0, 200.0, 800.0)
    ]


# --- input checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (Inputs(added_pv_mwp_by_area={"stadtpark": 5.0}), "unknown area 'stadtpark'"),
        (Inputs(added_pv_mwp_by_area={"open_land": 160.5}), "'open_land' has 160 ha"),
        (Inputs(added_pv_mwp_by_area={"car_parks": 18.1}), "'car_parks' has 18 ha"),
        (Inputs(added_pv_mwp_by_area={"rail_motorway": -1.0}), "must not be negative"),
        (Inputs(added_wind_mw=-5.0), "added_wind_mw must not be negative"),
        (Inputs(storage_mwh=-1.0), "storage_mwh must not be negative"),
        (Inputs(storage_mwh=10.0, storage_power_mw=-5.0), "storage_power_mw must not be negative"),
        (Inputs(export_limit_mw=-1.0), "export_limit_mw must not be negative"),
        (Inputs(demand_kwh_per_year=-1e6), "demand_kwh_per_year must not be negative"),
        (Inputs(units=[Unit("Altanlage", "wind", -2_000.0)]), "'Altanlage' must not be negative"),
        (Inputs(storage_round_trip=0.4), "storage_round_trip"),
        (Inputs(storage_round_trip=1.1), "storage_round_trip"),
        (Inputs(year=1900), "year"),
    ],
)
def test_invalid_inputs_are_refused(inputs: Inputs, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario.check(inputs)
    with pytest.raises(ScenarioError):
        scenario.run(inputs)


def test_each_area_can_be_filled_exactly() -> None:
    full = {area.key: area.hectares / scenario.HECTARE_PER_MWP for area in scenario.AREAS}
    assert scenario.check(Inputs(added_pv_mwp_by_area=full)) == {
        "open_land": 160.0,
        "rail_motorway": 80.0,
        "car_parks": 18.0,
    }


# --- the year ---------------------------------------------------------------------------------


def test_the_year_has_its_hours_and_dst_days(rich: scenario.Result) -> None:
    assert len(rich.hours) == 8760
    days = rich.hours.tz_convert(BERLIN).strftime("%Y-%m-%d")
    assert np.count_nonzero(days == "2025-03-30") == 23
    assert np.count_nonzero(days == "2025-10-26") == 25
    for series in (
        rich.demand_kwh,
        rich.charge_kwh,
        rich.export_kwh,
        *rich.generation_kwh.values(),
    ):
        assert len(series) == 8760
    assert len(scenario.run(Inputs(year=2024)).demand_kwh) == 8784


def test_demand_and_generation_are_what_the_inputs_say(rich: scenario.Result) -> None:
    assert_allclose(rich.demand_kwh, load.city_demand_kwh(2025, 150e6), rtol=1e-12)
    assert_allclose(rich.generation_kwh["biomass"], 2_000.0 * 0.85, rtol=1e-12)
    assert_allclose(
        rich.generation_kwh["wind"],
        30_000.0 * scenario.wind_capacity_factor(rich.hours),
        rtol=1e-12,
    )
    pv_kwp = 1_500.0 + 240_000.0
    assert_allclose(rich.generation_kwh["pv"].sum(), rich.pv_yield_kwh_per_kwp * pv_kwp, rtol=1e-9)
    assert 850.0 <= rich.pv_yield_kwh_per_kwp <= 1050.0
    assert rich.land_use_ha == {"open_land": 160.0, "rail_motorway": 80.0}


def test_energy_balances_every_hour(rich: scenario.Result) -> None:
    supply = rich.renewable_kwh + rich.grid_import_kwh + rich.discharge_kwh
    use = rich.demand_kwh + rich.charge_kwh + rich.export_kwh + rich.curtailed_kwh
    assert_allclose(supply, use, rtol=1e-6)
    # The case must exercise every term, or the balance proves little.
    for term in ("grid_import_kwh", "discharge_kwh", "charge_kwh", "export_kwh", "curtailed_kwh"):
        assert getattr(rich, term).sum() > 0, term


def test_flows_are_physical(rich: scenario.Result) -> None:
    for term in ("grid_import_kwh", "discharge_kwh", "charge_kwh", "export_kwh", "curtailed_kwh"):
        assert (getattr(rich, term) >= 0).all(), term
    # No hour both imports and exports, nor charges and discharges.
    assert not ((rich.grid_import_kwh > 0) & (rich.export_kwh > 0)).any()
    assert not ((rich.charge_kwh > 0) & (rich.discharge_kwh > 0)).any()
    # The storage charges from surplus only and discharges into deficits only.
    surplus = rich.renewable_kwh - rich.demand_kwh
    assert (rich.charge_kwh <= np.clip(surplus, 0.0, None) + 1e-9).all()
    assert (rich.discharge_kwh <= np.clip(-surplus, 0.0, None) + 1e-9).all()
    # Export is capped at the grid limit; the rest is curtailed.
    assert rich.export_kwh.max() <= 60_000.0 + 1e-9
    assert_allclose(rich.export_kwh[rich.curtailed_kwh > 0], 60_000.0, rtol=1e-12)


def test_storage_stays_within_its_capacity_and_power(rich: scenario.Result) -> None:
    capacity_kwh = 200_000.0
    power_kw = capacity_kwh / 2.0  # default: two hours to fill
    soc = rich.state_of_charge_kwh
    assert soc.min() >= 0.0
    assert soc.max() <= capacity_kwh
    assert_allclose(soc.max(), capacity_kwh, rtol=1e-9)  # it does fill up
    assert rich.charge_kwh.max() <= power_kw + 1e-9
    assert rich.discharge_kwh.max() <= power_kw + 1e-9
    # The level moves by what goes in and out, half the round-trip loss each way.
    eta = np.sqrt(0.9)
    change = np.diff(soc, prepend=0.0)
    assert_allclose(change, rich.charge_kwh * eta - rich.discharge_kwh / eta, atol=1e-6)


def test_storage_with_its_own_power_rating() -> None:
    slow = scenario.run(dataclasses.replace(RICH, storage_power_mw=10.0))
    assert slow.charge_kwh.max() <= 10_000.0 + 1e-9
    assert slow.discharge_kwh.max() <= 10_000.0 + 1e-9
    assert slow.state_of_charge_kwh.min() >= 0.0
    assert slow.state_of_charge_kwh.max() <= 200_000.0


def test_more_storage_never_lowers_the_matched_share(storage_sweep: list[scenario.Result]) -> None:
    matched = [r.matched_share for r in storage_sweep]
    assert all(b >= a for a, b in itertools.pairwise(matched)), matched
    assert matched[-1] > matched[0] + 0.05  # and storage does something
    # Storage shifts energy in time; it generates none.
    assert_allclose(
        [r.annual_share for r in storage_sweep], storage_sweep[0].annual_share, rtol=1e-12
    )
    assert (storage_sweep[0].state_of_charge_kwh == 0).all()


def test_shares_by_their_definitions(rich: scenario.Result) -> None:
    renewable = sum(v.sum() for v in rich.generation_kwh.values())
    demand = rich.demand_kwh.sum()
    assert_allclose(demand, 150e6, rtol=1e-9)
    assert_allclose(rich.annual_share, renewable / demand, rtol=1e-12)
    used = np.minimum(rich.renewable_kwh, rich.demand_kwh) + rich.discharge_kwh
    assert_allclose(rich.matched_share, used.sum() / demand, rtol=1e-12)
    # Hour by hour less can be used than is produced in the year, and no more than demand.
    assert rich.matched_share < rich.annual_share
    assert rich.matched_share <= 1.0
    # What is used is what the demand did not import.
    assert_allclose(rich.matched_share, 1.0 - rich.grid_import_kwh.sum() / demand, rtol=1e-9)


def test_co2_counts_what_is_not_curtailed(rich: scenario.Result) -> None:
    delivered = rich.renewable_kwh.sum() - rich.curtailed_kwh.sum()
    assert_allclose(rich.co2_avoided_t, delivered * 363.0 / 1e6, rtol=1e-12)


def test_existing_plants_with_the_same_name_both_count() -> None:
    one = Inputs(demand_kwh_per_year=10e6, units=[Unit("Dach", "pv", 500.0)])
    two = dataclasses.replace(one, units=[Unit("Dach", "pv", 500.0), Unit("Dach", "pv", 500.0)])
    assert_allclose(
        scenario.run(two).generation_kwh["pv"],
        2 * scenario.run(one).generation_kwh["pv"],
        rtol=1e-9,
    )


def test_wind_year_is_repeatable_and_plausible(rich: scenario.Result) -> None:
    hours = load.year_hours(2025)
    factor = scenario.wind_capacity_factor(hours)
    assert_allclose(factor, scenario.wind_capacity_factor(hours), rtol=0)
    assert factor.min() >= 0.0
    assert factor.max() <= 1.0
    # Inland onshore wind in Rhineland-Palatinate: roughly 1,600–2,400 full-load hours.
    assert 1_600.0 <= factor.sum() <= 2_400.0
    assert not np.allclose(factor, scenario.wind_capacity_factor(hours, seed=8))


# --- PV for the target ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "units",
    [
        (),
        (Unit("Biogas", "biomass", 5_000.0),),
        # East roofs yield ~12 % less than the open land the added PV goes to.
        (Unit("Betriebshof Ost", "pv", 20_000.0, 30.0, 90.0), Unit("Biogas", "biomass", 5_000.0)),
    ],
    ids=["nothing", "biomass", "east-pv-and-biomass"],
)
def test_the_pv_needed_for_the_target_reaches_it(units: tuple[Unit, ...]) -> None:
    before = scenario.run(Inputs(demand_kwh_per_year=200e6, units=units, target_share=0.5))
    needed = before.added_pv_mwp_for_target
    assert needed is not None
    assert 0.0 < needed <= 160.0  # fits onto the open land, or the check would refuse it
    after = scenario.run(
        Inputs(
            demand_kwh_per_year=200e6,
            units=units,
            target_share=0.5,
            added_pv_mwp_by_area={"open_land": needed},
        )
    )
    assert_allclose(after.annual_share, 0.5, rtol=0.01)
    assert_allclose(after.added_pv_mwp_for_target, 0.0, atol=1e-6)


def test_no_pv_is_needed_once_the_target_is_reached(rich: scenario.Result) -> None:
    assert rich.annual_share > 0.5
    assert rich.added_pv_mwp_for_target == 0.0


def test_the_hours_are_utc_hours_of_the_local_year(rich: scenario.Result) -> None:
    assert rich.hours[0] == pd.Timestamp("2024-12-31 23:00", tz="UTC")
    # PV peaks around solar noon, 12:30 local time in winter and 13:30 in summer: check
    # that the generation is not shifted by the hour-middle or the time zone.
    pv_kwh = pd.Series(rich.generation_kwh["pv"], index=rich.hours.tz_convert(BERLIN))
    june = pv_kwh[pv_kwh.index.month == 6]
    by_hour = june.groupby(june.index.hour).mean()
    assert by_hour.idxmax() == 13
    assert_allclose(by_hour[12], by_hour[14], rtol=0.1)

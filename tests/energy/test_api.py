"""The energy API on real meters: configuration, share and matched share over a DST day,
gaps, mixed cadences and units, the goal, the live mix, CSV, access rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from klug.identity.permissions import Role
from tests.conftest import KnownAccount, log_in
from tests.energy.conftest import PERIOD, _csrf, config, post_values, put_config
from tests.sensors.conftest import Api, problem


def test_share_matched_share_and_co2_over_the_dst_day_with_gaps_and_mixed_meters(
    client: TestClient, api: Api, meters: dict[str, int], operator: KnownAccount
) -> None:
    response = put_config(client, config(meters), yaml_text=True)
    assert response.status_code == 200, response.text

    body = client.get("/api/energy/summary", params=PERIOD).json()
    # 47 hours (23-h day), 2 without demand: they are gaps, not zeros.
    assert body["hours_total"] == 47
    assert body["hours_comparable"] == 45
    assert body["completeness"] == pytest.approx(45 / 47, abs=1e-4)
    assert body["completeness_by_meter"]["city"] == pytest.approx(45 / 47, abs=1e-4)
    assert body["demand_kwh"] == pytest.approx(45 * 1000)
    # PV: 4 h × 1,500 kWh on each day; biomass: 100 kWh in each comparable hour.
    assert body["generation_kwh_by_source"] == {"biomass": 4500.0, "pv": 12000.0}
    assert body["share"] == pytest.approx(16500 / 45000, abs=1e-4)
    # Hour by hour, PV + biomass above the demand covers only the demand (1,000 kWh).
    assert body["matched_share"] == pytest.approx((37 * 100 + 8 * 1000) / 45000, abs=1e-4)
    # 2025 has no UBA factor yet: the latest earlier one (2024, 363 g/kWh) is used, and said.
    assert body["co2_avoided_t"] == pytest.approx(16500 * 363 / 1e6, abs=0.01)
    assert body["emission_factor_years"] == {"2025": 2024}


def test_daily_chart_marks_incomplete_days_and_downloads_as_csv(
    client: TestClient, api: Api, meters: dict[str, int], operator: KnownAccount
) -> None:
    assert put_config(client, config(meters)).status_code == 200
    chart = client.get("/api/energy/series", params={**PERIOD, "resolution": "day"}).json()
    columns = chart["columns"]
    assert columns["t"] == ["2025-03-29T00:00:00+01:00", "2025-03-30T00:00:00+01:00"]
    assert columns["demand_kwh"] == [None, 23000.0]  # day one has a gap; day two has 23 h
    assert columns["pv_kwh"] == [6000.0, 6000.0]
    hourly = client.get("/api/energy/series", params={**PERIOD, "resolution": "hour"}).json()
    assert len(hourly["columns"]["t"]) == 47
    csv_text = client.get("/api/energy/series.csv", params={**PERIOD, "resolution": "day"}).text
    assert csv_text.splitlines()[0] == "t,demand_kwh,pv_kwh,biomass_kwh"
    assert csv_text.splitlines()[1].startswith("2025-03-29T00:00:00+01:00,,6000.0,")


def test_the_goal_year_is_over_and_the_page_says_so_honestly(
    client: TestClient, api: Api, meters: dict[str, int], operator: KnownAccount
) -> None:
    assert put_config(client, config(meters)).status_code == 200
    goal = client.get("/api/energy/summary", params=PERIOD).json()["goal"]
    # Two days of 2025 are no basis for a verdict on the year.
    assert goal["status"] == "unknown"
    assert goal["year_completeness"] < 0.01
    assert (goal["next_share"], goal["next_year"]) == (0.65, 2030)


def test_configuration_is_checked_against_the_meters(
    client: TestClient, api: Api, meters: dict[str, int], operator: KnownAccount
) -> None:
    wrong_kind = config(meters)
    wrong_kind["units"][1] = {**wrong_kind["units"][1], "energy_datastream": meters["pv"]}
    assert "measures power (kW)" in problem(put_config(client, wrong_kind))
    not_energy = config(meters)
    not_energy["demand"][0]["power_datastream"] = meters["thermometer"]
    assert "neither power nor energy" in problem(put_config(client, not_energy))
    missing = config(meters)
    missing["units"][0]["power_datastream"] = 99999
    assert "does not exist" in problem(put_config(client, missing))
    both = config(meters)
    both["units"][0]["energy_datastream"] = meters["biomass"]
    assert "exactly one of" in problem(put_config(client, both))
    # A forecast archive must be in the quantity's unit (cloud cover in %, not °C).
    wrong_forecast = config(meters)
    wrong_forecast["weather"] = {"cloud_cover_forecast_datastream": meters["thermometer"]}
    assert "expected %" in problem(put_config(client, wrong_forecast))
    wrong_forecast["weather"] = {"ghi_forecast_datastream": 99999}
    assert "does not exist" in problem(put_config(client, wrong_forecast))
    broken = client.put(
        "/api/energy/config",
        content=b"demand: [unclosed",
        headers={"Content-Type": "application/yaml", "X-CSRF-Token": _csrf(client)},
    )
    assert "not valid YAML" in problem(broken)
    # Nothing of the refused configurations was kept.
    assert client.get("/api/energy/config").status_code == 404


def test_configuration_needs_the_energy_role(
    client: TestClient, api: Api, meters: dict[str, int], make_account: Any
) -> None:
    assert client.get("/api/energy/config").status_code == 401
    caseworker = make_account(role=Role.CASEWORKER)
    log_in(client, caseworker)
    assert client.get("/api/energy/config").status_code == 403
    assert put_config(client, config(meters)).status_code == 403


def test_unconfigured_and_malformed_requests_are_clear_errors(client: TestClient) -> None:
    assert "no configuration" in problem(client.get("/api/energy/summary"), 404)
    assert "'period' is one of" in problem(client.get("/api/energy/summary?period=week"))
    assert "needs 'from' and 'to'" in problem(client.get("/api/energy/summary?period=custom"))
    bad_date = client.get("/api/energy/summary?period=custom&from=2025-13-01&to=2025-01-01")
    assert bad_date.status_code in (400, 422)


def test_live_mix_sums_only_fresh_meters(
    client: TestClient, api: Api, meters: dict[str, int], operator: KnownAccount
) -> None:
    assert put_config(client, config(meters)).status_code == 200
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    post_values(api, meters["demand"], [(now, 800.0)])
    mix = client.get("/api/energy/mix").json()
    by_key = {u["key"]: u for u in mix["units"]}
    assert by_key["city"]["freshness"] == "live"
    assert mix["demand_kw"] == 800.0
    # The PV meter's last value is from March 2025: shown as stale, not counted as now.
    assert by_key["pv-sued"]["freshness"] == "stale"
    assert mix["generation_kw_by_source"] == {}
    assert mix["share_now"] == 0.0


def test_answers_follow_new_data_and_configuration_at_once(
    client: TestClient, api: Api, meters: dict[str, int], operator: KnownAccount
) -> None:
    assert put_config(client, config(meters)).status_code == 200
    before = client.get("/api/energy/summary", params=PERIOD).json()
    # The two missing demand hours arrive late: they count from the next answer on.
    late = dt.datetime(2025, 3, 29, 1, tzinfo=dt.UTC)  # 02:00 local
    post_values(
        api, meters["demand"], [(late + dt.timedelta(minutes=15 * q), 1000.0) for q in range(8)]
    )
    after = client.get("/api/energy/summary", params=PERIOD).json()
    assert (before["hours_comparable"], after["hours_comparable"]) == (45, 47)
    assert after["demand_kwh"] == pytest.approx(47_000)
    # Without the biomass unit, the share drops at once.
    smaller = config(meters)
    smaller["units"] = smaller["units"][:1]
    assert put_config(client, smaller).status_code == 200
    only_pv = client.get("/api/energy/summary", params=PERIOD).json()
    assert only_pv["generation_kwh_by_source"] == {"pv": 12000.0}


def test_a_meter_whose_unit_changes_later_becomes_gaps_not_an_error(
    client: TestClient, api: Api, meters: dict[str, int], operator: KnownAccount
) -> None:
    assert put_config(client, config(meters)).status_code == 200
    changed = {"unitOfMeasurement": {"name": "Grad Celsius", "symbol": "°C", "definition": "-"}}
    assert api.patch(f"/Datastreams({meters['biomass']})", changed).status_code == 200
    body = client.get("/api/energy/summary", params=PERIOD)
    assert body.status_code == 200
    figures = body.json()
    assert figures["completeness_by_meter"]["bio"] == 0.0
    assert figures["hours_comparable"] == 0  # no hour has every meter any more
    assert client.get("/api/energy/mix").status_code == 200

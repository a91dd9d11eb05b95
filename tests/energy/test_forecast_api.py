"""Tomorrow's forecast on the demo city's meters: load and PV with their backtests, as
JSON and as a page with tables."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from klug.energy import service as energy_service
from klug.sim.energy import seed_energy
from tests.conftest import soup


@pytest.fixture
def demo_city(client: TestClient) -> TestClient:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        seed_energy(session, days=21)
        session.commit()
    return client


def test_forecast_for_tomorrow_with_backtest_figures(demo_city: TestClient) -> None:
    body = demo_city.get("/api/energy/forecast").json()
    hours = len(body["hours"])
    assert hours in (23, 24, 25)
    load = body["load"]
    assert len(load["kwh"]) == hours
    # ~620 GWh/a: a day of the city is 1.2–2.4 GWh.
    assert 1.2e6 < sum(load["kwh"]) < 2.4e6
    # The simulated load follows the standard profiles: the model must beat "same hour
    # yesterday", and stay within a few per cent.
    assert 12 <= load["days_evaluated"] <= 14  # the first days lack a week of training
    assert load["backtest_mape_pct"] < 6.0
    assert load["backtest_mape_pct"] < load["baseline_mape_pct"]
    pv = body["pv"]
    # The demo city's forecast service issues cloud cover every morning: tomorrow and
    # every backtest day use the issue from before that day.
    assert pv["method"] == "cloud_cover"
    assert pv["backtest_days_by_method"] == {"cloud_cover": pv["days_evaluated"]}
    assert set(pv["kw"]) >= {"hoelzengraben"} or len(pv["kw"]) >= 2
    for values in pv["kw"].values():
        assert values[0] == 0.0 and values[-1] == 0.0  # midnight: no sun
        assert max(values) > 0.0
    assert 0 < pv["backtest_fleet_nrmse_pct_of_capacity"] < 60


def test_without_a_weather_forecast_the_pv_forecast_says_so(demo_city: TestClient) -> None:
    with demo_city.app.state.session_factory() as session:  # type: ignore[attr-defined]
        config = energy_service.current_config(session)
        assert config is not None
        with_forecast = demo_city.get("/api/energy/forecast").json()["pv"]
        config.weather.cloud_cover_forecast_datastream = None
        energy_service.replace_config(session, config)
        session.commit()
    pv = demo_city.get("/api/energy/forecast").json()["pv"]
    assert pv["method"] == "clear_sky_x_clearness"
    assert pv["backtest_days_by_method"] == {"clear_sky_x_clearness": pv["days_evaluated"]}
    # The demo's forecast is informative: it beats the plants' recent clearness.
    assert (
        with_forecast["backtest_fleet_nrmse_pct_of_capacity"]
        < pv["backtest_fleet_nrmse_pct_of_capacity"]
    )


def test_forecast_page_is_a_table(demo_city: TestClient) -> None:
    page = demo_city.get("/energie/prognose")
    assert page.status_code == 200
    html = soup(page)
    rows = html.select("table.data-table")[0].select("tbody tr")
    assert len(rows) in (23, 24, 25)
    assert "MAPE" in html.get_text()
    english = demo_city.get("/en/energie/prognose")
    assert "Forecast for tomorrow" in soup(english).get_text()


def test_forecast_without_configuration(client: TestClient) -> None:
    assert client.get("/api/energy/forecast").status_code == 404
    assert client.get("/energie/prognose").status_code == 200

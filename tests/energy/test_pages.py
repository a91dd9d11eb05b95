"""The energy pages: dashboard (figures as text and tables, live hook, CSV) and the scenario
planner (a plain form: results, field errors, the year as CSV), in German and English."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi.testclient import TestClient

from tests.conftest import KnownAccount, soup
from tests.energy.conftest import config, post_values, put_config
from tests.sensors.conftest import Api


def test_dashboard_without_configuration_says_so(client: TestClient) -> None:
    page = client.get("/energie")
    assert page.status_code == 200
    assert "Die Energiedaten werden gerade angebunden" in soup(page).get_text()


def test_dashboard_shows_todays_share_and_meters_as_tables(
    client: TestClient, api: Api, meters: dict[str, int], operator: KnownAccount
) -> None:
    assert put_config(client, config(meters)).status_code == 200
    # The last three full hours: 1,000 kW demand, 400 kW PV, 100 kWh biomass per hour.
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    hours = [now - dt.timedelta(hours=h) for h in (3, 2, 1)]
    quarters = [h + dt.timedelta(minutes=15 * q) for h in hours for q in range(4)]
    post_values(api, meters["demand"], [(t, 1000.0) for t in quarters])
    post_values(api, meters["pv"], [(t, 400.0) for t in quarters])
    post_values(api, meters["biomass"], [(t, 100.0) for t in hours])

    page = client.get("/energie?zeitraum=today")
    assert page.status_code == 200
    html = soup(page)
    text = " ".join(html.get_text().split())
    # Share of the hours that are complete so far today: (400 + 100) / 1,000 = 50 %.
    local_hour = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=1))).hour
    if local_hour >= 4:  # all three hours fall on today (local)
        assert "50,0 %" in text
        meter = html.find("meter", id="share-meter")
        assert meter is not None and float(meter["value"]) == 0.5
    meters_table = html.find("table", class_="data-table")
    assert meters_table is not None
    assert "Stadtgebiet" in meters_table.get_text()
    assert "Solarpark Süd" in meters_table.get_text()
    live = html.find(id="live-mix")
    assert live is not None and str(meters["demand"]) in live["data-live"]
    # The goal year (2025) is over; with no data for it the page refuses a verdict.
    assert "zu wenig" in text or "too little" in text
    csv_page = client.get("/energie/daten.csv?zeitraum=today")
    assert csv_page.status_code == 200
    assert csv_page.headers["content-type"].startswith("text/csv")
    assert csv_page.text.splitlines()[0].startswith("t,demand_kwh")


def test_planner_answers_with_the_default_mix(client: TestClient) -> None:
    page = client.get("/energie/szenario")
    assert page.status_code == 200
    text = " ".join(soup(page).get_text().split())
    assert "Anteil über das Jahr" in text
    assert "Ziel nicht erreicht" in text  # today's plants are far from 50 %


def test_planner_with_large_solar_parks_reaches_the_goal(client: TestClient) -> None:
    params = {
        "pv_open_land": "160",
        "pv_rail_motorway": "80",
        "pv_car_parks": "18",
        "added_wind_mw": "90",
        "storage_mwh": "200",
    }
    page = client.get("/energie/szenario", params=params)
    assert page.status_code == 200
    text = " ".join(soup(page).get_text().split())
    assert "Ziel erreicht" in text
    assert "258 ha" in text  # 160 + 80 + 18 ha at 1 ha per MWp
    download = client.get("/energie/szenario.csv", params=params)
    assert download.status_code == 200
    lines = download.text.splitlines()
    assert lines[0].startswith("# klug scenario, inputs:")
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:]))))
    assert rows[0][:3] == ["hour_utc", "hour_local", "demand_kwh"]
    assert len(rows) - 1 == 8760


def test_planner_marks_wrong_fields(client: TestClient) -> None:
    page = client.get("/energie/szenario", params={"added_wind_mw": "viel", "storage_mwh": "-5"})
    assert page.status_code == 400
    html = soup(page)
    for name in ("added_wind_mw", "storage_mwh"):
        field = html.find("input", id=name)
        assert field is not None and field.get("aria-invalid") == "true"
        assert f"{name}-error" in field["aria-describedby"]
    too_big = client.get("/energie/szenario", params={"pv_car_parks": "30"})
    assert too_big.status_code == 400
    assert "18 ha" in soup(too_big).get_text()
    assert client.get("/energie/szenario.csv", params={"storage_mwh": "x"}).status_code == 400


def test_planner_in_english(client: TestClient) -> None:
    page = client.get("/en/energie/szenario")
    assert page.status_code == 200
    text = " ".join(soup(page).get_text().split())
    assert "Scenario planner" in text
    assert "Annual share" in text
    assert "Open land" in text

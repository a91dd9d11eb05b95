"""The sensors console: list with latest values and freshness, detail with history."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from klug.identity.permissions import Role
from klug.sensors import ingest, timeutil
from klug.sensors.entities import ENTITY_TYPES
from klug.sensors.service import Writer
from tests.conftest import KnownAccount, soup


def _seed(client: TestClient) -> tuple[int, int]:
    now = timeutil.now_micros()
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        writer = Writer(session, now=now)
        thing = writer.create(
            ENTITY_TYPES["Thing"],
            {
                "name": "Solarpark Schweinsdell",
                "Locations": [
                    {
                        "name": "P+R",
                        "encodingType": "application/geo+json",
                        "location": {"type": "Point", "coordinates": [7.80, 49.45]},
                    }
                ],
            },
        )
        common = {
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "Thing": {"@iot.id": thing},
            "Sensor": {"name": "Wechselrichter", "encodingType": "text/plain", "metadata": "-"},
            "ObservedProperty": {"name": "power", "definition": "http://example.org/power"},
        }
        live = writer.create(
            ENTITY_TYPES["Datastream"],
            {
                "name": "Leistung",
                "unitOfMeasurement": {"name": "kilowatt", "symbol": "kW", "definition": ""},
                "properties": {"public": True, "expectedInterval": "PT5M"},
                **common,
            },
        )
        silent = writer.create(
            ENTITY_TYPES["Datastream"],
            {
                "name": "Zähler intern",
                "unitOfMeasurement": {"name": "kWh", "symbol": "kWh", "definition": ""},
                "properties": {"expectedInterval": "PT5M"},
                **common,
            },
        )
        items = [
            ingest.NewObservation(
                live, None, now - i * 300_000_000, result_number=100.0 + i, result_raw=100 + i
            )
            for i in range(200)
        ]
        items.append(
            ingest.NewObservation(
                silent, None, now - 3_600_000_000, result_number=5.0, result_raw=5
            )
        )
        ingest.store(session, items, now=now)
        session.commit()
    return live, silent


def test_operators_see_every_datastream_with_freshness_and_trend(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    _seed(client)
    logged_in(Role.OPERATOR_ENERGY)
    page = soup(client.get("/console/sensoren"))
    rows = page.select("table.data-table tbody tr")
    by_name = {r.find_all("td")[1].get_text(" ", strip=True): r for r in rows}
    assert set(by_name) == {"Leistung", "Zähler intern intern"}
    leistung = by_name["Leistung"].find_all("td")
    assert leistung[2].get_text(" ", strip=True) == "100 kW"
    assert leistung[4].get_text(strip=True) == "aktuell"
    assert leistung[5].find("svg")["role"] == "img"
    assert by_name["Zähler intern intern"].find_all("td")[4].get_text(strip=True) == "veraltet"
    searched = soup(client.get("/console/sensoren?suche=zähler")).select(
        "table.data-table tbody tr"
    )
    assert len(searched) == 1


def test_detail_page_has_a_table_of_the_values_the_chart_shows(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    live, _silent = _seed(client)
    logged_in(Role.CASEWORKER)
    page = soup(client.get(f"/en/console/sensoren/{live}"))
    assert page.find("h1").get_text(strip=True) == "Leistung"
    chart = page.find(id="chart")
    assert chart["data-series"] == f"/api/sensors/datastreams/{live}/series"
    assert chart["role"] == "img"
    rows = page.select("table.data-table tbody tr")
    assert 16 <= len(rows) <= 18, "about 17 hours of data, one row per hour"
    assert rows[0].find_all("td")[1].get_text(strip=True).endswith("kW")
    assert client.get("/console/sensoren/9999").status_code == 404


def test_citizens_have_no_sensor_console(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.CITIZEN)
    assert client.get("/console/sensoren").status_code == 403

"""Fixtures of the energy tests: real meters as SensorThings Datastreams with known values."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from fastapi.testclient import TestClient

from klug.identity.permissions import Role
from tests.conftest import KnownAccount, csrf_token, log_in
from tests.sensors.conftest import MEASUREMENT, Api, location, point

BERLIN = ZoneInfo("Europe/Berlin")
KW = {"name": "Kilowatt", "symbol": "kW", "definition": "http://qudt.org/vocab/unit/KiloW"}
KWH = {
    "name": "Kilowattstunde",
    "symbol": "kWh",
    "definition": "http://qudt.org/vocab/unit/KiloW-HR",
}
CELSIUS = {"name": "Grad Celsius", "symbol": "°C", "definition": "http://qudt.org/vocab/unit/DEG_C"}

# 29 and 30 March 2025 (local): 24 + 23 hours – the clocks go forward on the 30th.
FIRST_DAY = dt.date(2025, 3, 29)
PERIOD = {"period": "custom", "from": "2025-03-29", "to": "2025-03-31"}


def stream(api: Api, name: str, unit: dict[str, str], interval: str) -> int:
    thing = api.create(
        "/Things",
        {
            "name": f"Zähler {name}",
            # A Location, so that Observations get their FeatureOfInterest from it.
            "Locations": [location(name, point(7.7690, 49.4447))],
            "Datastreams": [
                {
                    "name": name,
                    "unitOfMeasurement": unit,
                    "observationType": MEASUREMENT,
                    "properties": {"expectedInterval": interval, "public": True},
                    "Sensor": {"name": "Zähler", "encodingType": "text/plain", "metadata": "-"},
                    "ObservedProperty": {"name": name, "definition": "https://klug.example/e"},
                }
            ],
        },
    )
    found = api.read(f"/Things({thing['@iot.id']})/Datastreams")["value"]
    return int(found[0]["@iot.id"])


def post_values(api: Api, datastream: int, rows: list[tuple[dt.datetime, float]]) -> None:
    body = [
        {
            "Datastream": {"@iot.id": datastream},
            "components": ["phenomenonTime", "result"],
            "dataArray": [[t.astimezone(dt.UTC).isoformat(), v] for t, v in rows],
        }
    ]
    response = api.post("/CreateObservations", body)
    assert response.status_code == 201, response.text
    assert "error" not in response.json()


def local_hours() -> list[dt.datetime]:
    """Every UTC hour of the two local days (47 of them)."""
    start = dt.datetime.combine(FIRST_DAY, dt.time(), BERLIN).astimezone(dt.UTC)
    end = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=2), dt.time(), BERLIN).astimezone(
        dt.UTC
    )
    hours = []
    t = start
    while t < end:
        hours.append(t)
        t += dt.timedelta(hours=1)
    return hours


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


@pytest.fixture
def meters(api: Api) -> dict[str, int]:
    """Demand 1,000 kW (15-min, two hours missing), PV 1,500 kW for four local midday
    hours a day (15-min, commissioned on the first day), biomass 100 kWh per hour (hourly
    energy meter), and a thermometer."""
    ids = {
        "demand": stream(api, "Last Stadtgebiet", KW, "PT15M"),
        "pv": stream(api, "Solarpark Süd", KW, "PT15M"),
        "biomass": stream(api, "Biomasse", KWH, "PT1H"),
        "thermometer": stream(api, "Temperatur", CELSIUS, "PT15M"),
    }
    hours = local_hours()
    assert len(hours) == 47
    demand, pv, biomass = [], [], []
    for hour in hours:
        wall = hour.astimezone(BERLIN)
        quarters = [hour + dt.timedelta(minutes=15 * q) for q in range(4)]
        if not (wall.date() == FIRST_DAY and wall.hour in (2, 3)):  # the gap
            demand += [(t, 1000.0) for t in quarters]
        pv += [(t, 1500.0 if 10 <= wall.hour < 14 else 0.0) for t in quarters]
        biomass.append((hour, 100.0))
    post_values(api, ids["demand"], demand)
    post_values(api, ids["pv"], pv)
    post_values(api, ids["biomass"], biomass)
    return ids


def config(ids: dict[str, int]) -> dict[str, Any]:
    return {
        "target": {"share": 0.5, "year": 2025, "next_share": 0.65, "next_year": 2030},
        "demand": [
            {
                "key": "city",
                "name": "Stadtgebiet",
                "source": "load",
                "power_datastream": ids["demand"],
            }
        ],
        "units": [
            {
                "key": "pv-sued",
                "name": "Solarpark Süd",
                "source": "pv",
                "peak_power_kw": 2000,
                "power_datastream": ids["pv"],
                "commissioned_on": "2025-03-29",
            },
            {
                "key": "bio",
                "name": "Biomasse",
                "source": "biomass",
                "energy_datastream": ids["biomass"],
            },
        ],
    }


@pytest.fixture
def operator(client: TestClient, make_account: Any) -> KnownAccount:
    account: KnownAccount = make_account(role=Role.OPERATOR_ENERGY)
    log_in(client, account)
    return account


def put_config(client: TestClient, body: Any, *, yaml_text: bool = False) -> Any:
    if yaml_text:
        return client.put(
            "/api/energy/config",
            content=yaml.safe_dump(body, allow_unicode=True).encode(),
            headers={"Content-Type": "application/yaml", "X-CSRF-Token": _csrf(client)},
        )
    return client.put("/api/energy/config", json=body, headers={"X-CSRF-Token": _csrf(client)})


def _csrf(client: TestClient) -> str:
    return csrf_token(client, "/konto")

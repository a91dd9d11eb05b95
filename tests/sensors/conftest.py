"""Fixtures of the SensorThings conformance tests.

``api`` talks to a fresh database per test (for tests that write). ``city`` is a small,
known data set of Kaiserslautern sensors built once per module through the API itself;
the read-only tests of a module query it (every expected id set below is derived from
these few entities, so a wrong operator shows up as a wrong set).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from klug.app import create_app
from klug.core import migrate
from klug.core.audit import SYSTEM
from klug.core.config import Settings
from klug.identity import apikeys
from tests.conftest import (
    TEST_SECRET,
    PostgresDatabase,
    create_postgres_database,
    drop_postgres_database,
)

STA = "/sta/v1.1"
BASE = "http://testserver" + STA
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
CATEGORY = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CategoryObservation"
COMPLEX = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"
GEOJSON = "application/geo+json"
CELSIUS = {
    "name": "Grad Celsius",
    "symbol": "°C",
    "definition": "http://unitsofmeasure.org/ucum.html#para-30",
}
PERCENT = {"name": "Prozent", "symbol": "%", "definition": "http://unitsofmeasure.org/ucum.html"}
DECIBEL = {
    "name": "Dezibel",
    "symbol": "dB(A)",
    "definition": "http://unitsofmeasure.org/ucum.html",
}
VEHICLES = {"name": "Fahrzeuge", "symbol": "Fz", "definition": "https://klug.example/units/fz"}


def key_headers(client: TestClient, scopes: str) -> dict[str, str]:
    """An API key with these scopes, as the header a machine client sends."""
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        _, key = apikeys.create(session=session, name=f"STA {scopes}", scopes=scopes, actor=SYSTEM)
        session.commit()
    return {"Authorization": f"Bearer {key}"}


class Api:
    """The SensorThings API as three clients see it: a writer (``sensors.write`` and
    ``sensors.read``), a privileged reader (``sensors.read``) and anonymous."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.writer = key_headers(client, "sensors.write,sensors.read")
        self.reader = key_headers(client, "sensors.read")

    def _headers(self, who: str) -> dict[str, str]:
        return {"writer": self.writer, "reader": self.reader, "anonymous": {}}[who]

    def get(
        self, path: str, params: dict[str, str] | None = None, *, who: str = "reader"
    ) -> httpx.Response:
        url = path if path.startswith("http") else STA + path
        return self.client.get(url, params=params, headers=self._headers(who))

    def read(self, path: str, params: dict[str, str] | None = None, *, who: str = "reader") -> Any:
        """GET that must succeed; the parsed JSON body."""
        response = self.get(path, params, who=who)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any, *, who: str = "writer") -> httpx.Response:
        return self.client.post(STA + path, json=body, headers=self._headers(who))

    def create(self, path: str, body: Any) -> dict[str, Any]:
        """POST that must create; the created entity."""
        response = self.post(path, body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        assert response.headers["location"] == created["@iot.selfLink"]
        return created

    def patch(self, path: str, body: Any, *, who: str = "writer") -> httpx.Response:
        return self.client.patch(STA + path, json=body, headers=self._headers(who))

    def delete(self, path: str, *, who: str = "writer") -> httpx.Response:
        return self.client.delete(STA + path, headers=self._headers(who))


def ids(body: dict[str, Any]) -> list[int]:
    return [item["@iot.id"] for item in body["value"]]


def problem(response: httpx.Response, status: int = 400) -> str:
    """The ``detail`` of an error response (RFC 9457 problem JSON) with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail: str = response.json()["detail"]
    return detail


# -- databases and apps -------------------------------------------------------------------


def make_client(database_url: str, var_dir: Path, redis_url: str | None = None) -> TestClient:
    settings = Settings(
        redis_url=redis_url,
        env="dev",
        database_url=database_url,
        secret_key=TEST_SECRET,
        base_url="http://testserver",
        var_dir=var_dir,
        rate_limit_ip="100000/minute",
        rate_limit_account="100000/minute",
        rate_limit_login="1000/minute",
        log_level="WARNING",
    )
    return TestClient(create_app(settings), base_url="http://testserver")


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


@pytest.fixture(scope="module")
def module_database_url(
    migrated_template: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of this module's own (the function-scoped one is wiped per test)."""
    if isinstance(migrated_template, PostgresDatabase):
        url = create_postgres_database("klug_sta")
        migrate.upgrade(url)
        yield url
        drop_postgres_database(url)
    else:
        target = tmp_path_factory.mktemp("sta") / "klug.db"
        shutil.copyfile(migrated_template, target)
        yield f"sqlite:///{target}"


@pytest.fixture(scope="module")
def module_api(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with make_client(module_database_url, tmp_path_factory.mktemp("var")) as client:
        yield Api(client)


# -- the data set -------------------------------------------------------------------------


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def location(name: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"Standort {name}",
        "encodingType": GEOJSON,
        "location": geometry,
    }


@dataclass
class City:
    """Names (or labels) ↔ ids of everything in the data set."""

    api: Api
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def id(self, entity_set: str, name: str) -> int:
        return self.ids[entity_set][name]

    def names(self, entity_set: str, body: dict[str, Any]) -> list[str]:
        by_id = {v: k for k, v in self.ids[entity_set].items()}
        return [by_id[i] for i in ids(body)]

    def matching(self, entity_set: str, expression: str, *, who: str = "reader") -> set[str]:
        """Names (labels) of the entities that ``$filter=expression`` returns."""
        body = self.api.read(f"/{entity_set}", {"$filter": expression, "$top": "1000"}, who=who)
        assert "@iot.nextLink" not in body
        return set(self.names(entity_set, body))

    def observations(self, expression: str, *, who: str = "reader") -> set[str]:
        return self.matching("Observations", expression, who=who)

    def remember(self, entity_set: str, name: str, entity_id: int) -> None:
        self.ids.setdefault(entity_set, {})[name] = entity_id


# Observations of the data set: label → (Datastream, body). Times in 2025 are fixed;
# two noise readings are relative to the time the data set is built (for now()).
TEMPERATURE = "Lufttemperatur Pfaffplatz"
HUMIDITY = "Luftfeuchte Pfaffplatz"  # not public
NOISE = "Lärm Campus"
TRAFFIC = "Verkehr Lauterstraße"
WEATHER = "Wetter Campus"  # a MultiDatastream: temperature and humidity

FIXED_OBSERVATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "frost": (
        TEMPERATURE,
        {
            "phenomenonTime": "2025-01-15T06:00:00Z",
            "resultTime": "2025-01-15T06:00:05Z",
            "result": -3.5,
        },
    ),
    "thaw": (TEMPERATURE, {"phenomenonTime": "2025-01-15T12:00:00Z", "result": 2}),
    "spring": (
        TEMPERATURE,
        {
            "phenomenonTime": "2025-03-01T00:00:00Z/2025-03-01T06:00:00Z",
            "resultTime": "2025-03-01T06:05:00Z",
            "result": 4.25,
        },
    ),
    "kaiserberg": (
        TEMPERATURE,
        {
            "phenomenonTime": "2025-05-05T05:05:05Z",
            "result": 12,
            "FeatureOfInterest": {
                "name": "Kaiserberg",
                "description": "Messfläche am Kaiserberg",
                "encodingType": GEOJSON,
                "properties": {"terrain": "Wald"},
                "feature": {
                    "type": "Feature",
                    "properties": {},
                    "geometry": box(7.80, 49.45, 7.82, 49.46),
                },
            },
        },
    ),
    "summer": (
        TEMPERATURE,
        {
            "phenomenonTime": "2025-06-21T14:30:15.250Z",
            "result": 28.5,
            "parameters": {"calibrated": True, "operator": "Müller"},
        },
    ),
    # Sent with an offset: 23:59:59+02:00 is 21:59:59 UTC, still 1 July.
    "heat": (TEMPERATURE, {"phenomenonTime": "2025-07-01T23:59:59+02:00", "result": 31}),
    "eve": (
        TEMPERATURE,
        {
            "phenomenonTime": "2025-12-31T18:00:00Z",
            "validTime": "2025-12-31T00:00:00Z/2026-01-01T00:00:00Z",
            "result": 0,
        },
    ),
    "humid": (HUMIDITY, {"phenomenonTime": "2025-06-21T14:30:00Z", "result": 81}),
    "dry": (HUMIDITY, {"phenomenonTime": "2025-07-01T12:00:00Z", "result": 35}),
    "quiet": (NOISE, {"phenomenonTime": "2025-02-02T02:00:00Z", "result": "leise"}),
    "loud": (NOISE, {"phenomenonTime": "2025-02-02T14:00:00Z", "result": "laut"}),
    "rush": (
        TRAFFIC,
        {
            "phenomenonTime": "2025-04-01T08:00:00Z",
            "result": {"cars": 120, "bikes": 30, "label": "Rushhour"},
        },
    ),
    "night": (
        TRAFFIC,
        {"phenomenonTime": "2025-04-01T03:00:00Z", "result": {"cars": 4, "bikes": 0}},
    ),
    "mild": (WEATHER, {"phenomenonTime": "2025-05-01T12:00:00Z", "result": [18.5, 60]}),
    "warm": (WEATHER, {"phenomenonTime": "2025-05-02T12:00:00Z", "result": [21, 55]}),
}
RECENT_OBSERVATIONS = {"recent": dt.timedelta(hours=2), "lastweek": dt.timedelta(days=3)}
ALL_OBSERVATIONS = set(FIXED_OBSERVATIONS) | set(RECENT_OBSERVATIONS)
# Where the Locations are (WGS 84, lon/lat): three points of interest and the city centre.
PFAFFPLATZ = point(7.7595, 49.4447)
CAMPUS = point(7.7520, 49.4240)
LAUTERSTRASSE = {"type": "LineString", "coordinates": [[7.76, 49.445], [7.77, 49.445]]}
INNENSTADT = box(7.75, 49.44, 7.78, 49.45)


def _stream(
    name: str, unit: dict[str, Any], observation_type: str, public: bool, **navs: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"Messreihe {name}",
        "unitOfMeasurement": unit,
        "observationType": observation_type,
        "properties": {"public": public},
        **navs,
    }


def _sensor(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"Sensor {name}",
        "encodingType": "application/pdf",
        "metadata": f"https://klug.example/datasheets/{name}.pdf",
    }


def _observed_property(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "definition": f"https://klug.example/properties/{name}",
        "description": f"Größe {name}",
    }


def build_city(api: Api) -> City:
    city = City(api)

    def remember_expanded(entity: dict[str, Any]) -> None:
        """Record a created Thing and everything created with it (read back expanded)."""
        thing = api.read(
            f"/Things({entity['@iot.id']})",
            {"$expand": "Locations,Datastreams($expand=Sensor,ObservedProperty)"},
        )
        city.remember("Things", thing["name"], thing["@iot.id"])
        for loc in thing["Locations"]:
            city.remember("Locations", loc["name"], loc["@iot.id"])
        for stream in thing["Datastreams"]:
            city.remember("Datastreams", stream["name"], stream["@iot.id"])
            city.remember("Sensors", stream["Sensor"]["name"], stream["Sensor"]["@iot.id"])
            observed = stream["ObservedProperty"]
            city.remember("ObservedProperties", observed["name"], observed["@iot.id"])

    # A deep insert: Thing, Location, Datastream, Sensor and ObservedProperty at once.
    pfaff = api.create(
        "/Things",
        {
            "name": "Wetterstation Pfaffplatz",
            "description": "Dach des Pfaff-Quartiers",
            "properties": {
                "district": "Innenstadt-West",
                "floors": 2,
                "operator": {"name": "Stadtwerke"},
            },
            "Locations": [location("Pfaffplatz", PFAFFPLATZ)],
            "Datastreams": [
                _stream(
                    TEMPERATURE,
                    CELSIUS,
                    MEASUREMENT,
                    True,
                    Sensor=_sensor("PT100"),
                    ObservedProperty=_observed_property("Lufttemperatur"),
                )
            ],
        },
    )
    remember_expanded(pfaff)
    api.create(
        "/Datastreams",
        _stream(
            HUMIDITY,
            PERCENT,
            MEASUREMENT,
            False,
            Thing={"@iot.id": city.id("Things", "Wetterstation Pfaffplatz")},
            Sensor={"@iot.id": city.id("Sensors", "PT100")},
            ObservedProperty=_observed_property("Luftfeuchte"),
        ),
    )
    remember_expanded(pfaff)
    # The Campus location is a GeoJSON Feature (as many clients send it).
    uni = api.create(
        "/Things",
        {
            "name": "Wetterstation Uni",
            "description": "Campus der RPTU",
            "properties": {"district": "Universität", "floors": 12},
            "Locations": [
                location("Campus", {"type": "Feature", "properties": {}, "geometry": CAMPUS})
            ],
            "Datastreams": [
                _stream(
                    NOISE,
                    DECIBEL,
                    CATEGORY,
                    True,
                    Sensor=_sensor("Mikrofon"),
                    ObservedProperty=_observed_property("Lärmpegel"),
                )
            ],
        },
    )
    remember_expanded(uni)
    counter = api.create(
        "/Things",
        {
            "name": "Zählstelle Lauterstraße",
            "description": "Induktionsschleife",
            "properties": {"district": "Innenstadt"},
            "Locations": [location("Lauterstraße", LAUTERSTRASSE)],
            "Datastreams": [
                _stream(
                    TRAFFIC,
                    VEHICLES,
                    COMPLEX,
                    True,
                    Sensor=_sensor("Zählschleife"),
                    ObservedProperty=_observed_property("Verkehrsstärke"),
                )
            ],
        },
    )
    remember_expanded(counter)
    innenstadt = api.create("/Locations", location("Innenstadt", INNENSTADT))
    city.remember("Locations", "Innenstadt", innenstadt["@iot.id"])
    weather = api.create(
        "/MultiDatastreams",
        {
            "name": WEATHER,
            "description": "Temperatur und Feuchte am Campus",
            "unitOfMeasurements": [CELSIUS, PERCENT],
            "observationType": COMPLEX,
            "multiObservationDataTypes": [MEASUREMENT, MEASUREMENT],
            "properties": {"public": True},
            "Thing": {"@iot.id": city.id("Things", "Wetterstation Uni")},
            "Sensor": _sensor("Kombisensor"),
            "ObservedProperties": [
                {"@iot.id": city.id("ObservedProperties", "Lufttemperatur")},
                {"@iot.id": city.id("ObservedProperties", "Luftfeuchte")},
            ],
        },
    )
    city.remember("MultiDatastreams", WEATHER, weather["@iot.id"])
    sensor = api.read(f"/MultiDatastreams({weather['@iot.id']})/Sensor")
    city.remember("Sensors", sensor["name"], sensor["@iot.id"])

    for label, (stream, body) in FIXED_OBSERVATIONS.items():
        set_name = "MultiDatastreams" if stream == WEATHER else "Datastreams"
        created = api.create(f"/{set_name}({city.id(set_name, stream)})/Observations", body)
        city.remember("Observations", label, created["@iot.id"])
    for label, age in RECENT_OBSERVATIONS.items():
        when = (city.now - age).isoformat().replace("+00:00", "Z")
        created = api.create(
            f"/Datastreams({city.id('Datastreams', NOISE)})/Observations",
            {"phenomenonTime": when, "result": "laut" if label == "recent" else "leise"},
        )
        city.remember("Observations", label, created["@iot.id"])

    for foi in api.read("/FeaturesOfInterest")["value"]:
        city.remember("FeaturesOfInterest", foi["name"], foi["@iot.id"])
    return city


@pytest.fixture(scope="module")
def city(module_api: Api) -> City:
    return build_city(module_api)


@pytest.fixture
def fresh_city(api: Api) -> City:
    """The data set in this test's own database (for tests that change it)."""
    return build_city(api)

"""Who sees and changes what: anonymous readers see public Datastreams (``properties.public``)
with their Observations and all metadata; ``sensors.read`` (or staff) sees everything;
writing needs ``sensors.write``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from klug.identity.permissions import Role
from tests.conftest import KnownAccount
from tests.sensors.conftest import (
    ALL_OBSERVATIONS,
    HUMIDITY,
    NOISE,
    STA,
    TEMPERATURE,
    TRAFFIC,
    Api,
    City,
    key_headers,
    problem,
)

PRIVATE_READINGS = {"humid", "dry"}


def test_anonymous_readers_see_only_public_datastreams_and_their_observations(
    city: City,
) -> None:
    anonymous = city.api.read("/Datastreams", who="anonymous")
    assert set(city.names("Datastreams", anonymous)) == {TEMPERATURE, NOISE, TRAFFIC}
    privileged = city.api.read("/Datastreams")
    assert set(city.names("Datastreams", privileged)) == {TEMPERATURE, HUMIDITY, NOISE, TRAFFIC}

    assert city.observations("true", who="anonymous") == ALL_OBSERVATIONS - PRIVATE_READINGS
    assert city.observations("true") == ALL_OBSERVATIONS
    counted = city.api.read("/Observations", {"$count": "true", "$top": "0"}, who="anonymous")
    assert counted["@iot.count"] == len(ALL_OBSERVATIONS - PRIVATE_READINGS)
    assert counted["value"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/Datastreams({humidity})",
        "/Datastreams({humidity})/Observations",
        "/Datastreams({humidity})/name",
        "/Things({pfaff})/Datastreams({humidity})",
        "/Observations({humid})",
        "/Observations({humid})/Datastream",
        "/Observations({humid})/FeatureOfInterest",
        "/Sensors({pt100})/Datastreams({humidity})/Observations",
    ],
)
def test_private_entities_are_not_found_by_anonymous_readers(city: City, path: str) -> None:
    resolved = path.format(
        humidity=city.id("Datastreams", HUMIDITY),
        pfaff=city.id("Things", "Wetterstation Pfaffplatz"),
        humid=city.id("Observations", "humid"),
        pt100=city.id("Sensors", "PT100"),
    )
    assert city.api.get(resolved, who="anonymous").status_code == 404
    assert city.api.get(resolved).status_code == 200


def test_collections_below_metadata_show_only_what_the_reader_may_see(city: City) -> None:
    pfaff = city.id("Things", "Wetterstation Pfaffplatz")
    body = city.api.read(f"/Things({pfaff})/Datastreams", {"$count": "true"}, who="anonymous")
    assert city.names("Datastreams", body) == [TEMPERATURE]
    assert body["@iot.count"] == 1

    humidity = city.id("ObservedProperties", "Luftfeuchte")
    body = city.api.read(f"/ObservedProperties({humidity})/Datastreams", who="anonymous")
    assert body["value"] == []
    body = city.api.read(f"/ObservedProperties({humidity})/Datastreams")
    assert city.names("Datastreams", body) == [HUMIDITY]

    feature = city.id("FeaturesOfInterest", "Pfaffplatz")
    body = city.api.read(f"/FeaturesOfInterest({feature})/Observations", who="anonymous")
    assert set(city.names("Observations", body)) == {
        "frost",
        "thaw",
        "spring",
        "summer",
        "heat",
        "eve",
    }


def test_expand_shows_only_what_the_reader_may_see(city: City) -> None:
    pfaff = city.id("Things", "Wetterstation Pfaffplatz")
    query = {"$expand": "Datastreams($count=true;$expand=Observations($top=1))"}
    thing = city.api.read(f"/Things({pfaff})", query, who="anonymous")
    assert [d["name"] for d in thing["Datastreams"]] == [TEMPERATURE]
    assert thing["Datastreams@iot.count"] == 1
    thing = city.api.read(f"/Things({pfaff})", query)
    assert sorted(d["name"] for d in thing["Datastreams"]) == [HUMIDITY, TEMPERATURE]

    humid = city.id("Observations", "humid")
    frost = city.id("Observations", "frost")
    body = city.api.read(
        "/Observations",
        {"$filter": f"id eq {humid} or id eq {frost}", "$expand": "Datastream"},
        who="anonymous",
    )
    assert [(o["@iot.id"], o["Datastream"]["name"]) for o in body["value"]] == [
        (frost, TEMPERATURE)
    ]


@pytest.mark.parametrize(
    ("entity_set", "expression", "privileged"),
    [
        ("Things", f"Datastreams/name eq '{HUMIDITY}'", {"Wetterstation Pfaffplatz"}),
        ("Things", "Datastreams/Observations/result eq 81", {"Wetterstation Pfaffplatz"}),
        ("ObservedProperties", "Datastreams/Observations/result gt 50", {"Luftfeuchte"}),
        ("FeaturesOfInterest", "Observations/result gt 32", {"Pfaffplatz"}),
        ("Sensors", "Datastreams/properties/public eq false", {"PT100"}),
    ],
)
def test_filters_do_not_reveal_private_datastreams(
    city: City, entity_set: str, expression: str, privileged: set[str]
) -> None:
    """A condition that only private data fulfils finds nothing for anonymous readers."""
    assert city.matching(entity_set, expression) == privileged
    assert city.matching(entity_set, expression, who="anonymous") == set()


def test_data_array_of_anonymous_readers_leaves_out_private_streams(city: City) -> None:
    body = city.api.read(
        "/Observations", {"$resultFormat": "dataArray", "$top": "1000"}, who="anonymous"
    )
    links = {
        group["Datastream@iot.navigationLink"]
        for group in body["value"]
        if "Datastream@iot.navigationLink" in group
    }
    assert f"http://testserver{STA}/Datastreams({city.id('Datastreams', HUMIDITY)})" not in links
    assert len(links) == 3


@pytest.mark.parametrize(
    "entity_set",
    [
        "Things",
        "Locations",
        "HistoricalLocations",
        "Sensors",
        "ObservedProperties",
        "FeaturesOfInterest",
    ],
)
def test_metadata_is_public(city: City, entity_set: str) -> None:
    anonymous = city.api.read(f"/{entity_set}", who="anonymous")
    assert anonymous == city.api.read(f"/{entity_set}")
    assert anonymous["value"]


def test_staff_sessions_read_everything(
    api: Api, client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    api.create(
        "/Things",
        {
            "name": "Pegel Lauter",
            "description": "Wasserstand",
            "Datastreams": [
                {
                    "name": "Wasserstand",
                    "description": "intern",
                    "unitOfMeasurement": {"name": "cm", "symbol": "cm", "definition": "ucum:cm"},
                    "observationType": "OM_Measurement",
                    "Sensor": {
                        "name": "Radar",
                        "description": "Radarpegel",
                        "encodingType": "text/html",
                        "metadata": "https://klug.example/radar",
                    },
                    "ObservedProperty": {"name": "Pegel", "definition": "https://klug.example/p"},
                }
            ],
        },
    )
    # Without properties.public a Datastream is not public.
    assert client.get(f"{STA}/Datastreams").json()["value"] == []
    logged_in(Role.CITIZEN)
    assert client.get(f"{STA}/Datastreams").json()["value"] == []
    client.cookies.clear()
    logged_in(Role.CASEWORKER)
    names = [d["name"] for d in client.get(f"{STA}/Datastreams").json()["value"]]
    assert names == ["Wasserstand"]


THING = {"name": "Ampel Fackelrondell", "description": "Lichtsignalanlage"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/Things", THING),
        ("PATCH", "/Things(1)", {"name": "neu"}),
        ("DELETE", "/Things(1)", None),
        ("POST", "/CreateObservations", []),
        ("POST", "/Things(1)/Locations/$ref", {"@iot.id": 1}),
    ],
)
def test_writes_need_a_key_with_sensors_write(
    api: Api, method: str, path: str, body: object
) -> None:
    api.create("/Things", THING)
    anonymous = api.client.request(method, STA + path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    reader = api.client.request(method, STA + path, json=body, headers=api.reader)
    assert reader.status_code == 403
    monitoring = key_headers(api.client, "metrics.read")
    assert api.client.request(method, STA + path, json=body, headers=monitoring).status_code == 403
    # Nothing changed.
    assert api.read("/Things(1)")["name"] == THING["name"]


def test_malformed_bodies_are_refused(api: Api) -> None:
    def post(content: bytes, content_type: str | None) -> str:
        headers = dict(api.writer)
        if content_type:
            headers["Content-Type"] = content_type
        response = api.client.post(f"{STA}/Things", content=content, headers=headers)
        return f"{response.status_code} {response.json().get('detail', '')}"

    assert post(b'{"name": "x", ', "application/json") == "400 the body is not valid JSON"
    assert post(b"", "application/json") == "400 the request needs a JSON body"
    assert post(b"\xff\xfe", "application/json") == "400 the body is not valid JSON"
    assert post(b"name=x", "application/x-www-form-urlencoded").startswith("415 ")
    assert post(b'{"name": "x"}', "text/plain").startswith("415 ")
    # application/*+json is JSON too.
    assert post(b'{"name": "Zaehler", "description": ""}', "application/merge-patch+json") == "201 "
    assert api.read("/Things", {"$select": "name"})["value"] == [{"name": "Zaehler"}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([THING], "a Thing must be a JSON object"),
        ({"description": "ohne Namen"}, "Thing needs 'name'"),
        ({**THING, "colour": "rot"}, "Thing has no property 'colour'"),
        ({**THING, "@iot.id": 7}, "ids are assigned by the server"),
        ({**THING, "name": 5}, "'name' must be a text"),
        ({**THING, "name": "x" * 256}, "'name' must have at most 255 characters"),
        ({**THING, "properties": [1]}, "'properties' must be a JSON object"),
        ({**THING, "Locations": {"@iot.id": 1}}, "'Locations' must be a list"),
        ({**THING, "Locations": [{"@iot.id": 99}]}, "Location(99) does not exist"),
        (
            {**THING, "Locations": [{**THING, "encodingType": "text/plain", "location": {}}]},
            "'encodingType' must be application/geo+json",
        ),
        (
            {
                **THING,
                "Locations": [
                    {**THING, "encodingType": "application/geo+json", "location": {"type": "Point"}}
                ],
            },
            "'location' is not valid GeoJSON",
        ),
    ],
)
def test_entities_that_break_the_data_model_are_refused(
    api: Api, body: object, message: str
) -> None:
    assert message in problem(api.post("/Things", body))
    assert api.read("/Things")["value"] == []

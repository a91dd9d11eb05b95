"""Entities and resource paths (SensorThings v1.1 §8–10): create, read, update, delete for
every entity set, navigation, ``$ref`` and ``$value``, deep insert, and the rules the
server keeps by itself (HistoricalLocations, generated FeaturesOfInterest, cascades)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.sensors.conftest import (
    BASE,
    CELSIUS,
    COMPLEX,
    GEOJSON,
    MEASUREMENT,
    PERCENT,
    STA,
    Api,
    ids,
    location,
    point,
    problem,
)

ENTITY_SETS = [
    "Things",
    "Locations",
    "HistoricalLocations",
    "Sensors",
    "ObservedProperties",
    "Datastreams",
    "MultiDatastreams",
    "FeaturesOfInterest",
    "Observations",
]
NAVIGATION = {
    "Things": ["Locations", "HistoricalLocations", "Datastreams", "MultiDatastreams"],
    "Locations": ["Things", "HistoricalLocations"],
    "HistoricalLocations": ["Thing", "Locations"],
    "Sensors": ["Datastreams", "MultiDatastreams"],
    "ObservedProperties": ["Datastreams", "MultiDatastreams"],
    "Datastreams": ["Thing", "Sensor", "ObservedProperty", "Observations"],
    "MultiDatastreams": ["Thing", "Sensor", "ObservedProperties", "Observations"],
    "FeaturesOfInterest": ["Observations"],
    "Observations": ["Datastream", "MultiDatastream", "FeatureOfInterest"],
}
SENSOR = {
    "name": "BME280",
    "description": "Temperatur, Feuchte, Druck",
    "encodingType": "application/pdf",
    "metadata": "https://klug.example/bme280.pdf",
}
TEMPERATURE = {"name": "Lufttemperatur", "definition": "https://klug.example/t"}
HUMIDITY = {"name": "Luftfeuchte", "definition": "https://klug.example/rh"}
HBF = location("Hauptbahnhof", point(7.7675, 49.4361))
RATHAUS = location("Rathaus", point(7.7689, 49.4445))


def datastream(**navs: Any) -> dict[str, Any]:
    return {
        "name": "Temperatur Hauptbahnhof",
        "description": "2 m über Grund",
        "unitOfMeasurement": CELSIUS,
        "observationType": MEASUREMENT,
        "properties": {"public": True},
        **navs,
    }


def station(api: Api) -> dict[str, int]:
    """A Thing at the Hauptbahnhof with one Datastream (deep insert); its ids."""
    thing = api.create(
        "/Things",
        {
            "name": "Station Hauptbahnhof",
            "description": "Messmast",
            "Locations": [HBF],
            "Datastreams": [datastream(Sensor=SENSOR, ObservedProperty=TEMPERATURE)],
        },
    )
    found = api.read(
        f"/Things({thing['@iot.id']})",
        {"$expand": "Locations,Datastreams($expand=Sensor,ObservedProperty)"},
    )
    [stream] = found["Datastreams"]
    return {
        "thing": found["@iot.id"],
        "location": found["Locations"][0]["@iot.id"],
        "datastream": stream["@iot.id"],
        "sensor": stream["Sensor"]["@iot.id"],
        "observed_property": stream["ObservedProperty"]["@iot.id"],
    }


def test_service_root_lists_every_entity_set(api: Api) -> None:
    root = api.read("")
    assert [(e["name"], e["url"]) for e in root["value"]] == [
        (name, f"{BASE}/{name}") for name in ENTITY_SETS
    ]
    conformance = root["serverSettings"]["conformance"]
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete" in conformance
    assert api.client.get(f"{STA}/").json() == root


def _bodies(api: Api, ids_: dict[str, int]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Per entity set: a body to create one, and a change to PATCH into it."""
    return {
        "Things": ({"name": "Ampel", "description": "LSA 12"}, {"description": "LSA 13"}),
        "Locations": (RATHAUS, {"location": point(7.77, 49.45)}),
        "HistoricalLocations": (
            {
                "time": "2025-03-01T10:00:00Z",
                "Thing": {"@iot.id": ids_["thing"]},
                "Locations": [{"@iot.id": ids_["location"]}],
            },
            {"time": "2025-03-01T11:00:00+01:00"},
        ),
        "Sensors": ({**SENSOR, "name": "SHT31"}, {"metadata": "https://klug.example/sht31"}),
        "ObservedProperties": (HUMIDITY, {"description": "relative Luftfeuchte"}),
        "Datastreams": (
            datastream(
                Thing={"@iot.id": ids_["thing"]},
                Sensor={"@iot.id": ids_["sensor"]},
                ObservedProperty={"@iot.id": ids_["observed_property"]},
            ),
            {"unitOfMeasurement": PERCENT},
        ),
        "MultiDatastreams": (
            {
                "name": "Klima Hauptbahnhof",
                "description": "T und rF",
                "unitOfMeasurements": [CELSIUS, PERCENT],
                "observationType": COMPLEX,
                "multiObservationDataTypes": [MEASUREMENT, MEASUREMENT],
                "Thing": {"@iot.id": ids_["thing"]},
                "Sensor": {"@iot.id": ids_["sensor"]},
                "ObservedProperties": [{"@iot.id": ids_["observed_property"]}, HUMIDITY],
            },
            {"name": "Klima HBF"},
        ),
        "FeaturesOfInterest": (
            {
                "name": "Gleisvorfeld",
                "description": "Fläche",
                "encodingType": GEOJSON,
                "feature": point(7.766, 49.437),
            },
            {"properties": {"Belag": "Schotter"}},
        ),
        "Observations": (
            {
                "phenomenonTime": "2025-03-01T10:00:00Z",
                "result": 7.5,
                "Datastream": {"@iot.id": ids_["datastream"]},
            },
            {"result": 8},
        ),
    }


@pytest.mark.parametrize("entity_set", ENTITY_SETS)
def test_create_read_update_delete(api: Api, entity_set: str) -> None:
    body, change = _bodies(api, station(api))[entity_set]
    created = api.create(f"/{entity_set}", body)
    entity_id = created["@iot.id"]
    link = f"{BASE}/{entity_set}({entity_id})"
    assert created["@iot.selfLink"] == link
    for nav in NAVIGATION[entity_set]:
        assert created[f"{nav}@iot.navigationLink"] == f"{link}/{nav}"
    for name, value in body.items():
        if not name[0].isupper():
            assert created[name] == value, name
    assert api.read(f"/{entity_set}({entity_id})") == created

    patched = api.patch(f"/{entity_set}({entity_id})", change)
    assert patched.status_code == 200, patched.text
    read_back = api.read(f"/{entity_set}({entity_id})")
    assert patched.json() == read_back
    expected = {**created, **change}
    if entity_set == "HistoricalLocations":
        expected["time"] = "2025-03-01T10:00:00Z"  # the same instant, in UTC
    assert read_back == expected, "only the sent properties change"

    deleted = api.delete(f"/{entity_set}({entity_id})")
    assert deleted.status_code == 200
    assert api.get(f"/{entity_set}({entity_id})").status_code == 404
    assert api.delete(f"/{entity_set}({entity_id})").status_code == 404


def test_navigation_paths(api: Api) -> None:
    first = station(api)
    other = api.create(
        "/Things",
        {
            "name": "Station Rathaus",
            "Locations": [RATHAUS],
            "Datastreams": [
                datastream(
                    name="Temperatur Rathaus",
                    Sensor={"@iot.id": first["sensor"]},
                    ObservedProperty={"@iot.id": first["observed_property"]},
                )
            ],
        },
    )
    other_stream = api.read(f"/Things({other['@iot.id']})/Datastreams")["value"][0]["@iot.id"]
    thing, stream = first["thing"], first["datastream"]
    created = api.create(
        f"/Datastreams({stream})/Observations",
        {"result": 1, "phenomenonTime": "2025-01-01T00:00:00Z"},
    )

    assert ids(api.read(f"/Things({thing})/Datastreams")) == [stream]
    assert ids(api.read(f"/Datastreams({stream})/Observations")) == [created["@iot.id"]]
    assert api.read(f"/Datastreams({stream})/Thing")["@iot.id"] == thing
    assert api.read(f"/Things({thing})/Datastreams({stream})")["@iot.id"] == stream
    path = f"/Observations({created['@iot.id']})/Datastream/Thing/Locations"
    assert [loc["name"] for loc in api.read(path)["value"]] == ["Hauptbahnhof"]
    assert ids(api.read(f"/Sensors({first['sensor']})/Datastreams")) == [stream, other_stream]
    assert api.read(f"/Things('{thing}')")["@iot.id"] == thing

    for inconsistent in [
        f"/Things({thing})/Datastreams({other_stream})",
        f"/Things({thing})/Datastreams({other_stream})/Observations",
        f"/Datastreams({other_stream})/Thing/Datastreams({stream})",
        f"/Things({thing})/Locations({other['@iot.id'] + 100})",
        "/Things(999)",
        "/Things(999)/Datastreams",
        "/Datastreams(999)/Thing",
    ]:
        assert api.get(inconsistent).status_code == 404, inconsistent
    for malformed, message in [
        ("/Things/Datastreams", "pick one of the Things by id"),
        (f"/Things({thing})/Sensor", "Thing has no property 'Sensor'"),
        ("/Dinge", "unknown entity set 'Dinge'"),
        ("/Things(abc)", "not a valid path segment: 'Things(abc)'"),
        (f"/Datastreams({stream})/Thing(1)", "'Thing' is a single entity; it takes no id"),
        (f"/Things({thing})/name/first", "'name' has no sub-resources"),
        (f"/Things({thing})/$value", "$value follows a property"),
        ("/Things/$ref", "$ref follows a navigation property"),
    ]:
        assert message in problem(api.get(malformed)), malformed


def test_properties_value_and_ref(api: Api) -> None:
    ids_ = station(api)
    thing, stream = ids_["thing"], ids_["datastream"]
    api.patch(f"/Things({thing})", {"properties": {"Betreiber": "SWK", "Höhe": 12}})
    observation = api.create(
        f"/Datastreams({stream})/Observations",
        {"result": 21.5, "phenomenonTime": "2025-01-01T00:00:00Z"},
    )["@iot.id"]

    assert api.read(f"/Things({thing})/name") == {"name": "Station Hauptbahnhof"}
    assert api.read(f"/Things({thing})/properties") == {
        "properties": {"Betreiber": "SWK", "Höhe": 12}
    }
    raw = api.get(f"/Things({thing})/name/$value")
    assert (raw.status_code, raw.headers["content-type"], raw.text) == (
        200,
        "text/plain; charset=utf-8",
        "Station Hauptbahnhof",
    )
    assert api.get(f"/Observations({observation})/result/$value").text == "21.5"
    assert api.get(f"/Observations({observation})/phenomenonTime/$value").text == (
        "2025-01-01T00:00:00Z"
    )
    # A property without a value has no content.
    assert api.get(f"/Observations({observation})/resultTime").status_code == 204
    assert api.get(f"/Observations({observation})/resultTime/$value").status_code == 204

    refs = api.read(f"/Things({thing})/Datastreams/$ref")
    assert refs == {"value": [{"@iot.selfLink": f"{BASE}/Datastreams({stream})"}]}
    assert api.read(f"/Datastreams({stream})/Sensor/$ref") == {
        "@iot.selfLink": f"{BASE}/Sensors({ids_['sensor']})"
    }
    counted = api.read(f"/Things({thing})/Locations/$ref", {"$count": "true"})
    assert counted["@iot.count"] == 1


def test_links_are_added_and_removed_with_ref(api: Api) -> None:
    ids_ = station(api)
    thing = ids_["thing"]
    rathaus = api.create("/Locations", RATHAUS)["@iot.id"]
    added = api.post(f"/Things({thing})/Locations/$ref", {"@iot.id": rathaus})
    assert added.status_code == 204
    assert sorted(ids(api.read(f"/Things({thing})/Locations"))) == sorted(
        [ids_["location"], rathaus]
    )
    # Adding a Location moved the Thing: a HistoricalLocation with both.
    latest = api.read(
        f"/Things({thing})/HistoricalLocations",
        {"$orderby": "time desc,id desc", "$top": "1", "$expand": "Locations"},
    )["value"][0]
    assert sorted(loc["@iot.id"] for loc in latest["Locations"]) == sorted(
        [ids_["location"], rathaus]
    )

    removed = api.delete(f"/Things({thing})/Locations({ids_['location']})/$ref")
    assert removed.status_code == 200
    assert ids(api.read(f"/Things({thing})/Locations")) == [rathaus]
    assert api.get(f"/Locations({ids_['location']})").status_code == 200, "only the link went"
    assert api.delete(f"/Things({thing})/Locations({ids_['location']})/$ref").status_code == 404
    assert "does not exist" in problem(
        api.post(f"/Things({thing})/Locations/$ref", {"@iot.id": 999})
    )

    sensor = api.create("/Sensors", {**SENSOR, "name": "Ersatz"})["@iot.id"]
    stream = ids_["datastream"]
    assert api.post(f"/Datastreams({stream})/Sensor/$ref", {"@iot.id": sensor}).status_code == 204
    assert api.read(f"/Datastreams({stream})/Sensor")["@iot.id"] == sensor


def test_deep_insert_creates_everything_and_links_references(api: Api) -> None:
    sensor = api.create("/Sensors", SENSOR)["@iot.id"]
    created = api.create(
        "/Things",
        {
            "name": "Station Hauptbahnhof",
            "description": "Messmast",
            "Locations": [HBF],
            "Datastreams": [
                datastream(
                    Sensor={"@iot.id": sensor},
                    ObservedProperty=TEMPERATURE,
                    Observations=[
                        {"phenomenonTime": "2025-01-01T00:00:00Z", "result": 1},
                        {"phenomenonTime": "2025-01-01T01:00:00Z", "result": 2},
                    ],
                ),
                datastream(
                    name="Feuchte Hauptbahnhof",
                    unitOfMeasurement=PERCENT,
                    Sensor={"@iot.id": sensor},
                    ObservedProperty=HUMIDITY,
                ),
            ],
        },
    )
    thing = api.read(
        f"/Things({created['@iot.id']})",
        {
            "$expand": "Locations,HistoricalLocations($expand=Locations),"
            "Datastreams($orderby=id;$expand=Sensor,ObservedProperty,"
            "Observations($orderby=phenomenonTime;$expand=FeatureOfInterest))"
        },
    )
    assert [loc["name"] for loc in thing["Locations"]] == ["Hauptbahnhof"]
    assert [d["name"] for d in thing["Datastreams"]] == [
        "Temperatur Hauptbahnhof",
        "Feuchte Hauptbahnhof",
    ]
    assert {d["Sensor"]["@iot.id"] for d in thing["Datastreams"]} == {sensor}
    assert [d["ObservedProperty"]["name"] for d in thing["Datastreams"]] == [
        "Lufttemperatur",
        "Luftfeuchte",
    ]
    observations = thing["Datastreams"][0]["Observations"]
    assert [o["result"] for o in observations] == [1, 2]
    assert {o["FeatureOfInterest"]["name"] for o in observations} == {"Hauptbahnhof"}
    [history] = thing["HistoricalLocations"]
    assert [loc["name"] for loc in history["Locations"]] == ["Hauptbahnhof"]
    assert len(api.read("/Sensors")["value"]) == 1


def test_deep_insert_of_a_location_with_things(api: Api) -> None:
    thing = api.create("/Things", {"name": "Mobiler Sensor", "description": "Lastenrad"})
    assert api.read(f"/Things({thing['@iot.id']})/HistoricalLocations")["value"] == []
    created = api.create(
        "/Locations",
        {**RATHAUS, "Things": [{"@iot.id": thing["@iot.id"]}, {"name": "Neu", "description": ""}]},
    )
    things = api.read(f"/Locations({created['@iot.id']})/Things", {"$orderby": "id"})
    assert [t["name"] for t in things["value"]] == ["Mobiler Sensor", "Neu"]
    for linked in things["value"]:
        history = api.read(
            f"/Things({linked['@iot.id']})/HistoricalLocations", {"$expand": "Locations"}
        )
        assert [[loc["name"] for loc in h["Locations"]] for h in history["value"]] == [["Rathaus"]]


def test_a_failed_deep_insert_creates_nothing(api: Api) -> None:
    response = api.post(
        "/Things",
        {
            "name": "Station",
            "Locations": [HBF],
            "Datastreams": [datastream(Sensor=SENSOR)],
        },
    )
    assert "Datastream needs its ObservedProperty" in problem(response)
    for entity_set in ENTITY_SETS:
        assert api.read(f"/{entity_set}")["value"] == [], entity_set


def test_nested_entities_with_an_id_are_references(api: Api) -> None:
    """Clients send a related entity as they read it (with @iot.id and its properties);
    the server links the existing one and changes nothing of it."""
    ids_ = station(api)
    thing = api.read(f"/Things({ids_['thing']})")
    created = api.create(
        "/Datastreams",
        datastream(
            name="Zweiter Datastream",
            Thing={**thing, "name": "ignoriert"},
            Sensor={"@iot.id": ids_["sensor"]},
            ObservedProperty={"@iot.id": ids_["observed_property"], "name": "ignoriert"},
        ),
    )
    assert api.read(f"/Datastreams({created['@iot.id']})/Thing") == thing
    assert api.read(f"/ObservedProperties({ids_['observed_property']})")["name"] == "Lufttemperatur"
    assert len(api.read("/Things")["value"]) == 1


def test_historical_locations_record_every_move(api: Api) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ids_ = station(api)
    thing = ids_["thing"]
    rathaus = api.create("/Locations", RATHAUS)["@iot.id"]
    moved = api.patch(f"/Things({thing})", {"Locations": [{"@iot.id": rathaus}]})
    assert moved.status_code == 200
    assert ids(api.read(f"/Things({thing})/Locations")) == [rathaus]
    moved = api.patch(
        f"/Things({thing})", {"Locations": [location("Stiftsplatz", point(7.77, 49.44))]}
    )
    assert moved.status_code == 200
    history = api.read(
        f"/Things({thing})/HistoricalLocations",
        {"$orderby": "id", "$expand": "Locations($select=name)"},
    )["value"]
    assert [h["Locations"] for h in history] == [
        [{"name": "Hauptbahnhof"}],
        [{"name": "Rathaus"}],
        [{"name": "Stiftsplatz"}],
    ]
    times = [dt.datetime.fromisoformat(h["time"]) for h in history]
    assert times == sorted(times)
    assert before <= times[0] <= dt.datetime.now(dt.UTC)
    # Changing anything else is no move.
    api.patch(f"/Things({thing})", {"description": "versetzt"})
    assert len(api.read(f"/Things({thing})/HistoricalLocations")["value"]) == 3
    # The Locations keep their history.
    rathaus_history = api.read(f"/Locations({rathaus})/HistoricalLocations")
    assert ids(rathaus_history) == [history[1]["@iot.id"]]


def test_features_of_interest_are_generated_from_the_location_and_reused(api: Api) -> None:
    ids_ = station(api)
    stream, thing = ids_["datastream"], ids_["thing"]

    def feature_of(result: float, time: str) -> dict[str, Any]:
        observation = api.create(
            f"/Datastreams({stream})/Observations", {"phenomenonTime": time, "result": result}
        )
        return api.read(f"/Observations({observation['@iot.id']})/FeatureOfInterest")  # type: ignore[no-any-return]

    first = feature_of(1, "2025-01-01T00:00:00Z")
    assert (first["name"], first["encodingType"], first["feature"]) == (
        "Hauptbahnhof",
        GEOJSON,
        point(7.7675, 49.4361),
    )
    assert feature_of(2, "2025-01-01T01:00:00Z")["@iot.id"] == first["@iot.id"]
    # After a move, readings are about the new place.
    api.patch(f"/Things({thing})", {"Locations": [RATHAUS]})
    moved = feature_of(3, "2025-01-01T02:00:00Z")
    assert moved["@iot.id"] != first["@iot.id"]
    assert moved["feature"] == RATHAUS["location"]
    assert len(api.read("/FeaturesOfInterest")["value"]) == 2
    # An explicit feature is used as given.
    explicit = api.create(
        "/Observations",
        {
            "result": 4,
            "phenomenonTime": "2025-01-01T03:00:00Z",
            "Datastream": {"@iot.id": stream},
            "FeatureOfInterest": {"@iot.id": first["@iot.id"]},
        },
    )
    assert api.read(f"/Observations({explicit['@iot.id']})/FeatureOfInterest") == first

    lonely = api.create(
        "/Things",
        {
            "name": "Ohne Ort",
            "Datastreams": [
                datastream(
                    Sensor={"@iot.id": ids_["sensor"]},
                    ObservedProperty={"@iot.id": ids_["observed_property"]},
                )
            ],
        },
    )
    lonely_stream = api.read(f"/Things({lonely['@iot.id']})/Datastreams")["value"][0]["@iot.id"]
    refused = api.post(f"/Datastreams({lonely_stream})/Observations", {"result": 1})
    assert "its Thing has no Location to derive one from" in problem(refused)


def test_observation_bodies(api: Api) -> None:
    stream = station(api)["datastream"]
    path = f"/Datastreams({stream})/Observations"
    before = dt.datetime.now(dt.UTC)
    now = api.create(path, {"result": 5})
    # Without phenomenonTime, the server takes the time of arrival.
    arrived = dt.datetime.fromisoformat(now["phenomenonTime"])
    assert before - dt.timedelta(seconds=1) <= arrived <= dt.datetime.now(dt.UTC)
    full = api.create(
        path,
        {
            "phenomenonTime": "2025-02-01T10:00:00.123+01:00",
            "resultTime": "2025-02-01T09:00:01Z",
            "validTime": "2025-02-01T00:00:00Z/P1D",
            "result": {"Zustand": "gut", "Werte": [1, 2]},
            "resultQuality": {"Genauigkeit": 0.1},
            "parameters": {"Kanal": 3},
        },
    )
    assert {k: full[k] for k in ("phenomenonTime", "resultTime", "validTime", "result")} == {
        "phenomenonTime": "2025-02-01T09:00:00.123Z",
        "resultTime": "2025-02-01T09:00:01Z",
        "validTime": "2025-02-01T00:00:00Z/2025-02-02T00:00:00Z",
        "result": {"Zustand": "gut", "Werte": [1, 2]},
    }
    for body, message in [
        ({"phenomenonTime": "2025-01-01T00:00:00Z"}, "'result' is required"),
        ({"result": 1, "phenomenonTime": "gestern"}, "not an ISO 8601 time: 'gestern'"),
        ({"result": 1, "phenomenonTime": "2025-01-01T00:00:00"}, "times need a time zone"),
        (
            {"result": 1, "phenomenonTime": "2025-01-02T00:00:00Z/2025-01-01T00:00:00Z"},
            "ends before it starts",
        ),
        ({"result": 1, "resultTime": "2025-01-01T00:00:00Z/P1D"}, "'resultTime'"),
        ({"result": 1, "Datastream": {"@iot.id": 999}}, "Datastream(999) does not exist"),
        (
            {"result": 1, "FeatureOfInterest": {"@iot.id": 999}},
            "FeatureOfInterest(999) does not exist",
        ),
    ]:
        assert message in problem(api.post(path, body)), body
    assert "belongs to a Datastream or a MultiDatastream" in problem(
        api.post("/Observations", {"result": 1})
    )
    not_finite = api.client.post(
        f"{STA}{path}",
        content=b'{"result": NaN}',
        headers={**api.writer, "Content-Type": "application/json"},
    )
    assert "'result' must be a finite number" in problem(not_finite)


def test_duplicate_observations_are_stored_once(api: Api) -> None:
    stream = station(api)["datastream"]
    path = f"/Datastreams({stream})/Observations"
    body = {"phenomenonTime": "2025-01-01T00:00:00Z", "result": 20}
    first = api.create(path, body)
    again = api.create(path, {**body, "result": 20.0})
    assert again["@iot.id"] == first["@iot.id"]
    other_result = api.create(path, {**body, "result": 21})
    other_time = api.create(path, {**body, "phenomenonTime": "2025-01-01T00:00:01Z"})
    assert len({first["@iot.id"], other_result["@iot.id"], other_time["@iot.id"]}) == 3
    counted = api.read(path, {"$count": "true"})
    assert counted["@iot.count"] == len(counted["value"]) == 3


def test_multidatastreams_take_one_result_per_observed_property(api: Api) -> None:
    ids_ = station(api)
    humidity = api.create("/ObservedProperties", HUMIDITY)["@iot.id"]
    body = {
        "name": "Klima",
        "description": "rF und T",
        "unitOfMeasurements": [PERCENT, CELSIUS],
        "observationType": COMPLEX,
        "multiObservationDataTypes": [MEASUREMENT, MEASUREMENT],
        "properties": {"public": True},
        "Thing": {"@iot.id": ids_["thing"]},
        "Sensor": {"@iot.id": ids_["sensor"]},
        # Humidity first, although it has the higher id: the order is the result's order.
        "ObservedProperties": [{"@iot.id": humidity}, {"@iot.id": ids_["observed_property"]}],
    }
    for wrong, message in [
        ({"unitOfMeasurements": [PERCENT]}, "'unitOfMeasurements' must have one entry per"),
        ({"ObservedProperties": []}, "a MultiDatastream needs its ObservedProperties"),
        ({"unitOfMeasurements": PERCENT}, "'unitOfMeasurements' must be a list"),
    ]:
        assert message in problem(api.post("/MultiDatastreams", {**body, **wrong}))
    multi = api.create("/MultiDatastreams", body)["@iot.id"]
    properties = api.read(f"/MultiDatastreams({multi})/ObservedProperties")
    assert [p["name"] for p in properties["value"]] == ["Luftfeuchte", "Lufttemperatur"]
    expanded = api.read(f"/MultiDatastreams({multi})", {"$expand": "ObservedProperties"})
    assert [p["name"] for p in expanded["ObservedProperties"]] == ["Luftfeuchte", "Lufttemperatur"]

    path = f"/MultiDatastreams({multi})/Observations"
    created = api.create(path, {"phenomenonTime": "2025-01-01T00:00:00Z", "result": [55, 3.5]})
    assert created["result"] == [55, 3.5]
    for result in ([55], [55, 3.5, 1], 55, None):
        detail = problem(
            api.post(path, {"phenomenonTime": "2025-01-01T01:00:00Z", "result": result})
        )
        assert detail == "a MultiDatastream result is a list of 2 values, one per ObservedProperty"
    both = api.post(
        "/Observations",
        {
            "result": [1, 2],
            "Datastream": {"@iot.id": ids_["datastream"]},
            "MultiDatastream": {"@iot.id": multi},
        },
    )
    assert "not both" in problem(both)
    assert ids(api.read(path)) == [created["@iot.id"]]
    assert api.get(f"/Observations({created['@iot.id']})/Datastream").status_code == 404


def test_patch_semantics(api: Api) -> None:
    ids_ = station(api)
    thing, stream = ids_["thing"], ids_["datastream"]
    api.patch(f"/Things({thing})", {"properties": {"a": 1, "b": 2}})
    # properties is one value: PATCH replaces it whole.
    changed = api.patch(f"/Things({thing})", {"properties": {"b": 3}, "@iot.id": 999})
    assert changed.status_code == 200
    assert changed.json()["properties"] == {"b": 3}
    assert changed.json()["@iot.id"] == thing
    assert changed.json()["name"] == "Station Hauptbahnhof"

    sensor = api.create("/Sensors", {**SENSOR, "name": "Neu"})["@iot.id"]
    assert api.patch(f"/Datastreams({stream})", {"Sensor": {"@iot.id": sensor}}).status_code == 200
    assert api.read(f"/Datastreams({stream})/Sensor")["name"] == "Neu"

    for path, body, message in [
        (f"/Things({thing})", {"farbe": "rot"}, "Thing has no property 'farbe'"),
        (f"/Things({thing})", {"name": None}, "'name' cannot be empty"),
        (f"/Things({thing})", ["name"], "a Thing must be a JSON object"),
        (f"/Datastreams({stream})", {"Sensor": SENSOR}, "is changed by reference"),
        (
            f"/Datastreams({stream})",
            {"phenomenonTime": "2025-01-01T00:00:00Z"},
            "computed by the server",
        ),
        (f"/Datastreams({stream})", {"Sensor": {"@iot.id": 999}}, "Sensor(999) does not exist"),
        (
            f"/Datastreams({stream})",
            {"properties": {"public": "ja"}},
            "properties/public must be true or false",
        ),
        (f"/Sensors({sensor})", {"Datastreams": []}, "cannot be changed here"),
        ("/Things", {"name": "x"}, "address one entity"),
    ]:
        assert message in problem(api.patch(path, body)), body
    assert api.patch("/Things(999)", {"name": "x"}).status_code == 404
    assert api.read(f"/Things({thing})")["properties"] == {"b": 3}


def test_patching_a_datastream_private_hides_it(api: Api) -> None:
    stream = station(api)["datastream"]
    api.create(f"/Datastreams({stream})/Observations", {"result": 1})
    assert len(api.read("/Observations", who="anonymous")["value"]) == 1
    api.patch(f"/Datastreams({stream})", {"properties": {"public": False}})
    assert api.read("/Datastreams", who="anonymous")["value"] == []
    assert api.read("/Observations", who="anonymous")["value"] == []


def test_patching_an_observation_keeps_duplicates_recognisable(api: Api) -> None:
    stream = station(api)["datastream"]
    path = f"/Datastreams({stream})/Observations"
    observation = api.create(path, {"phenomenonTime": "2025-01-01T00:00:00Z", "result": 1})
    assert api.patch(f"/Observations({observation['@iot.id']})", {"result": 2}).status_code == 200
    again = api.create(path, {"phenomenonTime": "2025-01-01T00:00:00Z", "result": 2})
    assert again["@iot.id"] == observation["@iot.id"]
    assert [o["result"] for o in api.read(path)["value"]] == [2]


def test_delete_cascades_as_the_standard_says(api: Api) -> None:
    ids_ = station(api)
    thing, stream = ids_["thing"], ids_["datastream"]
    observation = api.create(f"/Datastreams({stream})/Observations", {"result": 1})["@iot.id"]
    history = ids(api.read(f"/Things({thing})/HistoricalLocations"))
    feature = api.read(f"/Observations({observation})/FeatureOfInterest")["@iot.id"]

    assert api.delete(f"/Things({thing})").status_code == 200
    for gone in [
        f"/Things({thing})",
        f"/Datastreams({stream})",
        f"/Observations({observation})",
        f"/HistoricalLocations({history[0]})",
    ]:
        assert api.get(gone).status_code == 404, gone
    for kept in [
        f"/Locations({ids_['location']})",
        f"/Sensors({ids_['sensor']})",
        f"/ObservedProperties({ids_['observed_property']})",
        f"/FeaturesOfInterest({feature})",
    ]:
        assert api.get(kept).status_code == 200, kept


@pytest.mark.parametrize(
    ("deleted", "gone"),
    [
        ("datastream", ["observation"]),
        ("sensor", ["datastream", "observation"]),
        ("observed_property", ["datastream", "observation"]),
        ("feature", ["observation"]),
        ("location", []),
    ],
)
def test_delete_takes_the_dependent_entities(api: Api, deleted: str, gone: list[str]) -> None:
    ids_ = station(api)
    ids_["observation"] = api.create(
        f"/Datastreams({ids_['datastream']})/Observations", {"result": 1}
    )["@iot.id"]
    ids_["feature"] = api.read(f"/Observations({ids_['observation']})/FeatureOfInterest")["@iot.id"]
    sets = {
        "thing": "Things",
        "location": "Locations",
        "datastream": "Datastreams",
        "sensor": "Sensors",
        "observed_property": "ObservedProperties",
        "observation": "Observations",
        "feature": "FeaturesOfInterest",
    }
    assert api.delete(f"/{sets[deleted]}({ids_[deleted]})").status_code == 200
    for name, entity_set in sets.items():
        expected = 404 if name == deleted or name in gone else 200
        assert api.get(f"/{entity_set}({ids_[name]})").status_code == expected, name
    if deleted == "location":
        assert api.read(f"/Things({ids_['thing']})/Locations")["value"] == []

"""Query options besides ``$filter`` (SensorThings v1.1 §9.3): $expand, $select, $orderby,
$top, $skip, $count, ``@iot.nextLink`` paging and ``$resultFormat=dataArray``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sensors.conftest import (
    BASE,
    HUMIDITY,
    MEASUREMENT,
    NOISE,
    TEMPERATURE,
    TRAFFIC,
    WEATHER,
    Api,
    City,
    build_city,
    ids,
    problem,
)

PULSES = "Zählimpulse Lauterstraße"
PULSE_COUNT = 250


@pytest.fixture(scope="module")
def city(module_api: Api) -> City:
    """The data set plus a Datastream with 250 Observations (one per minute) to page through."""
    city = build_city(module_api)
    counter = city.id("Things", "Zählstelle Lauterstraße")
    stream = module_api.create(
        "/Datastreams",
        {
            "name": PULSES,
            "description": "Rohimpulse",
            "unitOfMeasurement": {"name": "Impuls", "symbol": "1", "definition": "ucum:1"},
            "observationType": MEASUREMENT,
            "properties": {"public": True},
            "Thing": {"@iot.id": counter},
            "Sensor": {"@iot.id": city.id("Sensors", "Zählschleife")},
            "ObservedProperty": {"@iot.id": city.id("ObservedProperties", "Verkehrsstärke")},
        },
    )
    city.remember("Datastreams", PULSES, stream["@iot.id"])
    rows = [[f"2025-08-01T{i // 60:02d}:{i % 60:02d}:00Z", i] for i in range(PULSE_COUNT)]
    response = module_api.post(
        "/CreateObservations",
        [
            {
                "Datastream": {"@iot.id": stream["@iot.id"]},
                "components": ["phenomenonTime", "result"],
                "dataArray": rows,
            }
        ],
    )
    assert response.status_code == 201, response.text
    return city


def pulses_path(city: City) -> str:
    return f"/Datastreams({city.id('Datastreams', PULSES)})/Observations"


def follow(api: Api, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every page from the first to the one without ``@iot.nextLink``."""
    pages = [api.read(path, params)]
    while "@iot.nextLink" in pages[-1]:
        assert len(pages) < 50, "nextLinks do not end"
        pages.append(api.read(pages[-1]["@iot.nextLink"]))
    return pages


# -- paging -------------------------------------------------------------------------------


def test_pages_have_100_entities_by_default_and_next_links_reach_all(city: City) -> None:
    pages = follow(city.api, pulses_path(city), {})
    assert [len(p["value"]) for p in pages] == [100, 100, 50]
    first_link = urlsplit(pages[0]["@iot.nextLink"])
    assert f"{first_link.scheme}://{first_link.netloc}{first_link.path}" == BASE + pulses_path(city)
    assert parse_qs(first_link.query) == {"$top": ["100"], "$skip": ["100"]}
    results = [o["result"] for p in pages for o in p["value"]]
    assert results == list(range(PULSE_COUNT))


def test_next_links_keep_filter_order_and_count(city: City) -> None:
    params = {"$filter": "result ge 10", "$orderby": "result desc", "$top": "40", "$count": "true"}
    pages = follow(city.api, pulses_path(city), params)
    assert len(pages) == 6
    assert {p["@iot.count"] for p in pages} == {240}
    results = [o["result"] for p in pages for o in p["value"]]
    assert results == list(range(249, 9, -1)), "nothing missed, nothing repeated"
    query = parse_qs(urlsplit(pages[2]["@iot.nextLink"]).query)
    assert query == {
        "$filter": ["result ge 10"],
        "$orderby": ["result desc"],
        "$count": ["true"],
        "$top": ["40"],
        "$skip": ["120"],
    }


def test_paging_is_stable_when_the_order_ties(city: City) -> None:
    """Ordering by a value many entities share still pages without gaps (id breaks ties)."""
    params = {"$orderby": "Datastream/name", "$top": "7", "$select": "id"}
    pages = follow(city.api, "/Observations", params)
    seen = [o["@iot.id"] for p in pages for o in p["value"]]
    assert len(seen) == len(set(seen)) == PULSE_COUNT + 17


def test_top_and_skip(city: City) -> None:
    path = pulses_path(city)
    body = city.api.read(path, {"$skip": "245"})
    assert [o["result"] for o in body["value"]] == [245, 246, 247, 248, 249]
    assert "@iot.nextLink" not in body
    assert city.api.read(path, {"$skip": "250"})["value"] == []
    body = city.api.read(path, {"$top": "3", "$skip": "10", "$orderby": "result desc"})
    assert [o["result"] for o in body["value"]] == [239, 238, 237]
    assert len(city.api.read(path, {"$top": "10000"})["value"]) == PULSE_COUNT
    detail = problem(city.api.get(path, {"$top": "10001"}))
    assert detail == "$top: at most 10000 entities per page"


def test_count_alone(city: City) -> None:
    body = city.api.read(pulses_path(city), {"$top": "0", "$count": "true"})
    assert body == {"@iot.count": PULSE_COUNT, "value": []}
    body = city.api.read(pulses_path(city), {"$count": "false", "$top": "1"})
    assert "@iot.count" not in body
    body = city.api.read("/Things", {"$count": "true", "$filter": "startswith(name, 'Wetter')"})
    assert body["@iot.count"] == 2


# -- $orderby -----------------------------------------------------------------------------


def test_orderby_one_key_ascending_and_descending(city: City) -> None:
    path = f"/Datastreams({city.id('Datastreams', TEMPERATURE)})/Observations"
    by_time = city.api.read(path, {"$orderby": "phenomenonTime"})
    assert city.names("Observations", by_time) == [
        "frost",
        "thaw",
        "spring",
        "kaiserberg",
        "summer",
        "heat",
        "eve",
    ]
    by_result = city.api.read(path, {"$orderby": "result desc"})
    assert city.names("Observations", by_result) == [
        "heat",
        "summer",
        "kaiserberg",
        "spring",
        "thaw",
        "eve",
        "frost",
    ]


def test_orderby_several_keys_and_paths(city: City) -> None:
    body = city.api.read("/Datastreams", {"$orderby": "Thing/name desc, name"})
    assert city.names("Datastreams", body) == [
        TRAFFIC,
        PULSES,
        NOISE,
        HUMIDITY,
        TEMPERATURE,
    ]
    body = city.api.read(
        "/Observations",
        {
            "$orderby": "FeatureOfInterest/name,result desc",
            "$filter": "Datastream/id eq " + str(city.id("Datastreams", TEMPERATURE)),
        },
    )
    assert city.names("Observations", body) == [
        "kaiserberg",
        "heat",
        "summer",
        "spring",
        "thaw",
        "eve",
        "frost",
    ]


def test_orderby_keywords_are_case_insensitive(city: City) -> None:
    """Clients such as frost_sta_client send ``DESC``."""
    body = city.api.read("/Things", {"$orderby": "name DESC"})
    assert city.names("Things", body) == [
        "Zählstelle Lauterstraße",
        "Wetterstation Uni",
        "Wetterstation Pfaffplatz",
    ]


def test_orderby_json_numbers_numerically_and_nulls_first(city: City) -> None:
    """12 floors sort after 2 (not as the text '12'); a missing value sorts first
    ascending and last descending, on every database."""
    ascending = city.api.read("/Things", {"$orderby": "properties/floors"})
    assert city.names("Things", ascending) == [
        "Zählstelle Lauterstraße",
        "Wetterstation Pfaffplatz",
        "Wetterstation Uni",
    ]
    descending = city.api.read("/Things", {"$orderby": "properties/floors desc"})
    assert city.names("Things", descending) == list(reversed(city.names("Things", ascending)))
    by_result_time = city.api.read(
        "/Observations", {"$orderby": "resultTime desc", "$top": "2", "$select": "id"}
    )
    assert city.names("Observations", by_result_time) == ["spring", "frost"]


# -- $select ------------------------------------------------------------------------------


def test_select_returns_only_the_named_properties(city: City) -> None:
    body = city.api.read("/Things", {"$select": "name,description", "$orderby": "name"})
    assert body["value"][0] == {
        "name": "Wetterstation Pfaffplatz",
        "description": "Dach des Pfaff-Quartiers",
    }
    assert all(set(item) == {"name", "description"} for item in body["value"])
    body = city.api.read("/Things", {"$select": "id,name"})
    assert all(set(item) == {"@iot.id", "@iot.selfLink", "name"} for item in body["value"])
    body = city.api.read("/Things", {"$select": "Datastreams"})
    assert all(set(item) == {"Datastreams@iot.navigationLink"} for item in body["value"])
    frost = city.id("Observations", "frost")
    observation = city.api.read(f"/Observations({frost})", {"$select": "result,phenomenonTime"})
    assert observation == {"result": -3.5, "phenomenonTime": "2025-01-15T06:00:00Z"}


def test_select_inside_expand(city: City) -> None:
    pfaff = city.id("Things", "Wetterstation Pfaffplatz")
    thing = city.api.read(
        f"/Things({pfaff})",
        {"$select": "name", "$expand": "Datastreams($select=name,unitOfMeasurement;$orderby=name)"},
    )
    assert thing == {
        "name": "Wetterstation Pfaffplatz",
        "Datastreams": [
            {
                "name": HUMIDITY,
                "unitOfMeasurement": {
                    "name": "Prozent",
                    "symbol": "%",
                    "definition": "http://unitsofmeasure.org/ucum.html",
                },
            },
            {
                "name": TEMPERATURE,
                "unitOfMeasurement": {
                    "name": "Grad Celsius",
                    "symbol": "°C",
                    "definition": "http://unitsofmeasure.org/ucum.html#para-30",
                },
            },
        ],
    }


# -- $expand ------------------------------------------------------------------------------


def test_expand_with_its_own_filter_order_top_and_count(city: City) -> None:
    temperature = city.id("Datastreams", TEMPERATURE)
    stream = city.api.read(
        f"/Datastreams({temperature})",
        {"$expand": "Observations($filter=result gt 10;$orderby=result desc;$top=2;$count=true)"},
    )
    assert city.names("Observations", {"value": stream["Observations"]}) == ["heat", "summer"]
    assert stream["Observations@iot.count"] == 3
    next_page = city.api.read(stream["Observations@iot.nextLink"])
    assert city.names("Observations", next_page) == ["kaiserberg"]
    assert next_page["@iot.count"] == 3
    assert "@iot.nextLink" not in next_page


def test_nested_expand(city: City) -> None:
    pfaff = city.id("Things", "Wetterstation Pfaffplatz")
    thing = city.api.read(
        f"/Things({pfaff})",
        {
            "$expand": "Datastreams($orderby=name;"
            "$expand=Observations($orderby=phenomenonTime desc;$top=1;$select=result),"
            "ObservedProperty($select=name)),Locations($select=name)"
        },
    )
    assert [
        (d["name"], d["Observations"], d["ObservedProperty"]) for d in thing["Datastreams"]
    ] == [
        (HUMIDITY, [{"result": 35}], {"name": "Luftfeuchte"}),
        (TEMPERATURE, [{"result": 0}], {"name": "Lufttemperatur"}),
    ]
    assert all("Observations@iot.nextLink" in d for d in thing["Datastreams"])
    assert thing["Locations"] == [{"name": "Pfaffplatz"}]


def test_expand_paths_and_merged_paths(city: City) -> None:
    rush = city.id("Observations", "rush")
    observation = city.api.read(f"/Observations({rush})", {"$expand": "Datastream/Thing/Locations"})
    thing = observation["Datastream"]["Thing"]
    assert thing["name"] == "Zählstelle Lauterstraße"
    assert [loc["name"] for loc in thing["Locations"]] == ["Lauterstraße"]
    assert thing["Locations"][0]["location"]["type"] == "LineString"

    uni = city.id("Things", "Wetterstation Uni")
    thing = city.api.read(
        f"/Things({uni})", {"$expand": "Datastreams/Sensor,Datastreams/ObservedProperty"}
    )
    [stream] = thing["Datastreams"]
    assert (stream["Sensor"]["name"], stream["ObservedProperty"]["name"]) == (
        "Mikrofon",
        "Lärmpegel",
    )


def test_expand_of_empty_relations(city: City) -> None:
    innenstadt = city.id("Locations", "Innenstadt")
    location = city.api.read(
        f"/Locations({innenstadt})", {"$expand": "Things($count=true),HistoricalLocations"}
    )
    assert location["Things"] == []
    assert location["Things@iot.count"] == 0
    assert location["HistoricalLocations"] == []
    weather = city.id("MultiDatastreams", WEATHER)
    observation_id = city.id("Observations", "mild")
    observation = city.api.read(
        f"/Observations({observation_id})", {"$expand": "Datastream,MultiDatastream($select=name)"}
    )
    assert observation["Datastream"] is None
    assert observation["MultiDatastream"] == {"name": WEATHER}
    assert observation["MultiDatastream@iot.navigationLink"] == (
        f"{BASE}/Observations({observation_id})/MultiDatastream"
    )
    assert city.api.read(f"/Observations({observation_id})/MultiDatastream")["@iot.id"] == weather


# -- $resultFormat=dataArray ----------------------------------------------------------------


def test_data_array_of_one_datastream(city: City) -> None:
    temperature = city.id("Datastreams", TEMPERATURE)
    body = city.api.read(
        f"/Datastreams({temperature})/Observations",
        {
            "$resultFormat": "dataArray",
            "$select": "id,phenomenonTime,result",
            "$orderby": "phenomenonTime",
            "$top": "3",
            "$count": "true",
        },
    )
    o = city.ids["Observations"]
    assert body["@iot.count"] == 7
    assert body["value"] == [
        {
            "Datastream@iot.navigationLink": f"{BASE}/Datastreams({temperature})",
            "components": ["id", "phenomenonTime", "result"],
            "dataArray@iot.count": 3,
            "dataArray": [
                [o["frost"], "2025-01-15T06:00:00Z", -3.5],
                [o["thaw"], "2025-01-15T12:00:00Z", 2],
                [o["spring"], "2025-03-01T00:00:00Z/2025-03-01T06:00:00Z", 4.25],
            ],
        }
    ]
    assert parse_qs(urlsplit(body["@iot.nextLink"]).query)["$resultFormat"] == ["dataArray"]


def test_data_array_groups_by_stream(city: City) -> None:
    body = city.api.read(
        "/Observations",
        {
            "$resultFormat": "dataArray",
            "$filter": "month(phenomenonTime) eq 5",
            "$select": "result",
            "$orderby": "phenomenonTime",
        },
    )
    groups = {
        next(v for k, v in group.items() if k.endswith("@iot.navigationLink")): group["dataArray"]
        for group in body["value"]
    }
    assert groups == {
        f"{BASE}/Datastreams({city.id('Datastreams', TEMPERATURE)})": [[12]],
        f"{BASE}/MultiDatastreams({city.id('MultiDatastreams', WEATHER)})": [
            [[18.5, 60]],
            [[21, 55]],
        ],
    }


def test_data_array_with_all_components_by_default(city: City) -> None:
    eve = city.id("Observations", "eve")
    body = city.api.read("/Observations", {"$resultFormat": "dataArray", "$filter": f"id eq {eve}"})
    [group] = body["value"]
    row = dict(zip(group["components"], group["dataArray"][0], strict=True))
    assert row == {
        "id": eve,
        "phenomenonTime": "2025-12-31T18:00:00Z",
        "resultTime": None,
        "result": 0,
        "resultQuality": None,
        "validTime": "2025-12-31T00:00:00Z/2026-01-01T00:00:00Z",
        "parameters": None,
    }
    assert ids(city.api.read("/Observations", {"$filter": f"id eq {eve}"})) == [eve]

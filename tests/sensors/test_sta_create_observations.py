"""The CreateObservations batch endpoint (SensorThings v1.1 §14.4, data-array extension):
groups of ``components`` + ``dataArray``; the answer lists one selfLink per row, or
``"error"`` for a row that could not be stored (the other rows are stored)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensors.conftest import (
    BASE,
    CELSIUS,
    COMPLEX,
    GEOJSON,
    MEASUREMENT,
    PERCENT,
    Api,
    location,
    point,
    problem,
)


def setup_streams(api: Api) -> dict[str, int]:
    """A Thing at the Stiftsplatz with a Datastream and a two-value MultiDatastream."""
    thing = api.create(
        "/Things",
        {
            "name": "Station Stiftsplatz",
            "Locations": [location("Stiftsplatz", point(7.7705, 49.4431))],
            "Datastreams": [
                {
                    "name": "Temperatur Stiftsplatz",
                    "unitOfMeasurement": CELSIUS,
                    "observationType": MEASUREMENT,
                    "Sensor": {
                        "name": "PT1000",
                        "encodingType": "text/html",
                        "metadata": "https://klug.example/pt1000",
                    },
                    "ObservedProperty": {
                        "name": "Temperatur",
                        "definition": "https://klug.example/t",
                    },
                }
            ],
        },
    )
    stream = api.read(
        f"/Things({thing['@iot.id']})/Datastreams", {"$expand": "Sensor,ObservedProperty"}
    )["value"][0]
    multi = api.create(
        "/MultiDatastreams",
        {
            "name": "Klima Stiftsplatz",
            "unitOfMeasurements": [CELSIUS, PERCENT],
            "observationType": COMPLEX,
            "multiObservationDataTypes": [MEASUREMENT, MEASUREMENT],
            "Thing": {"@iot.id": thing["@iot.id"]},
            "Sensor": {"@iot.id": stream["Sensor"]["@iot.id"]},
            "ObservedProperties": [
                {"@iot.id": stream["ObservedProperty"]["@iot.id"]},
                {"name": "Feuchte", "definition": "https://klug.example/rh"},
            ],
        },
    )
    feature = api.create(
        "/FeaturesOfInterest",
        {
            "name": "Brunnen",
            "encodingType": GEOJSON,
            "feature": point(7.7702, 49.4433),
        },
    )
    return {
        "thing": thing["@iot.id"],
        "datastream": stream["@iot.id"],
        "multi": multi["@iot.id"],
        "feature": feature["@iot.id"],
    }


def create_observations(api: Api, body: Any) -> list[str]:
    response = api.post("/CreateObservations", body)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    links: list[str] = response.json()
    return links


def observation_id(link: str) -> int:
    assert link.startswith(f"{BASE}/Observations("), link
    return int(link.removeprefix(f"{BASE}/Observations(").removesuffix(")"))


def test_groups_of_datastreams_and_multidatastreams(api: Api) -> None:
    ids = setup_streams(api)
    links = create_observations(
        api,
        [
            {
                "Datastream": {"@iot.id": ids["datastream"]},
                "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
                "dataArray": [
                    ["2025-05-01T10:00:00Z", 20.5, ids["feature"]],
                    ["2025-05-01T10:10:00Z", 21, ids["feature"]],
                ],
            },
            {
                "MultiDatastream": {"@iot.id": ids["multi"]},
                "components": ["result", "phenomenonTime", "resultTime", "parameters"],
                "dataArray": [
                    [[20.5, 61], "2025-05-01T10:00:00Z", "2025-05-01T10:00:02Z", {"Kanal": 1}],
                ],
            },
        ],
    )
    assert len(links) == 3
    first, second, third = (
        api.read(
            f"/Observations({observation_id(link)})", {"$expand": "FeatureOfInterest($select=name)"}
        )
        for link in links
    )
    assert (first["phenomenonTime"], first["result"], first["FeatureOfInterest"]) == (
        "2025-05-01T10:00:00Z",
        20.5,
        {"name": "Brunnen"},
    )
    assert (second["phenomenonTime"], second["result"]) == ("2025-05-01T10:10:00Z", 21)
    assert (third["result"], third["resultTime"], third["parameters"]) == (
        [20.5, 61],
        "2025-05-01T10:00:02Z",
        {"Kanal": 1},
    )
    # Without a FeatureOfInterest, the one generated from the Thing's Location.
    assert third["FeatureOfInterest"] == {"name": "Stiftsplatz"}
    stream = api.read(
        f"/Datastreams({ids['datastream']})", {"$expand": "Observations($count=true)"}
    )
    assert stream["Observations@iot.count"] == 2
    assert stream["phenomenonTime"] == "2025-05-01T10:00:00Z/2025-05-01T10:10:00Z"


def test_rows_that_cannot_be_stored_are_errors_and_the_others_are_stored(api: Api) -> None:
    ids = setup_streams(api)
    links = create_observations(
        api,
        [
            {
                "Datastream": {"@iot.id": ids["datastream"]},
                "components": ["phenomenonTime", "result"],
                "dataArray": [
                    ["2025-05-01T10:00:00Z", 20.5],
                    ["gestern", 21],  # not a time
                    ["2025-05-01T10:20:00Z"],  # a value short
                    "2025-05-01T10:30:00Z",  # not a row
                    ["2025-05-01T10:40:00Z", 22],
                ],
            },
            {
                "MultiDatastream": {"@iot.id": ids["multi"]},
                "components": ["phenomenonTime", "result"],
                "dataArray": [
                    ["2025-05-01T10:00:00Z", [20.5]],  # one value for two properties
                    ["2025-05-01T10:00:00Z", [20.5, 60]],
                ],
            },
            {
                "Datastream": {"@iot.id": 999},
                "components": ["phenomenonTime", "result"],
                "dataArray": [["2025-05-01T10:00:00Z", 1]],
            },
            {
                "Datastream": {"@iot.id": ids["datastream"]},
                "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
                "dataArray": [["2025-05-01T11:00:00Z", 23, 999]],
            },
        ],
    )
    assert ["error" if link == "error" else "link" for link in links] == [
        "link",
        "error",
        "error",
        "error",
        "link",
        "error",
        "link",
        "error",
        "error",
    ]
    stored = api.read("/Observations", {"$select": "id,result", "$orderby": "id"})["value"]
    assert [(o["@iot.selfLink"], o["result"]) for o in stored] == [
        (links[0], 20.5),
        (links[4], 22),
        (links[6], [20.5, 60]),
    ]


def test_duplicates_in_and_across_batches_are_stored_once(api: Api) -> None:
    ids = setup_streams(api)
    group = {
        "Datastream": {"@iot.id": ids["datastream"]},
        "components": ["phenomenonTime", "result"],
        "dataArray": [
            ["2025-05-01T10:00:00Z", 20.5],
            ["2025-05-01T10:00:00Z", 20.5],
            ["2025-05-01T10:00:00Z", 20.6],
        ],
    }
    first = create_observations(api, [group])
    assert first[0] == first[1] != first[2]
    again = create_observations(api, [group])
    assert again == first
    body = api.read(f"/Datastreams({ids['datastream']})/Observations", {"$count": "true"})
    assert body["@iot.count"] == len(body["value"]) == 2


def test_a_thing_without_location_needs_features_in_the_rows(api: Api) -> None:
    ids = setup_streams(api)
    api.patch(f"/Things({ids['thing']})", {"Locations": []})
    links = create_observations(
        api,
        [
            {
                "Datastream": {"@iot.id": ids["datastream"]},
                "components": ["phenomenonTime", "result", "FeatureOfInterest/@iot.id"],
                "dataArray": [["2025-05-01T10:00:00Z", 1, ids["feature"]]],
            },
            {
                "Datastream": {"@iot.id": ids["datastream"]},
                "components": ["phenomenonTime", "result"],
                "dataArray": [["2025-05-01T10:00:00Z", 2]],
            },
        ],
    )
    assert links[1] == "error"
    assert api.read(f"/Observations({observation_id(links[0])})")["result"] == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"components": []}, "CreateObservations takes a list"),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["result"]}],
            "needs 'components' and 'dataArray'",
        ),
        ([[1, 2]], "needs 'components' and 'dataArray'"),
        (
            [{"Datastream": {"@iot.id": 1}, "components": "result", "dataArray": []}],
            "'components' must be a list of property names",
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["result", "colour"], "dataArray": []}],
            "unknown dataArray component 'colour'",
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime"], "dataArray": []}],
            "'components' must name the result",
        ),
        (
            [{"Datastream": 1, "components": ["result"], "dataArray": []}],
            """'Datastream' must be {"@iot.id": n}""",
        ),
        (
            [{"Datastream": {"@iot.id": "1"}, "components": ["result"], "dataArray": []}],
            """'Datastream' must be {"@iot.id": n}""",
        ),
        (
            [{"components": ["result"], "dataArray": [[1]]}],
            "names its Datastream or MultiDatastream",
        ),
    ],
)
def test_malformed_requests_are_refused_whole(api: Api, body: Any, message: str) -> None:
    setup_streams(api)
    valid = {
        "Datastream": {"@iot.id": 1},
        "components": ["phenomenonTime", "result"],
        "dataArray": [["2025-05-01T10:00:00Z", 1]],
    }
    request = [valid, *body] if isinstance(body, list) else body
    assert message in problem(api.post("/CreateObservations", request))
    assert api.read("/Observations")["value"] == []

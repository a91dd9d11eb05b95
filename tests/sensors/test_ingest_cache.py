"""Observations get their FeatureOfInterest from where their Thing is *now*.

Ingest keeps a Datastream's Thing and a Thing's generated FeatureOfInterest in a
per-process cache; these tests move things around and check that no Observation is
filed under the old place – in the same process and when another process moves them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from tests.conftest import need
from tests.sensors.conftest import CELSIUS, MEASUREMENT, Api, location, make_client, point

PFAFFPLATZ = point(7.7595, 49.4447)
CAMPUS = point(7.7520, 49.4240)


def _thing(api: Api, name: str, where: dict[str, Any]) -> int:
    return int(
        api.create(
            "/Things", {"name": name, "description": name, "Locations": [location(name, where)]}
        )["@iot.id"]
    )


def _stream(api: Api, thing_id: int) -> int:
    body = {
        "name": "Temperatur",
        "description": "Lufttemperatur",
        "unitOfMeasurement": CELSIUS,
        "observationType": MEASUREMENT,
        "Thing": {"@iot.id": thing_id},
        "Sensor": {"name": "S", "description": "S", "encodingType": "text/html", "metadata": "x"},
        "ObservedProperty": {
            "name": "T",
            "definition": "https://klug.example/t",
            "description": "T",
        },
    }
    return int(api.create("/Datastreams", body)["@iot.id"])


def _feature_of(api: Api, stream_id: int, value: float) -> Any:
    """POST one Observation; the geometry of the FeatureOfInterest it was filed under."""
    created = api.create(f"/Datastreams({stream_id})/Observations", {"result": value})
    feature = api.read(f"/Observations({created['@iot.id']})/FeatureOfInterest")
    return feature["feature"]


def test_a_datastream_moved_to_another_thing_files_observations_there(api: Api) -> None:
    at_pfaffplatz = _thing(api, "Pfaffplatz", PFAFFPLATZ)
    on_campus = _thing(api, "Campus", CAMPUS)
    stream = _stream(api, at_pfaffplatz)
    assert _feature_of(api, stream, 1.0) == PFAFFPLATZ
    assert (
        api.patch(f"/Datastreams({stream})", {"Thing": {"@iot.id": on_campus}}).status_code == 200
    )
    assert _feature_of(api, stream, 2.0) == CAMPUS


def test_a_thing_that_moves_files_new_observations_at_its_new_place(api: Api) -> None:
    thing = _thing(api, "Messwagen", PFAFFPLATZ)
    stream = _stream(api, thing)
    assert _feature_of(api, stream, 1.0) == PFAFFPLATZ
    moved = api.patch(f"/Things({thing})", {"Locations": [location("Campus", CAMPUS)]})
    assert moved.status_code == 200
    assert _feature_of(api, stream, 2.0) == CAMPUS


def test_a_move_made_by_another_process_is_heard_through_the_bus(
    database_url: str, tmp_path: Path
) -> None:
    redis_url = os.environ.get("KLUG_TEST_REDIS_URL", "")
    need(bool(redis_url), "Redis (set KLUG_TEST_REDIS_URL)")
    with (
        make_client(database_url, tmp_path / "a", redis_url) as first_client,
        make_client(database_url, tmp_path / "b", redis_url) as second_client,
    ):
        first, second = Api(first_client), Api(second_client)
        at_pfaffplatz = _thing(first, "Pfaffplatz", PFAFFPLATZ)
        on_campus = _thing(first, "Campus", CAMPUS)
        stream = _stream(first, at_pfaffplatz)
        assert _feature_of(first, stream, 1.0) == PFAFFPLATZ  # the first process caches
        patched = second.patch(f"/Datastreams({stream})", {"Thing": {"@iot.id": on_campus}})
        assert patched.status_code == 200
        # The message crosses Redis; an Observation posted after it arrived goes to campus.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if (
                first_client.app.state.session_factory.kw["info"]["klug_sensor_cache"].get(  # type: ignore[attr-defined]
                    "datastream", stream
                )
                is None
            ):
                break
            time.sleep(0.02)
        assert _feature_of(first, stream, 2.0) == CAMPUS

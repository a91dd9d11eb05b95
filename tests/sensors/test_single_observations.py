"""Devices posting one Observation each, at the same time: every request gets its own
answer (its own id, or its own error), and exactly the good ones are stored."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.sensors.conftest import Api, problem
from tests.sensors.test_ingest_cache import PFAFFPLATZ, _stream, _thing


def test_concurrent_posts_each_get_their_own_answer(api: Api) -> None:
    stream = _stream(api, _thing(api, "Pfaffplatz", PFAFFPLATZ))
    missing = stream + 1000

    def post(n: int) -> tuple[int, Any]:
        # Every seventh names a Datastream that does not exist, in the same batches.
        target = missing if n % 7 == 0 else stream
        body = {
            "result": n,
            "phenomenonTime": f"2026-11-01T10:{n // 60:02d}:{n % 60:02d}Z",
            "Datastream": {"@iot.id": target},
        }
        return n, api.post("/Observations", body)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, range(120)))

    stored = {}
    for n, response in answers:
        if n % 7 == 0:
            assert f"Datastream({missing})" in problem(response, 400)
        else:
            assert response.status_code == 201, response.text
            assert response.json()["result"] == n
            stored[response.json()["@iot.id"]] = n
    assert len(stored) == len([n for n in range(120) if n % 7])  # every id is its own
    listed = api.read(f"/Datastreams({stream})/Observations", {"$top": "1000", "$count": "true"})
    assert listed["@iot.count"] == len(stored)
    assert {o["@iot.id"]: o["result"] for o in listed["value"]} == stored


def test_the_same_observation_posted_twice_is_stored_once(api: Api) -> None:
    stream = _stream(api, _thing(api, "Pfaffplatz", PFAFFPLATZ))
    body = {"result": 4.2, "phenomenonTime": "2026-11-01T10:00:00Z"}
    first = api.post(f"/Datastreams({stream})/Observations", body)
    again = api.post(f"/Datastreams({stream})/Observations", body)
    assert first.status_code == again.status_code == 201
    assert first.json()["@iot.id"] == again.json()["@iot.id"]
    listed = api.read(f"/Datastreams({stream})/Observations", {"$count": "true"})
    assert listed["@iot.count"] == 1

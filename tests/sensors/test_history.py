"""History, latest values, freshness, retention, live push and pull sources."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose
from sqlalchemy import func, select

from klug.core.audit import SYSTEM
from klug.core.db import create_db_engine, make_session_factory
from klug.identity import apikeys
from klug.sensors import calc, ingest, jobs, sources, timeutil
from klug.sensors import models as m
from klug.sensors.entities import ENTITY_TYPES
from klug.sensors.service import Writer
from tests.servers import start_server

HOUR = 3_600_000_000
DAY = 24 * HOUR
START = timeutil.parse_instant("2026-11-01T00:00:00Z")


def _streams(
    client: TestClient,
    *,
    public: list[bool],
    interval: str | None = "PT5M",
    retention: int | None = None,
) -> list[int]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        writer = Writer(session)
        thing = writer.create(
            ENTITY_TYPES["Thing"],
            {
                "name": "Parkhaus Altstadt",
                "Locations": [
                    {
                        "name": "Altstadt",
                        "encodingType": "application/geo+json",
                        "location": {"type": "Point", "coordinates": [7.77, 49.44]},
                    }
                ],
            },
        )
        ids = []
        for n, is_public in enumerate(public):
            properties: dict[str, Any] = {"public": is_public}
            if interval:
                properties["expectedInterval"] = interval
            if retention:
                properties["rawRetentionDays"] = retention
            ids.append(
                writer.create(
                    ENTITY_TYPES["Datastream"],
                    {
                        "name": f"Freie Plätze {n}",
                        "unitOfMeasurement": {"name": "count", "symbol": "", "definition": ""},
                        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
                        "properties": properties,
                        "Thing": {"@iot.id": thing},
                        "Sensor": {
                            "name": "Zählschleife",
                            "encodingType": "text/plain",
                            "metadata": "induction loop",
                        },
                        "ObservedProperty": {
                            "name": "free spaces",
                            "definition": "http://example.org/free",
                        },
                    },
                )
            )
        session.commit()
    return ids


def _store(
    client: TestClient, datastream_id: int, samples: list[tuple[int, float]], now: int | None = None
) -> None:
    items = [
        ingest.NewObservation(datastream_id, None, t, result_number=float(v), result_raw=v)
        for t, v in samples
    ]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        ingest.store(session, items, now=now)
        session.commit()


def _key(client: TestClient, scopes: str = "sensors.read") -> dict[str, str]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        _k, key = apikeys.create(session=session, name="Leitstand", scopes=scopes, actor=SYSTEM)
        session.commit()
    return {"Authorization": f"Bearer {key}"}


# -- calculations ---------------------------------------------------------------------------


def test_lttb_keeps_endpoints_and_peaks() -> None:
    times = np.arange(10_000, dtype=np.int64) * 60_000_000
    values = np.sin(np.arange(10_000) / 500.0)
    values[4321] = 25.0  # one spike a mean would hide
    kept_t, kept_v = calc.lttb(times, values, 200)
    assert len(kept_t) == 200
    assert kept_t[0] == times[0] and kept_t[-1] == times[-1]
    assert np.all(np.diff(kept_t) > 0)
    assert 25.0 in kept_v
    same_t, _ = calc.lttb(times[:50], values[:50], 200)
    assert len(same_t) == 50, "fewer points than asked: returned as they are"


@pytest.mark.parametrize(
    ("span_h", "raw", "points", "expected"),
    [
        (1, 60, 500, "raw"),
        (24, 1440, 500, "1h"),
        (6, 360, 100, "1h"),
        (2, 500, 150, "1m"),
        (24 * 14, 20_000, 500, "1h"),
        (24 * 900, 10**6, 500, "1d+lttb"),
    ],
)
def test_resolution_choice(span_h: int, raw: int, points: int, expected: str) -> None:
    assert calc.choose_resolution(span_h * HOUR, raw, points) == expected


def test_staleness_after_three_intervals() -> None:
    now = 10 * HOUR
    assert calc.is_stale(now - 14 * 60_000_000, 300, now) is False
    assert calc.is_stale(now - 16 * 60_000_000, 300, now) is True
    assert calc.is_stale(None, 300, now) is True
    assert calc.is_stale(now, None, now) is None


# -- aggregates and history -----------------------------------------------------------------


def test_aggregates_follow_ingest_and_answer_history(client: TestClient) -> None:
    [stream] = _streams(client, public=[True])
    # Two days of minute values: 2,880 observations.
    samples = [(START + i * 60_000_000, float(i % 100)) for i in range(2 * 24 * 60)]
    _store(client, stream, samples)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        hourly = session.execute(
            select(m.aggregate.c.count, m.aggregate.c.min, m.aggregate.c.max, m.aggregate.c.sum)
            .where(m.aggregate.c.datastream_id == stream, m.aggregate.c.resolution == 2)
            .order_by(m.aggregate.c.bucket_start)
        ).all()
    assert len(hourly) == 48
    first_hour = [v for t, v in samples if t < START + HOUR]
    assert hourly[0] == (60, min(first_hour), max(first_hour), sum(first_hour))

    params = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-03T00:00:00Z", "points": 100}
    auto = client.get(f"/api/sensors/datastreams/{stream}/series", params=params).json()
    assert auto["resolution"] == "1h"
    assert len(auto["columns"]["t"]) == 48
    assert auto["columns"]["t"][0] == START // 1000
    assert_allclose(auto["columns"]["mean"][0], np.mean(first_hour))
    assert auto["columns"]["count"][:3] == [60, 60, 60]

    daily = client.get(
        f"/api/sensors/datastreams/{stream}/series", params={**params, "resolution": "1d"}
    ).json()
    assert daily["columns"]["count"] == [1440, 1440]
    assert daily["columns"]["min"] == [0.0, 0.0] and daily["columns"]["max"] == [99.0, 99.0]

    thinned = client.get(
        f"/api/sensors/datastreams/{stream}/series",
        params={**params, "resolution": "lttb", "points": 300},
    ).json()
    assert thinned["resolution"] == "lttb" and len(thinned["columns"]["t"]) == 300
    raw = client.get(
        f"/api/sensors/datastreams/{stream}/series",
        params={"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T00:10:00Z", "resolution": "auto"},
    ).json()
    assert raw["resolution"] == "raw" and raw["columns"]["value"] == [float(i) for i in range(10)]


def test_history_rejects_bad_requests(client: TestClient) -> None:
    [stream] = _streams(client, public=[True])
    base = f"/api/sensors/datastreams/{stream}/series"
    assert client.get(base, params={"from": "gestern"}).status_code == 400
    assert (
        client.get(
            base, params={"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
        ).status_code
        == 400
    )
    assert client.get(base, params={"resolution": "5m"}).status_code == 400
    assert client.get(base, params={"points": 2}).status_code == 422
    assert client.get("/api/sensors/datastreams/999/series").status_code == 404


def test_deleting_an_observation_corrects_the_aggregates(client: TestClient) -> None:
    [stream] = _streams(client, public=[True])
    _store(client, stream, [(START, 10.0), (START + 60_000_000, 30.0)])
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        highest = session.scalar(
            select(m.observation.c.id).where(m.observation.c.result_number == 30.0)
        )
    headers = _key(client, "sensors.write")
    assert client.delete(f"/sta/v1.1/Observations({highest})", headers=headers).status_code == 200
    daily = client.get(
        f"/api/sensors/datastreams/{stream}/series",
        params={"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", "resolution": "1d"},
    ).json()
    assert daily["columns"]["count"] == [1] and daily["columns"]["max"] == [10.0]
    assert client.get(f"/api/sensors/datastreams/{stream}").json()["observationCount"] == 1


# -- latest values, freshness, visibility ---------------------------------------------------


def test_latest_values_with_freshness_and_visibility(client: TestClient) -> None:
    public, private, silent = _streams(client, public=[True, False, True])
    now = timeutil.now_micros()
    _store(client, public, [(now - 120_000_000, 7), (now - 60_000_000, 9)], now=now)
    _store(client, private, [(now - 40 * 60_000_000, 3)], now=now)
    anonymous = client.get("/api/sensors/latest").json()["value"]
    assert [d["id"] for d in anonymous] == [public, silent]
    assert anonymous[0]["result"] == 9 and anonymous[0]["freshness"] == "live"
    assert anonymous[1]["freshness"] == "no-data"
    staff = client.get("/api/sensors/latest", headers=_key(client)).json()["value"]
    assert [d["id"] for d in staff] == [public, private, silent]
    assert staff[1]["freshness"] == "stale", "silent for 40 min with a 5 min interval"
    assert client.get(f"/api/sensors/datastreams/{private}").status_code == 404
    assert (
        client.get(f"/api/sensors/datastreams/{private}", headers=_key(client)).status_code == 200
    )
    assert client.get("/api/sensors/latest?datastreams=a,b").status_code == 400


# -- retention ------------------------------------------------------------------------------


def test_retention_deletes_raw_data_but_keeps_aggregates(
    client_factory: Callable[..., TestClient],
) -> None:
    # The app's own job runner would apply retention with today's clock, racing this
    # test's explicit run at a clock of its choosing.
    client = client_factory(jobs=False)
    [short, keep] = _streams(client, public=[True, True], retention=None)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        session.execute(
            m.datastream.update().where(m.datastream.c.id == short).values(raw_retention_days=7)
        )
        session.commit()
    now = START + 30 * DAY
    old = [(START + i * HOUR, 1.0) for i in range(48)]
    recent = [(now - HOUR, 2.0)]
    _store(client, short, old + recent)
    _store(client, keep, old)
    deleted = jobs.enforce_retention(client.app.state.session_factory, now=now)  # type: ignore[attr-defined]
    assert deleted == 48
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        remaining = session.scalar(
            select(func.count())
            .select_from(m.observation)
            .where(m.observation.c.datastream_id == short)
        )
        kept = session.scalar(
            select(func.count())
            .select_from(m.observation)
            .where(m.observation.c.datastream_id == keep)
        )
        aggregates = session.scalar(
            select(func.count())
            .select_from(m.aggregate)
            .where(m.aggregate.c.datastream_id == short, m.aggregate.c.resolution == 2)
        )
    assert (remaining, kept) == (1, 48)
    assert aggregates == 49, "hourly means of the deleted days remain"


def test_retention_property_is_validated(client: TestClient) -> None:
    headers = _key(client, "sensors.write")
    [stream] = _streams(client, public=[True])
    for bad in (
        {"rawRetentionDays": 0},
        {"rawRetentionDays": "lang"},
        {"expectedInterval": "P1M"},
        {"expectedInterval": "5 min"},
        {"public": "ja"},
    ):
        response = client.patch(
            f"/sta/v1.1/Datastreams({stream})", json={"properties": bad}, headers=headers
        )
        assert response.status_code == 400, bad


# -- live push --------------------------------------------------------------------------------


def test_live_observations_reach_the_browser_of_their_datastream_only(
    database_url: str, tmp_path: Path
) -> None:
    server = start_server(database_url, tmp_path / "var")
    try:
        engine = create_db_engine(database_url)
        with make_session_factory(engine)() as session:
            writer = Writer(session)
            thing = writer.create(
                ENTITY_TYPES["Thing"],
                {
                    "name": "Wetterstation",
                    "Locations": [
                        {
                            "name": "Uni",
                            "encodingType": "application/geo+json",
                            "location": {"type": "Point", "coordinates": [7.75, 49.42]},
                        }
                    ],
                },
            )
            common = {
                "unitOfMeasurement": {"name": "degree Celsius", "symbol": "°C", "definition": ""},
                "observationType": "x",
                "Thing": {"@iot.id": thing},
                "Sensor": {"name": "PT100", "encodingType": "text/plain", "metadata": "-"},
                "ObservedProperty": {
                    "name": "air temperature",
                    "definition": "http://example.org/t",
                },
            }
            followed = writer.create(
                ENTITY_TYPES["Datastream"],
                {"name": "Temperatur", "properties": {"public": True}, **common},
            )
            other = writer.create(
                ENTITY_TYPES["Datastream"],
                {"name": "Temperatur 2", "properties": {"public": True}, **common},
            )
            hidden = writer.create(
                ENTITY_TYPES["Datastream"],
                {"name": "intern", "properties": {"public": False}, **common},
            )
            _k, key = apikeys.create(
                session=session, name="Station", scopes="sensors.write", actor=SYSTEM
            )
            session.commit()
        engine.dispose()

        async def scenario() -> dict[str, Any]:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                refused = await http.get(f"/api/live/observations?datastreams={hidden}")
                assert refused.status_code == 404
                async with http.stream(
                    "GET", f"/api/live/observations?datastreams={followed}"
                ) as stream:
                    lines = stream.aiter_lines()
                    assert await anext(lines) == "retry: 5000"
                    headers = {"Authorization": f"Bearer {key}"}
                    await http.post(
                        f"/sta/v1.1/Datastreams({other})/Observations",
                        json={"result": 1},
                        headers=headers,
                    )
                    await http.post(
                        f"/sta/v1.1/Datastreams({followed})/Observations",
                        json={"result": 19.5},
                        headers=headers,
                    )
                    async for line in lines:
                        if line.startswith("data: "):
                            return json.loads(line[6:])  # type: ignore[no-any-return]
            raise AssertionError("no event")

        event = asyncio.run(asyncio.wait_for(scenario(), 15))
        assert [(o["datastream_id"], o["result"]) for o in event["observations"]] == [
            (followed, 19.5)
        ]
    finally:
        server.stop()


# -- pull sources -----------------------------------------------------------------------------


class _Feed(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def feed() -> Iterator[tuple[str, type[_Feed]]]:
    handler = type("Feed", (_Feed,), {})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", handler
    server.shutdown()


class JsonCounts:
    """A test source kind: {"spaces": n, "time": "..."} for one Datastream."""

    interval_s = 60.0

    def __init__(self, config: dict[str, Any]) -> None:
        self.name = config["name"]
        self.url = config["url"]
        self.datastream_id = config["datastream_id"]

    def fetch(self) -> bytes:
        return httpx.get(self.url, timeout=5).content

    def parse(self, payload: bytes, now: int) -> list[sources.Reading]:
        data = json.loads(payload)
        return [
            sources.Reading(
                self.datastream_id, timeutil.parse_instant(data["time"]), int(data["spaces"])
            )
        ]


def test_a_pull_source_stores_readings_and_a_broken_one_shows_stale(
    client: TestClient, feed: tuple[str, type[_Feed]]
) -> None:
    url, handler = feed
    [stream] = _streams(client, public=[True], interval="PT1M")
    sources.register_kind("test-json-counts", JsonCounts)
    source = sources.create(
        "test-json-counts", {"name": "altstadt", "url": url, "datastream_id": stream}
    )
    status = sources.SourceStatus(source.name)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    now = timeutil.format_instant(timeutil.now_micros())
    handler.body = json.dumps({"spaces": 123, "time": now}).encode()
    assert sources.poll(factory, source, status) == 1
    assert sources.poll(factory, source, status) == 0, "the same reading is stored once"
    latest = client.get(f"/api/sensors/datastreams/{stream}").json()
    assert latest["result"] == 123 and latest["freshness"] == "live"
    handler.body = b"<html>Wartungsarbeiten</html>"
    assert sources.poll(factory, source, status) == 0
    assert status.last_error is not None and "unusable payload" in status.last_error
    with pytest.raises(ValueError, match="unknown source kind"):
        sources.create("nope", {})


def test_counting_all_observations_uses_the_counters_and_respects_visibility(
    client: TestClient,
) -> None:
    public, private = _streams(client, public=[True, False])
    _store(client, public, [(START + i * HOUR, 1.0) for i in range(7)])
    _store(client, private, [(START + i * HOUR, 2.0) for i in range(5)])
    anonymous = client.get("/sta/v1.1/Observations?$count=true&$top=1").json()
    staff = client.get("/sta/v1.1/Observations?$count=true&$top=1", headers=_key(client)).json()
    assert (anonymous["@iot.count"], staff["@iot.count"]) == (7, 12)
    filtered = client.get(
        "/sta/v1.1/Observations?$count=true&$top=1&$filter=result gt 1", headers=_key(client)
    )
    assert filtered.json()["@iot.count"] == 5

"""Live push: from an Observation's POST to its arrival at a Server-Sent-Events client.

One SSE client follows ``/api/live/observations`` for 100 Datastreams (all of them at
scales below 0.0625); then one client POSTs 5 Observations to each: 500 POSTs, one
every 20 ms, on a keep-alive connection (with fewer Datastreams, more to each).
Latency = arrival of the Observation on the SSE stream − start of its POST, matched by
Datastream and phenomenonTime (unique per POST), both clocks in this process.
``lost`` = POSTs answered 201 whose Observation did not arrive within 5 s after the
last POST.

Baseline: p95 of the POSTs' own round trips in the same run – push cannot be faster
than the commit it follows, so the ratio is what the push path adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import Figure, InvalidMeasurement, log
from bench.load import Request, percentile, read_response, render_request
from bench.sensors import (
    WRITE_SCOPES,
    NewObservations,
    SensorServer,
    data_facts,
    dataset,
    iso_seconds,
    sensor_server,
    whole_seconds_from_now,
)

DATASTREAMS = 100
POSTS = 500
PACE_S = 0.02
GRACE_S = 5.0


@dataclass
class Tally:
    sent_at: dict[tuple[int, str], float] = field(default_factory=dict)
    received_at: dict[tuple[int, str], float] = field(default_factory=dict)
    round_trips_s: list[float] = field(default_factory=list)
    created: int = 0
    expected: int = 0
    complete: asyncio.Event = field(default_factory=asyncio.Event)


async def _follow(target: SensorServer, ids: list[int], tally: Tally, ready: asyncio.Event) -> None:
    """Read the SSE stream, noting when each Observation arrives."""
    parts = urlsplit(target.base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    query = ",".join(str(i) for i in ids)
    request = Request(
        "GET",
        f"/api/live/observations?datastreams={query}",
        {**target.auth, "Accept": "text/event-stream"},
    )
    writer.write(render_request(request, parts.netloc))
    status_line = await reader.readline()
    if b" 200 " not in status_line:
        raise InvalidMeasurement(f"the SSE stream answered {status_line!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    buffer = b""
    try:
        while True:
            size_line = await reader.readline()
            if not size_line:
                return
            size = int(size_line.split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            arrived = time.perf_counter()
            buffer += chunk[:-2]
            while b"\n\n" in buffer:
                frame, buffer = buffer.split(b"\n\n", 1)
                if b": connected" in frame:
                    ready.set()
                for line in frame.split(b"\n"):
                    if line.startswith(b"data: "):
                        data = json.loads(line[6:])
                        for o in data.get("observations", []):
                            key = (o["datastream_id"], o["phenomenonTime"])
                            tally.received_at.setdefault(key, arrived)
                if len(tally.received_at) >= tally.expected:
                    tally.complete.set()
    finally:
        writer.close()


async def _post_all(target: SensorServer, new: NewObservations, total: int, tally: Tally) -> None:
    parts = urlsplit(target.base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    headers = {**target.auth, "Content-Type": "application/json"}
    started = time.perf_counter()
    try:
        for n in range(total):
            await asyncio.sleep(max(0.0, started + n * PACE_S - time.perf_counter()))
            when = iso_seconds(new.seconds(n))
            body = json.dumps({"phenomenonTime": when, "result": new.result(n)}).encode()
            path = f"/sta/v1.1/Datastreams({new.datastream(n)})/Observations"
            request = render_request(Request("POST", path, headers, body), parts.netloc)
            sent = time.perf_counter()
            tally.sent_at[(new.datastream(n), when)] = sent
            writer.write(request)
            status, _keep_alive, answer = await read_response(reader)
            tally.round_trips_s.append(time.perf_counter() - sent)
            if status != 201:
                raise InvalidMeasurement(f"POST {path}: {status} {answer[:300]!r}")
            tally.created += 1
    finally:
        writer.close()


async def _measure(target: SensorServer, ids: list[int]) -> Tally:
    total = POSTS
    tally = Tally(expected=total)
    ready = asyncio.Event()
    follower = asyncio.create_task(_follow(target, ids, tally, ready))
    try:
        await asyncio.wait_for(ready.wait(), timeout=30)
        new = NewObservations(ids, whole_seconds_from_now())
        await _post_all(target, new, total, tally)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.complete.wait(), timeout=GRACE_S)
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    return tally


def run() -> list[Figure]:
    data = dataset()
    ids = data.datastream_ids[:DATASTREAMS]
    with sensor_server(data, WRITE_SCOPES) as target:
        log(f"live: SSE client on {len(ids)} Datastreams, {POSTS} POSTs")
        tally = asyncio.run(_measure(target, ids))
    latencies = [
        tally.received_at[key] - sent
        for key, sent in tally.sent_at.items()
        if key in tally.received_at
    ]
    unknown = set(tally.received_at) - set(tally.sent_at)
    if unknown:
        raise InvalidMeasurement(f"{len(unknown)} pushed Observations were never sent")
    if not latencies:
        raise InvalidMeasurement("no Observation arrived on the SSE stream")
    lost = tally.created - len(latencies)
    p95_ms = percentile(latencies, 95) * 1000
    baseline_ms = percentile(tally.round_trips_s, 95) * 1000
    log(
        f"live: {len(latencies)} of {tally.created} arrived, p95 {p95_ms:.1f} ms "
        f"(p50 {percentile(latencies, 50) * 1000:.1f} ms); POST p95 {baseline_ms:.1f} ms"
    )
    return [
        Figure(
            "live.push_p95_ms",
            p95_ms,
            "ms",
            len(latencies),
            baseline_ms,
            "python-asyncio",
            {
                **data_facts(data),
                "datastreams": len(ids),
                "sent": tally.created,
                "lost": lost,
                "max_ms": round(max(latencies) * 1000, 2),
                "baseline_what": "p95 of the POST round trips",
            },
        )
    ]

"""SensorThings API on Hamburg's scale: query latency and write throughput.

Reads: five typical dashboard and API queries, each under closed-loop load (8
connections) with the Datastream and the time range varying from request to request;
the baseline is ``GET /healthz`` at the same concurrency in the same run (what the
bare request costs on this machine today).

Writes, on the same copy of the data set after the reads: one Observation per POST
(32 connections; baseline: ``GET /healthz`` req/s at 32 connections) and
CreateObservations with 1,000 Observations per request (4 connections; baseline: a
raw ``executemany`` of as many equivalent rows into the same table of the same
database, one transaction per 1,000 rows as the requests have). Every write figure is
checked against the rows in the database afterwards.
"""

from __future__ import annotations

import json
import os
import random
import time
from urllib.parse import quote

from sqlalchemy import select

from bench import Figure, InvalidMeasurement, log, seconds_from_env
from bench.dataset import Dataset, count_observations
from bench.load import LoadResult, Request, Workload, choose_tool, get_paths, lua_headers
from bench.load import measure_workload as load
from bench.sensors import (
    WRITE_SCOPES,
    NewObservations,
    SensorServer,
    dataset,
    iso,
    iso_seconds,
    request_json,
    sensor_server,
    whole_seconds_from_now,
)
from klug.core.db import create_db_engine
from klug.sensors import models as m
from klug.sensors.values import result_digest

READ_CONNECTIONS = 8
POST_CONNECTIONS = 32
BATCH_CONNECTIONS = 4
BATCH_SIZE = 1000
BATCH_GROUPS = 20  # Datastreams per CreateObservations request, 50 Observations each
WARM_UP_S = 1.0
HEALTHZ = "/healthz"
DAY_US = 86_400_000_000
# Distinct requests per query workload: more than the requests of a run's first
# seconds, so that no cache along the way sees the same request twice in a row.
VARIANTS = 2000


def read_workloads(data: Dataset, auth: dict[str, str]) -> dict[str, Workload]:
    rng = random.Random(7)
    ids = data.datastream_ids
    # Every Datastream has values throughout [first, last].
    first = data.start_us + data.interval_us
    last = data.end_us - data.interval_us

    def window(length_us: int) -> tuple[int, int]:
        start = rng.randrange(first, max(first + 1, last - length_us))
        start -= start % 1_000_000
        return start, start + length_us

    def series(resolution: str, days: int, extra: str = "") -> list[str]:
        paths = []
        for _ in range(VARIANTS):
            if days >= 30:
                # The last 30 days, as a dashboard asks them (the data set holds 30 days).
                end = last - rng.randrange(0, DAY_US)
                end -= end % 1_000_000
                start = end - days * DAY_US
            else:
                start, end = window(days * DAY_US)
            paths.append(
                f"/api/sensors/datastreams/{rng.choice(ids)}/series?from={iso(start)}"
                f"&to={iso(end)}&resolution={resolution}{extra}"
            )
        return paths

    def top1000() -> list[str]:
        paths = []
        for _ in range(VARIANTS):
            # Three days hold ~1,375 Observations of a Datastream: $top=1000 cuts the page.
            start, end = window(3 * DAY_US)
            condition = f"phenomenonTime ge {iso(start)} and phenomenonTime lt {iso(end)}"
            query = f"$filter={quote(condition)}&$orderby={quote('phenomenonTime desc')}&$top=1000"
            paths.append(f"/sta/v1.1/Datastreams({rng.choice(ids)})/Observations?{query}")
        return paths

    return {
        "latest_all": get_paths(["/api/sensors/latest"], auth),
        "hourly_7d": get_paths(series("1h", 7), auth),
        "lttb_14d": get_paths(series("lttb", 14, "&points=500"), auth),
        "daily_30d": get_paths(series("1d", 30), auth),
        "filter_top1000": get_paths(top1000(), auth),
    }


def _verify_reads(target: SensorServer, workloads: dict[str, Workload]) -> None:
    """One answer of each query, checked: a fast wrong answer is no figure."""
    base, auth, data = target.base_url, target.auth, target.dataset
    latest = request_json(base + workloads["latest_all"].render(0).path, headers=auth)
    if len(latest["value"]) != data.datastreams:
        raise InvalidMeasurement(
            f"latest_all answered {len(latest['value'])} of {data.datastreams} Datastreams"
        )
    expected_points = {"hourly_7d": (168, 169), "lttb_14d": (500, 500), "daily_30d": (30, 31)}
    for name, (low, high) in expected_points.items():
        answer = request_json(base + workloads[name].render(1).path, headers=auth)
        points = len(answer["columns"]["t"])
        if not low <= points <= high:
            raise InvalidMeasurement(f"{name} answered {points} points, expected {low}–{high}")
    page = request_json(base + workloads["filter_top1000"].render(2).path, headers=auth)
    if len(page["value"]) != 1000 or "@iot.nextLink" not in page:
        raise InvalidMeasurement(
            f"filter_top1000 answered {len(page['value'])} Observations (expected 1000 and a "
            "nextLink)"
        )
    log(
        "answers verified: latest of all Datastreams, 168 hourly and 500 LTTB points, "
        "30 daily buckets, 1000 filtered Observations"
    )


def _run_load(
    tool: str, target: SensorServer, workload: Workload, connections: int, duration_s: float
) -> LoadResult:
    return load(
        tool,
        target.base_url + HEALTHZ,
        workload,
        connections=connections,
        duration_s=duration_s,
        workdir=target.workdir,
    )


def _healthz(tool: str, target: SensorServer, connections: int, duration_s: float) -> LoadResult:
    result = _run_load(tool, target, get_paths([HEALTHZ]), connections, duration_s)
    result.check(f"GET {HEALTHZ}")
    log(
        f"GET {HEALTHZ} ({connections} connections): p95 {result.p95_ms:.1f} ms, "
        f"{result.requests_per_s:,.0f} req/s"
    )
    return result


def _reads(tool: str, target: SensorServer, duration_s: float) -> list[Figure]:
    workloads = read_workloads(target.dataset, target.auth)
    _verify_reads(target, workloads)
    for workload in workloads.values():
        _run_load(tool, target, workload, READ_CONNECTIONS, WARM_UP_S)
    healthz = _healthz(tool, target, READ_CONNECTIONS, duration_s)
    figures = []
    for name, workload in workloads.items():
        result = _run_load(tool, target, workload, READ_CONNECTIONS, duration_s)
        result.check(name)
        log(
            f"{name}: {result.requests} requests, p95 {result.p95_ms:.1f} ms, "
            f"p50 {result.p50_ms or 0:.1f} ms, {result.requests_per_s:,.0f} req/s"
        )
        figures.append(
            Figure(
                f"sta.query_p95_ms.{name}",
                result.p95_ms,
                "ms",
                result.requests,
                healthz.p95_ms,
                tool,
                {
                    **target.figure_facts(),
                    "connections": READ_CONNECTIONS,
                    "req_per_s": round(result.requests_per_s, 1),
                },
            )
        )
    return figures


# -- writes ------------------------------------------------------------------------------


def post_single_workload(new: NewObservations, auth: dict[str, str]) -> Workload:
    headers = {**auth, "Content-Type": "application/json"}
    lua = (
        new.lua()
        + lua_headers(headers)
        + "function make_request(n)\n"
        + '  local body = \'{"phenomenonTime":"\' .. obs_time(n) .. \'","result":\' '
        + ".. obs_result(n) .. '}'\n"
        + "  return wrk.format('POST', '/sta/v1.1/Datastreams(' .. obs_datastream(n) "
        + ".. ')/Observations', nil, body)\n"
        + "end\n"
    )

    def render(n: int) -> Request:
        body = f'{{"phenomenonTime":"{iso_seconds(new.seconds(n))}","result":{new.result(n)}}}'
        return Request(
            "POST",
            f"/sta/v1.1/Datastreams({new.datastream(n)})/Observations",
            headers,
            body.encode(),
        )

    return Workload(lua=lua, render=render, expected_status=201)


def batch_workload(new: NewObservations, auth: dict[str, str]) -> Workload:
    """Request i carries Observations i·1000 … i·1000+999: 20 Datastreams × 50 each."""
    headers = {**auth, "Content-Type": "application/json"}
    per_group = BATCH_SIZE // BATCH_GROUPS
    # Observation n of the run goes to Datastream new.datastream(g) with g its group; the
    # k-th of a group is k minutes after the group's first, so rows never repeat.
    lua = (
        new.lua()
        + lua_headers(headers)
        + f"groups = {BATCH_GROUPS}\nper_group = {per_group}\n"
        + "function make_request(i)\n"
        + "  local parts = {}\n"
        + "  for j = 0, groups - 1 do\n"
        + "    local g = i * groups + j\n"
        + "    local rows = {}\n"
        + "    for k = 0, per_group - 1 do\n"
        + "      local n = g * per_group + k\n"
        + "      local round = math.floor(g / #obs_ids) * per_group + k\n"
        + "      local t = os.date('!%Y-%m-%dT%H:%M:%SZ', obs_base_s + round * 60)\n"
        + "      rows[k + 1] = '[\"' .. t .. '\",' .. obs_result(n) .. ']'\n"
        + "    end\n"
        + "    parts[j + 1] = '{\"Datastream\":{\"@iot.id\":' .. obs_datastream(g) .. '},'\n"
        + '      .. \'"components":["phenomenonTime","result"],"dataArray":[\'\n'
        + "      .. table.concat(rows, ',') .. ']}'\n"
        + "  end\n"
        + "  local body = '[' .. table.concat(parts, ',') .. ']'\n"
        + "  return wrk.format('POST', '/sta/v1.1/CreateObservations', nil, body)\n"
        + "end\n"
    )

    def render(i: int) -> Request:
        parts = []
        for j in range(BATCH_GROUPS):
            g = i * BATCH_GROUPS + j
            rows = []
            for k in range(per_group):
                n = g * per_group + k
                rounds = (g // len(new.ids)) * per_group + k
                rows.append(f'["{iso_seconds(new.base_s + rounds * 60)}",{new.result(n)}]')
            parts.append(
                f'{{"Datastream":{{"@iot.id":{new.datastream(g)}}},'
                f'"components":["phenomenonTime","result"],"dataArray":[{",".join(rows)}]}}'
            )
        body = f"[{','.join(parts)}]"
        return Request("POST", "/sta/v1.1/CreateObservations", headers, body.encode())

    return Workload(lua=lua, render=render, expected_status=201)


def _check_batch_answer(target: SensorServer, workload: Workload) -> None:
    """A CreateObservations answer links 1,000 stored Observations, none an error."""
    sample = workload.render(10**7)  # far beyond the run's requests: stores new rows
    links = request_json(
        target.base_url + sample.path,
        method="POST",
        body=json.loads(sample.body or b"[]"),
        headers=target.auth,
        expected=201,
    )
    if len(links) != BATCH_SIZE or any(link == "error" for link in links):
        raise InvalidMeasurement(f"CreateObservations stored {len(links)} rows with errors")


def _raw_executemany(url: str, rows: int, data: Dataset, feature_ids: dict[int, int]) -> float:
    """Rows per second of a plain INSERT … executemany of ``rows`` equivalent rows into
    sensors_observation, one transaction per 1,000 rows: the database's own speed."""
    new = NewObservations(data.datastream_ids, whole_seconds_from_now(7 * 86_400 + 29))
    engine = create_db_engine(url, pool_size=1)
    columns = (
        "datastream_id, phenomenon_time_start, result_number, result_digest, feature_of_interest_id"
    )
    placeholder = "?" if engine.dialect.name == "sqlite" else "%s"
    values = ", ".join([placeholder] * 5)
    # Fixed column names, no outside input: the rows go in as parameters.
    statement = f"INSERT INTO sensors_observation ({columns}) VALUES ({values})"  # noqa: S608
    batches = []
    for start in range(0, rows, BATCH_SIZE):
        batch = []
        for n in range(start, min(rows, start + BATCH_SIZE)):
            value = new.result(n)
            datastream = new.datastream(n)
            batch.append(
                (
                    datastream,
                    new.seconds(n) * 1_000_000,
                    value,
                    result_digest(value, None),
                    feature_ids[datastream],
                )
            )
        batches.append(batch)
    connection = engine.raw_connection()
    try:
        started = time.perf_counter()
        for batch in batches:
            cursor = connection.cursor()
            cursor.executemany(statement, batch)
            cursor.close()
            connection.commit()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
        engine.dispose()
    return rows / elapsed


def _feature_ids(url: str, data: Dataset) -> dict[int, int]:
    """Each Datastream's FeatureOfInterest as its stored Observations have it."""
    engine = create_db_engine(url, pool_size=1)
    obs = m.observation
    try:
        with engine.connect() as connection:
            return {
                datastream: int(
                    connection.execute(
                        select(obs.c.feature_of_interest_id)
                        .where(obs.c.datastream_id == datastream)
                        .limit(1)
                    ).scalar_one()
                )
                for datastream in data.datastream_ids
            }
    finally:
        engine.dispose()


def _settled_count(url: str) -> int:
    """The Observations once the server has finished what it had accepted: wrk stops
    with requests queued in the server, which commit after wrk has gone."""
    count = count_observations(url)
    while True:
        time.sleep(0.5)
        again = count_observations(url)
        if again == count:
            return count
        count = again


def _post_single(tool: str, target: SensorServer, duration_s: float) -> Figure:
    data = target.dataset
    healthz = _healthz(tool, target, POST_CONNECTIONS, duration_s / 2)
    before = _settled_count(target.database_url)
    new = NewObservations(data.datastream_ids, whole_seconds_from_now())
    log(f"POST single Observations: {POST_CONNECTIONS} connections for {duration_s:g} s")
    result = _run_load(
        tool, target, post_single_workload(new, target.auth), POST_CONNECTIONS, duration_s
    )
    result.check("POST …/Observations")
    stored = _settled_count(target.database_url) - before
    created = result.answered_as_expected
    # wrk stops with requests in flight: the server may store them without wrk counting
    # their answers, so there may be up to one row per connection more than 201 answers.
    if not created <= stored <= created + POST_CONNECTIONS:
        raise InvalidMeasurement(
            f"POST single: {created} answers 201 but {stored} new rows in the database"
        )
    log(
        f"POST single: {created} × 201 ({result.requests_per_s:,.0f}/s, p95 "
        f"{result.p95_ms:.1f} ms), {stored} rows stored"
    )
    return Figure(
        "sta.post_single_obs_per_s",
        created / result.duration_s,
        "obs/s",
        created,
        healthz.requests_per_s,
        tool,
        {
            **target.figure_facts(),
            "connections": POST_CONNECTIONS,
            "stored": stored,
            "p95_ms": round(result.p95_ms, 2),
            "baseline_what": f"GET /healthz req/s at {POST_CONNECTIONS} connections",
        },
    )


def _batch(tool: str, target: SensorServer, duration_s: float) -> Figure:
    data = target.dataset
    # Whole minutes + 17 s: never the time of a single POST's Observation.
    workload = batch_workload(
        NewObservations(data.datastream_ids, whole_seconds_from_now(86_400 + 17)), target.auth
    )
    _check_batch_answer(target, workload)
    before = _settled_count(target.database_url)
    log(f"CreateObservations × {BATCH_SIZE}: {BATCH_CONNECTIONS} connections for {duration_s:g} s")
    result = _run_load(tool, target, workload, BATCH_CONNECTIONS, duration_s)
    result.check("CreateObservations")
    stored = _settled_count(target.database_url) - before
    answered = result.answered_as_expected * BATCH_SIZE
    if not answered <= stored <= answered + BATCH_CONNECTIONS * BATCH_SIZE:
        raise InvalidMeasurement(
            f"CreateObservations: {answered} Observations answered, {stored} rows stored"
        )
    rate = answered / result.duration_s
    log(
        f"CreateObservations: {answered:,} Observations answered ({rate:,.0f}/s, "
        f"p95 {result.p95_ms:.0f} ms per request), {stored:,} rows stored"
    )
    # The server is idle now; the baseline writes as many rows (at most 200,000).
    rows = max(BATCH_SIZE, min(answered, 200 * BATCH_SIZE))
    raw = _raw_executemany(target.database_url, rows, data, _feature_ids(target.database_url, data))
    log(f"raw executemany: {rows:,} rows at {raw:,.0f} rows/s")
    return Figure(
        "sta.batch_obs_per_s",
        rate,
        "obs/s",
        answered,
        raw,
        tool,
        {
            **target.figure_facts(),
            "connections": BATCH_CONNECTIONS,
            "stored": stored,
            "p95_ms": round(result.p95_ms, 2),
            "baseline_what": f"raw executemany rows/s ({rows} rows, same table)",
        },
    )


def run() -> list[Figure]:
    duration_s = seconds_from_env("KLUG_BENCH_SECONDS", 10.0)
    tool = choose_tool()
    data = dataset()
    # KLUG_BENCH_PART=reads|writes runs half of it (while optimising one side).
    part = os.environ.get("KLUG_BENCH_PART", "all")
    figures: list[Figure] = []
    with sensor_server(data, WRITE_SCOPES) as target:
        log(f"sta: {data.datastreams:,} Datastreams, {data.observations:,} Observations")
        if part in ("all", "reads"):
            figures += _reads(tool, target, duration_s)
        if part in ("all", "writes"):
            # The writes change the copy, so they come after the reads.
            figures.append(_post_single(tool, target, 2 * duration_s))
            figures.append(_batch(tool, target, duration_s))
    return figures

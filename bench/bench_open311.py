"""Open311 GeoReport v2: reading service requests with 100,000 reports stored.

``open311.requests_p95_ms``: ``GET /open311/v2/requests.json`` – what a client polls
(the last 90 days, newest first, at most 1,000) – at 8 connections against a real
server. ``open311.requests_filtered_p95_ms``: 200 different filtered queries (service
code, status, a 30-day window somewhere in the last year) in turn. Baseline of both:
``GET /healthz`` at the same concurrency in the same run.

The reports are written with one bulk insert (a year of them, like the city's busiest
Open311 servers see): 70 % of those older than 30 days are closed.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import insert

from bench import Figure, InvalidMeasurement, log, options, seconds_from_env
from bench.dataset import scratch_database
from bench.load import choose_tool, get_paths, load_path, measure_workload
from bench.server import database_server
from klug.citizen.reports.categories import catalogue
from klug.citizen.reports.models import Report
from klug.core import migrate
from klug.core.db import create_db_engine

REPORTS = 100_000
DAYS = 365
CONNECTIONS = 8
FILTERED_QUERIES = 200
PATH = "/open311/v2/requests.json"


def _fill(url: str, now: dt.datetime) -> None:
    rng = random.Random(311)
    codes = [(c.code, c.office.de) for c in catalogue().categories]
    engine = create_db_engine(url)
    rows: list[dict[str, object]] = []
    for i in range(REPORTS):
        created = now - dt.timedelta(seconds=rng.uniform(0, DAYS * 86_400))
        code, office = codes[i % len(codes)]
        closed = created < now - dt.timedelta(days=30) and rng.random() < 0.7
        rows.append(
            {
                "category_code": code,
                "status": "closed" if closed else rng.choice(("received", "in_progress")),
                "description": f"Meldung {i}: Schaden an der Straße, bitte prüfen.",
                "lat": 49.4443 + rng.uniform(-0.03, 0.03),
                "lon": 7.7690 + rng.uniform(-0.05, 0.05),
                "address": f"Teststraße {i % 200 + 1}, Kaiserslautern",
                "answers": {},
                "agency_responsible": office,
                "status_notes": "Erledigt." if closed else None,
                "supporters": 0,
                "token": f"bench-{i}",
                "source": "open311",
                "created_at": created,
                "updated_at": created + dt.timedelta(days=3) if closed else created,
                "closed_at": created + dt.timedelta(days=3) if closed else None,
                "is_demo": False,
            }
        )
    with engine.begin() as connection:
        for start in range(0, REPORTS, 10_000):
            connection.execute(insert(Report), rows[start : start + 10_000])
    engine.dispose()


def _filtered_paths(now: dt.datetime) -> list[str]:
    rng = random.Random(3)
    codes = [c.code for c in catalogue().categories]
    paths = []
    for _ in range(FILTERED_QUERIES):
        start = now - dt.timedelta(days=rng.uniform(30, DAYS))
        query = {
            "service_code": ",".join(rng.sample(codes, rng.randint(1, 2))),
            "status": rng.choice(("open", "closed", "open,closed")),
            "start_date": start.isoformat(timespec="seconds"),
            "end_date": (start + dt.timedelta(days=30)).isoformat(timespec="seconds"),
        }
        paths.append(f"{PATH}?{urlencode(query)}")
    return paths


def _check(base_url: str) -> int:
    """A fast wrong answer is no figure: 1,000 requests, newest first."""
    response = httpx.get(base_url + PATH, timeout=60)
    if response.status_code != 200:
        raise InvalidMeasurement(f"GET {PATH}: {response.status_code} {response.text[:200]}")
    found = response.json()
    times = [dt.datetime.fromisoformat(r["requested_datetime"]) for r in found]
    if len(found) != 1000 or times != sorted(times, reverse=True):
        raise InvalidMeasurement(f"GET {PATH}: {len(found)} requests, or not newest first")
    return len(response.content)


def run() -> list[Figure]:
    duration_s = seconds_from_env("KLUG_BENCH_SECONDS", 10.0)
    tool = choose_tool()
    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="klug-bench-open311-") as tmp:
        workdir = Path(tmp)
        with scratch_database(workdir, "open311") as url:
            migrate.upgrade(url)
            started = time.monotonic()
            _fill(url, now)
            log(f"open311: {REPORTS:,} reports in {time.monotonic() - started:.1f} s")
            with database_server(url, workdir) as server:
                size = _check(server.base_url)
                for warm in ("/healthz", PATH):
                    load_path(tool, server, warm, connections=CONNECTIONS, duration_s=1.0)
                healthz = load_path(
                    tool, server, "/healthz", connections=CONNECTIONS, duration_s=duration_s
                )
                default = load_path(
                    tool, server, PATH, connections=CONNECTIONS, duration_s=duration_s
                )
                filtered = measure_workload(
                    tool,
                    server.base_url + PATH,
                    get_paths(_filtered_paths(now)),
                    connections=CONNECTIONS,
                    duration_s=duration_s,
                    workdir=server.workdir,
                )
                filtered.check("GET requests.json with filters")
    log(
        f"open311: requests p95 {default.p95_ms:.1f} ms ({default.requests_per_s:.0f} req/s, "
        f"{size / 1000:.0f} kB each); filtered p95 {filtered.p95_ms:.1f} ms; "
        f"healthz p95 {healthz.p95_ms:.1f} ms"
    )
    facts = {
        "db": options().db,
        "reports": REPORTS,
        "connections": CONNECTIONS,
        "baseline_what": "GET /healthz p95, same concurrency",
    }
    return [
        Figure(
            "open311.requests_p95_ms",
            default.p95_ms,
            "ms",
            default.requests,
            healthz.p95_ms,
            tool,
            {**facts, "requests_per_s": round(default.requests_per_s, 1), "answer_bytes": size},
        ),
        Figure(
            "open311.requests_filtered_p95_ms",
            filtered.p95_ms,
            "ms",
            filtered.requests,
            healthz.p95_ms,
            tool,
            {
                **facts,
                "queries": FILTERED_QUERIES,
                "requests_per_s": round(filtered.requests_per_s, 1),
            },
        ),
    ]

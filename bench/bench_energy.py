"""Energy programme: the scenario planner's year and the dashboard API.

``energy.scenario_year_s``: one 8,760-hour planning year with 10 generation units
(7 PV orientations, 2 new solar areas, wind, biomass and a battery), in process, with
every cache of the calculation cleared before each run (a new year's load profile and
solar model each time). Baseline: pvlib's ModelChain for one plant over the same 8,760
hours in the same run – the floor any pvlib-based planner pays.

``energy.dashboard_api_p95_ms``: ``GET /api/energy/summary?period=rolling12`` (share,
mix by source, hour-matched share, CO2, goal) on two years of 15-minute data of 20
generation units and the city's demand meter (21 Datastreams, ~1.5 M Observations
stored through the ingest path), 8 connections, against a real server. Baseline:
``GET /healthz`` at the same concurrency in the same run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sqlalchemy.orm import sessionmaker

from bench import Figure, InvalidMeasurement, log, options, seconds_from_env
from bench.dataset import scratch_database
from bench.load import choose_tool, load_path
from bench.server import database_server
from klug.core import migrate
from klug.core.db import create_db_engine
from klug.energy import service
from klug.energy.calc import load, pv, scenario
from klug.energy.schemas import EnergyConfig, UnitConfig
from klug.sensors import ingest
from klug.sensors.entities import ENTITY_TYPES
from klug.sensors.service import Writer

RUNS = 5
CONNECTIONS = 8
UNITS = 20
DAYS = 730
STEP_US = 15 * 60 * 1_000_000


def _clear_caches() -> None:
    load._profiles_kw.cache_clear()


def _scenario_inputs(year: int) -> scenario.Inputs:
    orientations = [(30, 180), (20, 180), (15, 180), (35, 150), (35, 210), (25, 90), (25, 270)]
    units = [
        scenario.Unit(f"pv-{i}", "pv", 2_000.0 + 1_000 * i, tilt, azimuth)
        for i, (tilt, azimuth) in enumerate(orientations)
    ]
    units.append(scenario.Unit("biomass", "biomass", 2_000.0))
    return scenario.Inputs(
        year=year,
        units=units,
        added_pv_mwp_by_area={"open_land": 120.0, "car_parks": 15.0},
        added_wind_mw=40.0,
        storage_mwh=100.0,
    )


def scenario_figure() -> Figure:
    durations = []
    for run in range(RUNS):
        _clear_caches()
        inputs = _scenario_inputs(2025 + run % 2)  # alternate years: no warm profile
        started = time.perf_counter()
        result = scenario.run(inputs)
        durations.append(time.perf_counter() - started)
        assert len(result.hours) == 8760 and 0 < result.annual_share < 2
    baseline = []
    for _ in range(RUNS):
        hours = load.year_hours(2025) + pd.Timedelta(minutes=30)
        started = time.perf_counter()
        pv.expected_power([pv.Plant("one", 1000.0)], hours.tz_convert(pv.TIME_ZONE))
        baseline.append(time.perf_counter() - started)
    _clear_caches()
    load.city_demand_kwh(2025)
    warm_started = time.perf_counter()
    scenario.run(_scenario_inputs(2025))
    warm = time.perf_counter() - warm_started
    value = statistics.median(durations)
    log(f"scenario: median {value:.3f} s cold, {warm:.3f} s with a warm load profile")
    return Figure(
        "energy.scenario_year_s",
        value,
        "s",
        RUNS,
        statistics.median(baseline),
        "in-process",
        {
            "generation_units": 10,
            "hours": 8760,
            "max_s": round(max(durations), 3),
            "warm_profile_s": round(warm, 3),
            "baseline_what": "pvlib ModelChain, one plant, 8,760 h",
        },
    )


# ---------------------------------------------------------------- dashboard


def _stream(writer: Writer, name: str) -> int:
    thing = writer.create(
        ENTITY_TYPES["Thing"],
        {
            "name": f"Zähler {name}",
            "description": "bench",
            "Locations": [
                {
                    "name": name,
                    "description": "",
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": [7.769, 49.444]},
                }
            ],
        },
    )
    return writer.create(
        ENTITY_TYPES["Datastream"],
        {
            "name": name,
            "description": "bench",
            "unitOfMeasurement": {"name": "kilowatt", "symbol": "kW", "definition": "-"},
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "properties": {"public": True, "expectedInterval": "PT15M"},
            "Thing": {"@iot.id": thing},
            "Sensor": {
                "name": "m",
                "description": "",
                "encodingType": "text/plain",
                "metadata": "-",
            },
            "ObservedProperty": {"name": "power", "definition": "-", "description": ""},
        },
    )


def _fill(url: str) -> int:
    """21 meters, two years of 15-minute power values up to now; the configuration."""
    engine = create_db_engine(url)
    factory = sessionmaker(engine)
    now = int(time.time() * 1e6)
    end = now - now % STEP_US
    times = np.arange(end - DAYS * 96 * STEP_US, end, STEP_US, dtype=np.int64)
    rng = np.random.default_rng(3)
    hour_of_day = (times // 3_600_000_000 + 1) % 24
    daylight = np.clip(np.sin(np.pi * (hour_of_day - 6) / 14), 0, None)
    with factory() as session:
        writer = Writer(session, now=now)
        demand = _stream(writer, "Last")
        units = [_stream(writer, f"Erzeuger {i}") for i in range(UNITS)]
        session.commit()
    stored = 0
    series = [(demand, 70_000 + 20_000 * daylight)] + [
        (ds, 2_000 * daylight * rng.uniform(0.3, 1.0, len(times))) for ds in units
    ]
    for ds, values in series:
        for start in range(0, len(times), 20_000):
            chunk = slice(start, start + 20_000)
            items = [
                ingest.NewObservation(ds, None, int(t), result_number=float(v), result_raw=float(v))
                for t, v in zip(times[chunk], values[chunk], strict=True)
            ]
            with factory() as session:
                stored += len(ingest.store(session, items, now=now))
                session.commit()
        log(f"dashboard data: {stored:,} observations")
    config = EnergyConfig(
        demand=[UnitConfig(key="city", name="Stadt", source="load", power_datastream=demand)],
        units=[
            UnitConfig(
                key=f"unit-{i}",
                name=f"Erzeuger {i}",
                source="pv" if i % 2 else "wind",
                peak_power_kw=2000,
                power_datastream=ds,
            )
            for i, ds in enumerate(units)
        ],
    )
    with factory() as session:
        service.replace_config(session, config)
        session.commit()
    engine.dispose()
    return stored


def dashboard_figure() -> Figure:
    duration_s = seconds_from_env("KLUG_BENCH_SECONDS", 10.0)
    tool = choose_tool()
    path = "/api/energy/summary?period=rolling12"
    with tempfile.TemporaryDirectory(prefix="klug-bench-energy-") as tmp:
        workdir = Path(tmp)
        with scratch_database(workdir, "energy") as url:
            migrate.upgrade(url)
            started = time.monotonic()
            stored = _fill(url)
            log(f"dashboard data: {stored:,} observations in {time.monotonic() - started:.0f} s")
            with database_server(url, workdir) as server:
                # The first answer reads every meter's year into memory; measured on its
                # own (one request), then the steady state under load.
                started = time.monotonic()
                first = httpx.get(server.base_url + path, timeout=300)
                first_ms = (time.monotonic() - started) * 1000
                if first.status_code != 200:
                    raise InvalidMeasurement(f"GET {path}: {first.status_code} {first.text[:200]}")
                log(f"dashboard: first answer (cold) in {first_ms:.0f} ms")
                for warm in ("/healthz", path):
                    load_path(tool, server, warm, connections=CONNECTIONS, duration_s=1.0)
                healthz = load_path(
                    tool, server, "/healthz", connections=CONNECTIONS, duration_s=duration_s
                )
                summary = load_path(
                    tool, server, path, connections=CONNECTIONS, duration_s=duration_s
                )
    log(
        f"dashboard: p95 {summary.p95_ms:.1f} ms ({summary.requests_per_s:.0f} req/s); "
        f"healthz p95 {healthz.p95_ms:.1f} ms"
    )
    return Figure(
        "energy.dashboard_api_p95_ms",
        summary.p95_ms,
        "ms",
        summary.requests,
        healthz.p95_ms,
        tool,
        {
            "db": options().db,
            "units": UNITS,
            "days": DAYS,
            "observations": stored,
            "connections": CONNECTIONS,
            "requests_per_s": round(summary.requests_per_s, 1),
            "first_request_ms": round(first_ms, 1),
            "baseline_what": "GET /healthz p95, same concurrency",
        },
    )


def run() -> list[Figure]:
    return [scenario_figure(), dashboard_figure()]

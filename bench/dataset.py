"""The sensor data set of the SensorThings benchmarks, generated once per scale and cached.

At scale 1 it is Hamburg's size: 800 Things (each with a Location), 1,600 Datastreams
(two numeric ones per Thing) and 22 M Observations – 13,750 per Datastream, one every
~3 min, so that every Datastream has at least 30 days of history ending at generation
time. A smaller ``--scale`` shrinks the number of Things, Datastreams and Observations
alike, so each Datastream's history (what the per-stream queries read) stays the same.

Observations are written in the order they arrive in production: time-major (every
Datastream's next value, then the next …), so a Datastream's rows are spread over the
table as in a real database, not clustered (which would make range reads
unrealistically cheap). Two writers fill the tables:

* ``store`` (``KLUG_BENCH_GENERATOR=store``): klug's own ``ingest.store`` in batches of
  50,000, which maintains the 1 min / 1 h / 1 d aggregates, counts and latest values –
  about 20,000 Observations/s on SQLite, 4,000/s on PostgreSQL;
* ``bulk`` (default): the same rows without klug's per-row work – plain ``executemany``
  (SQLite) or ``COPY`` (PostgreSQL), every aggregate bucket computed with numpy from
  the whole series and inserted with the batch in which its first Observation arrives,
  the summaries at the end. ``python -m bench.dataset check [--db postgres]`` generates
  a small data set both ways and compares every sensor table row by row.

Either way, three Datastreams' aggregates and summaries are checked against their raw
rows after generation.

The cache lives in ``var/bench/<db>-scale<scale>/`` (``meta.json``, and ``klug.db`` for
SQLite; a database ``klug_bench_…`` for PostgreSQL) and is keyed by the generator
version and the schema's migration head. Benchmarks work on copies (``working_copy``).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.engine import make_url

from bench import InvalidMeasurement, Options, log, options
from klug.core import migrate
from klug.core.audit import SYSTEM
from klug.core.db import create_db_engine, make_session_factory
from klug.identity import apikeys
from klug.sensors import ingest
from klug.sensors import models as m
from klug.sensors.entities import ENTITY_TYPES
from klug.sensors.service import Writer
from klug.sensors.values import result_digest

REPO = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO / "var" / "bench"
# Bump when the generated data change, so that cached data sets are made again.
GENERATOR_VERSION = 2
SEED = 20_260_514

THINGS_AT_SCALE_1 = 800
DATASTREAMS_PER_THING = 2
OBSERVATIONS_AT_SCALE_1 = 22_000_000
HISTORY_US = 30 * 86_400_000_000
# Rows per ingest.store call (and per transaction) while generating.
BATCH_ROWS = 50_000

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
# Kaiserslautern's city area, for the Things' Locations.
LONGITUDE = (7.70, 7.83)
LATITUDE = (49.40, 49.48)


@dataclass(frozen=True)
class Quantity:
    """A kind of Datastream: what it measures and how its values move over a day."""

    name: str
    unit: dict[str, str]
    definition: str
    base: float
    daily_amplitude: float
    noise: float
    decimals: int
    minimum: float | None = None


@dataclass(frozen=True)
class StationKind:
    thing: str
    sensor: str
    quantities: tuple[Quantity, Quantity]


def _unit(name: str, symbol: str) -> dict[str, str]:
    return {"name": name, "symbol": symbol, "definition": "http://unitsofmeasure.org/ucum.html"}


STATION_KINDS = (
    StationKind(
        "Luftmessstation",
        "Feinstaub- und Temperatursensor",
        (
            Quantity(
                "Lufttemperatur", _unit("Grad Celsius", "°C"), "air_temperature", 11, 6, 0.4, 1
            ),
            Quantity("PM10", _unit("Mikrogramm je Kubikmeter", "µg/m³"), "pm10", 18, 7, 3, 1, 0),
        ),
    ),
    StationKind(
        "Parkhaus",
        "Zählschleife",
        (
            Quantity(
                "Freie Stellplätze", _unit("Stellplätze", ""), "free_spaces", 220, 150, 8, 0, 0
            ),
            Quantity("Belegung", _unit("Prozent", "%"), "occupancy", 55, 35, 3, 1, 0),
        ),
    ),
    StationKind(
        "Verkehrszählstelle",
        "Radarsensor",
        (
            Quantity(
                "Fahrzeuge je 5 Minuten", _unit("Fahrzeuge", "Fz"), "vehicles", 60, 50, 6, 0, 0
            ),
            Quantity(
                "Mittlere Geschwindigkeit",
                _unit("Kilometer je Stunde", "km/h"),
                "speed",
                38,
                8,
                4,
                1,
            ),
        ),
    ),
    StationKind(
        "Lärmmessstelle",
        "Schallpegelmesser Klasse 1",
        (
            Quantity("Schallpegel LAeq", _unit("Dezibel", "dB(A)"), "laeq", 58, 8, 2, 1),
            Quantity("Spitzenpegel LAFmax", _unit("Dezibel", "dB(A)"), "lafmax", 74, 9, 4, 1),
        ),
    ),
)


@dataclass(frozen=True)
class Plan:
    """The shape of the data set at a scale."""

    scale: float
    things: int
    per_datastream: int

    @classmethod
    def at(cls, scale: float) -> Plan:
        things = max(1, round(THINGS_AT_SCALE_1 * scale))
        per_datastream = OBSERVATIONS_AT_SCALE_1 // (THINGS_AT_SCALE_1 * DATASTREAMS_PER_THING)
        return cls(scale=scale, things=things, per_datastream=per_datastream)

    @property
    def datastreams(self) -> int:
        return self.things * DATASTREAMS_PER_THING

    @property
    def observations(self) -> int:
        return self.datastreams * self.per_datastream

    @property
    def interval_us(self) -> int:
        # (n - 1) intervals span at least the 30 days.
        return math.ceil(HISTORY_US / (self.per_datastream - 1))


@dataclass(frozen=True)
class Dataset:
    """A generated data set: where it is, what is in it, what it cost to make."""

    db: str
    scale: float
    url: str
    things: int
    datastreams: int
    observations: int
    datastream_ids: list[int]
    start_us: int  # no Datastream has a value before (all have one within an interval after)
    end_us: int  # generation time: every Datastream's last value is within an interval before
    interval_us: int
    generation_s: float
    size_bytes: int
    key: str
    writer: str = "store"

    @property
    def size_mb(self) -> float:
        return self.size_bytes / 1e6


# -- generation ---------------------------------------------------------------------


def _station_body(kind: StationKind, number: int, rng: np.random.Generator) -> dict[str, Any]:
    longitude = float(rng.uniform(*LONGITUDE))
    latitude = float(rng.uniform(*LATITUDE))
    name = f"{kind.thing} {number:03d}"
    return {
        "name": name,
        "description": f"{kind.thing} im Stadtgebiet Kaiserslautern",
        "properties": {"operator": "Stadt Kaiserslautern", "station": number},
        "Locations": [
            {
                "name": f"Standort {name}",
                "description": "Messpunkt",
                "encodingType": "application/geo+json",
                "location": {
                    "type": "Point",
                    "coordinates": [round(longitude, 5), round(latitude, 5)],
                },
            }
        ],
    }


@dataclass(frozen=True)
class _Stream:
    id: int
    thing_id: int
    quantity: Quantity
    phase: float  # of the daily cycle [rad]
    offset_us: int  # the stream's clock offset against the others


def _create_entities(session: Any, plan: Plan, rng: np.random.Generator) -> list[_Stream]:
    writer = Writer(session)
    sensors: dict[str, int] = {}
    properties: dict[str, int] = {}
    for kind in STATION_KINDS:
        sensors[kind.sensor] = writer.create(
            ENTITY_TYPES["Sensor"],
            {"name": kind.sensor, "encodingType": "text/plain", "metadata": kind.sensor},
        )
        for quantity in kind.quantities:
            properties[quantity.name] = writer.create(
                ENTITY_TYPES["ObservedProperty"],
                {
                    "name": quantity.name,
                    "definition": f"https://klug.example/observed-properties/{quantity.definition}",
                },
            )
    streams: list[_Stream] = []
    for number in range(plan.things):
        kind = STATION_KINDS[number % len(STATION_KINDS)]
        thing_id = writer.create(ENTITY_TYPES["Thing"], _station_body(kind, number + 1, rng))
        for quantity in kind.quantities:
            datastream_id = writer.create(
                ENTITY_TYPES["Datastream"],
                {
                    "name": f"{quantity.name} {kind.thing} {number + 1:03d}",
                    "description": quantity.name,
                    "unitOfMeasurement": quantity.unit,
                    "observationType": MEASUREMENT,
                    "properties": {"public": True, "expectedInterval": "PT5M"},
                    "Thing": {"@iot.id": thing_id},
                    "Sensor": {"@iot.id": sensors[kind.sensor]},
                    "ObservedProperty": {"@iot.id": properties[quantity.name]},
                },
            )
            streams.append(
                _Stream(
                    id=datastream_id,
                    thing_id=thing_id,
                    quantity=quantity,
                    phase=float(rng.uniform(-0.5, 0.5)),
                    offset_us=int(rng.integers(0, plan.interval_us)),
                )
            )
    return streams


def _values(
    streams: list[_Stream], times: np.ndarray, rng: np.random.Generator
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Values at ``times`` (steps × streams): a daily cycle plus noise, rounded as sent."""
    day_angle = (times % 86_400_000_000) / 86_400_000_000 * 2 * np.pi
    base = np.array([s.quantity.base for s in streams])
    amplitude = np.array([s.quantity.daily_amplitude for s in streams])
    noise = np.array([s.quantity.noise for s in streams])
    phase = np.array([s.phase for s in streams])
    # The cycle peaks in the afternoon (angle π/2 of the sine at about 14:00).
    raw = (
        base
        + amplitude * np.sin(day_angle - 2.1 + phase)
        + noise * rng.standard_normal(times.shape)
    )
    values = np.empty(raw.shape, dtype=np.float64)
    for column, stream in enumerate(streams):
        rounded = np.round(raw[:, column], stream.quantity.decimals)
        if stream.quantity.minimum is not None:
            rounded = np.maximum(rounded, stream.quantity.minimum)
        values[:, column] = rounded
    return values


def _chunks(
    plan: Plan, streams: list[_Stream], end_us: int, rng: np.random.Generator, batch_rows: int
) -> Iterator[tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float64]]]]:
    """(times, values) of the next few steps (rows) of every Datastream (columns), in time
    order; both writers consume the same chunks, so they write the same Observations."""
    offsets = np.array([s.offset_us for s in streams], dtype=np.int64)
    steps_per_chunk = max(1, batch_rows // len(streams))
    first_step_time = end_us - (plan.per_datastream - 1) * plan.interval_us
    for step in range(0, plan.per_datastream, steps_per_chunk):
        steps = np.arange(step, min(step + steps_per_chunk, plan.per_datastream), dtype=np.int64)
        times = first_step_time + steps[:, None] * plan.interval_us - offsets[None, :]
        yield times, _values(streams, times, rng)


class _Progress:
    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.next_report = self.started + 10

    def add(self, rows: int) -> None:
        self.done += rows
        if time.monotonic() >= self.next_report:
            rate = self.done / (time.monotonic() - self.started)
            log(
                f"data set: {self.done:,} of {self.total:,} observations ({rate:,.0f}/s, "
                f"{(self.total - self.done) / rate:.0f} s left)"
            )
            self.next_report = time.monotonic() + 30


def _features(factory: Any, streams: list[_Stream]) -> dict[int, int]:
    """The FeatureOfInterest that ingest derives from each Thing's Location (§8.2.7)."""
    with factory() as session:
        features: dict[int, int] = {}
        for stream in streams:
            feature = ingest.feature_for_thing(session, stream.thing_id)
            assert feature is not None, "every generated Thing has a Location"
            features[stream.thing_id] = feature
        session.commit()
    return features


def _store_observations(
    factory: Any,
    plan: Plan,
    streams: list[_Stream],
    end_us: int,
    rng: np.random.Generator,
    batch_rows: int,
) -> None:
    """Through klug's own ingest path, a batch (one transaction) per chunk."""
    features = _features(factory, streams)
    progress = _Progress(plan.observations)
    for times, values in _chunks(plan, streams, end_us, rng, batch_rows):
        items = [
            ingest.NewObservation(
                datastream_id=stream.id,
                multi_datastream_id=None,
                phenomenon_time_start=t,
                result_number=v,
                result_raw=v,
                feature_of_interest_id=features[stream.thing_id],
            )
            for time_row, value_row in zip(times.tolist(), values.tolist(), strict=True)
            for stream, t, v in zip(streams, time_row, value_row, strict=True)
        ]
        with factory() as session:
            ingest.store(session, items, now=int(times.max()))
            session.commit()
        progress.add(len(items))


# What ingest.store writes into the JSON columns it is given None for: SQL NULL.
JSON_NULL = None
OBSERVATION_COLUMNS = (
    "datastream_id",
    "phenomenon_time_start",
    "result_number",
    "result_digest",
    "feature_of_interest_id",
    "result_quality",
    "parameters",
)
AGGREGATE_COLUMNS = (
    "datastream_id",
    "resolution",
    "bucket_start",
    "count",
    "min",
    "max",
    "sum",
    "last",
    "last_time",
)


@dataclass(frozen=True)
class _Aggregates:
    """Every aggregate bucket with its final values (numpy columns in AGGREGATE_COLUMNS
    order), sorted by the chunk in which its first Observation arrives: the bulk writer
    inserts it with that chunk, so the table grows in the order ingest would grow it."""

    chunk: np.ndarray[Any, np.dtype[np.int64]]
    columns: list[np.ndarray[Any, Any]]

    def rows_of(self, chunk: int) -> list[tuple[Any, ...]]:
        low, high = np.searchsorted(self.chunk, [chunk, chunk + 1])
        return list(zip(*(column[low:high].tolist() for column in self.columns), strict=True))


def _aggregates(
    streams: list[_Stream],
    times: np.ndarray[Any, np.dtype[np.int64]],
    values: np.ndarray[Any, np.dtype[np.float64]],
    steps_per_chunk: int,
) -> _Aggregates:
    parts: list[list[np.ndarray[Any, Any]]] = []
    for column, stream in enumerate(streams):
        t, v = times[:, column], values[:, column]  # ascending in time
        for name, length in m.RESOLUTIONS.items():
            buckets = t - t % length
            starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
            ends = np.r_[starts[1:], len(t)]
            parts.append(
                [
                    starts // steps_per_chunk,
                    np.full(len(starts), stream.id, dtype=np.int64),
                    np.full(len(starts), m.RESOLUTION_CODES[name], dtype=np.int64),
                    buckets[starts],
                    ends - starts,
                    np.minimum.reduceat(v, starts),
                    np.maximum.reduceat(v, starts),
                    np.add.reduceat(v, starts),
                    v[ends - 1],
                    t[ends - 1],
                ]
            )
    columns = [np.concatenate([part[i] for part in parts]) for i in range(10)]
    chunk, datastream, resolution, bucket = columns[:4]
    order = np.lexsort((datastream, bucket, resolution, chunk))
    return _Aggregates(chunk[order], [column[order] for column in columns[1:]])


class _BulkWriter:
    """Plain multi-row INSERTs (SQLite) or COPY (PostgreSQL) through the DB-API."""

    def __init__(self, engine: Engine) -> None:
        self.postgres = engine.dialect.name == "postgresql"
        self.connection = engine.raw_connection()

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cursor: Any = self.connection.cursor()
        try:
            names = ", ".join(columns)
            if self.postgres:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                # Fixed table and column names; the rows go in as parameters.
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        finally:
            cursor.close()

    def commit(self) -> None:
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


def _bulk_observations(
    engine: Engine,
    factory: Any,
    plan: Plan,
    streams: list[_Stream],
    end_us: int,
    rng: np.random.Generator,
    batch_rows: int,
) -> None:
    """The same rows as ``_store_observations``, without klug's per-row work: the
    Observations chunk by chunk, each aggregate bucket (computed from the whole series)
    when its first Observation is written, the streams' summaries at the end.
    ``python -m bench.dataset check`` proves both writers' tables equal."""
    features = _features(factory, streams)
    chunks = list(_chunks(plan, streams, end_us, rng, batch_rows))
    times = np.concatenate([c[0] for c in chunks])
    values = np.concatenate([c[1] for c in chunks])
    steps_per_chunk = len(chunks[0][0])
    aggregates = _aggregates(streams, times, values, steps_per_chunk)
    digests: dict[float, int] = {}
    stream_ids = [s.id for s in streams]
    feature_ids = [features[s.thing_id] for s in streams]
    writer = _BulkWriter(engine)
    progress = _Progress(plan.observations)
    try:
        for number, (chunk_times, chunk_values) in enumerate(chunks):
            rows = []
            for time_row, value_row in zip(
                chunk_times.tolist(), chunk_values.tolist(), strict=True
            ):
                for datastream, feature, t, v in zip(
                    stream_ids, feature_ids, time_row, value_row, strict=True
                ):
                    digest = digests.get(v)
                    if digest is None:
                        digest = digests[v] = result_digest(v, None)
                    rows.append((datastream, t, v, digest, feature, JSON_NULL, JSON_NULL))
            writer.insert("sensors_observation", OBSERVATION_COLUMNS, rows)
            writer.insert("sensors_aggregate", AGGREGATE_COLUMNS, aggregates.rows_of(number))
            writer.commit()
            progress.add(len(rows))
    finally:
        writer.close()
    _bulk_summaries(factory, streams, times, values)


def _bulk_summaries(
    factory: Any,
    streams: list[_Stream],
    times: np.ndarray[Any, np.dtype[np.int64]],
    values: np.ndarray[Any, np.dtype[np.float64]],
) -> None:
    """Count, time range and latest value of every Datastream, as ingest keeps them
    (ingest stamps the last batch's time as the time of arrival)."""
    obs, ds = m.observation, m.datastream
    received = int(times.max())
    with factory() as session:
        for column, stream in enumerate(streams):
            last_t = int(times[-1, column])
            last_id = session.execute(
                select(obs.c.id).where(
                    obs.c.datastream_id == stream.id, obs.c.phenomenon_time_start == last_t
                )
            ).scalar_one()
            session.execute(
                ds.update()
                .where(ds.c.id == stream.id)
                .values(
                    observation_count=len(times),
                    phenomenon_time_start=int(times[0, column]),
                    phenomenon_time_end=last_t,
                    last_observation_id=last_id,
                    last_phenomenon_time=last_t,
                    last_result_number=float(values[-1, column]),
                    last_result_json=None,
                    last_received_at=received,
                )
            )
        session.commit()


def _expected_aggregates(samples: list[tuple[int, float]], length: int) -> list[tuple[Any, ...]]:
    """(bucket, count, min, max, sum, last, last_time) from time-ordered raw samples."""
    out: list[list[Any]] = []
    for t, v in samples:
        bucket = t - t % length
        if out and out[-1][0] == bucket:
            row = out[-1]
            row[1] += 1
            row[2], row[3] = min(row[2], v), max(row[3], v)
            row[4] += v
            row[5], row[6] = v, t
        else:
            out.append([bucket, 1, v, v, v, v, t])
    return [tuple(row) for row in out]


def _verify(factory: Any, streams: list[_Stream], plan: Plan) -> None:
    """The aggregates and summaries must equal what the raw rows say (three Datastreams)."""
    obs, agg, ds = m.observation, m.aggregate, m.datastream
    checked = [streams[0], streams[len(streams) // 2], streams[-1]]
    with factory() as session:
        for stream in checked:
            samples = [
                (int(t), float(v))
                for t, v in session.execute(
                    select(obs.c.phenomenon_time_start, obs.c.result_number)
                    .where(obs.c.datastream_id == stream.id)
                    .order_by(obs.c.phenomenon_time_start)
                )
            ]
            for name, length in m.RESOLUTIONS.items():
                expected = _expected_aggregates(samples, length)
                stored = [
                    tuple(row)
                    for row in session.execute(
                        select(
                            agg.c.bucket_start,
                            agg.c.count,
                            agg.c.min,
                            agg.c.max,
                            agg.c.sum,
                            agg.c.last,
                            agg.c.last_time,
                        )
                        .where(
                            agg.c.datastream_id == stream.id,
                            agg.c.resolution == m.RESOLUTION_CODES[name],
                        )
                        .order_by(agg.c.bucket_start)
                    )
                ]
                if len(expected) != len(stored) or not all(
                    _same_aggregate(e, s) for e, s in zip(expected, stored, strict=True)
                ):
                    raise InvalidMeasurement(
                        f"data set: the {name} aggregates of Datastream({stream.id}) differ "
                        "from its observations"
                    )
            summary = session.execute(
                select(
                    ds.c.observation_count,
                    ds.c.phenomenon_time_start,
                    ds.c.last_phenomenon_time,
                    ds.c.last_result_number,
                ).where(ds.c.id == stream.id)
            ).one()
            raw = (len(samples), samples[0][0], samples[-1][0], samples[-1][1])
            if tuple(summary) != raw or len(samples) != plan.per_datastream:
                raise InvalidMeasurement(
                    f"data set: Datastream({stream.id}) summary {tuple(summary)}, "
                    f"its observations say {raw}"
                )
    log(f"data set: aggregates, counts and latest values of {len(checked)} Datastreams verified")


def _same_aggregate(expected: tuple[Any, ...], stored: tuple[Any, ...]) -> bool:
    """Equal, but for the order of additions in the sum (float rounding)."""
    return (
        expected[:4] == stored[:4]
        and expected[5:] == stored[5:]
        and math.isclose(expected[4], stored[4], rel_tol=1e-9, abs_tol=1e-9)
    )


def _tune_sqlite_for_loading(engine: Engine) -> None:
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # A crash while generating means generating again, so durability is not needed.
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-1000000")
        cursor.close()

    event.listen(engine, "connect", pragmas)


WRITERS = ("bulk", "store")


def generate(
    url: str,
    plan: Plan,
    *,
    writer: str = "bulk",
    end_us: int | None = None,
    batch_rows: int = BATCH_ROWS,
) -> tuple[list[int], int, float]:
    """Migrate ``url`` and fill it; returns the Datastream ids, the end time [µs] and
    the seconds it took. ``writer``: ``bulk`` (fast) or ``store`` (klug's ingest path)."""
    if writer not in WRITERS:
        raise InvalidMeasurement(f"unknown data set writer {writer!r}: {', '.join(WRITERS)}")
    started = time.monotonic()
    log(
        f"data set: generating {plan.things:,} Things, {plan.datastreams:,} Datastreams, "
        f"{plan.observations:,} Observations ({plan.per_datastream:,} per Datastream), "
        f"{writer} writer"
    )
    migrate.upgrade(url)
    engine = create_db_engine(url, pool_size=1)
    if engine.dialect.name == "sqlite":
        _tune_sqlite_for_loading(engine)
    factory = make_session_factory(engine)
    rng = np.random.default_rng(SEED)
    end_us = end_us if end_us is not None else time.time_ns() // 1000
    try:
        with factory() as session:
            streams = _create_entities(session, plan, rng)
            session.commit()
        if writer == "store":
            _store_observations(factory, plan, streams, end_us, rng, batch_rows)
        else:
            _bulk_observations(engine, factory, plan, streams, end_us, rng, batch_rows)
        _verify(factory, streams, plan)
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                # Autovacuum would analyse the new tables within minutes; the benchmark
                # must not depend on whether it has run yet.
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE"
                )
    finally:
        engine.dispose()
    elapsed = time.monotonic() - started
    log(f"data set: generated in {elapsed:.1f} s ({plan.observations / elapsed:,.0f} obs/s)")
    return [s.id for s in streams], end_us, elapsed


# -- databases ----------------------------------------------------------------------


def postgres_admin_url() -> str:
    return os.environ.get("KLUG_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def _admin(statement: str) -> None:
    import psycopg

    admin = make_url(postgres_admin_url()).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(statement)


def _postgres_url(database: str) -> str:
    return (
        make_url(postgres_admin_url()).set(database=database).render_as_string(hide_password=False)
    )


def _postgres_exists(database: str) -> bool:
    import psycopg

    admin = make_url(postgres_admin_url()).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        return found.fetchone() is not None


def _drop_postgres(database: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_database(workdir: Path, stem: str) -> Iterator[str]:
    """The URL of an empty database of the selected kind (``--db``) for one run: a file in
    ``workdir`` for SQLite, a new PostgreSQL database that is dropped afterwards."""
    if options().db == "sqlite":
        yield f"sqlite:///{workdir / (stem + '.db')}"
        return
    name = f"klug_bench_{stem}_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield _postgres_url(name)
    finally:
        _drop_postgres(name)


def _size_bytes(db: str, url: str) -> int:
    if db == "sqlite":
        path = Path(make_url(url).database or "")
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
    finally:
        engine.dispose()


def _cache_key(plan: Plan) -> str:
    # Not the schema revision: a cached data set is migrated to head when it is used
    # (below), so a new migration elsewhere does not cost a 10-minute regeneration.
    raw = f"v{GENERATOR_VERSION}-{plan.things}-{plan.per_datastream}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _scale_tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


_prepared: dict[tuple[str, float, bool], Dataset] = {}


def prepare(options: Options) -> Dataset:
    """The data set of ``options`` (db, scale): from the cache, or generated now."""
    wanted = (options.db, options.scale, options.cache)
    if wanted not in _prepared:
        _prepared[wanted] = _prepare(options)
    return _prepared[wanted]


def _prepare(options: Options) -> Dataset:
    plan = Plan.at(options.scale)
    key = _cache_key(plan)
    if options.cache:
        directory = CACHE_DIR / f"{options.db}-scale{_scale_tag(options.scale)}"
    else:
        directory = Path(tempfile.mkdtemp(prefix="klug-bench-data-"))
        atexit.register(shutil.rmtree, directory, True)
    meta_file = directory / "meta.json"
    if options.db == "sqlite":
        url = f"sqlite:///{directory / 'klug.db'}"
    else:
        suffix = key if options.cache else uuid.uuid4().hex[:12]
        database = f"klug_bench_s{_scale_tag(options.scale)}_{suffix}"
        url = _postgres_url(database)
    if options.cache and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        present = (
            Path(make_url(url).database or "").exists()
            if options.db == "sqlite"
            else _postgres_exists(make_url(url).database or "")
        )
        if meta.get("key") == key and present:
            migrate.upgrade(url)
            log(
                f"data set: cached {directory} ({meta['observations']:,} observations, "
                f"{meta['size_bytes'] / 1e6:,.0f} MB, generated in {meta['generation_s']:.0f} s "
                f"by the {meta.get('writer', 'store')} writer)"
            )
            return Dataset(**{**meta, "url": url})
        log(f"data set: cache {directory} is stale (generator changed); regenerating")
    if options.db == "sqlite":
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        stale = json.loads(meta_file.read_text()).get("url") if meta_file.exists() else None
        if stale:
            _drop_postgres(make_url(stale).database or "")
        database = make_url(url).database or ""
        _drop_postgres(database)
        _admin(f'CREATE DATABASE "{database}"')
        if not options.cache:
            atexit.register(_drop_postgres, database)
    writer = os.environ.get("KLUG_BENCH_GENERATOR") or "bulk"
    ids, end_us, elapsed = generate(url, plan, writer=writer)
    dataset = Dataset(
        db=options.db,
        scale=options.scale,
        url=url,
        things=plan.things,
        datastreams=plan.datastreams,
        observations=plan.observations,
        datastream_ids=ids,
        start_us=end_us - (plan.per_datastream - 1) * plan.interval_us - plan.interval_us,
        end_us=end_us,
        interval_us=plan.interval_us,
        generation_s=round(elapsed, 1),
        size_bytes=_size_bytes(options.db, url),
        key=key,
        writer=writer,
    )
    meta_file.write_text(json.dumps(asdict(dataset), indent=1))
    log(f"data set: {dataset.size_mb:,.0f} MB at {url if options.db == 'postgres' else directory}")
    return dataset


@contextlib.contextmanager
def working_copy(dataset: Dataset, workdir: Path) -> Iterator[str]:
    """A copy of the data set for one benchmark to change; its URL. SQLite: a file in
    ``workdir``; PostgreSQL: a database made from the cached one as a template."""
    if dataset.db == "sqlite":
        source = Path(make_url(dataset.url).database or "")
        target = workdir / "klug.db"
        started = time.monotonic()
        shutil.copyfile(source, target)
        log(f"data set: copied to {target} in {time.monotonic() - started:.1f} s")
        yield f"sqlite:///{target}"
        return
    template = make_url(dataset.url).database or ""
    copy = f"klug_bench_run_{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    _admin(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
    log(f"data set: database {copy} copied from {template} in {time.monotonic() - started:.1f} s")
    try:
        yield _postgres_url(copy)
    finally:
        _drop_postgres(copy)


def api_key(url: str, scopes: str) -> str:
    """A new API key with ``scopes`` in the database at ``url``; the plain key."""
    engine = create_db_engine(url, pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            _key, plaintext = apikeys.create(
                session=session, name=f"Benchmark {scopes}", scopes=scopes, actor=SYSTEM
            )
            session.commit()
    finally:
        engine.dispose()
    return plaintext


def count_observations(url: str) -> int:
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(m.observation)).scalar_one()
            )
    finally:
        engine.dispose()


# -- the bulk writer's proof ------------------------------------------------------------

CHECKED_TABLES = (
    m.thing,
    m.location,
    m.thing_location,
    m.sensor,
    m.observed_property,
    m.datastream,
    m.feature_of_interest,
    m.observation,
    m.aggregate,
)


def _table_rows(url: str, table: Any) -> list[tuple[Any, ...]]:
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            query = select(table).order_by(*table.primary_key.columns)
            return [tuple(row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def check(db: str) -> bool:
    """Generate a small data set with both writers (from the same seed and end time) and
    compare every sensor table row by row; the aggregates' sums may differ in rounding."""
    plan = Plan(scale=0.0, things=3, per_datastream=Plan.at(1.0).per_datastream)
    end_us = time.time_ns() // 1000
    urls: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="klug-bench-check-") as tmp:
        try:
            for writer in WRITERS:
                if db == "sqlite":
                    urls[writer] = f"sqlite:///{tmp}/{writer}.db"
                else:
                    database = f"klug_bench_check_{writer}_{uuid.uuid4().hex[:8]}"
                    _admin(f'CREATE DATABASE "{database}"')
                    urls[writer] = _postgres_url(database)
                # 100 steps per batch: aggregates merge across batches many times.
                generate(urls[writer], plan, writer=writer, end_us=end_us, batch_rows=600)
            same = True
            for table in CHECKED_TABLES:
                bulk, store = (_table_rows(urls[w], table) for w in ("bulk", "store"))
                equal = len(bulk) == len(store) and all(
                    (a == b) if table is not m.aggregate else _same_aggregate_row(a, b)
                    for a, b in zip(bulk, store, strict=True)
                )
                log(f"check: {table.name}: {len(bulk):,} rows, {'same' if equal else 'DIFFERENT'}")
                same = same and equal
            return same
        finally:
            if db == "postgres":
                for url in urls.values():
                    _drop_postgres(make_url(url).database or "")


def _same_aggregate_row(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    total = AGGREGATE_COLUMNS.index("sum")
    return (
        a[:total] == b[:total]
        and a[total + 1 :] == b[total + 1 :]
        and math.isclose(a[total], b[total], rel_tol=1e-9, abs_tol=1e-9)
    )


def main(argv: list[str]) -> int:
    """``python -m bench.dataset check [--db sqlite|postgres]``: the bulk writer writes
    what klug's ingest path writes."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=main.__doc__)
    parser.add_argument("command", choices=["check"])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args(argv)
    return 0 if check(args.db) else 1


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))

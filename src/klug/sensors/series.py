"""History and latest values of Datastreams, for charts and dashboards.

History comes from the aggregates (1 min / 1 h / 1 d, maintained on ingest) whenever
raw data would be too many points, so a year of minute values answers as fast as an
hour of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from klug.sensors import calc, timeutil
from klug.sensors import models as m
from klug.sensors.serialize import result_value

MAX_POINTS = 10_000


class SeriesError(ValueError):
    pass


@dataclass(slots=True)
class StreamInfo:
    id: int
    name: str
    unit: dict[str, Any]
    is_public: bool
    expected_interval_s: int | None
    last_phenomenon_time: int | None
    last_received_at: int | None
    last_result: Any
    observation_count: int


@lru_cache(maxsize=4096)
def _unit(text: str | None) -> Any:
    # A city has a few dozen units among thousands of Datastreams: parse each once.
    # (Callers only read the dict.)
    return json.loads(text) if text is not None else None


def _info(row: Any) -> StreamInfo:
    (id_, name, unit, public, interval, last_time, received, number, result_json, count) = row
    return StreamInfo(
        id_,
        name,
        _unit(unit),
        public,
        interval,
        last_time,
        received,
        result_value(number, result_json),
        count,
    )


_INFO_COLUMNS = (
    m.datastream.c.id,
    m.datastream.c.name,
    # As text, so that _unit parses each distinct unit once (PostgreSQL too).
    cast(m.datastream.c.unit_of_measurement, Text),
    m.datastream.c.is_public,
    m.datastream.c.expected_interval_s,
    m.datastream.c.last_phenomenon_time,
    m.datastream.c.last_received_at,
    m.datastream.c.last_result_number,
    m.datastream.c.last_result_json,
    m.datastream.c.observation_count,
)


def stream(session: Session, datastream_id: int, *, privileged: bool) -> StreamInfo | None:
    query = select(*_INFO_COLUMNS).where(m.datastream.c.id == datastream_id)
    if not privileged:
        query = query.where(m.datastream.c.is_public.is_(True))
    row = session.execute(query).first()
    return _info(row) if row is not None else None


def latest(session: Session, *, privileged: bool, ids: list[int] | None = None) -> list[StreamInfo]:
    """The latest value of every (visible) Datastream: one indexed read of the summaries."""
    query = select(*_INFO_COLUMNS).order_by(m.datastream.c.id)
    if not privileged:
        query = query.where(m.datastream.c.is_public.is_(True))
    if ids is not None:
        query = query.where(m.datastream.c.id.in_(ids))
    return [_info(row) for row in session.execute(query)]


def freshness(info: StreamInfo, now: int) -> str:
    """live | stale | no-data | unknown (no expected interval declared).

    Judged by the time of the latest measurement, not of its arrival: a feed that keeps
    delivering an old snapshot is as stale as a silent one.
    """
    if info.last_phenomenon_time is None:
        return "no-data"
    stale = calc.is_stale(info.last_phenomenon_time, info.expected_interval_s, now)
    if stale is None:
        return "unknown"
    return "stale" if stale else "live"


@dataclass
class Series:
    resolution: str
    columns: dict[str, list[Any]]


def history(
    session: Session, datastream_id: int, *, start: int, end: int, resolution: str, points: int
) -> Series:
    if end <= start:
        raise SeriesError("'to' must be after 'from'")
    if not 3 <= points <= MAX_POINTS:
        raise SeriesError(f"'points' must be between 3 and {MAX_POINTS}")
    if resolution not in ("auto", "raw", "lttb", *calc.RESOLUTION_MICROS):
        raise SeriesError("'resolution' is one of auto, raw, lttb, 1m, 1h, 1d")
    obs = m.observation
    in_range = (
        obs.c.datastream_id == datastream_id,
        obs.c.phenomenon_time_start >= start,
        obs.c.phenomenon_time_start < end,
    )
    if resolution == "auto":
        # The unique index (datastream, time, …) counts the range without touching rows.
        raw_count = int(
            session.execute(select(func.count()).select_from(obs).where(*in_range)).scalar() or 0
        )
        resolution = calc.choose_resolution(end - start, raw_count, points)
    if resolution in ("raw", "lttb"):
        rows = session.execute(
            select(obs.c.phenomenon_time_start, obs.c.result_number)
            .where(*in_range, obs.c.result_number.is_not(None))
            .order_by(obs.c.phenomenon_time_start)
            .limit(MAX_POINTS * 100 if resolution == "lttb" else points + 1)
        ).all()
        if resolution == "raw" and len(rows) > points:
            raise SeriesError(f"more than {points} raw values in this range; use resolution=auto")
        times = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        if resolution == "lttb":
            times, values = calc.lttb(times, values, points)
        return Series(resolution, {"t": _ms(times), "value": values.tolist()})
    thin = resolution.endswith("+lttb")
    name = resolution.removesuffix("+lttb")
    agg = m.aggregate
    length = m.RESOLUTIONS[name]
    buckets = session.execute(
        select(agg.c.bucket_start, agg.c.sum, agg.c.count, agg.c.min, agg.c.max, agg.c.last)
        .where(
            agg.c.datastream_id == datastream_id,
            agg.c.resolution == m.RESOLUTION_CODES[name],
            agg.c.bucket_start >= start - start % length,
            agg.c.bucket_start < end,
        )
        .order_by(agg.c.bucket_start)
    ).all()
    # Plain tuples: numpy probing SQLAlchemy Rows for array interfaces costs more than
    # the query.
    plain = [tuple(b) for b in buckets]
    table = np.array(plain, dtype=np.float64).reshape(len(plain), 6)
    times = np.fromiter((b[0] for b in plain), dtype=np.int64, count=len(plain))
    means = table[:, 1] / np.maximum(table[:, 2], 1)
    columns = {
        "t": times,
        "mean": means,
        "min": table[:, 3],
        "max": table[:, 4],
        "count": table[:, 2].astype(np.int64),
        "last": table[:, 5],
    }
    if thin and len(buckets) > points:
        kept_times, _ = calc.lttb(times, means, points)
        mask = np.isin(times, kept_times)
        columns = {k: v[mask] for k, v in columns.items()}
    out: dict[str, list[Any]] = {"t": _ms(columns["t"])}
    out.update({k: v.tolist() for k, v in columns.items() if k != "t"})
    return Series(resolution, out)


def _ms(times: Any) -> list[int]:
    return (np.asarray(times, dtype=np.int64) // 1000).tolist()  # type: ignore[no-any-return]


def parse_time(text: str | None, default: int) -> int:
    if not text:
        return default
    try:
        return timeutil.parse_instant(text)
    except timeutil.TimeFormatError as exc:
        raise SeriesError(str(exc)) from None


def thing_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(m.thing)) or 0)


@dataclass(slots=True)
class Buckets:
    """Aggregates of one Datastream: bucket starts (µs) with sum and count of the values."""

    start: np.ndarray[Any, np.dtype[np.int64]]
    sum: np.ndarray[Any, np.dtype[np.float64]]
    count: np.ndarray[Any, np.dtype[np.int64]]


def buckets(
    session: Session, datastream_ids: list[int], *, start: int, end: int, resolution: str = "1h"
) -> dict[int, Buckets]:
    """Hourly (or 1m/1d) aggregates of several Datastreams in ``[start, end)``, one query.

    For domains that account with the values (energy), not just draw them.
    """
    agg = m.aggregate
    rows = session.execute(
        select(agg.c.datastream_id, agg.c.bucket_start, agg.c.sum, agg.c.count)
        .where(
            agg.c.datastream_id.in_(datastream_ids),
            agg.c.resolution == m.RESOLUTION_CODES[resolution],
            agg.c.bucket_start >= start,
            agg.c.bucket_start < end,
        )
        .order_by(agg.c.datastream_id, agg.c.bucket_start)
    ).all()
    plain = [tuple(r) for r in rows]
    table = np.array(plain, dtype=np.float64).reshape(len(plain), 4)
    ids = np.fromiter((r[0] for r in plain), dtype=np.int64, count=len(plain))
    starts = np.fromiter((r[1] for r in plain), dtype=np.int64, count=len(plain))
    out = {}
    for ds in datastream_ids:
        mask = ids == ds
        out[ds] = Buckets(starts[mask], table[mask, 2], table[mask, 3].astype(np.int64))
    return out


@dataclass(slots=True)
class Issued:
    """Numeric Observations of one Datastream with their resultTime: a forecast archive
    (phenomenonTime = valid time, resultTime = issue time), ordered by valid time."""

    valid: np.ndarray[Any, np.dtype[np.int64]]
    issued: np.ndarray[Any, np.dtype[np.int64]]
    value: np.ndarray[Any, np.dtype[np.float64]]


def issued(session: Session, datastream_id: int, *, start: int, end: int) -> Issued:
    """Values valid in ``[start, end)`` and when each was issued; Observations without a
    resultTime cannot say what was known when, and are left out."""
    obs = m.observation.c
    rows = session.execute(
        select(obs.phenomenon_time_start, obs.result_time, obs.result_number)
        .where(
            obs.datastream_id == datastream_id,
            obs.phenomenon_time_start >= start,
            obs.phenomenon_time_start < end,
            obs.result_time.is_not(None),
            obs.result_number.is_not(None),
        )
        .order_by(obs.phenomenon_time_start)
    ).all()
    n = len(rows)
    return Issued(
        np.fromiter((r[0] for r in rows), dtype=np.int64, count=n),
        np.fromiter((r[1] for r in rows), dtype=np.int64, count=n),
        np.fromiter((r[2] for r in rows), dtype=np.float64, count=n),
    )

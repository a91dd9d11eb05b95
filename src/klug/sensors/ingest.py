"""Storing Observations in bulk: one path for HTTP, CreateObservations and MQTT.

A batch is inserted with ``ON CONFLICT DO NOTHING``: an Observation that is already
stored (same stream, phenomenonTime and result) is recognised, not stored twice – that
is what makes MQTT redeliveries harmless. The same transaction keeps each stream's
summary (count, latest value, time range) and its 1 min / 1 h / 1 d aggregates current.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from klug.core.events import EventBus, publish_after_commit
from klug.sensors import models as m
from klug.sensors import timeutil
from klug.sensors.entities import OBSERVATION
from klug.sensors.values import EntityError, column_values, result_digest

OBSERVATIONS_TOPIC = "sensors.observations"
_FIELDS = ("phenomenonTime", "resultTime", "result", "resultQuality", "validTime", "parameters")


@dataclass
class NewObservation:
    datastream_id: int | None
    multi_datastream_id: int | None
    phenomenon_time_start: int
    phenomenon_time_end: int | None = None
    result_time: int | None = None
    result_number: float | None = None
    result_json: str | None = None
    result_quality: Any = None
    valid_time_start: int | None = None
    valid_time_end: int | None = None
    parameters: Any = None
    feature_of_interest_id: int | None = None
    result_raw: Any = None
    digest: int = 0

    def __post_init__(self) -> None:
        self.digest = result_digest(self.result_number, self.result_json, self.result_time)

    @property
    def key(self) -> tuple[int | None, int | None, int, int]:
        return (
            self.datastream_id,
            self.multi_datastream_id,
            self.phenomenon_time_start,
            self.digest,
        )


@dataclass
class Stored:
    id: int
    created: bool
    item: NewObservation


def observation_from_json(
    body: dict[str, Any],
    *,
    datastream_id: int | None = None,
    multi_datastream_id: int | None = None,
    feature_of_interest_id: int | None = None,
    now: int,
) -> NewObservation:
    """Check an Observation body (without nested entities) and convert it."""
    if not isinstance(body, dict):
        raise EntityError("an Observation must be a JSON object")
    if "result" not in body:
        raise EntityError("'result' is required")
    values: dict[str, Any] = {}
    for name in _FIELDS:
        if name in body:
            values.update(column_values(OBSERVATION.props[name], body[name], OBSERVATION))
    if values.get("phenomenon_time_start") is None:
        # §8.2.6: the server sets phenomenonTime to the time of arrival when absent.
        values["phenomenon_time_start"] = now
        values["phenomenon_time_end"] = None
    if datastream_id is None and multi_datastream_id is None:
        raise EntityError("an Observation belongs to a Datastream or a MultiDatastream")
    if datastream_id is not None and multi_datastream_id is not None:
        raise EntityError("an Observation belongs to a Datastream or a MultiDatastream, not both")
    return NewObservation(
        datastream_id=datastream_id,
        multi_datastream_id=multi_datastream_id,
        feature_of_interest_id=feature_of_interest_id,
        result_raw=body["result"],
        **values,
    )


_FEATURE_COMPONENTS = ("FeatureOfInterest/id", "FeatureOfInterest/@iot.id")


def check_components(components: Any) -> list[str]:
    """The ``components`` of a CreateObservations group: known names, with the result."""
    if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
        raise EntityError("'components' must be a list of property names")
    for name in components:
        if name not in _FIELDS and name not in _FEATURE_COMPONENTS:
            raise EntityError(f"unknown dataArray component {name!r}")
    if "result" not in components:
        raise EntityError("'components' must name the result")
    return components


def from_components(
    components: list[str],
    row: list[Any],
    *,
    datastream_id: int | None,
    multi_datastream_id: int | None,
    now: int,
) -> NewObservation:
    """One row of a CreateObservations dataArray."""
    if len(row) != len(components):
        raise EntityError(f"a dataArray row has {len(row)} values for {len(components)} components")
    body: dict[str, Any] = {}
    foi: int | None = None
    for name, value in zip(components, row, strict=True):
        if name in _FEATURE_COMPONENTS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise EntityError("FeatureOfInterest/id must be a whole number")
            foi = value
        elif name in _FIELDS:
            body[name] = value
        else:
            raise EntityError(f"unknown dataArray component {name!r}")
    return observation_from_json(
        body,
        datastream_id=datastream_id,
        multi_datastream_id=multi_datastream_id,
        feature_of_interest_id=foi,
        now=now,
    )


# -- streams and features of interest --------------------------------------------------


@dataclass(frozen=True)
class _Stream:
    thing_id: int
    width: int | None  # number of results a MultiDatastream observation carries


class SensorCache:
    """What every batch asks again – which Thing a Datastream belongs to, which
    FeatureOfInterest a Thing's Location gave – kept for a minute per process.

    Only what a committed transaction saw is kept (a rolled-back batch may have made a
    FeatureOfInterest that never came to be). Changes made in this process (a Thing
    moves, a Datastream is deleted) forget entries at once; another process notices
    within the minute, or when the database refuses a row (see ``store``).
    """

    TTL_S = 60.0

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], tuple[float, Any]] = {}

    def get(self, kind: str, key: int) -> Any:
        entry = self._entries.get((kind, key))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, kind: str, key: int, value: Any) -> None:
        self._entries[(kind, key)] = (time.monotonic() + self.TTL_S, value)

    def forget_thing(self, thing_id: int) -> None:
        self._entries.pop(("feature_of_thing", thing_id), None)

    def clear(self) -> None:
        self._entries.clear()


STRUCTURE_TOPIC = "sensors.structure"


async def follow_structure_changes(bus: EventBus, cache: SensorCache) -> None:
    """Forget the cache whenever any process changes Things, Locations or streams."""
    async with bus.subscribe(STRUCTURE_TOPIC) as subscription:
        async for _event in subscription:
            cache.clear()


class _SessionCache:
    """A session's view of the cache: its own findings count once it commits."""

    def __init__(self, session: Session, shared: SensorCache) -> None:
        self.shared = shared
        self.pending: dict[tuple[str, int], Any] = {}
        sa_event.listen(session, "after_commit", self._commit)
        sa_event.listen(session, "after_rollback", self._rollback)

    def get(self, kind: str, key: int) -> Any:
        found = self.pending.get((kind, key))
        return found if found is not None else self.shared.get(kind, key)

    def put(self, kind: str, key: int, value: Any) -> None:
        self.pending[(kind, key)] = value

    def forget_thing(self, thing_id: int) -> None:
        self.pending.pop(("feature_of_thing", thing_id), None)
        self.shared.forget_thing(thing_id)

    def clear(self) -> None:
        self.pending.clear()
        self.shared.clear()

    def _commit(self, _session: Session) -> None:
        for (kind, key), value in self.pending.items():
            self.shared.put(kind, key, value)
        self.pending.clear()

    def _rollback(self, _session: Session) -> None:
        self.pending.clear()


def cache_of(session: Session) -> _SessionCache:
    view = session.info.get("klug_sensor_cache_view")
    if isinstance(view, _SessionCache):
        return view
    shared = session.info.get("klug_sensor_cache")
    if not isinstance(shared, SensorCache):
        # Without an application (CLI, tests) a session gets a private cache.
        shared = SensorCache()
    view = session.info["klug_sensor_cache_view"] = _SessionCache(session, shared)
    return view


def stream_is_known(session: Session, datastream_id: int) -> bool:
    """Whether this process has recently seen the Datastream exist (a cache look-up)."""
    shared = session.info.get("klug_sensor_cache")
    return isinstance(shared, SensorCache) and shared.get("datastream", datastream_id) is not None


@cache
def _stream_queries() -> tuple[Any, Any]:
    datastreams = select(m.datastream.c.id, m.datastream.c.thing_id).where(
        m.datastream.c.id.in_(bindparam("ids", expanding=True))
    )
    multi = select(
        m.multi_datastream.c.id,
        m.multi_datastream.c.thing_id,
        m.multi_datastream.c.unit_of_measurements,
    ).where(m.multi_datastream.c.id.in_(bindparam("ids", expanding=True)))
    return datastreams, multi


def _streams(
    session: Session, items: list[NewObservation]
) -> tuple[dict[int, _Stream], dict[int, _Stream]]:
    """The (Multi)Datastreams the items name that exist."""
    known = cache_of(session)
    found: list[dict[int, _Stream]] = [{}, {}]
    for index, (kind, ids) in enumerate(
        (
            ("datastream", {i.datastream_id for i in items if i.datastream_id is not None}),
            ("multi", {i.multi_datastream_id for i in items if i.multi_datastream_id is not None}),
        )
    ):
        missing = []
        for stream_id in ids:
            cached = known.get(kind, stream_id)
            if cached is None:
                missing.append(stream_id)
            else:
                found[index][stream_id] = cached
        if missing:
            for row in session.execute(_stream_queries()[index], {"ids": sorted(missing)}):
                stream = _Stream(row[1], len(row[2]) if index == 1 else None)
                found[index][row[0]] = stream
                known.put(kind, row[0], stream)
    return found[0], found[1]


def feature_for_thing(session: Session, thing_id: int) -> int | None:
    """The FeatureOfInterest generated from the Thing's current Location (§8.2.7), or
    None when the Thing has no Location."""
    known = cache_of(session)
    cached = known.get("feature_of_thing", thing_id)
    if cached is not None:
        return int(cached)
    location = (
        session.execute(
            select(m.location)
            .join(m.thing_location, m.thing_location.c.location_id == m.location.c.id)
            .where(m.thing_location.c.thing_id == thing_id)
            .order_by(m.location.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if location is None:
        return None
    existing = session.execute(
        select(m.feature_of_interest.c.id).where(
            m.feature_of_interest.c.generated_from_location_id == location["id"]
        )
    ).scalar()
    if existing is None:
        existing = session.execute(
            m.feature_of_interest.insert()
            .values(
                name=location["name"],
                description=location["description"],
                encoding_type=location["encoding_type"],
                feature=location["location"],
                generated_from_location_id=location["id"],
            )
            .returning(m.feature_of_interest.c.id)
        ).scalar_one()
    known.put("feature_of_thing", thing_id, int(existing))
    return int(existing)


def _existing_features(session: Session, ids: set[int]) -> set[int]:
    known = cache_of(session)
    found = {i for i in ids if known.get("feature", i) is not None}
    missing = ids - found
    if missing:
        column = m.feature_of_interest.c.id
        query = select(column).where(column.in_(bindparam("ids", expanding=True)))
        for feature_id in session.execute(query, {"ids": sorted(missing)}).scalars():
            found.add(feature_id)
            known.put("feature", feature_id, True)
    return found


@dataclass
class _Checked:
    problems: list[str | None]  # per item: why it cannot be stored, or None
    datastreams: dict[int, _Stream]
    multi: dict[int, _Stream]
    features: dict[int, int | None]  # generated FeatureOfInterest per Thing


def _check(session: Session, items: list[NewObservation]) -> _Checked:
    datastreams, multi = _streams(session, items)
    features = _existing_features(
        session, {i.feature_of_interest_id for i in items if i.feature_of_interest_id is not None}
    )
    streams = [
        datastreams.get(i.datastream_id)
        if i.datastream_id is not None
        else multi.get(i.multi_datastream_id or 0)
        for i in items
    ]
    generated: dict[int, int | None] = {}
    for stream, item in zip(streams, items, strict=True):
        if (
            stream is not None
            and item.feature_of_interest_id is None
            and stream.thing_id not in generated
        ):
            generated[stream.thing_id] = feature_for_thing(session, stream.thing_id)
    problems = [
        _problem(item, stream, features, generated)
        for item, stream in zip(items, streams, strict=True)
    ]
    return _Checked(problems, datastreams, multi, generated)


def _problem(
    item: NewObservation,
    stream: _Stream | None,
    features: set[int],
    generated: dict[int, int | None],
) -> str | None:
    if stream is None:
        if item.datastream_id is not None:
            return f"Datastream({item.datastream_id}) does not exist"
        return f"MultiDatastream({item.multi_datastream_id}) does not exist"
    if stream.width is not None and (
        not isinstance(item.result_raw, list) or len(item.result_raw) != stream.width
    ):
        return (
            f"a MultiDatastream result is a list of {stream.width} values, one per ObservedProperty"
        )
    if item.feature_of_interest_id is not None:
        if item.feature_of_interest_id not in features:
            return f"FeatureOfInterest({item.feature_of_interest_id}) does not exist"
    elif generated.get(stream.thing_id) is None:
        return (
            "the Observation has no FeatureOfInterest, "
            "and its Thing has no Location to derive one from"
        )
    return None


def problems(session: Session, items: list[NewObservation]) -> list[str | None]:
    """Why each item cannot be stored (None: it can), so that a batch can store the others."""
    return _check(session, items).problems


# -- storing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Statements:
    insert_observations: Any
    update_stream: dict[str, Any]
    upsert_aggregates: Any


@cache
def _statements(dialect: str) -> _Statements:
    """Built once per dialect: building SQLAlchemy statements per request costs more
    than running them."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = m.observation
    observations = (
        insert(table)
        .on_conflict_do_nothing()
        .returning(
            table.c.id,
            table.c.datastream_id,
            table.c.multi_datastream_id,
            table.c.phenomenon_time_start,
            table.c.result_digest,
        )
    )
    aggregates = insert(m.aggregate)
    new, c = aggregates.excluded, m.aggregate.c
    upsert = aggregates.on_conflict_do_update(
        index_elements=[c.datastream_id, c.resolution, c.bucket_start],
        set_={
            "count": c.count + new.count,
            "min": case((new.min < c.min, new.min), else_=c.min),
            "max": case((new.max > c.max, new.max), else_=c.max),
            "sum": c.sum + new.sum,
            "last": case((new.last_time >= c.last_time, new.last), else_=c.last),
            "last_time": case((new.last_time >= c.last_time, new.last_time), else_=c.last_time),
        },
    )
    streams = {
        column: _stream_update(table_)
        for column, table_ in (
            ("datastream_id", m.datastream),
            ("multi_datastream_id", m.multi_datastream),
        )
    }
    return _Statements(observations, streams, upsert)


def _stream_update(table: Any) -> Any:
    c = table.c
    micros = BigInteger()
    newer = or_(
        c.last_phenomenon_time.is_(None), c.last_phenomenon_time <= bindparam("lt", type_=micros)
    )

    def smaller(column: Any, name: str) -> Any:
        value = bindparam(name, type_=micros)
        return case(
            (value.is_(None), column), (or_(column.is_(None), column > value), value), else_=column
        )

    def larger(column: Any, name: str) -> Any:
        value = bindparam(name, type_=micros)
        return case(
            (value.is_(None), column), (or_(column.is_(None), column < value), value), else_=column
        )

    return (
        update(table)
        .where(c.id == bindparam("stream"))
        .values(
            observation_count=c.observation_count + bindparam("n", type_=Integer()),
            phenomenon_time_start=smaller(c.phenomenon_time_start, "pmin"),
            phenomenon_time_end=larger(c.phenomenon_time_end, "pmax"),
            result_time_start=smaller(c.result_time_start, "rmin"),
            result_time_end=larger(c.result_time_end, "rmax"),
            last_observation_id=case(
                (newer, bindparam("lid", type_=micros)), else_=c.last_observation_id
            ),
            last_result_number=case(
                (newer, bindparam("lnum", type_=Float())), else_=c.last_result_number
            ),
            last_result_json=case(
                (newer, bindparam("ljson", type_=Text())), else_=c.last_result_json
            ),
            last_phenomenon_time=case(
                (newer, bindparam("lt", type_=micros)), else_=c.last_phenomenon_time
            ),
            last_received_at=bindparam("now", type_=micros),
            **(_aggregate_counters(table, smaller) if table is m.datastream else {}),
        )
        .execution_options(synchronize_session=False)
    )


HOUR = m.RESOLUTIONS["1h"]


def _aggregate_counters(table: Any, smaller: Any) -> dict[str, Any]:
    """Bump the aggregate counters (see models.datastream): a batch that reaches back
    before the hour of the newest Observation so far rewrites history."""
    c = table.c
    pmin = bindparam("pmin", type_=BigInteger())
    before_last_hour = and_(
        c.phenomenon_time_end.is_not(None),
        pmin < c.phenomenon_time_end - c.phenomenon_time_end % HOUR,
    )
    return {
        "aggregate_version": c.aggregate_version + 1,
        "aggregate_rewrites": c.aggregate_rewrites + case((before_last_hour, 1), else_=0),
    }


def store(session: Session, items: list[NewObservation], *, now: int | None = None) -> list[Stored]:
    """Store a batch; returns, per item, its id and whether it was new."""
    if not items:
        return []
    now = now if now is not None else timeutil.now_micros()
    checked = _check(session, items)
    problem = next((p for p in checked.problems if p is not None), None)
    if problem is not None:
        raise EntityError(problem)
    for item in items:
        if item.feature_of_interest_id is None:
            if item.datastream_id is not None:
                thing = checked.datastreams[item.datastream_id].thing_id
            else:
                assert item.multi_datastream_id is not None
                thing = checked.multi[item.multi_datastream_id].thing_id
            item.feature_of_interest_id = checked.features[thing]
    statements = _statements(session.get_bind().dialect.name)
    rows = [
        {
            "datastream_id": i.datastream_id,
            "multi_datastream_id": i.multi_datastream_id,
            "phenomenon_time_start": i.phenomenon_time_start,
            "phenomenon_time_end": i.phenomenon_time_end,
            "result_time": i.result_time,
            "result_number": i.result_number,
            "result_json": i.result_json,
            "result_digest": i.digest,
            "result_quality": i.result_quality,
            "valid_time_start": i.valid_time_start,
            "valid_time_end": i.valid_time_end,
            "parameters": i.parameters,
            "feature_of_interest_id": i.feature_of_interest_id,
        }
        for i in items
    ]
    try:
        inserted = session.execute(statements.insert_observations, rows).all()
    except IntegrityError:
        # A Datastream or FeatureOfInterest deleted by another process since it was cached.
        cache_of(session).clear()
        raise
    created = {(r[1], r[2], r[3], r[4]): r[0] for r in inserted}
    existing = _existing_ids(session, [i for i in items if i.key not in created])

    results: list[Stored] = []
    seen: set[tuple[Any, ...]] = set()
    for item in items:
        key = item.key
        if key in created and key not in seen:
            results.append(Stored(created[key], True, item))
            seen.add(key)
        else:
            results.append(Stored(created.get(key) or existing[key], False, item))
    fresh = [s for s in results if s.created]
    if fresh:
        _update_streams(session, fresh, now, statements)
        _update_aggregates(session, fresh, statements)
        if session.info.get("klug_bus") is not None:
            publish_after_commit(
                session, OBSERVATIONS_TOPIC, {"observations": [_event(s) for s in fresh]}
            )
    return results


def _existing_ids(session: Session, items: list[NewObservation]) -> dict[tuple[Any, ...], int]:
    """The ids of stored Observations with the items' keys (the duplicates of a batch)."""
    if not items:
        return {}
    table = m.observation
    wanted = {i.key for i in items}
    found: dict[tuple[Any, ...], int] = {}
    for column, position in (("datastream_id", 0), ("multi_datastream_id", 1)):
        streams = sorted({int(key[position] or 0) for key in wanted if key[position] is not None})
        if not streams:
            continue
        times = sorted({key[2] for key in wanted if key[position] is not None})
        stream = table.c[column]
        # Two IN lists keep to the (stream, time, …) index; row-value IN does not.
        query = select(
            table.c.id, stream, table.c.phenomenon_time_start, table.c.result_digest
        ).where(
            stream.in_(bindparam("streams", expanding=True)),
            table.c.phenomenon_time_start.in_(bindparam("times", expanding=True)),
        )
        for row in session.execute(query, {"streams": streams, "times": times}):
            key = (
                (row[1], None, row[2], row[3]) if position == 0 else (None, row[1], row[2], row[3])
            )
            if key in wanted:
                found[key] = row[0]
    return found


def _event(stored: Stored) -> dict[str, Any]:
    """What live pages and MQTT subscribers learn of a new Observation."""
    item = stored.item
    return {
        "id": stored.id,
        "datastream_id": item.datastream_id,
        "multi_datastream_id": item.multi_datastream_id,
        "phenomenonTime": timeutil.format_time_value(
            item.phenomenon_time_start, item.phenomenon_time_end
        ),
        "resultTime": timeutil.format_instant(item.result_time),
        "result": item.result_raw,
    }


def _update_streams(
    session: Session, fresh: list[Stored], now: int, statements: _Statements
) -> None:
    for column in ("datastream_id", "multi_datastream_id"):
        by_stream: dict[int, list[Stored]] = defaultdict(list)
        for stored in fresh:
            stream_id = getattr(stored.item, column)
            if stream_id is not None:
                by_stream[stream_id].append(stored)
        if not by_stream:
            continue
        params = []
        # In id order: concurrent batches lock their streams in the same order (no deadlock).
        for stream_id in sorted(by_stream):
            group = by_stream[stream_id]
            latest = max(group, key=lambda s: (s.item.phenomenon_time_start, s.id))
            ends = [s.item.phenomenon_time_end or s.item.phenomenon_time_start for s in group]
            result_times = [s.item.result_time for s in group if s.item.result_time is not None]
            params.append(
                {
                    "stream": stream_id,
                    "n": len(group),
                    "pmin": min(s.item.phenomenon_time_start for s in group),
                    "pmax": max(ends),
                    "rmin": min(result_times) if result_times else None,
                    "rmax": max(result_times) if result_times else None,
                    "lid": latest.id,
                    "lt": latest.item.phenomenon_time_start,
                    "lnum": latest.item.result_number,
                    "ljson": latest.item.result_json,
                    "now": now,
                }
            )
        session.execute(statements.update_stream[column], params)


def _partials(samples: Any) -> dict[tuple[int, int, int], list[Any]]:
    """(datastream, time, value) samples → per (datastream, resolution, bucket):
    [count, min, max, sum, last, last_time]."""
    partials: dict[tuple[int, int, int], list[Any]] = {}
    for datastream_id, t, value in samples:
        for name, length in m.RESOLUTIONS.items():
            key = (datastream_id, m.RESOLUTION_CODES[name], t - t % length)
            partial = partials.get(key)
            if partial is None:
                partials[key] = [1, value, value, value, value, t]
                continue
            partial[0] += 1
            if value < partial[1]:
                partial[1] = value
            if value > partial[2]:
                partial[2] = value
            partial[3] += value
            if t >= partial[5]:
                partial[4], partial[5] = value, t
    return partials


def _aggregate_rows(partials: dict[tuple[int, int, int], list[Any]]) -> list[dict[str, Any]]:
    return [
        {
            "datastream_id": key[0],
            "resolution": key[1],
            "bucket_start": key[2],
            "count": p[0],
            "min": p[1],
            "max": p[2],
            "sum": p[3],
            "last": p[4],
            "last_time": p[5],
        }
        for key, p in partials.items()
    ]


def _update_aggregates(session: Session, fresh: list[Stored], statements: _Statements) -> None:
    partials = _partials(
        (s.item.datastream_id, s.item.phenomenon_time_start, s.item.result_number)
        for s in fresh
        if s.item.datastream_id is not None and s.item.result_number is not None
    )
    if partials:
        # Sorted by key: concurrent batches take their row locks in the same order.
        session.execute(
            statements.upsert_aggregates, _aggregate_rows(dict(sorted(partials.items())))
        )


DAY = m.RESOLUTIONS["1d"]


def rebuild_range(session: Session, datastream_id: int, first: int, last: int) -> None:
    """Recompute the aggregates of the whole days around [first, last] from raw
    observations – after deletions and corrections, never after retention (whose
    point is to keep aggregates of deleted raw data)."""
    start = first - first % DAY
    end = last - last % DAY + DAY
    table, obs = m.aggregate, m.observation
    session.execute(
        table.delete().where(
            table.c.datastream_id == datastream_id,
            table.c.bucket_start >= start,
            table.c.bucket_start < end,
        )
    )
    samples = session.execute(
        select(obs.c.datastream_id, obs.c.phenomenon_time_start, obs.c.result_number)
        .where(
            obs.c.datastream_id == datastream_id,
            obs.c.phenomenon_time_start >= start,
            obs.c.phenomenon_time_start < end,
            obs.c.result_number.is_not(None),
        )
        .order_by(obs.c.phenomenon_time_start)
    )
    rows = _aggregate_rows(_partials(samples))
    if rows:
        session.execute(table.insert(), rows)
    stream = m.datastream
    session.execute(
        update(stream)
        .where(stream.c.id == datastream_id)
        .values(
            aggregate_version=stream.c.aggregate_version + 1,
            aggregate_rewrites=stream.c.aggregate_rewrites + 1,
        )
    )


def recount(session: Session, datastream_ids: set[int]) -> None:
    obs, stream = m.observation, m.datastream
    for datastream_id in datastream_ids:
        total = (
            select(func.count())
            .select_from(obs)
            .where(obs.c.datastream_id == datastream_id)
            .scalar_subquery()
        )
        session.execute(
            update(stream).where(stream.c.id == datastream_id).values(observation_count=total)
        )

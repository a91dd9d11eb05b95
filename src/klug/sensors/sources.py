"""Pull sources as plug-ins: poll a feed, parse it, store Observations.

A source kind (the city's parking-guidance XML, a GTFS-RT feed, a weather service) is a
small class that implements ``PullSource``; programmes register a factory for their kind
and the backbone polls every configured source on its interval, through the same
ingest path as HTTP and MQTT (deduplicated, aggregated, pushed live).

A source that goes silent or returns garbage stores nothing: its Datastreams then turn
*stale* (see ``series.freshness``) instead of showing old values as current.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from klug.core.jobs import Job
from klug.sensors import ingest, timeutil
from klug.sensors.values import result_columns

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """One value for one Datastream at one time (µs since the epoch)."""

    datastream_id: int
    phenomenon_time: int
    result: Any


class PullSource(Protocol):
    name: str
    interval_s: float

    def fetch(self) -> bytes:
        """Get the current payload (network I/O; raise OSError when unreachable)."""
        ...

    def parse(self, payload: bytes, now: int) -> list[Reading]:
        """Turn a payload into readings (pure; raise ValueError on garbage)."""
        ...


SourceFactory = Callable[[dict[str, Any]], PullSource]
_KINDS: dict[str, SourceFactory] = {}


def register_kind(kind: str, factory: SourceFactory) -> None:
    _KINDS[kind] = factory


def create(kind: str, config: dict[str, Any]) -> PullSource:
    factory = _KINDS.get(kind)
    if factory is None:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise ValueError(f"unknown source kind {kind!r}; known: {known}")
    return factory(config)


@dataclass
class SourceStatus:
    """What operators see of a source: when it last worked, and what went wrong."""

    name: str
    last_success: int | None = None
    last_error: str | None = None
    last_error_at: int | None = None
    stored: int = 0
    history: list[str] = field(default_factory=list)


def poll(factory: sessionmaker[Session], source: PullSource, status: SourceStatus) -> int:
    """Fetch, parse and store once; returns the number of new Observations."""
    now = timeutil.now_micros()
    try:
        payload = source.fetch()
    except OSError as exc:
        return _failed(status, now, f"unreachable: {type(exc).__name__}")
    try:
        readings = source.parse(payload, now)
    except (ValueError, KeyError, TypeError) as exc:
        return _failed(status, now, f"unusable payload: {exc}"[:200])
    items = [
        ingest.NewObservation(
            datastream_id=r.datastream_id,
            multi_datastream_id=None,
            phenomenon_time_start=r.phenomenon_time,
            result_raw=r.result,
            **result_columns(r.result),
        )
        for r in readings
    ]
    with factory() as session:
        stored = ingest.store(session, items, now=now)
        session.commit()
    created = sum(1 for s in stored if s.created)
    status.last_success = now
    status.stored += created
    return created


def _failed(status: SourceStatus, now: int, message: str) -> int:
    status.last_error, status.last_error_at = message, now
    log.warning("source %s: %s", status.name, message)
    return 0


def jobs_for(sources: list[PullSource], statuses: dict[str, SourceStatus]) -> list[Job]:
    """One scheduled job per source, each run claimed by one process."""
    jobs = []
    for source in sources:
        status = statuses.setdefault(source.name, SourceStatus(source.name))
        jobs.append(Job(f"source.{source.name}", source.interval_s, _poller(source, status)))
    return jobs


def _poller(source: PullSource, status: SourceStatus) -> Callable[[sessionmaker[Session]], object]:
    def run(factory: sessionmaker[Session]) -> object:
        return poll(factory, source, status)

    return run

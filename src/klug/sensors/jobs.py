"""Scheduled work of the sensor backbone: raw-data retention, pull sources."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from klug.core.jobs import Job
from klug.sensors import models as m
from klug.sensors import timeutil

DAY_MICROS = 86_400_000_000
CHUNK = 50_000


def enforce_retention(factory: sessionmaker[Session], now: int | None = None) -> int:
    """Delete raw Observations older than each Datastream's ``rawRetentionDays``.

    Aggregates stay: that is the point of keeping them (a year of hourly means after
    the minute values are gone). Deletes in chunks so that writers are not blocked
    for long. Returns the number of Observations deleted.
    """
    now = now if now is not None else timeutil.now_micros()
    deleted = 0
    with factory() as session:
        streams = session.execute(
            select(m.datastream.c.id, m.datastream.c.raw_retention_days).where(
                m.datastream.c.raw_retention_days.is_not(None)
            )
        ).all()
    obs = m.observation
    for stream_id, days in streams:
        cutoff = now - days * DAY_MICROS
        while True:
            with factory() as session:
                ids = (
                    select(obs.c.id)
                    .where(obs.c.datastream_id == stream_id, obs.c.phenomenon_time_start < cutoff)
                    .limit(CHUNK)
                )
                removed = session.execute(delete(obs).where(obs.c.id.in_(ids))).rowcount  # type: ignore[attr-defined]
                if removed:
                    total = (
                        select(func.count())
                        .select_from(obs)
                        .where(obs.c.datastream_id == stream_id)
                    )
                    session.execute(
                        update(m.datastream)
                        .where(m.datastream.c.id == stream_id)
                        .values(observation_count=total.scalar_subquery())
                    )
                session.commit()
            deleted += removed
            if removed < CHUNK:
                break
    return deleted


RETENTION = Job("sensors.retention", 3600.0, enforce_retention)

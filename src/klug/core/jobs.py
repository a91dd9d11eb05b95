"""Scheduled jobs (retention, feeds, daily mails) run by every server process, each run
claimed by one.

A job's last run is a row in ``core_platform_flag``; a process runs the job only after
it moved that time forward with a conditional UPDATE, so with several workers or
hosts each run happens once. A daily job keeps the local date of its last run instead:
it runs once per calendar day of the city, at the first tick at or after its time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from klug.core.db import PlatformFlag, utcnow
from klug.core.i18n import CITY_TZ

log = logging.getLogger(__name__)
TICK_S = 30.0


@dataclass(frozen=True)
class Job:
    name: str
    interval_s: float
    run: Callable[[sessionmaker[Session]], object]
    # Local time (Europe/Berlin) of a job that runs once a day; interval_s is then unused.
    daily_at: dt.time | None = None


def daily(name: str, at: dt.time, run: Callable[[sessionmaker[Session]], object]) -> Job:
    """A job run once per local calendar day, at ``at`` or – after a pause – as soon as the
    process runs again that day (a server down at 07:00 still sends at 09:00)."""
    return Job(name, 24 * 3600.0, run, daily_at=at)


def _stamp(seconds: float) -> str:
    return f"{int(seconds * 1000):020d}"  # zero-padded: text order is time order


def claim(factory: sessionmaker[Session], job: Job, now: float | None = None) -> bool:
    """True if this process may run the job now (and nobody else will until the next interval
    – for a daily job: until the next day)."""
    now = time.time() if now is None else now
    key = f"job:{job.name}"
    if job.daily_at is not None:
        local = dt.datetime.fromtimestamp(now, CITY_TZ)
        if local.time() < job.daily_at:
            return False
        # ISO dates: text order is date order, and each day's value is claimed once.
        value = local.date().isoformat()
        due = PlatformFlag.value < value
    else:
        value = _stamp(now)
        due = PlatformFlag.value <= _stamp(now - job.interval_s)
    with factory() as session:
        claimed = session.execute(
            update(PlatformFlag)
            .where(PlatformFlag.name == key, due)
            .values(value=value, updated_at=utcnow())
        ).rowcount  # type: ignore[attr-defined]
        if claimed:
            session.commit()
            return True
        if session.get(PlatformFlag, key) is not None:
            return False
        session.add(PlatformFlag(name=key, value=value))
        try:
            session.commit()
        except IntegrityError:
            return False
        return True


class JobRunner:
    def __init__(self, factory: sessionmaker[Session], jobs: list[Job]) -> None:
        self.factory = factory
        self.jobs = jobs
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.jobs:
            self._task = asyncio.create_task(self._loop(), name="klug-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            for job in self.jobs:
                try:
                    if await asyncio.to_thread(claim, self.factory, job):
                        started = time.perf_counter()
                        result = await asyncio.to_thread(job.run, self.factory)
                        log.info(
                            "job %s ran in %.1f s: %s",
                            job.name,
                            time.perf_counter() - started,
                            result,
                        )
                except Exception:
                    log.exception("job %s failed", job.name)
            await asyncio.sleep(TICK_S)

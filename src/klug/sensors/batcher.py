"""Group commit for single Observations.

Devices that POST one Observation per request are the common case and the expensive
one: a transaction each, and on SQLite one write lock that every request queues for.
Requests hand their Observation to this batcher instead; one thread stores whatever
has arrived in one transaction, and each request gets its answer once the transaction
holding its Observation has committed – the guarantee is the same, the cost is shared.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from klug.sensors import ingest, timeutil
from klug.sensors.values import EntityError

log = logging.getLogger(__name__)

MAX_BATCH = 1000
WAIT_S = 0.001  # how long to wait for company once a batch has started


@dataclass
class _Request:
    item: ingest.NewObservation
    answer: Future[ingest.Stored]


class IngestBatcher:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.requests: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="klug-ingest-batcher", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def submit(self, item: ingest.NewObservation, timeout_s: float = 30.0) -> ingest.Stored:
        """Store one Observation; returns once it is committed (raises EntityError)."""
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
        answer: Future[ingest.Stored] = Future()
        self.requests.put(_Request(item, answer))
        return answer.result(timeout=timeout_s)

    def stop(self) -> None:
        if self._started:
            self.requests.put(None)
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self.requests.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    following = self.requests.get(timeout=WAIT_S)
                except queue.Empty:
                    break
                if following is None:
                    self._store(batch)
                    return
                batch.append(following)
            self._store(batch)

    def _store(self, batch: list[_Request]) -> None:
        # Whatever happens, every request gets an answer and the thread lives on:
        # a request left without one would hang its client until the timeout.
        try:
            problems, good, stored = self._store_once(batch)
        except IntegrityError:
            # A Datastream deleted meanwhile by another process: the cache was
            # cleared, and a second look finds out which requests name it.
            try:
                problems, good, stored = self._store_once(batch)
            except Exception as exc:
                self._fail(batch, exc)
                return
        except Exception as exc:
            self._fail(batch, exc)
            return
        for request, problem in zip(batch, problems, strict=True):
            if problem is not None:
                request.answer.set_exception(EntityError(problem))
        for request, result in zip(good, stored, strict=True):
            request.answer.set_result(result)

    def _store_once(
        self, batch: list[_Request]
    ) -> tuple[list[str | None], list[_Request], list[ingest.Stored]]:
        now = timeutil.now_micros()
        with self.factory() as session:
            problems = ingest.problems(session, [r.item for r in batch])
            good = [r for r, problem in zip(batch, problems, strict=True) if problem is None]
            stored = ingest.store(session, [r.item for r in good], now=now)
            session.commit()
        return problems, good, stored

    @staticmethod
    def _fail(batch: list[_Request], exc: Exception) -> None:
        if not isinstance(exc, EntityError | DBAPIError):
            log.error("storing %s Observations failed", len(batch), exc_info=exc)
        else:
            log.warning("storing %s Observations failed: %s", len(batch), type(exc).__name__)
        for request in batch:
            if not request.answer.done():
                request.answer.set_exception(exc)

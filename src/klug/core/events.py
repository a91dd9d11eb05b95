"""Publish/subscribe between domains and out to live pages.

Two backends behind one protocol:

* ``InProcessBus`` (default) — one process, no dependencies.
* ``RedisBus`` (``KLUG_REDIS_URL``) — Redis pub/sub, so that every ``klug serve``
  process delivers every event to its own Server-Sent-Events clients.

Delivery is at-most-once and best effort: live pages re-read state on reconnect;
anything that must not be lost is stored in the database first and published after
the commit (see ``publish_after_commit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

SUBSCRIBER_QUEUE_SIZE = 256
_REDIS_PREFIX = "klug:events:"


@dataclass(frozen=True)
class Event:
    topic: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "topic": self.topic, "data": self.data})

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        payload = json.loads(raw)
        return cls(topic=payload["topic"], data=payload["data"], id=payload["id"])


class EventBus(Protocol):
    name: str
    published: int

    @property
    def delivered(self) -> int: ...
    @property
    def dropped(self) -> int: ...

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ping(self) -> bool: ...
    async def publish(self, topic: str, data: dict[str, Any]) -> Event: ...
    def publish_threadsafe(self, topic: str, data: dict[str, Any]) -> None: ...
    def subscribe(self, *topics: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...
    def subscriber_count(self) -> int: ...


class Subscription:
    """The events of some topics, as they arrive in this process."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=SUBSCRIBER_QUEUE_SIZE)

    async def next(self, timeout_s: float | None = None) -> Event | None:
        """The next event, or None when ``timeout_s`` passes without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout=timeout_s)
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class _LocalFanOut:
    """Delivers events to the subscriber queues of this process."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event]]] = {}
        self.delivered = 0
        self.dropped = 0

    def deliver(self, event: Event) -> None:
        for queue in list(self._queues.get(event.topic, ())):
            if queue.full():
                # A slow client must not hold up the others: drop its oldest event.
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)
            self.delivered += 1

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        for topic in topics:
            self._queues.setdefault(topic, set()).add(subscription.queue)
        try:
            yield subscription
        finally:
            for topic in topics:
                subscribers = self._queues.get(topic)
                if subscribers is not None:
                    subscribers.discard(subscription.queue)
                    if not subscribers:
                        del self._queues[topic]

    def count(self) -> int:
        return len({id(q) for queues in self._queues.values() for q in queues})


class _BusBase:
    name = "base"

    def __init__(self) -> None:
        self._fanout = _LocalFanOut()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0

    @property
    def delivered(self) -> int:
        return self._fanout.delivered

    @property
    def dropped(self) -> int:
        return self._fanout.dropped

    def subscribe(self, *topics: str) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self._fanout.subscribe(*topics)

    def subscriber_count(self) -> int:
        return self._fanout.count()

    async def publish(self, topic: str, data: dict[str, Any]) -> Event:
        raise NotImplementedError

    def publish_threadsafe(self, topic: str, data: dict[str, Any]) -> None:
        """Publish from synchronous code (a route in the thread pool, a job)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            log.warning("event bus not running; dropped event on topic %s", topic)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(self.publish(topic, data))
        else:
            asyncio.run_coroutine_threadsafe(self.publish(topic, data), loop)


class InProcessBus(_BusBase):
    name = "inprocess"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None

    async def ping(self) -> bool:
        return self._loop is not None

    async def publish(self, topic: str, data: dict[str, Any]) -> Event:
        event = Event(topic=topic, data=data)
        self.published += 1
        self._fanout.deliver(event)
        return event


class RedisBus(_BusBase):
    """Redis pub/sub: each process listens on one pattern subscription."""

    name = "redis"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        from redis import asyncio as aioredis

        self._loop = asyncio.get_running_loop()
        self._redis = aioredis.from_url(self._url, health_check_interval=30)
        await self._redis.ping()
        self._ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(), name="klug-redis-bus")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(_REDIS_PREFIX + "*")
                self._ready.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    try:
                        self._fanout.deliver(Event.from_json(message["data"]))
                    except (ValueError, KeyError):
                        log.warning("ignored a malformed event on the Redis bus")
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:
                # Redis restarts or failovers: reconnect and carry on.
                log.exception("Redis event bus connection lost; reconnecting in 1 s")
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._redis is not None:
            await self._redis.aclose()
        self._loop = None

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), timeout=2))
        except Exception:
            return False

    async def publish(self, topic: str, data: dict[str, Any]) -> Event:
        event = Event(topic=topic, data=data)
        await self._redis.publish(_REDIS_PREFIX + topic, event.to_json())
        self.published += 1
        return event


def create_bus(redis_url: str | None) -> EventBus:
    return RedisBus(redis_url) if redis_url else InProcessBus()


_pending_key = "klug_pending_events"
_hook_lock = threading.Lock()


def publish_after_commit(session: Session, topic: str, data: dict[str, Any]) -> None:
    """Publish on the session's bus once the transaction has committed; never on rollback."""
    bus = session.info.get("klug_bus")
    if bus is None:
        # Command-line tools work without a bus; running servers always have one.
        log.debug("session without an event bus; event on topic %s not published", topic)
        return
    pending: list[tuple[EventBus, str, dict[str, Any]]] = session.info.setdefault(_pending_key, [])
    pending.append((bus, topic, data))
    with _hook_lock:
        if not sa_event.contains(session, "after_commit", _flush_pending):
            sa_event.listen(session, "after_commit", _flush_pending)
            sa_event.listen(session, "after_rollback", _drop_pending)


def _flush_pending(session: Session) -> None:
    for bus, topic, data in session.info.pop(_pending_key, []):
        bus.publish_threadsafe(topic, data)


def _drop_pending(session: Session) -> None:
    session.info.pop(_pending_key, None)

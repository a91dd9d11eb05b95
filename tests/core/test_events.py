"""The event bus: in process and through Redis; publishing only after commit."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from sqlalchemy.orm import Session

from klug.core.events import InProcessBus, RedisBus, publish_after_commit
from tests.conftest import need


def _redis_url() -> str:
    url = os.environ.get("KLUG_TEST_REDIS_URL", "")
    need(bool(url), "Redis (set KLUG_TEST_REDIS_URL)")
    return url


def test_in_process_bus_delivers_to_every_subscriber_of_the_topic() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        async with (
            bus.subscribe("notices") as first,
            bus.subscribe("notices") as second,
            bus.subscribe("other") as other,
        ):
            await bus.publish("notices", {"n": 1})
            assert (await first.next(1)).data == {"n": 1}  # type: ignore[union-attr]
            assert (await second.next(1)).data == {"n": 1}  # type: ignore[union-attr]
            assert await other.next(0.05) is None
        assert bus.subscriber_count() == 0
        await bus.stop()

    asyncio.run(scenario())


def test_a_slow_subscriber_loses_its_oldest_events_not_the_others() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        async with bus.subscribe("t") as slow:
            for n in range(300):
                await bus.publish("t", {"n": n})
            first = await slow.next(1)
            assert first is not None and first.data["n"] == 300 - 256
            assert bus.dropped == 44
        await bus.stop()

    asyncio.run(scenario())


def test_redis_bus_delivers_across_independent_connections() -> None:
    url = _redis_url()
    topic = f"test-{uuid.uuid4().hex}"

    async def scenario() -> None:
        # Two buses stand for two klug processes: each delivers what the other publishes.
        first, second = RedisBus(url), RedisBus(url)
        await first.start()
        await second.start()
        try:
            async with first.subscribe(topic) as on_first, second.subscribe(topic) as on_second:
                await first.publish(topic, {"from": "first"})
                got_first = await on_first.next(5)
                got_second = await on_second.next(5)
                assert got_first is not None and got_first.data == {"from": "first"}
                assert got_second is not None and got_second.data == {"from": "first"}
                assert got_first.id == got_second.id
                assert await first.ping() and await second.ping()
        finally:
            await first.stop()
            await second.stop()

    asyncio.run(scenario())


def test_events_are_published_after_commit_and_dropped_on_rollback(database_url: str) -> None:
    from klug.core.db import create_db_engine, make_session_factory

    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        engine = create_db_engine(database_url)
        factory = make_session_factory(engine, klug_bus=bus)
        async with bus.subscribe("t") as events:
            session: Session = factory()
            publish_after_commit(session, "t", {"n": "rolled back"})
            session.rollback()
            session.close()
            session = factory()
            publish_after_commit(session, "t", {"n": "committed"})
            assert await events.next(0.1) is None, "nothing before the commit"
            session.commit()
            session.close()
            received = await events.next(1)
            assert received is not None and received.data == {"n": "committed"}
            assert await events.next(0.1) is None
        engine.dispose()
        await bus.stop()

    asyncio.run(scenario())


@pytest.mark.parametrize("bus_kind", ["inprocess", "redis"])
def test_readiness_reports_the_bus(bus_kind: str, client_factory) -> None:  # type: ignore[no-untyped-def]
    overrides = {"redis_url": _redis_url()} if bus_kind == "redis" else {}
    client = client_factory(**overrides)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "event_bus": f"ok ({bus_kind})"}

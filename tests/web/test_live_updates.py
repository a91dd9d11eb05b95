"""Live updates over Server-Sent Events, within one process and across processes (Redis)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx

from klug.core.audit import SYSTEM
from klug.core.db import create_db_engine, make_session_factory
from klug.identity import apikeys
from tests.conftest import need
from tests.servers import LiveServer, start_server


def _api_key(database_url: str) -> str:
    engine = create_db_engine(database_url)
    with make_session_factory(engine)() as session:
        _key, plain = apikeys.create(
            session=session, name="Leitstelle", scopes="notices.manage", actor=SYSTEM
        )
        session.commit()
    engine.dispose()
    return plain


async def _next_notices_event(response: httpx.Response, connected: asyncio.Event) -> dict[str, Any]:
    event_name = None
    async for line in response.aiter_lines():
        if line == ": connected":
            connected.set()
        elif line.startswith("event: "):
            event_name = line[len("event: ") :]
        elif line.startswith("data: ") and event_name == "notices":
            return json.loads(line[len("data: ") :])  # type: ignore[no-any-return]
    raise AssertionError("stream ended without a notices event")


async def _listen_then_publish(
    listen_on: list[LiveServer], publish_to: LiveServer, key: str
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
        streams = [client.stream("GET", f"{server.url}/api/live/notices") for server in listen_on]
        responses = [await stream.__aenter__() for stream in streams]
        try:
            for response in responses:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
            connected = [asyncio.Event() for _ in responses]
            readers = [
                asyncio.create_task(_next_notices_event(r, c))
                for r, c in zip(responses, connected, strict=True)
            ]
            await asyncio.wait_for(asyncio.gather(*(c.wait() for c in connected)), timeout=10)
            created = await client.post(
                f"{publish_to.url}/api/citizen/notices",
                json={
                    "title_de": "Stromausfall Innenstadt",
                    "title_en": "Power cut in the city centre",
                    "severity": "warning",
                },
                headers={"Authorization": f"Bearer {key}"},
            )
            assert created.status_code == 201, created.text
            return list(await asyncio.wait_for(asyncio.gather(*readers), timeout=10))
        finally:
            for stream in streams:
                await stream.__aexit__(None, None, None)


def test_one_process_pushes_a_new_notice_to_its_live_pages(
    database_url: str, tmp_path: Path
) -> None:
    server = start_server(database_url, tmp_path / "var")
    try:
        key = _api_key(database_url)
        events = asyncio.run(_listen_then_publish([server, server], server, key))
    finally:
        server.stop()
    for payload in events:
        assert [n["title_de"] for n in payload["notices"]] == ["Stromausfall Innenstadt"]


def test_two_processes_on_redis_both_deliver_every_event(database_url: str, tmp_path: Path) -> None:
    redis_url = os.environ.get("KLUG_TEST_REDIS_URL", "")
    need(bool(redis_url), "Redis (set KLUG_TEST_REDIS_URL)")
    first = start_server(database_url, tmp_path / "var-a", redis_url=redis_url)
    second = start_server(database_url, tmp_path / "var-b", redis_url=redis_url)
    try:
        key = _api_key(database_url)
        # Clients on both processes; the notice is created through the first one only.
        events = asyncio.run(_listen_then_publish([first, second, second], first, key))
    finally:
        first.stop()
        second.stop()
    assert len(events) == 3
    for payload in events:
        assert payload["notices"][0]["title_en"] == "Power cut in the city centre"
        assert payload["notices"][0]["severity"] == "warning"


def test_without_redis_a_second_process_does_not_see_the_event(
    database_url: str, tmp_path: Path
) -> None:
    """The control experiment: it is Redis that carries events between processes."""
    first = start_server(database_url, tmp_path / "var-a")
    second = start_server(database_url, tmp_path / "var-b")
    try:
        key = _api_key(database_url)

        async def scenario() -> None:
            try:
                await asyncio.wait_for(_listen_then_publish([second], first, key), timeout=3)
            except TimeoutError:
                return
            raise AssertionError("an in-process bus must not reach another process")

        asyncio.run(scenario())
    finally:
        first.stop()
        second.stop()

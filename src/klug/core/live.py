"""Server-Sent Events (``text/event-stream``) from the event bus to browsers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse

from klug.core.events import Event, EventBus

HEARTBEAT_S = 15.0
RETRY_MS = 5000

# Decides what a client gets of an event: the data to send, or None to skip it.
Transform = Callable[[Event], dict[str, Any] | None]


def _frame(event: Event, data: dict[str, Any]) -> str:
    return f"id: {event.id}\nevent: {event.topic}\ndata: {json.dumps(data)}\n\n"


async def _stream(
    bus: EventBus, topics: tuple[str, ...], transform: Transform | None
) -> AsyncIterator[str]:
    # Starlette cancels this generator when the client goes away.
    async with bus.subscribe(*topics) as subscription:
        # The retry hint tells EventSource how long to wait before reconnecting.
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        while True:
            event = await subscription.next(timeout_s=HEARTBEAT_S)
            if event is None:
                # Comments keep proxies from closing an idle stream.
                yield ": heartbeat\n\n"
                continue
            data = transform(event) if transform is not None else event.data
            if data is not None:
                yield _frame(event, data)


def event_stream(
    bus: EventBus, *topics: str, transform: Transform | None = None
) -> StreamingResponse:
    return StreamingResponse(
        _stream(bus, topics, transform),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

"""Server-Sent Events (``text/event-stream``) from the event bus to browsers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from klug.core.events import Event, EventBus

HEARTBEAT_S = 15.0
RETRY_MS = 5000


def _frame(event: Event) -> str:
    return f"id: {event.id}\nevent: {event.topic}\ndata: {json.dumps(event.data)}\n\n"


async def _stream(bus: EventBus, topics: tuple[str, ...]) -> AsyncIterator[str]:
    # Starlette cancels this generator when the client goes away.
    async with bus.subscribe(*topics) as subscription:
        # The retry hint tells EventSource how long to wait before reconnecting.
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        while True:
            event = await subscription.next(timeout_s=HEARTBEAT_S)
            # Comments keep proxies from closing an idle stream.
            yield ": heartbeat\n\n" if event is None else _frame(event)


def event_stream(bus: EventBus, *topics: str) -> StreamingResponse:
    return StreamingResponse(
        _stream(bus, topics),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

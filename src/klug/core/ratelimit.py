"""Rate limits per IP address and per account, in process or shared through Redis.

Built on the ``limits`` library (sliding-window counters). With several workers or
hosts, ``KLUG_REDIS_URL`` makes the counters shared; otherwise each process counts
on its own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

_KEY_PREFIX = "klug-ratelimit"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class RateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage: Any = storage_from_string(
                uri, implementation="redispy", key_prefix=_KEY_PREFIX
            )
        else:
            storage = storage_from_string("async+memory://")
        self.backend = "redis" if redis_url else "memory"
        self._storage = storage
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, limit: str) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        return item

    async def hit(self, limit: str, *key: str) -> Verdict:
        item = self._item(limit)
        if await self._strategy.hit(item, *key):
            return Verdict(True)
        stats = await self._strategy.get_window_stats(item, *key)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))

    async def clear(self, limit: str, *key: str) -> None:
        await self._strategy.clear(self._item(limit), *key)

    async def reset(self) -> None:
        await self._storage.reset()

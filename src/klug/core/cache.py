"""A tiny time-to-live cache for values every page shows (banner flags, notices)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCell(Generic[T]):
    """Holds one value for ``ttl_s`` seconds; ``invalidate()`` forces a reload.

    Several processes each keep their own cell: a change made elsewhere shows after
    at most ``ttl_s`` (live pages get it sooner through the event bus).
    """

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._value: T | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self, loader: Callable[[], T]) -> T:
        now = time.monotonic()
        if now < self._expires:
            return self._value  # type: ignore[return-value]
        with self._lock:
            if time.monotonic() >= self._expires:
                self._value = loader()
                self._expires = time.monotonic() + self.ttl_s
        return self._value  # type: ignore[return-value]

    def invalidate(self) -> None:
        self._expires = 0.0


def app_cell(state_cells: dict[str, TtlCell[object]], name: str, ttl_s: float) -> TtlCell[object]:
    """The cell called ``name`` of one application (tests run many apps side by side)."""
    return state_cells.setdefault(name, TtlCell(ttl_s))

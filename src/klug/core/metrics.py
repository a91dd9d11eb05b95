"""Prometheus metrics: requests by route, database pool, event bus.

With several uvicorn workers, ``klug serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` so
that request counters from all workers are summed; pool and bus gauges describe the
worker that answered the scrape (labelled with its pid).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "klug_http_requests_total",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "klug_http_request_duration_seconds",
    "Time from request start to the end of the response body, by route template.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class RuntimeCollector(Collector):
    """Reads the state of this worker's database pool and event bus at scrape time."""

    def __init__(
        self, pool_status: Callable[[], dict[str, int]], bus_status: Callable[[], dict[str, Any]]
    ):
        self._pool_status = pool_status
        self._bus_status = bus_status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pid = str(os.getpid())
        pool = GaugeMetricFamily(
            "klug_db_pool_connections",
            "Database pool connections by state.",
            labels=["state", "pid"],
        )
        for state, value in self._pool_status().items():
            pool.add_metric([state, pid], value)
        yield pool
        bus = self._bus_status()
        for key, help_text in (
            ("published", "Events this worker published."),
            ("delivered", "Events this worker delivered to local subscribers."),
            ("dropped", "Events dropped because a subscriber was too slow."),
            ("subscribers", "Live subscribers (e.g. open SSE streams) on this worker."),
        ):
            family = GaugeMetricFamily(
                f"klug_event_bus_{key}", help_text, labels=["backend", "pid"]
            )
            family.add_metric([bus["backend"], pid], bus[key])
            yield family


def exposition(runtime: Collector) -> tuple[bytes, str]:
    """The text of a scrape: request metrics (all workers) plus this worker's runtime."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests_registry = CollectorRegistry()
        MultiProcessCollector(requests_registry)
    else:
        requests_registry = REGISTRY
    runtime_registry = CollectorRegistry(auto_describe=False)
    runtime_registry.register(runtime)
    return generate_latest(requests_registry) + generate_latest(
        runtime_registry
    ), CONTENT_TYPE_LATEST

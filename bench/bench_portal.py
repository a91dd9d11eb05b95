"""Citizen portal: p95 latency and throughput of the German home page under load.

The baseline is ``GET /healthz`` measured the same way in the same run: it passes the
same middleware on the same machine but renders nothing and reads no database, so the
ratio is what the page itself costs, whatever the machine's load today.
"""

from __future__ import annotations

from bench import Figure, log, seconds_from_env
from bench.load import LoadResult, choose_tool, load_path
from bench.server import demo_server

CONNECTIONS = 50
WARM_UP_S = 1.0
HOME = "/"
HEALTHZ = "/healthz"


def run() -> list[Figure]:
    duration_s = seconds_from_env("KLUG_BENCH_SECONDS", 10.0)
    tool = choose_tool()
    with demo_server() as server:
        for path in (HEALTHZ, HOME):
            load_path(tool, server, path, connections=CONNECTIONS, duration_s=WARM_UP_S)
        results: dict[str, LoadResult] = {}
        for path in (HEALTHZ, HOME):
            log(f"GET {path}: {CONNECTIONS} connections for {duration_s:g} s")
            result = results[path] = load_path(
                tool, server, path, connections=CONNECTIONS, duration_s=duration_s
            )
            log(
                f"GET {path}: {result.requests} requests, p95 {result.p95_ms:.1f} ms, "
                f"{result.requests_per_s:.0f} req/s"
            )
    home, healthz = results[HOME], results[HEALTHZ]
    return [
        Figure("portal.page_p95_ms", home.p95_ms, "ms", home.requests, healthz.p95_ms, tool),
        Figure("portal.healthz_p95_ms", healthz.p95_ms, "ms", healthz.requests, None, tool),
        Figure(
            "portal.page_rps",
            home.requests_per_s,
            "req/s",
            home.requests,
            healthz.requests_per_s,
            tool,
        ),
    ]

"""HTTP load generators: ``wrk`` when installed, else raw keep-alive HTTP/1.1 on asyncio.

Both keep ``connections`` requests in flight (closed loop) for ``duration_s`` and count
every answer other than 200: a figure measured on error pages would be a lie.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench import InvalidMeasurement, log

WRK_MARKER = "KLUG_BENCH "

# wrk's done() hook sees only the summary; answers other than 200 are counted per
# thread in response() and summed through setup()'s thread handles.
WRK_SCRIPT = """
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
end

function response(status, headers, body)
  if status ~= 200 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local unexpected_total = 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "p95_us": %.1f, '
      .. '"unexpected_status": %d, "socket_errors": %d}\\n',
    "KLUG_BENCH ", summary.requests, summary.duration, latency:percentile(95.0),
    unexpected_total, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    duration_s: float
    p95_ms: float
    unexpected_status: int
    socket_errors: int

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def check(self, what: str) -> None:
        """Refuse a figure that includes failed requests."""
        if self.requests == 0:
            raise InvalidMeasurement(f"{what}: no request completed")
        if self.unexpected_status or self.socket_errors:
            raise InvalidMeasurement(
                f"{what}: {self.unexpected_status} answers other than 200 and "
                f"{self.socket_errors} socket errors in {self.requests} requests"
            )


def choose_tool() -> str:
    """``KLUG_BENCH_LOAD_TOOL`` (wrk | python) or wrk when it is on the PATH."""
    wanted = os.environ.get("KLUG_BENCH_LOAD_TOOL", "")
    if wanted not in {"", "wrk", "python"}:
        raise InvalidMeasurement(f"KLUG_BENCH_LOAD_TOOL={wanted!r}: use wrk or python")
    if wanted == "python" or (not wanted and shutil.which("wrk") is None):
        log(
            "load generator: python asyncio (wrk not used) – it shares the CPUs with the "
            "server; compare its figures only with figures of the same tool"
        )
        return "python-asyncio"
    if shutil.which("wrk") is None:
        raise InvalidMeasurement("KLUG_BENCH_LOAD_TOOL=wrk but wrk is not installed")
    log("load generator: wrk")
    return "wrk"


def measure(
    tool: str, url: str, *, connections: int, duration_s: float, workdir: Path
) -> LoadResult:
    if tool == "wrk":
        return measure_wrk(url, connections=connections, duration_s=duration_s, workdir=workdir)
    return measure_asyncio(url, connections=connections, duration_s=duration_s)


def measure_wrk(url: str, *, connections: int, duration_s: float, workdir: Path) -> LoadResult:
    script = workdir / "klug-bench.lua"
    script.write_text(WRK_SCRIPT)
    # Timed-out requests drop out of wrk's latency histogram, so the timeout is generous.
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(WRK_MARKER)]
    if completed.returncode != 0 or not lines:
        raise InvalidMeasurement(
            f"wrk exited {completed.returncode}: {completed.stderr or completed.stdout}"
        )
    summary = json.loads(lines[-1].removeprefix(WRK_MARKER))
    return LoadResult(
        tool="wrk",
        requests=int(summary["requests"]),
        duration_s=summary["duration_us"] / 1e6,
        p95_ms=summary["p95_us"] / 1000,
        unexpected_status=int(summary["unexpected_status"]),
        socket_errors=int(summary["socket_errors"]),
    )


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–100) of unsorted samples."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class _Tally:
    latencies_s: list[float]
    unexpected_status: int = 0
    socket_errors: int = 0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return its status and whether the server keeps the connection."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("the server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length: int | None = None
    chunked = False
    keep_alive = True
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep_alive = b"close" not in value.lower()
    if chunked:
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        keep_alive = False
    return status, keep_alive


async def _client(host: str, port: int, request: bytes, stop_at: float, tally: _Tally) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.perf_counter() < stop_at:
        keep_alive = False
        try:
            if connection is None:
                connection = await asyncio.open_connection(host, port)
            reader, writer = connection
            started = time.perf_counter()
            writer.write(request)
            status, keep_alive = await _read_response(reader)
            tally.latencies_s.append(time.perf_counter() - started)
            if status != 200:
                tally.unexpected_status += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.socket_errors += 1
        if not keep_alive and connection is not None:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


async def _drive(url: str, connections: int, duration_s: float) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    tally = _Tally(latencies_s=[])
    started = time.perf_counter()
    stop_at = started + duration_s
    await asyncio.gather(
        *(_client(host, port, request, stop_at, tally) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    return LoadResult(
        tool="python-asyncio",
        requests=len(tally.latencies_s),
        duration_s=elapsed,
        p95_ms=percentile(tally.latencies_s, 95) * 1000 if tally.latencies_s else 0.0,
        unexpected_status=tally.unexpected_status,
        socket_errors=tally.socket_errors,
    )


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    # uvloop comes with uvicorn[standard]; the less CPU the generator takes, the less it
    # competes with the server on a small machine.
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def measure_asyncio(url: str, *, connections: int, duration_s: float) -> LoadResult:
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_drive(url, connections, duration_s))

"""HTTP load generators: ``wrk`` when installed, else raw keep-alive HTTP/1.1 on asyncio.

Both keep ``connections`` requests in flight (closed loop) for ``duration_s`` and count
every answer other than the expected one (200, or 201 for creations): a figure measured
on error pages would be a lie. A ``Workload`` varies the requests (paths, bodies).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench import InvalidMeasurement, log
from bench.server import Server

WRK_MARKER = "KLUG_BENCH "

# wrk's done() hook sees only the summary; answers other than the expected status are
# counted per thread in response() and summed through setup()'s thread handles. A
# workload's Lua code defines make_request(i), i numbering the requests of all threads
# (0, 1, 2 …), and may name the headers every request carries in extra_headers.
WRK_SCRIPT = """
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
  counter = 0
  nthreads = tonumber(args[1]) or 1
  expected = tonumber(args[2]) or 200
  for name, value in pairs(extra_headers or {}) do
    wrk.headers[name] = value
  end
end

if make_request ~= nil then
  function request()
    local i = counter * nthreads + tid
    counter = counter + 1
    return make_request(i)
  end
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    if unexpected <= 3 then
      io.stderr:write(string.format("unexpected %d: %s\\n", status, string.sub(body, 1, 300)))
    end
  end
end

function done(summary, latency, requests)
  local unexpected_total = 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "p95_us": %.1f, "p50_us": %.1f, '
      .. '"unexpected_status": %d, "socket_errors": %d}\\n',
    "KLUG_BENCH ", summary.requests, summary.duration, latency:percentile(95.0),
    latency:percentile(50.0), unexpected_total, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class Workload:
    """What a closed-loop load sends, for either generator: ``lua`` defines wrk's
    ``make_request(i)`` (and optionally ``extra_headers``), ``render(i)`` is the same
    request for the asyncio generator; ``i`` numbers the requests of the run."""

    lua: str
    render: Callable[[int], Request]
    expected_status: int = 200


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def lua_headers(headers: Mapping[str, str]) -> str:
    pairs = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    return f"extra_headers = {{{pairs}}}\n"


def get_paths(paths: list[str], headers: Mapping[str, str] | None = None) -> Workload:
    """GET the ``paths`` in turn (request i gets path i mod n)."""
    if not paths:
        raise InvalidMeasurement("a workload needs at least one path")
    table = ",\n".join(_lua_string(path) for path in paths)
    lua = (
        lua_headers(headers or {})
        + f"paths = {{\n{table}\n}}\n"
        + "function make_request(i)\n"
        + '  return wrk.format("GET", paths[(i % #paths) + 1])\n'
        + "end\n"
    )
    fixed = dict(headers or {})

    def render(i: int) -> Request:
        return Request("GET", paths[i % len(paths)], fixed)

    return Workload(lua=lua, render=render)


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    duration_s: float
    p95_ms: float
    unexpected_status: int
    socket_errors: int
    p50_ms: float | None = None

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def answered_as_expected(self) -> int:
        return self.requests - self.unexpected_status

    def check(self, what: str) -> None:
        """Refuse a figure that includes failed requests."""
        if self.requests == 0:
            raise InvalidMeasurement(f"{what}: no request completed")
        if self.unexpected_status or self.socket_errors:
            raise InvalidMeasurement(
                f"{what}: {self.unexpected_status} answers other than expected and "
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
    """GET ``url`` over and over."""
    parts = urlsplit(url)
    base_url = f"{parts.scheme}://{parts.netloc}"
    path = parts.path or "/"
    workload = Workload(lua="", render=lambda _i: Request("GET", path))
    return measure_workload(
        tool,
        base_url + path,
        workload,
        connections=connections,
        duration_s=duration_s,
        workdir=workdir,
    )


def measure_workload(
    tool: str,
    url: str,
    workload: Workload,
    *,
    connections: int,
    duration_s: float,
    workdir: Path,
    threads: int = 2,
) -> LoadResult:
    """Keep ``connections`` requests of ``workload`` in flight against ``url`` (its
    scheme and host; wrk's default request, when the workload defines none, GETs its path)."""
    if tool == "wrk":
        return measure_wrk(
            url,
            workload,
            connections=connections,
            duration_s=duration_s,
            workdir=workdir,
            threads=threads,
        )
    return measure_asyncio(url, workload, connections=connections, duration_s=duration_s)


def measure_wrk(
    url: str,
    workload: Workload,
    *,
    connections: int,
    duration_s: float,
    workdir: Path,
    threads: int = 2,
) -> LoadResult:
    threads = max(1, min(threads, connections))
    script = workdir / "klug-bench.lua"
    script.write_text(workload.lua + WRK_SCRIPT)
    # Timed-out requests drop out of wrk's latency histogram, so the timeout is generous.
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        str(threads),
        str(workload.expected_status),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(WRK_MARKER)]
    if completed.returncode != 0 or not lines:
        raise InvalidMeasurement(
            f"wrk exited {completed.returncode}: {completed.stderr or completed.stdout}"
        )
    if completed.stderr.strip():
        log(f"wrk: {completed.stderr.strip()[:1000]}")
    summary = json.loads(lines[-1].removeprefix(WRK_MARKER))
    return LoadResult(
        tool="wrk",
        requests=int(summary["requests"]),
        duration_s=summary["duration_us"] / 1e6,
        p95_ms=summary["p95_us"] / 1000,
        p50_ms=summary["p50_us"] / 1000,
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


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Read one response; its status, whether the server keeps the connection, its body."""
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
    body = b""
    if chunked:
        parts = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            parts.append((await reader.readexactly(size + 2))[:-2])
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        body = b"".join(parts)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()
        keep_alive = False
    return status, keep_alive, body


def render_request(request: Request, netloc: str) -> bytes:
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {netloc}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    if request.body is not None:
        lines.append(f"Content-Length: {len(request.body)}")
    lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (request.body or b"")


async def _client(
    host: str,
    port: int,
    next_request: Callable[[], bytes],
    expected_status: int,
    stop_at: float,
    tally: _Tally,
) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.perf_counter() < stop_at:
        keep_alive = False
        try:
            if connection is None:
                connection = await asyncio.open_connection(host, port)
            reader, writer = connection
            started = time.perf_counter()
            writer.write(next_request())
            status, keep_alive, _body = await read_response(reader)
            tally.latencies_s.append(time.perf_counter() - started)
            if status != expected_status:
                tally.unexpected_status += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.socket_errors += 1
        if not keep_alive and connection is not None:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


async def _drive(url: str, workload: Workload, connections: int, duration_s: float) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    numbers = itertools.count()

    def next_request() -> bytes:
        return render_request(workload.render(next(numbers)), parts.netloc)

    tally = _Tally(latencies_s=[])
    started = time.perf_counter()
    stop_at = started + duration_s
    await asyncio.gather(
        *(
            _client(host, port, next_request, workload.expected_status, stop_at, tally)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    return LoadResult(
        tool="python-asyncio",
        requests=len(tally.latencies_s),
        duration_s=elapsed,
        p95_ms=percentile(tally.latencies_s, 95) * 1000 if tally.latencies_s else 0.0,
        p50_ms=percentile(tally.latencies_s, 50) * 1000 if tally.latencies_s else 0.0,
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


def measure_asyncio(
    url: str, workload: Workload, *, connections: int, duration_s: float
) -> LoadResult:
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_drive(url, workload, connections, duration_s))


def load_path(
    tool: str, server: Server, path: str, *, connections: int, duration_s: float
) -> LoadResult:
    """GET one path of a benchmark server under closed-loop load; fails on any unexpected
    answer."""
    result = measure(
        tool,
        server.base_url + path,
        connections=connections,
        duration_s=duration_s,
        workdir=server.workdir,
    )
    result.check(f"GET {path}")
    return result

"""``python -m bench.profile [--db …] [--scale …] <workload …> [--seconds S]``: py-spy on
the server while a sensor benchmark's load runs, and where its samples went.

Workloads: the queries (``latest_all``, ``hourly_7d``, ``lttb_14d``, ``daily_30d``,
``filter_top1000``), ``post_single`` and ``batch`` of ``bench/bench_sta.py``.
Writes py-spy's collapsed stacks (``--format raw``) to ``var/bench/profiles/`` (or
``--out``) and prints the functions with the most samples, by self time and by total
time, to stdout.

A profile is not a measurement: py-spy takes CPU from the server (two cores here), so
take figures from ``python -m bench`` and reasons from here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench import DATABASES, log, options, stop_on_sigterm
from bench.bench_sta import (
    BATCH_CONNECTIONS,
    POST_CONNECTIONS,
    READ_CONNECTIONS,
    batch_workload,
    post_single_workload,
    read_workloads,
)
from bench.dataset import CACHE_DIR
from bench.load import Workload, choose_tool, measure_workload
from bench.sensors import (
    WRITE_SCOPES,
    NewObservations,
    SensorServer,
    dataset,
    sensor_server,
    whole_seconds_from_now,
)

PY_SPY = Path(sys.executable).parent / "py-spy"
WRITES = ("post_single", "batch")


def summarise(collapsed: Path, top: int = 25) -> str:
    """Self and total samples per function (``name (file:line)`` frames of py-spy)."""
    self_time: Counter[str] = Counter()
    total_time: Counter[str] = Counter()
    samples = 0
    pending = ""
    for line in collapsed.read_text().splitlines():
        # A frame's name may span lines (SQL text in a code object's name): a stack ends
        # at the line that ends in its sample count.
        pending += line
        stack, _, count_text = pending.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        pending = ""
        count = int(count_text)
        samples += count
        frames = [_function(frame) for frame in stack.split(";")]
        self_time[frames[-1]] += count
        for frame in set(frames):
            total_time[frame] += count
    if samples == 0:
        return "no samples"
    lines = [f"{samples} samples", "", "self time:"]
    lines += [f"  {100 * n / samples:5.1f}%  {name}" for name, n in self_time.most_common(top)]
    lines += ["", "total time (the function and what it calls):"]
    lines += [f"  {100 * n / samples:5.1f}%  {name}" for name, n in total_time.most_common(top)]
    return "\n".join(lines)


def _function(frame: str) -> str:
    """``fn (path/to/file.py:123)`` → ``fn (file.py)``: lines would split a function."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def _workload(name: str, target: SensorServer) -> tuple[Workload, int]:
    data, auth = target.dataset, target.auth
    if name == "post_single":
        new = NewObservations(data.datastream_ids, whole_seconds_from_now())
        return post_single_workload(new, auth), POST_CONNECTIONS
    if name == "batch":
        new = NewObservations(data.datastream_ids, whole_seconds_from_now(86_400 + 17))
        return batch_workload(new, auth), BATCH_CONNECTIONS
    return read_workloads(data, auth)[name], READ_CONNECTIONS


WORKLOADS = ("latest_all", "hourly_7d", "lttb_14d", "daily_30d", "filter_top1000", *WRITES)


def _profile(
    tool: str, target: SensorServer, name: str, seconds: float, gil: bool, out: Path
) -> None:
    workload, connections = _workload(name, target)
    measured: list[str] = []

    def drive() -> None:
        result = measure_workload(
            tool,
            target.base_url + "/healthz",
            workload,
            connections=connections,
            duration_s=seconds + 3,
            workdir=target.workdir,
        )
        measured.append(
            f"{result.requests} requests ({result.unexpected_status} unexpected), "
            f"{result.requests_per_s:,.1f} req/s, p95 {result.p95_ms:.1f} ms while profiled"
        )

    load = threading.Thread(target=drive)
    load.start()
    time.sleep(2)
    command = [
        str(PY_SPY),
        "record",
        "--pid",
        str(target.server.pid),
        "--duration",
        str(round(seconds)),
        "--rate",
        "100",
        "--nonblocking",
        "--format",
        "raw",
        "-o",
        str(out),
    ]
    if gil:
        command.append("--gil")
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    load.join()
    print(
        f"== {name} ({'GIL holder' if gil else 'all threads'}): "
        f"{measured[0] if measured else 'load failed'}"
    )
    print(f"collapsed stacks: {out}")
    print(summarise(out), flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("workloads", nargs="+", choices=WORKLOADS, metavar="workload")
    parser.add_argument("--db", choices=DATABASES, default=os.environ.get("KLUG_BENCH_DB"))
    parser.add_argument("--scale", default=os.environ.get("KLUG_BENCH_SCALE"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, help="directory of the collapsed stacks")
    parser.add_argument("--no-gil", action="store_true", help="sample waiting threads too")
    args = parser.parse_args(argv)
    directory: Path = args.out or CACHE_DIR / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    if args.db:
        os.environ["KLUG_BENCH_DB"] = args.db
    if args.scale:
        os.environ["KLUG_BENCH_SCALE"] = str(args.scale)
    stop_on_sigterm()
    tool = choose_tool()
    data = dataset()
    log(f"profiling {', '.join(args.workloads)} on {options().db}, scale {data.scale:g}")
    # Reads first: the writes change the copy.
    ordered = sorted(args.workloads, key=lambda name: name in WRITES)
    with sensor_server(data, WRITE_SCOPES) as target:
        for name in ordered:
            suffix = "-all-threads" if args.no_gil else ""
            out = directory / f"{options().db}-scale{data.scale:g}-{name}{suffix}.txt"
            _profile(tool, target, name, args.seconds, not args.no_gil, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

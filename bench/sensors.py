"""What the sensor benchmarks share: a server on a copy of the data set, HTTP helpers,
and the naming of new Observations (unique, spread over Datastreams and minutes)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import InvalidMeasurement, options
from bench.dataset import Dataset, api_key, prepare, working_copy
from bench.server import Server, database_server, workers

# New Observations of a Datastream are one minute apart (a typical sensor interval):
# every one then opens its own 1 min aggregate bucket, as live data does.
NEW_INTERVAL_S = 60
WRITE_SCOPES = "sensors.write,sensors.read"


@dataclass(frozen=True)
class SensorServer:
    server: Server
    database_url: str
    key: str
    dataset: Dataset

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def workdir(self) -> Path:
        return self.server.workdir

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def figure_facts(self) -> dict[str, object]:
        return data_facts(self.dataset)


def dataset() -> Dataset:
    return prepare(options())


# How busy the machine was just before a benchmark's server started: these machines are
# shared, and a figure measured beside someone's test run is worth less (the same-run
# baseline corrects for a steady load, not for one that comes and goes).
_LOAD_AT_START: dict[str, float] = {}


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def note_machine_load(seconds: float = 1.0) -> None:
    """Busy CPUs (0 … cpu count) during ``seconds`` before the server starts, when the
    benchmark itself is idle: ``busy_cpus_before``."""
    try:
        busy_before, total_before = _cpu_times()
        time.sleep(seconds)
        busy_after, total_after = _cpu_times()
    except (OSError, ValueError, IndexError):
        return
    share = (busy_after - busy_before) / max(1, total_after - total_before)
    _LOAD_AT_START["busy_cpus_before"] = round(share * (os.cpu_count() or 1), 2)


def data_facts(data: Dataset) -> dict[str, object]:
    return {"db": data.db, "scale": data.scale, "workers": workers(), **_LOAD_AT_START}


@contextlib.contextmanager
def sensor_server(data: Dataset, scopes: str, **settings: str) -> Iterator[SensorServer]:
    """``klug serve`` on a fresh copy of the data set, with an API key of ``scopes``."""
    note_machine_load()
    with tempfile.TemporaryDirectory(prefix="klug-bench-") as tmp:
        workdir = Path(tmp)
        with working_copy(data, workdir) as url:
            key = api_key(url, scopes)
            with database_server(url, workdir, **settings) as server:
                yield SensorServer(server=server, database_url=url, key=key, dataset=data)


def iso(micros: int) -> str:
    """An instant as the API writes it: UTC with ``Z``."""
    moment = dt.datetime.fromtimestamp(micros / 1e6, tz=dt.UTC)
    text = moment.isoformat(timespec="microseconds" if micros % 1_000_000 else "seconds")
    return text.replace("+00:00", "Z")


def iso_seconds(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_json(
    url: str,
    *,
    method: str = "GET",
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    expected: int = 200,
    timeout_s: float = 60.0,
) -> Any:
    """One request whose answer must have status ``expected``; its JSON body."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = dict(headers or {})
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    if status != expected:
        raise InvalidMeasurement(f"{method} {url}: {status} {raw[:500]!r}")
    return json.loads(raw) if raw else None


@dataclass(frozen=True)
class NewObservations:
    """Observation ``n`` of a run (n = 0, 1, 2 …): Datastream ``ids[n mod N]`` at
    ``base_s + (n div N) · 60 s`` – unique, so every one is really stored, and spread
    like live data (every Datastream gets the next minute's value in turn)."""

    ids: list[int]
    base_s: int

    def datastream(self, n: int) -> int:
        return self.ids[n % len(self.ids)]

    def seconds(self, n: int) -> int:
        return self.base_s + (n // len(self.ids)) * NEW_INTERVAL_S

    def result(self, n: int) -> float:
        return round(10 + (n % 250) / 10, 1)

    def lua(self) -> str:
        """The same in Lua for wrk: ``obs_datastream(n)``, ``obs_time(n)``, ``obs_result(n)``."""
        ids = ",".join(str(i) for i in self.ids)
        return (
            f"obs_ids = {{{ids}}}\n"
            f"obs_base_s = {self.base_s}\n"
            "function obs_datastream(n) return obs_ids[(n % #obs_ids) + 1] end\n"
            "function obs_time(n)\n"
            f"  local t = obs_base_s + math.floor(n / #obs_ids) * {NEW_INTERVAL_S}\n"
            '  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)\n'
            "end\n"
            "function obs_result(n) return string.format('%.1f', 10 + (n % 250) / 10) end\n"
        )


def whole_seconds_from_now(offset_s: int = 0) -> int:
    return int(time.time()) + offset_s

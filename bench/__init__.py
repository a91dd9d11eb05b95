"""klug benchmarks: one JSON line per figure, each with its ratio to a same-run baseline.

A benchmark is a module ``bench/bench_<name>.py`` with a ``run() -> list[Figure]``.
``python -m bench [name ...]`` finds and runs them; see bench/README.md.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import FrameType


class InvalidMeasurement(RuntimeError):
    """The run produced no trustworthy figure (e.g. the server answered errors)."""


@dataclass(frozen=True)
class Figure:
    """One measured figure and the baseline it is compared with in the same run."""

    bench: str
    value: float
    unit: str
    n: int
    baseline: float | None = None
    tool: str | None = None
    # Further facts of the run (``db``, ``scale``, ``lost`` …), appended to the JSON line.
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return round(self.value / self.baseline, 3)

    def as_json(self) -> str:
        record: dict[str, object] = {
            "bench": self.bench,
            "value": round(self.value, 2),
            "unit": self.unit,
            "baseline": None if self.baseline is None else round(self.baseline, 2),
            "ratio": self.ratio,
            "n": self.n,
        }
        if self.tool is not None:
            record["tool"] = self.tool
        record.update({key: value for key, value in self.extra.items() if key not in record})
        return json.dumps(record)


def log(message: str) -> None:
    """Progress and diagnostics go to stderr; stdout carries only the JSON lines."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def seconds_from_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidMeasurement(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise InvalidMeasurement(f"{name} must be positive, got {raw!r}")
    return value


DATABASES = ("sqlite", "postgres")


@dataclass(frozen=True)
class Options:
    """What ``python -m bench --db … --scale …`` asked for, passed on in the environment
    (``KLUG_BENCH_DB``, ``KLUG_BENCH_SCALE``, ``KLUG_BENCH_CACHE``) so that helpers run on
    their own (``python -m bench.profile``, ``python -m bench.dataset``) see the same."""

    db: str = "sqlite"
    scale: float = 1.0
    cache: bool = True


def options() -> Options:
    db = os.environ.get("KLUG_BENCH_DB") or "sqlite"
    if db not in DATABASES:
        raise InvalidMeasurement(f"KLUG_BENCH_DB={db!r}: use {' or '.join(DATABASES)}")
    raw_scale = os.environ.get("KLUG_BENCH_SCALE") or "1"
    try:
        scale = float(raw_scale)
    except ValueError:
        raise InvalidMeasurement(f"KLUG_BENCH_SCALE={raw_scale!r} is not a number") from None
    if not 0 < scale <= 10:
        raise InvalidMeasurement(f"KLUG_BENCH_SCALE must be in (0, 10], got {raw_scale!r}")
    cache = os.environ.get("KLUG_BENCH_CACHE", "1").lower() not in {"0", "false", "no"}
    return Options(db=db, scale=scale, cache=cache)


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def stop_on_sigterm() -> None:
    """Let ``kill <pid>`` unwind like Ctrl-C, so the server subprocess is stopped too."""
    signal.signal(signal.SIGTERM, _exit)

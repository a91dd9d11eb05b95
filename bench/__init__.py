"""klug benchmarks: one JSON line per figure, each with its ratio to a same-run baseline.

A benchmark is a module ``bench/bench_<name>.py`` with a ``run() -> list[Figure]``.
``python -m bench [name ...]`` finds and runs them; see bench/README.md.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
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


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def stop_on_sigterm() -> None:
    """Let ``kill <pid>`` unwind like Ctrl-C, so the server subprocess is stopped too."""
    signal.signal(signal.SIGTERM, _exit)

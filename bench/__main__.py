"""``python -m bench [--db sqlite|postgres] [--scale F] [--no-cache] [name ...]``: run all
benchmarks, or those named (``portal``, ``sta``, ``mqtt``, ``live``).

Exit codes: 0 every benchmark ran, 1 one crashed or measured errors, 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import bench

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

from bench import DATABASES, Figure, InvalidMeasurement, log, stop_on_sigterm

PREFIX = "bench_"


def available() -> list[str]:
    """Benchmark names, from the modules ``bench/bench_<name>.py``."""
    return sorted(
        module.name.removeprefix(PREFIX)
        for module in pkgutil.iter_modules(bench.__path__)
        if module.name.startswith(PREFIX)
    )


def run_one(name: str) -> bool:
    """Run one benchmark and print its figures; False when it crashed or was invalid."""
    log(f"{name}: running")
    try:
        module = importlib.import_module(f"bench.{PREFIX}{name}")
        run = cast(Callable[[], list[Figure]], module.run)
        figures = run()
    except InvalidMeasurement as exc:
        log(f"{name}: INVALID – {exc}")
        return False
    except Exception:
        log(f"{name}: CRASHED")
        traceback.print_exc(file=sys.stderr)
        return False
    for figure in figures:
        print(figure.as_json(), flush=True)
    return True


class _Parser(argparse.ArgumentParser):
    """Help goes to stderr, like every other diagnostic: stdout carries only figures."""

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        super().print_help(file or sys.stderr)


def _parser(names: list[str]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m bench",
        description="klug benchmarks: one JSON line per figure on stdout (see bench/README.md).",
        epilog=f"benchmarks: {', '.join(names)}",
    )
    parser.add_argument("names", nargs="*", metavar="name", help="benchmarks to run (all)")
    parser.add_argument(
        "--db",
        choices=DATABASES,
        default=os.environ.get("KLUG_BENCH_DB") or "sqlite",
        help="database of the server under test (postgres: KLUG_TEST_POSTGRES_URL)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=os.environ.get("KLUG_BENCH_SCALE") or "1",
        help="size of the sensor data set; 1 = 800 Things, 1,600 Datastreams, 22 M "
        "Observations (default 1; 0.01 for a quick run)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="generate the sensor data set afresh and delete it afterwards",
    )
    return parser


def main(argv: list[str]) -> int:
    names = available()
    args = _parser(names).parse_args(argv)
    unknown = [arg for arg in args.names if arg not in names]
    if unknown:
        log(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(names)}")
        return 2
    if not 0 < args.scale <= 10:
        log(f"--scale must be in (0, 10], got {args.scale:g}")
        return 2
    os.environ["KLUG_BENCH_DB"] = args.db
    os.environ["KLUG_BENCH_SCALE"] = repr(args.scale)
    if args.no_cache:
        os.environ["KLUG_BENCH_CACHE"] = "0"
    selected = args.names or names
    stop_on_sigterm()
    results = [run_one(name) for name in selected]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``python -m bench [name ...]``: run all benchmarks, or those named (``portal``).

Exit codes: 0 every benchmark ran, 1 one crashed or measured errors, 2 bad usage.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Callable
from typing import cast

import bench
from bench import Figure, InvalidMeasurement, log, stop_on_sigterm

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


def main(argv: list[str]) -> int:
    names = available()
    if any(arg in {"-h", "--help"} for arg in argv):
        print(__doc__.strip(), file=sys.stderr)
        print(f"benchmarks: {', '.join(names)}", file=sys.stderr)
        return 0
    unknown = [arg for arg in argv if arg not in names]
    if unknown:
        log(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(names)}")
        return 2
    selected = argv or names
    stop_on_sigterm()
    results = [run_one(name) for name in selected]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

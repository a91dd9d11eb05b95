"""Pure time-series calculations: down-sampling, resolution choice, freshness.

No database, no web: callable from a notebook. Times are µs since the epoch (int64),
values float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from tsdownsample import LTTBDownsampler

RESOLUTION_MICROS: dict[str, int] = {"1m": 60_000_000, "1h": 3_600_000_000, "1d": 86_400_000_000}
STALE_AFTER_INTERVALS = 3


def lttb(
    times: NDArray[np.int64], values: NDArray[np.float64], points: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Largest-Triangle-Three-Buckets down-sampling to at most ``points`` points.

    Keeps the first and last point and, per bucket, the point that spans the largest
    triangle with the previous kept point and the next bucket's mean – which preserves
    peaks that averaging would flatten. Steinarsson, S. (2013): Downsampling Time
    Series for Visual Representation, MSc thesis, University of Iceland.

    Parameters
    ----------
    times : int64 array [µs], ascending
    values : float64 array, same length
    points : the number of points wanted (>= 3)
    """
    n = len(times)
    if points >= n or n < 3:
        return times, values
    if points < 3:
        raise ValueError("LTTB needs at least 3 points")
    # tsdownsample's LTTB (Rust) is ~100× faster than a numpy loop over the buckets.
    kept = _LTTB.downsample(times, values, n_out=points)
    return times[kept], values[kept]


_LTTB = LTTBDownsampler()


def choose_resolution(span_micros: int, raw_count: int, points: int) -> str:
    """The finest resolution that returns at most ``points`` points: raw data when it
    fits, else the finest aggregate that does, else daily aggregates thinned by LTTB."""
    if raw_count <= points:
        return "raw"
    for name, length in RESOLUTION_MICROS.items():
        if span_micros // length + 1 <= points:
            return name
    return "1d+lttb"


def is_stale(last_time: int | None, expected_interval_s: int | None, now: int) -> bool | None:
    """No value for three expected intervals: stale. None when no interval is declared.

    Parameters
    ----------
    last_time : time of the latest value [µs], or None
    expected_interval_s : the Datastream's expected interval [s]
    now : the current time [µs]
    """
    if expected_interval_s is None:
        return None
    if last_time is None:
        return True
    return now - last_time > STALE_AFTER_INTERVALS * expected_interval_s * 1_000_000

"""Weather forecasts as they were known: the values of the latest issue before a cutoff.

A forecast Datastream holds every issue of a forecast service (e.g. DWD MOSMIX): each
Observation's phenomenonTime is the hour it is valid for, its resultTime when it was
issued. A day-ahead forecast for a day may only use issues from before that day began,
or its backtest would score forecasts made with hindsight (a later issue, hours before
the weather, is far better than the one a day ahead).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

HOUR_US = 3_600_000_000


def as_known_at(
    hours_us: ArrayLike,
    cutoff_us: ArrayLike,
    valid_us: ArrayLike,
    issued_us: ArrayLike,
    values: ArrayLike,
) -> NDArray[np.float64]:
    """Per target hour: the mean of the values valid in ``[hour, hour + 1 h)`` from the
    latest issue made strictly before that hour's cutoff; NaN where no issue covers it.

    Parameters
    ----------
    hours_us : int64 array
        Starts of the target hours [µs since the epoch, UTC].
    cutoff_us : int64 array or scalar
        Per target hour, the time by which the forecast must have been issued [µs].
    valid_us, issued_us, values : arrays of equal length
        The archive: valid time (start) [µs], issue time [µs] and value of each forecast
        value, in any order. A 15-min forecast gives four values per hour, averaged.
    """
    hours = np.asarray(hours_us, dtype=np.int64)
    cutoffs = np.broadcast_to(np.asarray(cutoff_us, dtype=np.int64), hours.shape)
    valid = np.asarray(valid_us, dtype=np.int64)
    issued = np.asarray(issued_us, dtype=np.int64)
    vals = np.asarray(values, dtype=np.float64)
    if not (len(valid) == len(issued) == len(vals)):
        raise ValueError("valid_us, issued_us and values must have the same length")
    out = np.full(len(hours), np.nan)
    if not len(hours) or not len(valid):
        return out
    if np.any(np.diff(hours) <= 0):
        raise ValueError("hours_us must be strictly increasing")
    # Each archived value belongs to the target hour that contains its valid time.
    slot = np.searchsorted(hours, valid, side="right") - 1
    inside = (slot >= 0) & (valid < hours[np.maximum(slot, 0)] + HOUR_US) & np.isfinite(vals)
    slot, issued, vals = slot[inside], issued[inside], vals[inside]
    known = issued < cutoffs[slot]
    slot, issued, vals = slot[known], issued[known], vals[known]
    if not len(slot):
        return out
    # The latest issue per hour: sort by (hour, issue) and keep each hour's last issue.
    order = np.lexsort((issued, slot))
    slot, issued, vals = slot[order], issued[order], vals[order]
    last_issue = np.zeros(len(hours), dtype=np.int64)
    ends = np.flatnonzero(np.r_[slot[1:] != slot[:-1], True])
    last_issue[slot[ends]] = issued[ends]
    newest = issued == last_issue[slot]
    sums = np.bincount(slot[newest], weights=vals[newest], minlength=len(hours))
    counts = np.bincount(slot[newest], minlength=len(hours))
    np.divide(sums, counts, out=out, where=counts > 0)
    return out

"""The demo city's weather forecast service: total cloud cover, hour by hour, 72 hours
ahead, issued once a day like a MOSMIX run (simulated).

A forecast is the demo sky's true hourly cloud cover (:func:`model.cloud_fraction`) plus
an error that persists over hours and grows with lead time (a standard deviation of 10
percentage points for the next hour, 25 three days ahead): good enough to beat
persistence, never perfect. Each issue is fixed by its time, so an issue sent twice is
the same set of Observations.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from klug.sim.energy.model import DAY_US, SEED, STEP_US, cloud_fraction

HOUR_US = 3_600_000_000
ISSUE_HOUR_UTC = 9  # the morning run, published about three hours after its 06 UTC start
HORIZON_HOURS = 72  # long enough that tomorrow is covered at every hour of today
ERROR_SD_PCT = (10.0, 25.0)  # next hour, last hour
ERROR_PERSISTENCE = 0.9  # AR(1) per hour
WARM_UP_HOURS = 40  # so that the first hour's error already has its full variance


def issue_times(start_us: int, end_us: int) -> list[int]:
    """The issue instants in ``[start_us, end_us]``."""
    first_day = (start_us - ISSUE_HOUR_UTC * HOUR_US + DAY_US - 1) // DAY_US
    last_day = (end_us - ISSUE_HOUR_UTC * HOUR_US) // DAY_US
    return [d * DAY_US + ISSUE_HOUR_UTC * HOUR_US for d in range(first_day, last_day + 1)]


def latest_issue(now_us: int) -> int:
    return issue_times(now_us - DAY_US, now_us)[-1]


def cloud_cover_forecast(issue_us: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """One issue: the starts of the HORIZON_HOURS hours after it (µs) and the forecast mean total
    cloud cover of each [%], rounded to whole percent as forecast services publish it."""
    first = issue_us - issue_us % HOUR_US + HOUR_US
    hours = first + HOUR_US * np.arange(HORIZON_HOURS, dtype=np.int64)
    slots = (hours[:, None] + STEP_US * np.arange(HOUR_US // STEP_US)).ravel()
    truth = 100.0 * cloud_fraction(slots).reshape(HORIZON_HOURS, -1).mean(axis=1)
    rng = np.random.default_rng((SEED, 30, issue_us // HOUR_US))
    shocks = rng.standard_normal(WARM_UP_HOURS + HORIZON_HOURS)
    phi = ERROR_PERSISTENCE
    error = lfilter([math.sqrt(1.0 - phi**2)], [1.0, -phi], shocks)[WARM_UP_HOURS:]
    sd = np.linspace(*ERROR_SD_PCT, HORIZON_HOURS)
    return hours, np.round(np.clip(truth + sd * error, 0.0, 100.0))

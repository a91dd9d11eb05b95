"""Distances on the earth and the published time-to-fix figure – pure functions.

Distances use the haversine formula on a sphere of the mean earth radius (IUGG,
6,371,008.8 m): within a city its error against the WGS84 ellipsoid is below 0.5 %,
i.e. under 25 cm at the 50 m of a duplicate radius – far below the accuracy of a
point set on a phone.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

EARTH_RADIUS_M = 6_371_008.8
_METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance [m] between two WGS84 points [degrees] (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) [degrees] of a box that holds the circle of ``radius_m``
    around the point – the cheap first filter an index can serve before the exact
    distance. Slightly larger than needed, never smaller (valid away from the poles)."""
    dlat = radius_m / _METRES_PER_DEGREE_LAT
    cos_lat = max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    dlon = dlat / cos_lat
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def median_days(durations_s: Sequence[float]) -> float | None:
    """Median of durations [s] in days [d]; ``None`` for none."""
    if not durations_s:
        return None
    return statistics.median(durations_s) / 86_400

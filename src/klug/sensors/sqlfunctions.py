"""SQL functions for SQLite that PostgreSQL (with PostGIS) has built in: the geospatial
predicates of ``$filter`` (evaluated with shapely) and floor/ceiling."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from klug.core.db import register_sqlite_function


@lru_cache(maxsize=4096)
def _geometry(text: str) -> BaseGeometry | None:
    """GeoJSON (stored columns) or WKT (literals in queries)."""
    try:
        if text.lstrip().startswith("{"):
            value = json.loads(text)
            if value.get("type") == "Feature":
                value = value.get("geometry")
            return shape(value)
        return wkt.loads(text)
    except (ShapelyError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None


def _binary(predicate: str) -> Any:
    def evaluate(a: str | None, b: str | None) -> int | None:
        if a is None or b is None:
            return None
        first, second = _geometry(a), _geometry(b)
        if first is None or second is None:
            return None
        return int(getattr(first, predicate)(second))

    return evaluate


def _distance(a: str | None, b: str | None) -> float | None:
    first, second = (_geometry(a) if a else None), (_geometry(b) if b else None)
    if first is None or second is None:
        return None
    return float(first.distance(second))


def _length(a: str | None, _unused: Any = None) -> float | None:
    geometry = _geometry(a) if a else None
    return None if geometry is None else float(geometry.length)


def _relate(a: str | None, b: str | None, pattern: str | None) -> int | None:
    first, second = (_geometry(a) if a else None), (_geometry(b) if b else None)
    if first is None or second is None or pattern is None:
        return None
    return int(first.relate_pattern(second, pattern))


for _name, _predicate in (
    ("geo_intersects", "intersects"),
    ("st_equals", "equals"),
    ("st_disjoint", "disjoint"),
    ("st_touches", "touches"),
    ("st_within", "within"),
    ("st_overlaps", "overlaps"),
    ("st_crosses", "crosses"),
    ("st_intersects", "intersects"),
    ("st_contains", "contains"),
):
    register_sqlite_function("klug_" + _name, 2, _binary(_predicate))
register_sqlite_function("klug_geo_distance", 2, _distance)
register_sqlite_function("klug_geo_length", 1, _length)
register_sqlite_function("klug_st_relate", 3, _relate)
register_sqlite_function("klug_floor", 1, lambda x: None if x is None else math.floor(x))
register_sqlite_function("klug_ceiling", 1, lambda x: None if x is None else math.ceil(x))

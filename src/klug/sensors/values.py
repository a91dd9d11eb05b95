"""Checking and converting property values from request bodies to column values."""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from klug.sensors import timeutil
from klug.sensors.entities import EntityType, Prop

GEOJSON_ENCODINGS = {"application/geo+json", "application/vnd.geo+json"}
MAX_NAME = 255
_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)


class EntityError(ValueError):
    """A request body breaks the data model; the message names the property."""


def check_geojson(value: Any, name: str) -> dict[str, Any]:
    from shapely.errors import ShapelyError
    from shapely.geometry import shape

    if not isinstance(value, dict) or "type" not in value:
        raise EntityError(f"'{name}' must be a GeoJSON object")
    geometry = value.get("geometry") if value.get("type") == "Feature" else value
    try:
        shape(geometry)
    except (ShapelyError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise EntityError(f"'{name}' is not valid GeoJSON") from None
    return value


def column_values(prop: Prop, value: Any, entity: EntityType) -> dict[str, Any]:
    """The column values for one property of a request body."""
    name = prop.name
    kind = prop.kind
    if kind in ("string", "text", "encoding"):
        if not isinstance(value, str):
            raise EntityError(f"'{name}' must be a text")
        if kind == "string" and len(value) > MAX_NAME:
            raise EntityError(f"'{name}' must have at most {MAX_NAME} characters")
        if (
            kind == "encoding"
            and entity.name in ("Location", "FeatureOfInterest")
            and value not in GEOJSON_ENCODINGS
        ):
            raise EntityError(
                f"'{name}' must be application/geo+json (GeoJSON is the encoding klug stores)"
            )
        return {prop.column: value}
    if kind == "geo":
        return {prop.column: check_geojson(value, name)}
    if kind == "json":
        if name == "properties" and value is not None and not isinstance(value, dict):
            raise EntityError("'properties' must be a JSON object")
        if name == "unitOfMeasurement" and not isinstance(value, dict):
            raise EntityError(
                "'unitOfMeasurement' must be an object with name, symbol and definition"
            )
        if name in ("unitOfMeasurements", "multiObservationDataTypes") and not isinstance(
            value, list
        ):
            raise EntityError(f"'{name}' must be a list")
        return {prop.column: value}
    if kind == "time":
        if value is None:
            return {prop.column: None}
        return {prop.column: _instant(value, name)}
    if kind == "interval":
        assert prop.end_column is not None
        if value is None:
            return {prop.column: None, prop.end_column: None}
        parsed = _time_value(value, name)
        return {prop.column: parsed.start, prop.end_column: parsed.end}
    if kind == "result":
        return result_columns(value)
    raise EntityError(f"'{name}' cannot be written")


def _instant(value: Any, name: str) -> int:
    if not isinstance(value, str):
        raise EntityError(f"'{name}' must be an ISO 8601 time text")
    try:
        return timeutil.parse_instant(value)
    except timeutil.TimeFormatError as exc:
        raise EntityError(f"'{name}': {exc}") from None


def _time_value(value: Any, name: str) -> timeutil.TimeValue:
    if not isinstance(value, str):
        raise EntityError(f"'{name}' must be an ISO 8601 time or interval text")
    try:
        return timeutil.parse_time_value(value)
    except timeutil.TimeFormatError as exc:
        raise EntityError(f"'{name}': {exc}") from None


def result_columns(value: Any) -> dict[str, Any]:
    """Numbers go to result_number (aggregates, fast filters); everything else is JSON."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return {
            "result_number": None,
            "result_json": json.dumps(value, separators=(",", ":"), ensure_ascii=False),
        }
    if isinstance(value, float) and not math.isfinite(value):
        raise EntityError("'result' must be a finite number")
    return {"result_number": float(value), "result_json": None}


def result_digest(number: float | None, text: str | None, result_time: int | None = None) -> int:
    """A signed 64-bit hash of the result; 20 and 20.0 are the same result.

    With a resultTime, the time is part of it: a forecast archive holds the same value
    for the same hour from several issues, and each is a distinct Observation (a
    redelivery repeats the resultTime, so it is still recognised).
    """
    canonical = repr(number) if text is None else text
    if result_time is not None:
        canonical = f"{canonical}@{result_time}"
    return int.from_bytes(
        hashlib.blake2b(canonical.encode(), digest_size=8).digest(), "big", signed=True
    )


def stream_settings(properties: dict[str, Any] | None) -> dict[str, Any]:
    """The Datastream ``properties`` that klug acts on:
    public, expectedInterval, rawRetentionDays."""
    properties = properties or {}
    public = properties.get("public", False)
    if not isinstance(public, bool):
        raise EntityError("properties/public must be true or false")
    interval = properties.get("expectedInterval")
    interval_s = None
    if interval is not None:
        if not isinstance(interval, str) or not _DURATION.match(interval):
            raise EntityError(
                "properties/expectedInterval must be an ISO 8601 duration such as PT5M"
            )
        fixed = timeutil.fixed_micros(timeutil.parse_duration(interval))
        if not fixed or fixed <= 0:
            raise EntityError(
                "properties/expectedInterval must be a positive duration without months or years"
            )
        interval_s = max(1, fixed // 1_000_000)
    retention = properties.get("rawRetentionDays")
    if retention is not None and (
        isinstance(retention, bool) or not isinstance(retention, int) or retention < 1
    ):
        raise EntityError("properties/rawRetentionDays must be a whole number of days (at least 1)")
    return {"is_public": public, "expected_interval_s": interval_s, "raw_retention_days": retention}

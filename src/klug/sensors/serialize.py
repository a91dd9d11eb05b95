"""Entities as SensorThings JSON: ``@iot.id``, ``@iot.selfLink``, navigation links,
properties in the standard's names, times in ISO 8601."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from klug.sensors import timeutil
from klug.sensors.entities import EntityType, Prop

MAX_SAFE_INTEGER = 2**53


def result_value(number: float | None, text: str | None) -> Any:
    """A stored result as the client sent it: numbers stay numbers, the rest is JSON."""
    if text is not None:
        return json.loads(text)
    if number is not None and number.is_integer() and abs(number) < MAX_SAFE_INTEGER:
        return int(number)
    return number


def property_value(prop: Prop, row: Mapping[str, Any]) -> Any:
    kind = prop.kind
    if kind == "time":
        return timeutil.format_instant(row[prop.column])
    if kind == "interval":
        assert prop.end_column is not None
        return timeutil.format_time_value(row[prop.column], row[prop.end_column])
    if kind == "result":
        return result_value(row["result_number"], row["result_json"])
    return row[prop.column]


def self_link(base: str, entity: EntityType, entity_id: int) -> str:
    return f"{base}/{entity.set_name}({entity_id})"


def wanted(select: list[str] | None, name: str) -> bool:
    return select is None or name in select


def entity_json(
    entity: EntityType,
    row: Mapping[str, Any],
    base: str,
    select: list[str] | None,
    navs: Iterable[str] | None = None,
) -> dict[str, Any]:
    link = self_link(base, entity, row["id"])
    out: dict[str, Any] = {}
    if wanted(select, "id") or (select is not None and "@iot.id" in select):
        out["@iot.id"] = row["id"]
    if wanted(select, "@iot.selfLink") or (select is not None and "id" in select):
        out["@iot.selfLink"] = link
    for name, prop in entity.props.items():
        if wanted(select, name):
            out[name] = property_value(prop, row)
    for name in entity.navs if navs is None else navs:
        if wanted(select, name):
            out[f"{name}@iot.navigationLink"] = f"{link}/{name}"
    return out

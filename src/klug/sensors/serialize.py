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


_instant = timeutil.format_instant
_PLANS: dict[str, tuple[tuple[str, str, str, str], ...]] = {}


def _plan(entity: EntityType) -> tuple[tuple[str, str, str, str], ...]:
    """(name, kind, column, end column) of each property, in output order."""
    plan = _PLANS.get(entity.name)
    if plan is None:
        plan = _PLANS[entity.name] = tuple(
            (name, prop.kind, prop.column, prop.end_column or "")
            for name, prop in entity.props.items()
        )
    return plan


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
    if select is None:
        # Everything, the common case (1,000 Observations a page): a precomputed plan,
        # no per-property checks or calls.
        out = {"@iot.id": row["id"], "@iot.selfLink": link}
        for name, kind, column, end_column in _plan(entity):
            value = row[column]
            if kind == "time":
                value = None if value is None else _instant(value)
            elif kind == "interval":
                end = row[end_column]
                if value is not None:
                    value = _instant(value) if end is None else f"{_instant(value)}/{_instant(end)}"
            elif kind == "result":
                value = result_value(value, row["result_json"])
            out[name] = value
        for name in entity.navs if navs is None else navs:
            out[f"{name}@iot.navigationLink"] = f"{link}/{name}"
        return out
    out = {}
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

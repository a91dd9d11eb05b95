"""Query options of SensorThings v1.1 §9.3: $filter, $expand, $select, $orderby, $top,
$skip, $count and $resultFormat – parsed and checked against the entity definitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from klug.sensors.entities import ENTITY_TYPES, EntityType
from klug.sensors.odata.errors import ODataError
from klug.sensors.odata.expressions import Node, parse_expression, parse_orderby

DEFAULT_TOP = 100
MAX_TOP = 10_000
MAX_SKIP = 2**53  # far beyond any collection, and an OFFSET both databases accept
KNOWN = ("$filter", "$expand", "$select", "$orderby", "$top", "$skip", "$count", "$resultFormat")


@dataclass
class QueryOptions:
    filter: Node | None = None
    orderby: list[tuple[Node, bool]] = field(default_factory=list)
    top: int = DEFAULT_TOP
    top_given: bool = False
    skip: int = 0
    count: bool = False
    select: list[str] | None = None
    expand: list[ExpandItem] = field(default_factory=list)
    result_format: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


@dataclass
class ExpandItem:
    nav: str
    target: EntityType
    many: bool
    options: QueryOptions


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on a separator outside parentheses and quoted strings."""
    parts: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                raise ODataError("unbalanced ')'")
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0 or quoted:
        raise ODataError("unbalanced parentheses or quotes")
    parts.append("".join(current))
    return parts


def _int(option: str, raw: str, *, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ODataError(f"must be a whole number, got {raw!r}", option=option) from None
    if value < minimum:
        raise ODataError(f"must be at least {minimum}, got {value}", option=option)
    return value


def parse_options(
    params: Mapping[str, str], entity: EntityType, *, nested: bool = False
) -> QueryOptions:
    options = QueryOptions(raw=dict(params))
    for name in params:
        if name.startswith("$") and name not in KNOWN:
            raise ODataError(f"unknown query option; supported are {', '.join(KNOWN)}", option=name)
    if "$top" in params:
        options.top = _int("$top", params["$top"], minimum=0)
        options.top_given = True
        if options.top > MAX_TOP:
            raise ODataError(f"at most {MAX_TOP} entities per page", option="$top")
    if "$skip" in params:
        options.skip = _int("$skip", params["$skip"], minimum=0)
        if options.skip > MAX_SKIP:
            raise ODataError(f"must be at most {MAX_SKIP}", option="$skip")
    if "$count" in params:
        value = params["$count"].strip().lower()
        if value not in ("true", "false"):
            raise ODataError("must be true or false", option="$count")
        options.count = value == "true"
    if "$filter" in params:
        text = params["$filter"]
        try:
            options.filter = parse_expression(text)
        except ODataError as exc:
            raise exc.within("$filter", text) from None
    if "$orderby" in params:
        text = params["$orderby"]
        try:
            options.orderby = parse_orderby(text)
        except ODataError as exc:
            raise exc.within("$orderby", text) from None
    if "$select" in params:
        options.select = _parse_select(params["$select"], entity)
    if "$expand" in params:
        options.expand = parse_expand(params["$expand"], entity)
    if "$resultFormat" in params:
        value = params["$resultFormat"]
        if value != "dataArray":
            raise ODataError("only dataArray is supported", option="$resultFormat")
        if entity.name != "Observation" or nested:
            raise ODataError("dataArray is for Observations", option="$resultFormat")
        options.result_format = value
    return options


def _parse_select(text: str, entity: EntityType) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise ODataError("empty property name", option="$select", text=text)
    for name in names:
        if (
            name in ("id", "@iot.id", "@iot.selfLink")
            or name in entity.props
            or name in entity.navs
        ):
            continue
        known = ", ".join(["id", *entity.props, *entity.navs])
        raise ODataError(
            f"{entity.name} has no property '{name}' (known: {known})", option="$select"
        )
    return names


def parse_expand(text: str, entity: EntityType) -> list[ExpandItem]:
    items: list[ExpandItem] = []
    try:
        parts = split_top_level(text, ",")
    except ODataError as exc:
        raise exc.within("$expand", text) from None
    for part in parts:
        part = part.strip()
        if not part:
            raise ODataError("empty item", option="$expand", text=text)
        head, _, inner = part.partition("(")
        if inner and not inner.endswith(")"):
            raise ODataError(f"unbalanced parentheses in {part!r}", option="$expand")
        nested_params = _parse_nested(inner[:-1]) if inner else {}
        path = [segment.strip() for segment in head.split("/")]
        items.append(_expand_path(path, nested_params, entity, text))
    return _merge(items)


def _parse_nested(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for piece in split_top_level(text, ";"):
        piece = piece.strip()
        if not piece:
            continue
        name, sep, value = piece.partition("=")
        if not sep:
            raise ODataError(f"expected $option=value, got {piece!r}", option="$expand")
        params[name.strip()] = value.strip()
    return params


def _expand_path(
    path: list[str], params: dict[str, str], entity: EntityType, text: str
) -> ExpandItem:
    name = path[0]
    nav = entity.navs.get(name)
    if nav is None:
        known = ", ".join(entity.navs)
        raise ODataError(
            f"{entity.name} has no navigation property '{name}' (known: {known})", option="$expand"
        )
    target = ENTITY_TYPES[nav.target]
    if len(path) > 1:
        # Datastreams/Observations means Datastreams($expand=Observations).
        child = _expand_path(path[1:], params, target, text)
        options = QueryOptions(expand=[child])
    else:
        try:
            options = parse_options(params, target, nested=True)
        except ODataError as exc:
            exc.option = f"$expand={name}({exc.option or ''})"
            raise
    return ExpandItem(name, target, nav.many, options)


def _merge(items: list[ExpandItem]) -> list[ExpandItem]:
    """``Datastreams/Sensor,Datastreams/Thing`` expands Datastreams once, with both."""
    merged: dict[str, ExpandItem] = {}
    for item in items:
        existing = merged.get(item.nav)
        if existing is None:
            merged[item.nav] = item
        else:
            existing.options.expand = _merge(existing.options.expand + item.options.expand)
    return list(merged.values())

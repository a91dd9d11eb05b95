"""Reading SensorThings resources: paths, visibility, query options, expansion, paging."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from klug.sensors import models as m
from klug.sensors import serialize
from klug.sensors.entities import ENTITY_TYPES, EntityType, Nav
from klug.sensors.odata.compiler import Scope, compile_filter, compile_orderby
from klug.sensors.odata.errors import ODataError
from klug.sensors.odata.options import ExpandItem, QueryOptions
from klug.sensors.odata.path import ResourcePath


class NotFoundError(LookupError):
    """The path names an entity that does not exist (or that the reader may not see)."""


@dataclass(frozen=True)
class ReadContext:
    base: str  # service root, e.g. https://klug.example/sta/v1.1
    dialect: str
    privileged: bool  # may read non-public Datastreams and their Observations
    now: int
    postgis: bool = True

    def scope(self, entity: EntityType, table: FromClause) -> Scope:
        return Scope(
            entity,
            table,
            self.dialect,
            self.now,
            self.postgis,
            visible=lambda target, alias: visibility(target, alias, self),
        )


@dataclass
class Target:
    """What a path resolved to: one entity (``entity_id``) or a collection (``conditions``)."""

    entity: EntityType
    entity_id: int | None = None
    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    visibility_checked: bool = False
    parent: tuple[EntityType, int] | None = None  # for collections under one entity
    nav: Nav | None = None
    order: list[Any] = field(default_factory=list)  # the collection's own order, if it has one


# -- visibility -------------------------------------------------------------------------


def visibility(
    entity: EntityType, table: FromClause, ctx: ReadContext
) -> list[ColumnElement[bool]]:
    """Anonymous readers see public Datastreams, their Observations, and all metadata."""
    if ctx.privileged:
        return []
    if entity.name in ("Datastream", "MultiDatastream"):
        return [table.c.is_public.is_(True)]
    if entity.name == "Observation":
        return [
            or_(
                table.c.datastream_id.in_(
                    select(m.datastream.c.id).where(m.datastream.c.is_public.is_(True))
                ),
                table.c.multi_datastream_id.in_(
                    select(m.multi_datastream.c.id).where(m.multi_datastream.c.is_public.is_(True))
                ),
            )
        ]
    return []


# -- paths ------------------------------------------------------------------------------


def link_position(nav: Nav) -> Any:
    """The position column of an ordered link (a MultiDatastream's ObservedProperties are
    in the order of its result arrays), or None."""
    if nav.link is None or "position" not in nav.link.c:
        return None
    return nav.link.c.position


def relation_condition(nav: Nav, target: FromClause, parent_id: Any) -> ColumnElement[bool]:
    """Target rows related to one parent through a to-many navigation property."""
    if nav.back_fk is not None:
        return target.c[nav.back_fk] == parent_id  # type: ignore[no-any-return]
    assert nav.link is not None and nav.link_this and nav.link_target
    related = select(nav.link.c[nav.link_target]).where(nav.link.c[nav.link_this] == parent_id)
    return target.c.id.in_(related)


def _exists(
    session: Session, entity: EntityType, entity_id: int, ctx: ReadContext, extra: list[Any]
) -> bool:
    table = entity.table
    conditions = [table.c.id == entity_id, *visibility(entity, table, ctx), *extra]
    return session.execute(select(table.c.id).where(*conditions)).first() is not None


def resolve(session: Session, path: ResourcePath, ctx: ReadContext) -> Target:
    """Walk the path, checking each step; 404 (NotFoundError) for anything inconsistent."""
    first = path.steps[0]
    if first.id is None:
        target = Target(first.entity)
        target.conditions = visibility(first.entity, first.entity.table, ctx)
        return target
    if not _exists(session, first.entity, first.id, ctx, []):
        raise NotFoundError
    current_entity, current_id = first.entity, first.id
    for step in path.steps[1:]:
        assert step.nav is not None
        nav = current_entity.navs[step.nav]
        target_table = step.entity.table
        if not nav.many:
            assert nav.fk is not None
            fk = session.execute(
                select(current_entity.table.c[nav.fk]).where(
                    current_entity.table.c.id == current_id
                )
            ).scalar()
            if fk is None or not _exists(session, step.entity, fk, ctx, []):
                raise NotFoundError
            current_entity, current_id = step.entity, fk
            continue
        condition = relation_condition(nav, target_table, current_id)
        if step.id is None:
            conditions = [condition]
            # Observations below a Datastream the reader could open are visible as a whole.
            if not (
                step.entity.name == "Observation"
                and current_entity.name in ("Datastream", "MultiDatastream")
            ):
                conditions += visibility(step.entity, target_table, ctx)
            target = Target(
                step.entity, conditions=conditions, parent=(current_entity, current_id), nav=nav
            )
            position = link_position(nav)
            if position is not None:
                assert nav.link is not None and nav.link_this and nav.link_target
                target.order = [
                    select(position)
                    .where(
                        nav.link.c[nav.link_this] == current_id,
                        nav.link.c[nav.link_target] == target_table.c.id,
                    )
                    .scalar_subquery()
                ]
            return target
        if not _exists(session, step.entity, step.id, ctx, [condition]):
            raise NotFoundError
        current_entity, current_id = step.entity, step.id
    return Target(current_entity, entity_id=current_id)


# -- reading ----------------------------------------------------------------------------


def _order(
    entity: EntityType,
    table: FromClause,
    options: QueryOptions,
    ctx: ReadContext,
    own: Sequence[Any] = (),
) -> list[Any]:
    try:
        terms = compile_orderby(options.orderby, ctx.scope(entity, table))
    except ODataError as exc:
        raise exc.within("$orderby", options.raw.get("$orderby", "")) from None
    # A final order by id makes paging stable when other keys tie.
    return [*terms, *own, table.c.id.asc()]


def _conditions(
    entity: EntityType, table: FromClause, options: QueryOptions, ctx: ReadContext
) -> list[Any]:
    if options.filter is None:
        return []
    try:
        return [compile_filter(options.filter, ctx.scope(entity, table))]
    except ODataError as exc:
        raise exc.within("$filter", options.raw.get("$filter", "")) from None


@dataclass
class Page:
    rows: list[dict[str, Any]]
    count: int | None
    more: bool


def read_page(
    session: Session,
    target: Target,
    options: QueryOptions,
    ctx: ReadContext,
) -> Page:
    entity, table = target.entity, target.entity.table
    conditions = [*target.conditions, *_conditions(entity, table, options, ctx)]
    query: Select[Any] = (
        select(table)
        .where(*conditions)
        .order_by(*_order(entity, table, options, ctx, target.order))
        .limit(options.top + 1)
        .offset(options.skip)
    )
    result = session.execute(query)
    keys = list(result.keys())
    # zip over plain rows: several times faster than dict(RowMapping) for 1,000 rows.
    rows = [dict(zip(keys, r, strict=True)) for r in result]
    # $top=0 asks for the count only: a next page of 0 entities would never end.
    more = options.top > 0 and len(rows) > options.top
    rows = rows[: options.top]
    count = _count(session, target, conditions, options, ctx) if options.count else None
    return Page(rows, count, more)


def _count(
    session: Session, target: Target, conditions: list[Any], options: QueryOptions, ctx: ReadContext
) -> int:
    # The Observations of one Datastream, unfiltered: the maintained counter answers at once.
    if (
        options.filter is None
        and target.parent is not None
        and target.entity.name == "Observation"
        and target.parent[0].name in ("Datastream", "MultiDatastream")
    ):
        stream = target.parent[0].table
        counted = session.execute(
            select(stream.c.observation_count).where(stream.c.id == target.parent[1])
        ).scalar()
        return int(counted or 0)
    if options.filter is None and target.parent is None and target.entity.name == "Observation":
        # All Observations: the sum of the (visible) streams' counters, not a scan of the table.
        total = 0
        for stream in (m.datastream, m.multi_datastream):
            query = select(func.coalesce(func.sum(stream.c.observation_count), 0))
            if not ctx.privileged:
                query = query.where(stream.c.is_public.is_(True))
            total += int(session.execute(query).scalar() or 0)
        return total
    table = target.entity.table
    return int(
        session.execute(select(func.count()).select_from(table).where(*conditions)).scalar() or 0
    )


def read_one(session: Session, entity: EntityType, entity_id: int) -> dict[str, Any] | None:
    row = (
        session.execute(select(entity.table).where(entity.table.c.id == entity_id))
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


# -- expansion --------------------------------------------------------------------------


def expand(
    session: Session,
    entity: EntityType,
    rows: Sequence[dict[str, Any]],
    items: list[ExpandItem],
    ctx: ReadContext,
) -> None:
    """Attach ``_expanded[nav] = (rows or row, count, more)`` to each parent row, recursively."""
    if not rows:
        _check_expand(items, ctx)
        return
    for item in items:
        nav = entity.navs[item.nav]
        if nav.many:
            _expand_many(session, entity, rows, item, nav, ctx)
        else:
            _expand_one(session, rows, item, nav, ctx)


def _check_expand(items: list[ExpandItem], ctx: ReadContext) -> None:
    """Compile what an expansion would run, so that a wrong nested $filter is an error
    whether or not there is anything to expand."""
    for item in items:
        table = item.target.table
        _conditions(item.target, table, item.options, ctx)
        _order(item.target, table, item.options, ctx)
        _check_expand(item.options.expand, ctx)


def _expand_one(
    session: Session, rows: Sequence[dict[str, Any]], item: ExpandItem, nav: Nav, ctx: ReadContext
) -> None:
    assert nav.fk is not None
    target, table = item.target, item.target.table
    keys = sorted({r[nav.fk] for r in rows if r[nav.fk] is not None})
    found: dict[int, dict[str, Any]] = {}
    if keys:
        conditions = [
            table.c.id.in_(bindparam("keys", expanding=True)),
            *visibility(target, table, ctx),
        ]
        conditions += _conditions(target, table, item.options, ctx)
        for row in session.execute(select(table).where(*conditions), {"keys": keys}).mappings():
            found[row["id"]] = dict(row)
    children = list(found.values())
    expand(session, target, children, item.options.expand, ctx)
    for r in rows:
        r.setdefault("_expanded", {})[item.nav] = (found.get(r[nav.fk]), None, False)


def _expand_many(
    session: Session,
    entity: EntityType,
    rows: Sequence[dict[str, Any]],
    item: ExpandItem,
    nav: Nav,
    ctx: ReadContext,
) -> None:
    target, table = item.target, item.target.table
    options = item.options
    parent_ids = sorted({r["id"] for r in rows})
    if nav.back_fk is not None:
        parent_key = table.c[nav.back_fk]
        froms: list[FromClause] = [table]
        join_conditions: list[Any] = []
    else:
        assert nav.link is not None and nav.link_this and nav.link_target
        link = nav.link
        parent_key = link.c[nav.link_this]
        froms = [table, link]
        join_conditions = [link.c[nav.link_target] == table.c.id]
    conditions = [
        parent_key.in_(bindparam("parents", expanding=True)),
        *join_conditions,
        *_conditions(target, table, options, ctx),
    ]
    if not (target.name == "Observation" and entity.name in ("Datastream", "MultiDatastream")):
        conditions += visibility(target, table, ctx)
    position = link_position(nav)
    own = [] if position is None else [position]
    rank = func.row_number().over(
        partition_by=parent_key, order_by=_order(target, table, options, ctx, own)
    )
    inner = (
        select(table, parent_key.label("klug_parent"), rank.label("klug_rank"))
        .select_from(*froms)
        .where(*conditions)
        .subquery()
    )
    query = (
        select(inner)
        .where(
            inner.c.klug_rank > options.skip, inner.c.klug_rank <= options.skip + options.top + 1
        )
        .order_by(inner.c.klug_parent, inner.c.klug_rank)
    )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in session.execute(query, {"parents": parent_ids}).mappings():
        grouped[row["klug_parent"]].append(dict(row))
    counts: dict[int, int] = {}
    if options.count:
        count_query = (
            select(parent_key, func.count())
            .select_from(*froms)
            .where(*conditions)
            .group_by(parent_key)
        )
        counts = {row[0]: row[1] for row in session.execute(count_query, {"parents": parent_ids})}
    children = [child for group in grouped.values() for child in group[: options.top]]
    expand(session, target, children, options.expand, ctx)
    for r in rows:
        group = grouped.get(r["id"], [])
        count = counts.get(r["id"], 0) if options.count else None
        r.setdefault("_expanded", {})[item.nav] = (
            group[: options.top],
            count,
            options.top > 0 and len(group) > options.top,
        )


# -- rendering --------------------------------------------------------------------------


def render_entity(
    entity: EntityType, row: Mapping[str, Any], options: QueryOptions, ctx: ReadContext
) -> dict[str, Any]:
    out = serialize.entity_json(entity, row, ctx.base, options.select)
    expanded = row.get("_expanded", {})
    for item in options.expand:
        value, count, more = expanded.get(item.nav, (None, None, False))
        if item.many:
            link = serialize.self_link(ctx.base, entity, row["id"]) + "/" + item.nav
            if count is not None:
                out[f"{item.nav}@iot.count"] = count
            out[item.nav] = [
                render_entity(item.target, child, item.options, ctx) for child in value or []
            ]
            if more:
                out[f"{item.nav}@iot.nextLink"] = link + "?" + _next_query(item.options)
        else:
            out[item.nav] = render_entity(item.target, value, item.options, ctx) if value else None
    return out


def _next_query(options: QueryOptions) -> str:
    params = {k: v for k, v in options.raw.items() if k not in ("$skip", "$top")}
    params["$top"] = str(options.top)
    params["$skip"] = str(options.skip + options.top)
    return urlencode(params)


def next_link(url_without_query: str, options: QueryOptions) -> str:
    return url_without_query + "?" + _next_query(options)


def render_page(
    entity: EntityType, page: Page, options: QueryOptions, ctx: ReadContext, url: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if page.count is not None:
        out["@iot.count"] = page.count
    if page.more:
        out["@iot.nextLink"] = next_link(url, options)
    out["value"] = [render_entity(entity, row, options, ctx) for row in page.rows]
    return out


def render_data_array(
    page: Page, options: QueryOptions, ctx: ReadContext, url: str
) -> dict[str, Any]:
    """Observations grouped by (Multi)Datastream as ``components`` + ``dataArray`` (§14.3)."""
    observation = ENTITY_TYPES["Observation"]
    components = options.select or ["id", *observation.props]
    for name in components:
        if name not in ("id", "@iot.id") and name not in observation.props:
            raise ODataError(f"{name!r} cannot be a dataArray component", option="$select")
    groups: dict[tuple[str, int], list[list[Any]]] = defaultdict(list)
    for row in page.rows:
        key = (
            ("Datastreams", row["datastream_id"])
            if row["datastream_id"]
            else ("MultiDatastreams", row["multi_datastream_id"])
        )
        values = [
            row["id"]
            if name in ("id", "@iot.id")
            else serialize.property_value(observation.props[name], row)
            for name in components
        ]
        groups[key].append(values)
    value = []
    for (set_name, stream_id), data in groups.items():
        link_name = "Datastream" if set_name == "Datastreams" else "MultiDatastream"
        value.append(
            {
                f"{link_name}@iot.navigationLink": f"{ctx.base}/{set_name}({stream_id})",
                "components": components,
                "dataArray@iot.count": len(data),
                "dataArray": data,
            }
        )
    out: dict[str, Any] = {}
    if page.count is not None:
        out["@iot.count"] = page.count
    if page.more:
        out["@iot.nextLink"] = next_link(url, options)
    out["value"] = value
    return out

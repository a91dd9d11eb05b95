"""Compile ``$filter``/``$orderby`` syntax trees to SQLAlchemy expressions.

Every literal becomes a bound parameter; identifiers are resolved against the entity
definitions, never pasted into SQL. The same tree compiles for SQLite and PostgreSQL.

Time semantics. Times are µs since the epoch. A property like ``phenomenonTime`` may hold
an instant or an interval ``[start, end)``. Comparisons with an interval A and a time B:

* ``A eq B``: same start and same end (an instant's end is its start);
* ``A lt B``: A is over before B begins
  (instant: ``start < B.start``; interval: ``end <= B.start``);
* ``A gt B``: A begins after B is over (``A.start > B.start`` for an instant B, ``>= B.end`` else);
* ``A ge B`` for an instant B: A begins at or after B (``A.start >= B``), so that an
  interval starting at B counts; ``A le B`` for an instant A mirrors it (``A <= B.start``);
* otherwise ``A le B``/``A ge B``: as lt/gt, or equal.

Extension functions ``overlaps``, ``before``, ``after``, ``meets``, ``during`` take two times.
Durations (``duration'PT1H'``) add to and subtract from times; months and years only
with constant times (``now() sub duration'P1M'``), as their length depends on the date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Numeric,
    String,
    Text,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    not_,
    null,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from klug.sensors import timeutil
from klug.sensors.entities import ENTITY_TYPES, EntityType, Nav, Prop
from klug.sensors.odata.errors import ODataError
from klug.sensors.odata.expressions import Binary, Call, Literal, Member, Node, Unary

DAY = 86_400_000_000
MAX_INTEGER = 2**63 - 1  # what both databases can bind as a whole number
# A DE-9IM intersection matrix pattern for st_relate, e.g. 'T*F**F***' (within).
DE9IM = re.compile(r"^[TF*012]{9}$", re.IGNORECASE)


@dataclass(frozen=True)
class Chain:
    """How a path reached another table: FROM items and join conditions (correlated)."""

    froms: tuple[FromClause, ...] = ()
    conditions: tuple[ColumnElement[bool], ...] = ()
    many: bool = False

    def extend(
        self, froms: tuple[FromClause, ...], conditions: tuple[ColumnElement[bool], ...], many: bool
    ) -> Chain:
        return Chain(self.froms + froms, self.conditions + conditions, self.many or many)


@dataclass(frozen=True)
class Expr:
    kind: str
    sql: Any = None
    end: Any = None  # interval end
    text: Any = None  # result: JSON text of non-numeric results
    jtype: Any = None  # SQLite: json_type() of a JSON value (PostgreSQL asks jsonb_typeof)
    geometry: bool = False  # sql is already a PostGIS geometry
    constant: timeutil.TimeValue | None = None  # a time known at compile time
    duration: Any = None  # a duration literal (timedelta or isodate.Duration)
    chain: Chain = field(default_factory=Chain)


Visibility = Callable[[EntityType, FromClause], list[ColumnElement[bool]]]


@dataclass
class Scope:
    entity: EntityType
    table: FromClause
    dialect: str
    now: int
    postgis: bool = True
    # What the reader may see of each table a path reaches: a condition on a non-public
    # Datastream must not reveal it (or its Observations) either.
    visible: Visibility | None = None


class Compiler:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.pg = scope.dialect == "postgresql"

    # -- entry points ---------------------------------------------------------------------

    def filter(self, node: Node) -> ColumnElement[bool]:
        return self.boolean(self.compile(node))

    def order_terms(self, node: Node) -> list[ColumnElement[Any]]:
        expr = self.compile(node)
        if expr.chain.many:
            raise ODataError("$orderby cannot use a path through a collection")
        expr = self._materialise(expr)
        if expr.kind == "interval":
            return [expr.sql, expr.end]
        if expr.kind == "result":
            return [expr.sql, expr.text]
        if expr.kind == "json":
            # Numbers by value (12 after 2, not as texts), then the other values by text.
            return [self._json_as(expr, "number"), self._json_as_text(expr.sql)]
        if expr.kind == "geo" and not expr.geometry:
            return [self._json_as_text(expr.sql)]
        if expr.sql is None or expr.kind in ("geo", "null"):
            raise ODataError("this expression cannot be used to sort")
        return [expr.sql]

    # -- dispatch -------------------------------------------------------------------------

    def compile(self, node: Node) -> Expr:
        if isinstance(node, Literal):
            with _pointing_at(node.position):
                return self.literal(node)
        if isinstance(node, Member):
            with _pointing_at(node.position):
                return self.member(node.path)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            with _pointing_at(node.position):
                return self.call(node)
        raise ODataError(f"unsupported expression {node!r}")

    # -- literals -------------------------------------------------------------------------

    def literal(self, node: Literal) -> Expr:
        kind, value = node.kind, node.value
        if kind == "number":
            if isinstance(value, int) and abs(value) > MAX_INTEGER:
                raise ODataError(f"the number {value} is too large (at most {MAX_INTEGER})")
            return Expr("number", literal(value, Float if isinstance(value, float) else BigInteger))
        if kind == "string":
            return Expr("string", literal(value, String))
        if kind == "bool":
            return Expr("bool", literal(value, Boolean))
        if kind == "null":
            return Expr("null", null())
        if kind in ("time", "date"):
            try:
                parsed = (
                    timeutil.parse_time_value(value)
                    if kind == "time"
                    else timeutil.TimeValue(timeutil.parse_instant(value + "T00:00:00Z"))
                )
            except timeutil.TimeFormatError as exc:
                raise ODataError(str(exc)) from None
            return self._time_constant(parsed)
        if kind == "timeofday":
            parts = [float(p) for p in value.split(":")]
            micros = int(
                ((parts[0] * 60 + parts[1]) * 60 + (parts[2] if len(parts) > 2 else 0)) * 1_000_000
            )
            return Expr("number", literal(micros, BigInteger))
        if kind == "duration":
            try:
                duration = timeutil.parse_duration(value)
            except timeutil.TimeFormatError as exc:
                raise ODataError(str(exc)) from None
            fixed = timeutil.fixed_micros(duration)
            if fixed is not None and abs(fixed) > MAX_INTEGER:
                raise ODataError(f"the duration {value!r} is too long")
            return Expr("duration", duration=duration)
        if kind == "geometry":
            return self._geometry_literal(value)
        raise ODataError(f"unsupported literal {value!r}")

    def _time_constant(self, value: timeutil.TimeValue) -> Expr:
        start = literal(value.start, BigInteger)
        if value.end is None:
            return Expr("time", start, constant=value)
        return Expr("interval", start, end=literal(value.end, BigInteger), constant=value)

    def _geometry_literal(self, wkt: str) -> Expr:
        from shapely import wkt as shapely_wkt
        from shapely.errors import ShapelyError

        try:
            shapely_wkt.loads(wkt)
        except (ShapelyError, ValueError):
            raise ODataError(f"not a WKT geometry: {wkt!r}") from None
        if self.pg:
            return Expr("geo", func.ST_GeomFromText(literal(wkt, String), 4326), geometry=True)
        return Expr("geo", literal(wkt, String))

    # -- members --------------------------------------------------------------------------

    def member(self, path: tuple[str, ...]) -> Expr:
        entity = self.scope.entity
        table = self.scope.table
        chain = Chain()
        index = 0
        while index < len(path):
            name = path[index]
            last = index == len(path) - 1
            if name in ("id", "@iot.id"):
                if not last:
                    raise ODataError(f"'{name}' has no properties")
                return Expr("number", table.c.id, chain=chain)
            nav = entity.navs.get(name)
            if (
                nav is not None
                and nav.fk is not None
                and path[index + 1 :] in (("id",), ("@iot.id",))
            ):
                # Datastream/id is this row's own column: no join, and the index applies.
                return Expr("number", table.c[nav.fk], chain=chain)
            if nav is not None:
                if last:
                    raise ODataError(
                        f"'{name}' is an entity; name one of its properties, e.g. {name}/id"
                    )
                entity, table, chain = self._navigate(entity, table, nav, chain)
                index += 1
                continue
            prop = entity.prop(name)
            if prop is None:
                raise ODataError(f"{entity.name} has no property '{name}'")
            rest = path[index + 1 :]
            return self._property(prop, table, rest, chain)
        raise ODataError("empty property path")

    def _navigate(
        self, entity: EntityType, table: FromClause, nav: Nav, chain: Chain
    ) -> tuple[EntityType, FromClause, Chain]:
        target = ENTITY_TYPES[nav.target]
        alias = target.table.alias()
        visible = tuple(self.scope.visible(target, alias)) if self.scope.visible else ()
        if nav.fk is not None:
            condition = alias.c.id == table.c[nav.fk]
            return target, alias, chain.extend((alias,), (condition, *visible), False)
        if nav.back_fk is not None:
            condition = alias.c[nav.back_fk] == table.c.id
            return target, alias, chain.extend((alias,), (condition, *visible), True)
        assert nav.link is not None and nav.link_this and nav.link_target
        link = nav.link.alias()
        conditions = (link.c[nav.link_this] == table.c.id, alias.c.id == link.c[nav.link_target])
        return target, alias, chain.extend((link, alias), (*conditions, *visible), True)

    def _property(self, prop: Prop, table: FromClause, rest: tuple[str, ...], chain: Chain) -> Expr:
        column = table.c[prop.column]
        if prop.kind in ("json", "geo"):
            if rest:
                return self._json_path(column, rest, text_column=False, chain=chain)
            # SQLite: a JSON null and a missing value are both null to a client.
            jtype = None if self.pg else func.json_type(column)
            return Expr(prop.kind, column, jtype=jtype, chain=chain)
        if prop.kind == "result":
            if rest:
                return self._json_path(table.c.result_json, rest, text_column=True, chain=chain)
            return Expr("result", column, text=table.c.result_json, chain=chain)
        if rest:
            raise ODataError(f"'{prop.name}' has no properties")
        if prop.kind == "interval":
            assert prop.end_column is not None
            return Expr("interval", column, end=table.c[prop.end_column], chain=chain)
        if prop.kind == "time":
            return Expr("time", column, chain=chain)
        return Expr("string", column, chain=chain)

    def _json_path(
        self, column: Any, path: tuple[str, ...], *, text_column: bool, chain: Chain
    ) -> Expr:
        if self.pg:
            source = cast(column, JSONB) if text_column else column
            pointer = _text_array("{" + ",".join(_pg_key(p) for p in path) + "}")
            return Expr("json", source.op("#>")(pointer), chain=chain)
        json_path = literal(
            "$"
            + "".join(
                f"[{p}]" if p.isdigit() else '."' + p.replace('"', '\\"') + '"' for p in path
            ),
            String,
        )
        return Expr(
            "json",
            func.json_extract(column, json_path),
            jtype=func.json_type(column, json_path),
            chain=chain,
        )

    # -- operators ------------------------------------------------------------------------

    def unary(self, node: Unary) -> Expr:
        operand = self.compile(node.operand)
        if node.op == "not":
            return Expr("bool", not_(self.boolean(operand)))
        number = self.as_number(operand)
        return Expr("number", -number.sql, chain=number.chain)

    def binary(self, node: Binary) -> Expr:
        op = node.op
        if op in ("and", "or"):
            left, right = (
                self.boolean(self.compile(node.left)),
                self.boolean(self.compile(node.right)),
            )
            return Expr("bool", and_(left, right) if op == "and" else or_(left, right))
        first, second = self.compile(node.left), self.compile(node.right)
        if op in ("add", "sub", "mul", "div", "mod"):
            return self.arithmetic(op, first, second)
        return Expr("bool", self.comparison(op, first, second), chain=_merge_chains(first, second))

    def arithmetic(self, op: str, left: Expr, right: Expr) -> Expr:
        if op in ("add", "sub") and (
            left.kind in ("time", "interval") or right.kind in ("time", "interval")
        ):
            return self._time_arithmetic(op, left, right)
        if left.kind == "duration" or right.kind == "duration":
            raise ODataError("durations can only be added to or subtracted from times")
        chain = _merge_chains(left, right)
        a, b = self.as_number(left).sql, self.as_number(right).sql
        # Division by zero has no value (PostgreSQL would abort the query).
        divisor = func.nullif(b, 0)
        sql = {
            "add": lambda: a + b,
            "sub": lambda: a - b,
            "mul": lambda: a * b,
            "div": lambda: cast(a, Float) / divisor,
            "mod": lambda: a - b * self._truncate(cast(a, Float) / divisor),
        }[op]()
        return Expr("number", sql, chain=chain)

    def _truncate(self, number: Any) -> Any:
        """Towards zero, so that ``mod`` keeps the sign of the dividend (OData): SQL's ``%``
        truncates decimals on SQLite and does not exist for floats on PostgreSQL."""
        return func.trunc(number) if self.pg else cast(number, Integer)

    def _time_arithmetic(self, op: str, left: Expr, right: Expr) -> Expr:
        if left.kind in ("time", "interval") and right.kind in ("time", "interval"):
            if op != "sub":
                raise ODataError("two times cannot be added")
            # The difference of two times is a duration in µs, comparable with duration'…'.
            return Expr("micros", left.sql - right.sql, chain=_merge_chains(left, right))
        time_side, other = (left, right) if left.kind in ("time", "interval") else (right, left)
        if op == "sub" and time_side is right:
            raise ODataError("a time can only be subtracted from a time")
        if other.kind != "duration":
            raise ODataError("times can be shifted by durations only, e.g. duration'PT1H'")
        sign = 1 if op == "add" else -1
        if time_side.constant is not None:
            constant = time_side.constant
            try:
                start = timeutil.add_duration(constant.start, other.duration, sign)
                end = (
                    None
                    if constant.end is None
                    else timeutil.add_duration(constant.end, other.duration, sign)
                )
            except timeutil.TimeFormatError as exc:
                raise ODataError(str(exc)) from None
            return self._time_constant(timeutil.TimeValue(start, end))
        fixed = timeutil.fixed_micros(other.duration)
        if fixed is None:
            raise ODataError(
                "durations with months or years can only shift constant times (e.g. now())"
            )
        shift = literal(sign * fixed, BigInteger)
        end = None if time_side.end is None else time_side.end + shift
        return Expr(time_side.kind, time_side.sql + shift, end=end, chain=time_side.chain)

    def comparison(self, op: str, left: Expr, right: Expr) -> ColumnElement[bool]:
        if left.kind == "null" or right.kind == "null":
            other = right if left.kind == "null" else left
            if op not in ("eq", "ne"):
                raise ODataError("null can only be compared with eq or ne")
            return self._null_check(other, op == "eq")
        if left.kind in ("time", "interval") or right.kind in ("time", "interval"):
            return self._time_comparison(op, left, right)
        if "duration" in (left.kind, right.kind) or "micros" in (left.kind, right.kind):
            a, b = self._as_micros(left), self._as_micros(right)
            return _compare(op, a, b)
        if "geo" in (left.kind, right.kind):
            raise ODataError("geometries are compared with geo.* and st_* functions")
        target = _comparison_type(left, right)
        a, b = self.coerce(left, target), self.coerce(right, target)
        return _compare(op, a, b)

    def _null_check(self, expr: Expr, is_null: bool) -> ColumnElement[bool]:
        expr = self._materialise(expr) if not expr.chain.many else expr
        if expr.kind == "result":
            both = and_(expr.sql.is_(None), or_(expr.text.is_(None), expr.text == "null"))
            return both if is_null else not_(both)
        sql = expr.sql
        if expr.kind == "json":
            # A missing key and a JSON null are both "null" to a client.
            sql = self._json_as_text(sql) if self.pg else expr.jtype
            if not self.pg:
                missing = or_(sql.is_(None), sql == "null")
                return missing if is_null else not_(missing)
        checked: ColumnElement[bool] = sql.is_(None) if is_null else sql.is_not(None)
        return checked

    def _as_micros(self, expr: Expr) -> Any:
        if expr.kind == "duration":
            fixed = timeutil.fixed_micros(expr.duration)
            if fixed is None:
                raise ODataError("a duration with months or years has no fixed length to compare")
            return literal(fixed, BigInteger)
        if expr.kind == "micros":
            return self._materialise(expr).sql
        raise ODataError("a duration can only be compared with another duration")

    def _time_comparison(self, op: str, left: Expr, right: Expr) -> ColumnElement[bool]:
        for side in (left, right):
            if side.kind not in ("time", "interval"):
                raise ODataError(
                    "a time can only be compared with another time (e.g. 2026-01-01T00:00:00Z)"
                )
        a, b = self._materialise(left), self._materialise(right)
        a_end = a.end if a.kind == "interval" else None
        b_end = b.end if b.kind == "interval" else None
        a_last = func.coalesce(a_end, a.sql) if a_end is not None else a.sql
        b_last = func.coalesce(b_end, b.sql) if b_end is not None else b.sql
        equal = and_(a.sql == b.sql, a_last == b_last)
        if op == "eq":
            return equal
        if op == "ne":
            return not_(equal)
        if op == "ge" and b_end is None:
            return a.sql >= b.sql  # type: ignore[no-any-return]
        if op == "le" and a_end is None:
            return a.sql <= b.sql  # type: ignore[no-any-return]
        before = _before(a.sql, a_end, b.sql)
        after = _before(b.sql, b_end, a.sql)
        condition: ColumnElement[bool] = {
            "lt": before,
            "gt": after,
            "le": or_(before, equal),
            "ge": or_(after, equal),
        }[op]
        # Implied, but said outright: an index on the start time bounds the scan with it
        # (an interval never starts after it ends, so A before-or-at B starts by B's start).
        if op in ("lt", "le") and a_end is not None:
            condition = and_(a.sql <= b.sql, condition)
        elif op in ("gt", "ge") and b_end is not None:
            condition = and_(b.sql <= a.sql, condition)
        return condition

    # -- coercion -------------------------------------------------------------------------

    def boolean(self, expr: Expr) -> ColumnElement[bool]:
        if expr.kind == "json":
            value = expr if expr.chain.many else self._materialise(expr)
            expr = replace(value, kind="bool", sql=self._json_as(value, "boolean"))
        elif expr.kind != "bool":
            raise ODataError("the expression is not a condition (true or false)")
        if expr.chain.many:
            # A condition on a path through a collection: true if it holds for any member.
            return exists(
                select(literal(1))
                .select_from(*expr.chain.froms)
                .where(*expr.chain.conditions, expr.sql)
            )
        return expr.sql  # type: ignore[no-any-return]

    def _materialise(self, expr: Expr) -> Expr:
        """Turn a path through to-one navigation into correlated scalar subqueries."""
        if not expr.chain.froms or expr.chain.many:
            return expr

        def scalar(column: Any) -> Any:
            if column is None:
                return None
            return (
                select(column)
                .select_from(*expr.chain.froms)
                .where(*expr.chain.conditions)
                .scalar_subquery()
            )

        return replace(
            expr,
            sql=scalar(expr.sql),
            end=scalar(expr.end),
            text=scalar(expr.text),
            jtype=scalar(expr.jtype),
            chain=Chain(),
        )

    def coerce(self, expr: Expr, target: str) -> Any:
        if not expr.chain.many:
            expr = self._materialise(expr)
        if target == "number":
            return self.as_number(expr).sql
        if target == "string":
            return self.as_string(expr).sql
        if target == "bool":
            if expr.kind == "bool":
                return expr.sql
            if expr.kind == "json":
                return self._json_as(expr, "boolean")
            if expr.kind == "result":
                return self._json_as(self._result_json(expr), "boolean")
        raise ODataError(f"cannot compare {expr.kind} with {target}")

    def as_number(self, expr: Expr) -> Expr:
        if not expr.chain.many:
            expr = self._materialise(expr)
        if expr.kind == "number":
            return expr
        if expr.kind == "result":
            return Expr("number", expr.sql, chain=expr.chain)
        if expr.kind == "json":
            return Expr("number", self._json_as(expr, "number"), chain=expr.chain)
        if expr.kind in ("time", "interval", "micros"):
            return Expr("number", expr.sql, chain=expr.chain)
        raise ODataError(f"a {_describe(expr.kind)} is not a number")

    def as_string(self, expr: Expr) -> Expr:
        if not expr.chain.many:
            expr = self._materialise(expr)
        if expr.kind == "string":
            return expr
        if expr.kind == "json":
            return Expr("string", self._json_as(expr, "string"), chain=expr.chain)
        if expr.kind == "result":
            return Expr(
                "string", self._json_as(self._result_json(expr), "string"), chain=expr.chain
            )
        raise ODataError(f"a {_describe(expr.kind)} is not a text")

    def _result_json(self, expr: Expr) -> Expr:
        """The JSON value of a non-numeric result (strings, booleans, objects)."""
        if self.pg:
            return Expr("json", cast(expr.text, JSONB), chain=expr.chain)
        root = literal("$", String)
        return Expr(
            "json",
            func.json_extract(expr.text, root),
            jtype=func.json_type(expr.text, root),
            chain=expr.chain,
        )

    def _json_as(self, expr: Expr, kind: str) -> Any:
        """A JSON value as number/string/boolean, or NULL when it is of another type
        (so that the text '5' never equals the number 5)."""
        if self.pg:
            cast_to = {"number": Float, "string": String, "boolean": Boolean}[kind]
            text = expr.sql.op("#>>")(_text_array("{}"))
            return case((func.jsonb_typeof(expr.sql) == kind, cast(text, cast_to)), else_=null())
        if kind == "boolean":
            return case((expr.jtype == "true", 1), (expr.jtype == "false", 0), else_=null())
        types = ("integer", "real") if kind == "number" else ("text",)
        return case((expr.jtype.in_(types), expr.sql), else_=null())

    def _json_as_text(self, sql: Any) -> Any:
        if self.pg:
            return sql.op("#>>")(_text_array("{}"))
        return sql

    # -- functions ------------------------------------------------------------------------

    def call(self, node: Call) -> Expr:
        name = node.name
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise ODataError(f"unknown function '{name}'")
        arity, implementation = handler
        if len(node.args) not in arity:
            expected = " or ".join(str(n) for n in sorted(arity))
            raise ODataError(f"{name}() takes {expected} argument(s), got {len(node.args)}")
        args = [self.compile(arg) for arg in node.args]
        return implementation(self, args)

    def _string_fn(self, args: list[Expr], build: Callable[..., Any], kind: str) -> Expr:
        strings = [self.as_string(a) for a in args]
        chain = _merge_chains(*strings)
        return Expr(kind, build(*[s.sql for s in strings]), chain=chain)

    def _contains(self, haystack: Any, needle: Any) -> Any:
        return (func.strpos(haystack, needle) if self.pg else func.instr(haystack, needle)) > 0

    def _date_part(self, args: list[Expr], part: str) -> Expr:
        time = self._time_arg(args[0])
        seconds = cast(time.sql, Float) / 1_000_000
        if self.pg:
            value = extract(part, func.timezone("UTC", func.to_timestamp(seconds)))
            sql = cast(func.floor(value), Integer) if part == "second" else cast(value, Integer)
        else:
            fmt = {
                "year": "%Y",
                "month": "%m",
                "day": "%d",
                "hour": "%H",
                "minute": "%M",
                "second": "%S",
            }[part]
            sql = cast(func.strftime(fmt, seconds, "unixepoch"), Integer)
        return Expr("number", sql, chain=time.chain)

    def _time_arg(self, expr: Expr) -> Expr:
        if expr.kind not in ("time", "interval"):
            raise ODataError("this function takes a time")
        return self._materialise(expr) if not expr.chain.many else expr

    def _geo_arg(self, expr: Expr) -> Any:
        # Only validated GeoJSON (location, feature, observedArea): PostGIS aborts the whole
        # query on the first JSON value that is not a geometry.
        if expr.kind != "geo":
            raise ODataError(
                "geospatial functions take geometries "
                "(e.g. location, or geography'POINT(7.77 49.44)')"
            )
        expr = self._materialise(expr)
        if not self.pg:
            return expr.sql
        if not self.scope.postgis:
            raise ODataError(
                "geospatial functions need the PostGIS extension on this PostgreSQL server"
            )
        if expr.geometry:
            return expr.sql
        # A GeoJSON Feature (allowed by the standard) is measured by its geometry.
        is_feature = expr.sql.op("->>")(literal("type", String)) == "Feature"
        geometry = case(
            (is_feature, expr.sql.op("->")(literal("geometry", String))), else_=expr.sql
        )
        return func.ST_GeomFromGeoJSON(cast(geometry, String))

    def _geo(self, name: str, args: list[Expr], kind: str) -> Expr:
        geometries = [self._geo_arg(a) for a in args[:2]]
        extra = [self.as_string(args[2]).sql] if len(args) > 2 else []
        if self.pg and name == "geo.length":
            # As shapely measures on SQLite: a polygon by its perimeter (ST_Length gives 0).
            sql = func.ST_Length(geometries[0]) + func.ST_Perimeter(geometries[0])
        elif self.pg:
            sql = getattr(func, _POSTGIS[name])(*geometries, *extra)
        else:
            sql = getattr(func, "klug_" + name.replace(".", "_"))(*geometries, *extra)
            if kind == "bool":
                sql = sql == 1
        return Expr(kind, sql, chain=_merge_chains(*args[:2]))

    def _interval_relation(self, name: str, args: list[Expr]) -> Expr:
        a, b = (self._time_arg(x) for x in args)
        a_end = func.coalesce(a.end, a.sql) if a.kind == "interval" else a.sql
        b_end = func.coalesce(b.end, b.sql) if b.kind == "interval" else b.sql
        relations = {
            "overlaps": lambda: and_(a.sql < b_end, b.sql < a_end) | and_(a.sql == b.sql),
            # As lt and gt: strict for instants, an interval [start, end) may end at B.
            "before": lambda: _before(a.sql, a.end if a.kind == "interval" else None, b.sql),
            "after": lambda: _before(b.sql, b.end if b.kind == "interval" else None, a.sql),
            "meets": lambda: or_(a_end == b.sql, b_end == a.sql),
            "during": lambda: and_(a.sql >= b.sql, a_end <= b_end),
            "starts": lambda: a.sql == b.sql,
            "finishes": lambda: a_end == b_end,
        }
        return Expr("bool", relations[name](), chain=_merge_chains(a, b))


@contextmanager
def _pointing_at(position: int | None) -> Iterator[None]:
    """Errors of a literal, property or function point at it (inner ones keep theirs)."""
    try:
        yield
    except ODataError as exc:
        if exc.position is None:
            exc.position = position
        raise


def _text_array(value: str) -> Any:
    """A PostgreSQL text[] parameter (the path operand of #> and #>>)."""
    return cast(literal(value, Text), ARRAY(Text))


def _pg_key(key: str) -> str:
    if any(c in key for c in ',{}" \\'):
        return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return key


def _describe(kind: str) -> str:
    return {"geo": "geometry", "interval": "time", "micros": "duration"}.get(kind, kind)


def _merge_chains(*exprs: Expr) -> Chain:
    many = [e.chain for e in exprs if e.chain.many]
    if len(many) > 1:
        raise ODataError("one condition can follow only one path through a collection")
    if many:
        return many[0]
    return Chain()


def _comparison_type(left: Expr, right: Expr) -> str:
    kinds = {left.kind, right.kind}
    for kind in ("number", "string", "bool"):
        if kind in kinds:
            return kind
    if kinds <= {"json", "result"}:
        return "string"
    raise ODataError(f"cannot compare {_describe(left.kind)} with {_describe(right.kind)}")


def _compare(op: str, a: Any, b: Any) -> ColumnElement[bool]:
    comparisons: dict[str, Any] = {
        "eq": lambda: a == b,
        "ne": lambda: a != b,
        "gt": lambda: a > b,
        "ge": lambda: a >= b,
        "lt": lambda: a < b,
        "le": lambda: a <= b,
    }
    result: ColumnElement[bool] = comparisons[op]()
    return result


def _before(a_start: Any, a_end: Any, b_start: Any) -> ColumnElement[bool]:
    """A is over before B starts: an instant strictly before, an interval ending by then."""
    if a_end is None:
        return a_start < b_start  # type: ignore[no-any-return]
    return or_(and_(a_end.is_(None), a_start < b_start), and_(a_end.is_not(None), a_end <= b_start))


_POSTGIS = {
    "geo.intersects": "ST_Intersects",
    "geo.distance": "ST_Distance",
    "st_equals": "ST_Equals",
    "st_disjoint": "ST_Disjoint",
    "st_touches": "ST_Touches",
    "st_within": "ST_Within",
    "st_overlaps": "ST_Overlaps",
    "st_crosses": "ST_Crosses",
    "st_intersects": "ST_Intersects",
    "st_contains": "ST_Contains",
    "st_relate": "ST_Relate",
}

Handler = tuple[set[int], Callable[[Compiler, list[Expr]], Expr]]


def _now(c: Compiler, _args: list[Expr]) -> Expr:
    return c._time_constant(timeutil.TimeValue(c.scope.now))


def _date(c: Compiler, args: list[Expr]) -> Expr:
    time = c._time_arg(args[0])
    return Expr("time", time.sql - (time.sql % DAY), chain=time.chain)


def _time_of_day(c: Compiler, args: list[Expr]) -> Expr:
    time = c._time_arg(args[0])
    return Expr("number", time.sql % DAY, chain=time.chain)


def _fractional_seconds(c: Compiler, args: list[Expr]) -> Expr:
    time = c._time_arg(args[0])
    return Expr("number", cast(time.sql % 1_000_000, Float) / 1_000_000, chain=time.chain)


def _min_max_time(which: str) -> Callable[[Compiler, list[Expr]], Expr]:
    def build(c: Compiler, args: list[Expr]) -> Expr:
        time = c._time_arg(args[0])
        if which == "min" or time.kind != "interval":
            return Expr("time", time.sql, chain=time.chain)
        return Expr("time", func.coalesce(time.end, time.sql), chain=time.chain)

    return build


def _math(name: str) -> Callable[[Compiler, list[Expr]], Expr]:
    def build(c: Compiler, args: list[Expr]) -> Expr:
        number = c.as_number(args[0])
        if name == "round":
            # Half away from zero (OData): PostgreSQL rounds a float half to even, a numeric not.
            sql = (
                cast(func.round(cast(number.sql, Numeric)), Float)
                if c.pg
                else func.round(number.sql)
            )
        elif c.pg:
            sql = func.floor(number.sql) if name == "floor" else func.ceil(number.sql)
        else:
            sql = func.klug_floor(number.sql) if name == "floor" else func.klug_ceiling(number.sql)
        return Expr("number", sql, chain=number.chain)

    return build


def _substring(c: Compiler, args: list[Expr]) -> Expr:
    text = c.as_string(args[0])
    # PostgreSQL's substr takes whole numbers only.
    start = cast(c.as_number(args[1]).sql, Integer) + 1
    if len(args) == 3:
        length = cast(c.as_number(args[2]).sql, Integer)
        return Expr("string", func.substr(text.sql, start, length), chain=text.chain)
    return Expr("string", func.substr(text.sql, start), chain=text.chain)


def _relate(c: Compiler, args: list[Expr]) -> Expr:
    # An invalid pattern aborts the whole query in PostGIS and in shapely alike.
    pattern = getattr(args[2].sql, "value", None) if args[2].kind == "string" else None
    if not isinstance(pattern, str) or not DE9IM.match(pattern):
        raise ODataError(
            "st_relate() takes a DE-9IM pattern of nine characters T, F, *, 0, 1, 2 "
            "as text, e.g. 'T*F**F***'"
        )
    return c._geo("st_relate", args, "bool")


def _indexof(c: Compiler, args: list[Expr]) -> Expr:
    texts = [c.as_string(a) for a in args]
    position = (
        func.strpos(texts[0].sql, texts[1].sql) if c.pg else func.instr(texts[0].sql, texts[1].sql)
    )
    return Expr("number", position - 1, chain=_merge_chains(*texts))


_FUNCTIONS: dict[str, Handler] = {
    "substringof": (
        {2},
        lambda c, a: c._string_fn(a, lambda needle, hay: c._contains(hay, needle), "bool"),
    ),
    "contains": (
        {2},
        lambda c, a: c._string_fn(a, lambda hay, needle: c._contains(hay, needle), "bool"),
    ),
    "startswith": (
        {2},
        lambda c, a: c._string_fn(a, lambda s, p: func.substr(s, 1, func.length(p)) == p, "bool"),
    ),
    "endswith": (
        {2},
        lambda c, a: c._string_fn(
            a, lambda s, p: func.substr(s, func.length(s) - func.length(p) + 1) == p, "bool"
        ),
    ),
    "length": ({1}, lambda c, a: c._string_fn(a, func.length, "number")),
    "indexof": ({2}, _indexof),
    "substring": ({2, 3}, _substring),
    "tolower": ({1}, lambda c, a: c._string_fn(a, func.lower, "string")),
    "toupper": ({1}, lambda c, a: c._string_fn(a, func.upper, "string")),
    "trim": ({1}, lambda c, a: c._string_fn(a, func.trim, "string")),
    "concat": ({2}, lambda c, a: c._string_fn(a, lambda x, y: x.concat(y), "string")),
    "year": ({1}, lambda c, a: c._date_part(a, "year")),
    "month": ({1}, lambda c, a: c._date_part(a, "month")),
    "day": ({1}, lambda c, a: c._date_part(a, "day")),
    "hour": ({1}, lambda c, a: c._date_part(a, "hour")),
    "minute": ({1}, lambda c, a: c._date_part(a, "minute")),
    "second": ({1}, lambda c, a: c._date_part(a, "second")),
    "fractionalseconds": ({1}, _fractional_seconds),
    "date": ({1}, _date),
    "time": ({1}, _time_of_day),
    "totaloffsetminutes": ({1}, lambda c, a: Expr("number", literal(0, Integer))),
    "now": ({0}, _now),
    "mindatetime": ({1}, _min_max_time("min")),
    "maxdatetime": ({1}, _min_max_time("max")),
    "round": ({1}, _math("round")),
    "floor": ({1}, _math("floor")),
    "ceiling": ({1}, _math("ceiling")),
    "geo.intersects": ({2}, lambda c, a: c._geo("geo.intersects", a, "bool")),
    "geo.distance": ({2}, lambda c, a: c._geo("geo.distance", a, "number")),
    "geo.length": ({1}, lambda c, a: c._geo("geo.length", a, "number")),
    **{
        name: ({2}, (lambda n: lambda c, a: c._geo(n, a, "bool"))(name))
        for name in (
            "st_equals",
            "st_disjoint",
            "st_touches",
            "st_within",
            "st_overlaps",
            "st_crosses",
            "st_intersects",
            "st_contains",
        )
    },
    "st_relate": ({3}, _relate),
    **{
        name: ({2}, (lambda n: lambda c, a: c._interval_relation(n, a))(name))
        for name in ("overlaps", "before", "after", "meets", "during", "starts", "finishes")
    },
}

SUPPORTED_FUNCTIONS = sorted(_FUNCTIONS)


def compile_filter(node: Node, scope: Scope) -> ColumnElement[bool]:
    return Compiler(scope).filter(node)


def compile_orderby(items: list[tuple[Node, bool]], scope: Scope) -> list[ColumnElement[Any]]:
    compiler = Compiler(scope)
    terms: list[ColumnElement[Any]] = []
    for node, descending in items:
        for term in compiler.order_terms(node):
            # OData: null sorts before any value ascending (PostgreSQL's default is after).
            terms.append(term.desc().nulls_last() if descending else term.asc().nulls_first())
    return terms

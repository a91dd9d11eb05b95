"""The OGC SensorThings API v1.1 (Sensing) at ``/sta/v1.1/``."""

from __future__ import annotations

import json
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from klug.core import jsontext
from klug.core.cache import app_cell
from klug.core.db import SessionDep
from klug.core.errors import Problem
from klug.core.routes import Router
from klug.identity.deps import Principal, public, require
from klug.identity.permissions import Permission
from klug.sensors import ingest, query, timeutil
from klug.sensors.entities import BY_SET, ENTITY_TYPES
from klug.sensors.odata.errors import ODataError
from klug.sensors.odata.options import parse_options
from klug.sensors.odata.path import ResourcePath, parse_path
from klug.sensors.service import Writer
from klug.sensors.values import EntityError

router = Router(tags=["SensorThings API v1.1"])

PREFIX = "/sta/v1.1"
Anyone = Annotated[Principal, Depends(public)]
CanWrite = Annotated[Principal, Depends(require(Permission.SENSORS_WRITE))]

CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/observations-creation",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates",
]


def _bad(message: str) -> Problem:
    return Problem(400, message, title="Bad request", type_="/api/problems/sensorthings")


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise Problem(415, "send the entity as application/json", title="Unsupported media type")
    raw = await request.body()
    if not raw:
        raise _bad("the request needs a JSON body")
    try:
        return jsontext.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad("the body is not valid JSON") from None


Body = Annotated[Any, Depends(json_body)]


def _base(request: Request) -> str:
    return str(request.app.state.settings.base_url) + PREFIX


def _postgis(request: Request, session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True

    def load() -> bool:
        return (
            session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
            is not None
        )

    return bool(app_cell(request.app.state.cells, "postgis", 3600.0).get(load))


def _context(request: Request, session: Session, principal: Principal) -> query.ReadContext:
    return query.ReadContext(
        base=_base(request),
        dialect=session.get_bind().dialect.name,
        privileged=Permission.SENSORS_READ in principal.permissions,
        now=timeutil.now_micros(),
        postgis=_postgis(request, session),
    )


def _path(raw: str) -> ResourcePath:
    try:
        return parse_path(raw)
    except ODataError as exc:
        raise _bad(exc.describe()) from None


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        jsontext.dumps(content), status_code=status, media_type="application/json", headers=headers
    )


@router.get(PREFIX, include_in_schema=False)
@router.get(PREFIX + "/")
def service_document(request: Request, _: Anyone) -> Response:
    """The service root: entity sets and conformance classes."""
    base = _base(request)
    settings: dict[str, Any] = {"conformance": CONFORMANCE}
    mqtt_url = request.app.state.settings.mqtt_url
    if mqtt_url:
        endpoints = {"endpoints": [mqtt_url]}
        settings[CONFORMANCE[5]] = endpoints
        settings[CONFORMANCE[6]] = endpoints
    value = [{"name": name, "url": f"{base}/{name}"} for name in BY_SET]
    return _json({"value": value, "serverSettings": settings})


@router.get(PREFIX + "/{resource:path}")
def read(resource: str, request: Request, session: SessionDep, principal: Anyone) -> Response:
    """Read entities, collections, properties, ``$value`` and ``$ref`` with query options."""
    path = _path(resource)
    ctx = _context(request, session, principal)
    try:
        target = query.resolve(session, path, ctx)
        options = parse_options(request.query_params, path.target)
        if path.ref:
            return _json(_refs(session, target, ctx, options, str(request.url).split("?")[0]))
        if target.entity_id is not None:
            row = query.read_one(session, target.entity, target.entity_id)
            if row is None:
                raise query.NotFoundError
            if path.prop is not None:
                return _property(target, row, path)
            query.expand(session, target.entity, [row], options.expand, ctx)
            return _json(query.render_entity(target.entity, row, options, ctx))
        page = query.read_page(session, target, options, ctx)
        url = str(request.url).split("?")[0]
        if options.result_format == "dataArray":
            return _json(query.render_data_array(page, options, ctx, url))
        query.expand(session, target.entity, page.rows, options.expand, ctx)
        return _json(query.render_page(target.entity, page, options, ctx, url))
    except ODataError as exc:
        raise _bad(exc.describe()) from None
    except DataError:
        # PostgreSQL refuses values out of its range (a float overflowing, a time shifted
        # past bigint) while evaluating a $filter: the client's expression, not a fault.
        raise _bad("a value in the query is out of range for the database") from None
    except query.NotFoundError:
        raise Problem(404, "no such entity") from None


def _property(target: query.Target, row: dict[str, Any], path: ResourcePath) -> Response:
    from klug.sensors.serialize import property_value

    assert path.prop is not None
    value = row["id"] if path.prop == "id" else property_value(target.entity.props[path.prop], row)
    if path.value:
        if value is None:
            return Response(status_code=204)
        return PlainTextResponse(
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        )
    if value is None:
        return Response(status_code=204)
    return _json({path.prop: value})


def _refs(
    session: Session, target: query.Target, ctx: query.ReadContext, options: Any, url: str
) -> Any:
    from klug.sensors.serialize import self_link

    if target.entity_id is not None:
        return {"@iot.selfLink": self_link(ctx.base, target.entity, target.entity_id)}
    page = query.read_page(session, target, options, ctx)
    out: dict[str, Any] = {}
    if page.count is not None:
        out["@iot.count"] = page.count
    if page.more:
        out["@iot.nextLink"] = query.next_link(url, options)
    out["value"] = [
        {"@iot.selfLink": self_link(ctx.base, target.entity, row["id"])} for row in page.rows
    ]
    return out


def _write_context(request: Request, session: Session) -> query.ReadContext:
    return query.ReadContext(
        base=_base(request),
        dialect=session.get_bind().dialect.name,
        privileged=True,
        now=timeutil.now_micros(),
    )


def _created(request: Request, session: Session, entity_name: str, entity_id: int) -> Response:
    entity = ENTITY_TYPES[entity_name]
    ctx = _write_context(request, session)
    row = query.read_one(session, entity, entity_id)
    assert row is not None
    body = query.render_entity(entity, row, parse_options({}, entity), ctx)
    return _json(body, 201, {"Location": body["@iot.selfLink"]})


def _fail_on(exc: Exception) -> Problem:
    if isinstance(exc, EntityError):
        return _bad(str(exc))
    if isinstance(exc, IntegrityError):
        return Problem(409, "the change conflicts with existing data", title="Conflict")
    if isinstance(exc, LookupError):
        return Problem(404, "no such entity")
    raise exc


@router.post(PREFIX + "/CreateObservations", status_code=201)
def create_observations(request: Request, session: SessionDep, _: CanWrite, body: Body) -> Response:
    """Many Observations in one request, as ``components`` + ``dataArray`` (§14.4)."""
    if not isinstance(body, list):
        raise _bad("CreateObservations takes a list of {Datastream, components, dataArray} objects")
    now = timeutil.now_micros()
    # Per dataArray row, in order: its item, or None when the row itself is wrong.
    rows: list[ingest.NewObservation | None] = []
    try:
        for group in body:
            if not isinstance(group, dict) or not isinstance(group.get("dataArray"), list):
                raise EntityError("each entry needs 'components' and 'dataArray'")
            components = ingest.check_components(group.get("components"))
            stream = _stream_reference(group)
            for row in group["dataArray"]:
                rows.append(_row(components, row, now, stream))
    except EntityError as exc:
        raise _fail_on(exc) from None
    # The standard answers a row that cannot be stored with "error" and stores the others.
    items = [item for item in rows if item is not None]
    good = [
        item
        for item, problem in zip(items, ingest.problems(session, items), strict=True)
        if problem is None
    ]
    try:
        stored = {id(s.item): s.id for s in ingest.store(session, good, now=now)}
    except (EntityError, IntegrityError) as exc:
        raise _fail_on(exc) from None
    base = _base(request)
    links = [
        f"{base}/Observations({stored[id(item)]})"
        if item is not None and id(item) in stored
        else "error"
        for item in rows
    ]
    return _json(links, 201)


def _row(
    components: list[str], row: Any, now: int, stream: dict[str, int | None]
) -> ingest.NewObservation | None:
    if not isinstance(row, list):
        return None
    try:
        return ingest.from_components(components, row, now=now, **stream)
    except EntityError:
        return None


def _stream_reference(group: dict[str, Any]) -> dict[str, int | None]:
    for name, column in (
        ("Datastream", "datastream_id"),
        ("MultiDatastream", "multi_datastream_id"),
    ):
        ref = group.get(name)
        if ref is not None:
            if (
                not isinstance(ref, dict)
                or not isinstance(ref.get("@iot.id"), int)
                or isinstance(ref.get("@iot.id"), bool)
            ):
                raise EntityError(f"'{name}' must be {{\"@iot.id\": n}}")
            other = "multi_datastream_id" if column == "datastream_id" else "datastream_id"
            return {column: ref["@iot.id"], other: None}
    raise EntityError("each entry names its Datastream or MultiDatastream")


@router.post(PREFIX + "/{resource:path}", status_code=201)
def create(
    resource: str, request: Request, session: SessionDep, _: CanWrite, body: Body
) -> Response:
    """Create an entity (with deep insert), or link one with ``$ref``."""
    path = _path(resource)
    writer = Writer(session)
    try:
        if path.ref:
            if len(path.steps) != 2 or path.steps[0].id is None or path.steps[1].id is not None:
                raise EntityError("POST …/Nav/$ref links an entity to Entity(id)")
            parent = path.steps[0]
            writer.add_link(parent.entity, parent.id, path.steps[1].nav or "", body)  # type: ignore[arg-type]
            writer.announce(_base(request))
            return Response(status_code=204)
        if path.prop is not None or not path.is_collection:
            raise EntityError("POST to a collection, e.g. /Things or /Datastreams(1)/Observations")
        implied: dict[str, Any] = {}
        if _known_stream_observations(session, path):
            # POST Datastreams(n)/Observations to a Datastream ingest has just seen:
            # the hot path of devices, no need to look it up again.
            implied["datastream_id"] = path.steps[0].id
        elif len(path.steps) > 1:
            ctx = _write_context(request, session)
            target = query.resolve(session, path, ctx)
            assert target.parent is not None and target.nav is not None
            if target.nav.back_fk is None:
                raise EntityError(
                    f"create {path.target.set_name} at /{path.target.set_name}, then link them"
                )
            implied[target.nav.back_fk] = target.parent[1]
        if path.target.name == "Observation" and _plain_observation(body):
            # Give the pooled connection back before waiting for the batch: the batcher
            # needs one, and 32 waiting requests must not hold them all.
            session.commit()
            return _observation_created(request, session, _store_single(request, body, implied))
        new_id = writer.create(path.target, body, implied)
        writer.announce(_base(request))
        session.flush()
        return _created(request, session, path.target.name, new_id)
    except query.NotFoundError:
        raise Problem(404, "no such entity") from None
    except (EntityError, IntegrityError, LookupError) as exc:
        raise _fail_on(exc) from None


def _known_stream_observations(session: Session, path: ResourcePath) -> bool:
    first = path.steps[0]
    return (
        len(path.steps) == 2
        and first.entity.name == "Datastream"
        and first.id is not None
        and path.steps[1].nav == "Observations"
        and ingest.stream_is_known(session, first.id)
    )


_LINKS = {
    "Datastream": "datastream_id",
    "MultiDatastream": "multi_datastream_id",
    "FeatureOfInterest": "feature_of_interest_id",
}


def _link_id(value: Any) -> int | None:
    if isinstance(value, dict) and set(value) == {"@iot.id"}:
        ref = value["@iot.id"]
        if isinstance(ref, int) and not isinstance(ref, bool):
            return ref
    return None


def _plain_observation(body: Any) -> bool:
    """An Observation whose related entities are only references: the batched path."""
    return isinstance(body, dict) and all(
        _link_id(body[name]) is not None for name in _LINKS if name in body
    )


def _store_single(request: Request, body: dict[str, Any], implied: dict[str, Any]) -> ingest.Stored:
    links = {column: implied.get(column) for column in _LINKS.values()}
    for name, column in _LINKS.items():
        if name in body:
            links[column] = _link_id(body[name])
    plain = {k: v for k, v in body.items() if k not in _LINKS}
    unknown = set(plain) - set(ENTITY_TYPES["Observation"].props)
    if unknown:
        raise EntityError(f"Observation has no property '{sorted(unknown)[0]}'")
    item = ingest.observation_from_json(plain, now=timeutil.now_micros(), **links)
    try:
        return request.app.state.ingest_batcher.submit(item)  # type: ignore[no-any-return]
    except FutureTimeout:
        raise Problem(
            503, "the database is too busy to store the Observation now; retry later"
        ) from None


def _observation_created(request: Request, session: Session, stored: ingest.Stored) -> Response:
    """The 201 answer, from what was stored (no second read unless it was a duplicate)."""
    if not stored.created:
        return _created(request, session, "Observation", stored.id)
    item = stored.item
    row = {
        "id": stored.id,
        "datastream_id": item.datastream_id,
        "multi_datastream_id": item.multi_datastream_id,
        "phenomenon_time_start": item.phenomenon_time_start,
        "phenomenon_time_end": item.phenomenon_time_end,
        "result_time": item.result_time,
        "result_number": item.result_number,
        "result_json": item.result_json,
        "result_quality": item.result_quality,
        "valid_time_start": item.valid_time_start,
        "valid_time_end": item.valid_time_end,
        "parameters": item.parameters,
        "feature_of_interest_id": item.feature_of_interest_id,
    }
    entity = ENTITY_TYPES["Observation"]
    body = query.render_entity(entity, row, _NO_OPTIONS, _write_context(request, session))
    return _json(body, 201, {"Location": body["@iot.selfLink"]})


_NO_OPTIONS = parse_options({}, ENTITY_TYPES["Observation"])


def _single(path: ResourcePath) -> tuple[Any, int]:
    last = path.steps[-1]
    if path.prop is not None or last.id is None or path.ref:
        raise EntityError("address one entity, e.g. /Things(1)")
    return last.entity, last.id


@router.patch(PREFIX + "/{resource:path}")
def update_entity(
    resource: str, request: Request, session: SessionDep, _: CanWrite, body: Body
) -> Response:
    """Change the given properties of one entity."""
    path = _path(resource)
    try:
        entity, entity_id = _single(path)
        query.resolve(session, path, _write_context(request, session))
        Writer(session).update(entity, entity_id, body)
        session.flush()
    except query.NotFoundError:
        raise Problem(404, "no such entity") from None
    except (EntityError, IntegrityError, LookupError) as exc:
        raise _fail_on(exc) from None
    ctx = _write_context(request, session)
    row = query.read_one(session, entity, entity_id)
    assert row is not None
    return _json(query.render_entity(entity, row, parse_options({}, entity), ctx))


@router.delete(PREFIX + "/{resource:path}")
def delete_entity(resource: str, request: Request, session: SessionDep, _: CanWrite) -> Response:
    """Delete one entity (with the standard's cascade), or unlink one with ``$ref``."""
    path = _path(resource)
    try:
        query.resolve(session, path, _write_context(request, session))
        writer = Writer(session)
        if path.ref:
            if len(path.steps) != 2 or path.steps[1].id is None or path.steps[0].id is None:
                raise EntityError("DELETE …/Nav(id)/$ref unlinks one entity")
            writer.remove_link(
                path.steps[0].entity, path.steps[0].id, path.steps[1].nav or "", path.steps[1].id
            )
        else:
            entity, entity_id = _single(path)
            writer.delete(entity, entity_id)
    except query.NotFoundError:
        raise Problem(404, "no such entity") from None
    except (EntityError, IntegrityError, LookupError) as exc:
        raise _fail_on(exc) from None
    return Response(status_code=200)


__all__ = ["JSONResponse"]

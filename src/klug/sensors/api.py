"""JSON API for dashboards and pages: latest values, history, freshness, live push."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from klug.core.db import SessionDep
from klug.core.errors import NotFound, Problem
from klug.core.events import Event
from klug.core.jsontext import JsonResponse
from klug.core.live import event_stream
from klug.core.routes import Router
from klug.identity.deps import Principal, public
from klug.identity.permissions import Permission
from klug.sensors import ingest, series, timeutil

router = Router(tags=["sensors"])
Anyone = Annotated[Principal, Depends(public)]
MAX_IDS = 2000


def _privileged(principal: Principal) -> bool:
    return Permission.SENSORS_READ in principal.permissions


def _ids(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise Problem(400, "'datastreams' is a comma-separated list of Datastream ids") from None
    if len(ids) > MAX_IDS:
        raise Problem(400, f"at most {MAX_IDS} Datastreams at once")
    return ids


def _stream_json(
    info: series.StreamInfo, now: int, times: tuple[str | None, str | None] | None = None
) -> dict[str, Any]:
    phenomenon, received = times or (
        timeutil.format_instant(info.last_phenomenon_time),
        timeutil.format_instant(info.last_received_at),
    )
    return {
        "id": info.id,
        "name": info.name,
        "unitOfMeasurement": info.unit,
        "phenomenonTime": phenomenon,
        "result": info.last_result,
        "receivedAt": received,
        "expectedIntervalSeconds": info.expected_interval_s,
        "freshness": series.freshness(info, now),
        "observationCount": info.observation_count,
    }


@router.get("/api/sensors/latest", response_class=JsonResponse)
def latest_values(
    session: SessionDep,
    principal: Anyone,
    datastreams: Annotated[str | None, Query(description="Comma-separated Datastream ids")] = None,
) -> Response:
    """The latest value and freshness (live, stale, no-data) of every visible Datastream."""
    now = timeutil.now_micros()
    infos = series.latest(session, privileged=_privileged(principal), ids=_ids(datastreams))
    # All timestamps of the page at once: one by one they were a third of the request.
    phenomena = timeutil.format_instants([i.last_phenomenon_time for i in infos])
    received = timeutil.format_instants([i.last_received_at for i in infos])
    return JsonResponse(
        {
            "value": [
                _stream_json(info, now, times)
                for info, times in zip(infos, zip(phenomena, received, strict=True), strict=True)
            ]
        }
    )


@router.get("/api/sensors/datastreams/{datastream_id}")
def datastream_summary(
    datastream_id: int, session: SessionDep, principal: Anyone
) -> dict[str, Any]:
    """One Datastream's latest value and freshness."""
    info = series.stream(session, datastream_id, privileged=_privileged(principal))
    if info is None:
        raise NotFound
    return _stream_json(info, timeutil.now_micros())


@router.get("/api/sensors/datastreams/{datastream_id}/series", response_class=JsonResponse)
def datastream_series(
    datastream_id: int,
    session: SessionDep,
    principal: Anyone,
    from_: Annotated[
        str | None, Query(alias="from", description="ISO 8601 start (default: 24 h ago)")
    ] = None,
    to: Annotated[str | None, Query(description="ISO 8601 end (default: now)")] = None,
    resolution: Annotated[str, Query(description="auto, raw, lttb, 1m, 1h or 1d")] = "auto",
    points: Annotated[int, Query(ge=3, le=series.MAX_POINTS)] = 500,
) -> Response:
    """History in at most ``points`` points, as columns (``t`` in ms since the epoch)."""
    if series.stream(session, datastream_id, privileged=_privileged(principal)) is None:
        raise NotFound
    now = timeutil.now_micros()
    try:
        end = series.parse_time(to, now)
        start = series.parse_time(from_, end - 86_400_000_000)
        result = series.history(
            session, datastream_id, start=start, end=end, resolution=resolution, points=points
        )
    except series.SeriesError as exc:
        raise Problem(400, str(exc)) from None
    return JsonResponse(
        {
            "datastream": datastream_id,
            "from": timeutil.format_instant(start),
            "to": timeutil.format_instant(end),
            "resolution": result.resolution,
            "columns": result.columns,
        }
    )


@router.get(
    "/api/live/observations",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def live_observations(
    request: Request,
    principal: Anyone,
    datastreams: Annotated[str, Query(description="Comma-separated Datastream ids")],
) -> StreamingResponse:
    """Server-Sent Events ``sensors.observations``: new Observations of the given Datastreams."""
    wanted = set(_ids(datastreams) or [])
    if not wanted:
        raise Problem(400, "name the Datastreams to follow: ?datastreams=1,2")
    privileged = _privileged(principal)

    def visible() -> set[int]:
        with request.app.state.session_factory() as session:
            return {i.id for i in series.latest(session, privileged=privileged, ids=sorted(wanted))}

    allowed = await run_in_threadpool(visible)
    if allowed != wanted:
        raise Problem(404, f"no visible Datastream {sorted(wanted - allowed)[0]}")

    def only_wanted(event: Event) -> dict[str, Any] | None:
        mine = [o for o in event.data.get("observations", []) if o.get("datastream_id") in allowed]
        return {"observations": mine} if mine else None

    return event_stream(request.app.state.bus, ingest.OBSERVATIONS_TOPIC, transform=only_wanted)

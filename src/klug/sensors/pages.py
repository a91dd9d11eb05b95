"""Console pages: Things and Datastreams with latest value, freshness and sparkline;
a Datastream's history as a zoomable chart with a table of the same values."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, require
from klug.identity.permissions import Permission
from klug.sensors import models as m
from klug.sensors import series, timeutil

router = Router(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.SENSORS_READ))]
PAGE_SIZE = 50
HOUR = 3_600_000_000
RANGES = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}


def sparkline(values: list[float | None], width: int = 120, height: int = 28) -> str:
    """An SVG polyline of hourly means (no script, no style: drawn by the server)."""
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(points) < 2:
        return ""
    low = min(v for _i, v in points)
    high = max(v for _i, v in points)
    span = (high - low) or 1.0
    step = width / max(1, len(values) - 1)
    coordinates = " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in points
    )
    return (
        f'<polyline points="{coordinates}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
    )


def _hourly(
    session: Session, ids: list[int], start: int, hours: int
) -> dict[int, list[float | None]]:
    agg = m.aggregate
    rows = session.execute(
        select(agg.c.datastream_id, agg.c.bucket_start, agg.c.sum / agg.c.count)
        .where(
            agg.c.datastream_id.in_(ids),
            agg.c.resolution == m.RESOLUTION_CODES["1h"],
            agg.c.bucket_start >= start,
        )
        .order_by(agg.c.datastream_id, agg.c.bucket_start)
    ).all()
    values: dict[int, list[float | None]] = defaultdict(lambda: [None] * hours)
    for stream_id, bucket, mean in rows:
        index = (bucket - start) // HOUR
        if 0 <= index < hours:
            values[stream_id][index] = mean
    return values


@router.get("/console/sensoren", response_class=HTMLResponse)
def datastreams(request: Request, session: SessionDep, _: Reader) -> HTMLResponse:
    """Every Datastream with its latest value, freshness and the last 24 hours."""
    text = request.query_params.get("suche", "").strip()[:100]
    raw_page = request.query_params.get("seite", "1")
    page = max(1, int(raw_page)) if raw_page.isdigit() else 1
    ds, thing = m.datastream, m.thing
    query = select(ds, thing.c.name.label("thing_name")).join(thing, thing.c.id == ds.c.thing_id)
    if text:
        pattern = (
            "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            or_(
                func.lower(ds.c.name).like(pattern, escape="\\"),
                func.lower(thing.c.name).like(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (
        session.execute(
            query.order_by(thing.c.name, ds.c.name, ds.c.id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        .mappings()
        .all()
    )
    now = timeutil.now_micros()
    start = now - now % HOUR - 23 * HOUR
    ids = [r["id"] for r in rows]
    hourly = _hourly(session, ids, start, 24)
    infos = {i.id: i for i in series.latest(session, privileged=True, ids=ids)}
    items = []
    for row in rows:
        info = infos[row["id"]]
        items.append(
            {
                "id": row["id"],
                "name": row["name"],
                "thing": row["thing_name"],
                "unit": (row["unit_of_measurement"] or {}).get("symbol") or "",
                "result": info.last_result,
                "time": timeutil.from_micros(info.last_phenomenon_time)
                if info.last_phenomenon_time
                else None,
                "freshness": series.freshness(info, now),
                "public": row["is_public"],
                "sparkline": sparkline(hourly.get(row["id"], [None] * 24)),
            }
        )
    return render(
        request,
        "sensors/console_list.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / PAGE_SIZE)),
            "text": text,
        },
    )


@router.get("/console/sensoren/{datastream_id}", response_class=HTMLResponse)
def datastream_detail(
    request: Request, datastream_id: int, session: SessionDep, _: Reader
) -> HTMLResponse:
    """One Datastream: facts, a zoomable chart with live updates, and a table of values."""
    ds, thing = m.datastream, m.thing
    row = (
        session.execute(
            select(ds, thing.c.name.label("thing_name"))
            .join(thing, thing.c.id == ds.c.thing_id)
            .where(ds.c.id == datastream_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound
    info = series.stream(session, datastream_id, privileged=True)
    assert info is not None
    chosen = request.query_params.get("zeitraum", "24h")
    hours = RANGES.get(chosen, 24)
    now = timeutil.now_micros()
    start = now - now % HOUR - (hours - 1) * HOUR
    result = series.history(
        session, datastream_id, start=start, end=now, resolution="1h", points=series.MAX_POINTS
    )
    table = [
        {"time": timeutil.from_micros(t * 1000), "mean": mean, "min": low, "max": high}
        for t, mean, low, high in zip(
            result.columns["t"],
            result.columns["mean"],
            result.columns["min"],
            result.columns["max"],
            strict=True,
        )
    ]
    return render(
        request,
        "sensors/console_detail.html",
        {
            "row": row,
            "info": info,
            "freshness": series.freshness(info, now),
            "unit": (row["unit_of_measurement"] or {}).get("symbol") or "",
            "latest_time": timeutil.from_micros(info.last_phenomenon_time)
            if info.last_phenomenon_time
            else None,
            "ranges": list(RANGES),
            "chosen": chosen if chosen in RANGES else "24h",
            "hours": hours,
            "table": list(reversed(table)),
        },
    )

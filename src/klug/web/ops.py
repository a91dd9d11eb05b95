"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from starlette.responses import Response

from klug.core import metrics
from klug.core.routes import Router
from klug.identity.deps import Principal, public, require
from klug.identity.permissions import Permission

router = Router(tags=["operations"])


@router.get("/healthz")
async def healthz(_: Annotated[Principal, Depends(public)]) -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


@router.get("/readyz", responses={503: {"description": "database or event bus unreachable"}})
async def readyz(request: Request, _: Annotated[Principal, Depends(public)]) -> JSONResponse:
    """Readiness: the database and the event bus are reachable."""
    database = await asyncio.to_thread(_database_ok, request.app.state.engine)
    bus = await request.app.state.bus.ping()
    body = {
        "status": "ok" if database and bus else "unavailable",
        "database": "ok" if database else "unreachable",
        "event_bus": ("ok" if bus else "unreachable") + f" ({request.app.state.bus.name})",
    }
    return JSONResponse(body, status_code=200 if database and bus else 503)


def _runtime_collector(request: Request) -> metrics.RuntimeCollector:
    state = request.app.state

    def pool_status() -> dict[str, int]:
        pool: Any = state.engine.pool
        return {
            "checked_out": int(pool.checkedout()) if hasattr(pool, "checkedout") else 0,
            "idle": int(pool.checkedin()) if hasattr(pool, "checkedin") else 0,
            "overflow": max(0, int(pool.overflow())) if hasattr(pool, "overflow") else 0,
        }

    def bus_status() -> dict[str, Any]:
        bus = state.bus
        return {
            "backend": bus.name,
            "published": bus.published,
            "delivered": bus.delivered,
            "dropped": bus.dropped,
            "subscribers": bus.subscriber_count(),
        }

    return metrics.RuntimeCollector(pool_status, bus_status)


@router.get("/metrics", response_class=Response)
async def metrics_endpoint(
    request: Request, _: Annotated[Principal, Depends(require(Permission.METRICS_READ))]
) -> Response:
    """Prometheus text format; scrape with an API key holding ``metrics.read``."""
    body, content_type = metrics.exposition(_runtime_collector(request))
    return Response(body, media_type=content_type)

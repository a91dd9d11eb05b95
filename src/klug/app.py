"""Assembly: ``create_app(settings)`` builds the ASGI application.

Nothing imports this module; it imports the domains and wires them together.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from klug.citizen import pages as citizen_pages
from klug.citizen import transparency
from klug.citizen.applications import attachments as applications_attachments
from klug.citizen.applications import console as applications_console
from klug.citizen.applications import console_case as applications_console_case
from klug.citizen.applications import forms as applications_forms
from klug.citizen.applications import mine as applications_mine
from klug.citizen.applications import pages as applications_pages
from klug.citizen.applications import personal_data as application_personal_data
from klug.citizen.content import console as content_console
from klug.citizen.content import pages as content_pages
from klug.citizen.content import public as content_public
from klug.citizen.content import router as content_router
from klug.citizen.notifications import jobs as notification_jobs
from klug.citizen.notifications import personal_data as notification_personal_data
from klug.citizen.reports import console as reports_console
from klug.citizen.reports import jobs as reports_jobs
from klug.citizen.reports import mine as reports_mine
from klug.citizen.reports import open311 as reports_open311
from klug.citizen.reports import pages as reports_pages
from klug.citizen.reports import personal_data as report_personal_data
from klug.citizen.reports import photos as report_photos
from klug.citizen.reports import reporting as reports_reporting
from klug.citizen.reports import unsubscribe as reports_unsubscribe
from klug.citizen.search import pages as search_pages
from klug.citizen.search import router as search_router
from klug.citizen.services import catalogue as services_catalogue
from klug.citizen.services import pages as services_pages
from klug.core import routeindex, web
from klug.core.config import Settings, load_settings
from klug.core.db import create_db_engine, make_session_factory
from klug.core.errors import install_error_handlers
from klug.core.events import create_bus
from klug.core.http import (
    BodySizeLimitMiddleware,
    CsrfCookieMiddleware,
    LanguageMiddleware,
    ObservationMiddleware,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
    content_security_policy,
    verify_csrf,
)
from klug.core.jobs import JobRunner
from klug.core.logs import configure_logging
from klug.core.mail import Mailer, create_transport
from klug.core.personal_data import PersonalDataRegistry
from klug.core.ratelimit import RateLimiter
from klug.core.security import SecretBox
from klug.energy import console as energy_console
from klug.energy import jobs as energy_jobs
from klug.energy import pages as energy_pages
from klug.energy import router as energy_router
from klug.goals import pages as goals_pages
from klug.identity import pages as identity_pages
from klug.identity import personal_data as identity_personal_data
from klug.identity import router as identity_router
from klug.identity.deps import access_marker
from klug.identity.login import SessionPolicy
from klug.mobility import pages as mobility_pages
from klug.opendata import pages as opendata_pages
from klug.safety import pages as safety_pages
from klug.sensors import api as sensors_api
from klug.sensors import jobs as sensors_jobs
from klug.sensors import pages as sensors_pages
from klug.sensors import router as sensors_router
from klug.sensors import sqlfunctions  # noqa: F401 - SQLite gets the geospatial functions
from klug.sensors.batcher import IngestBatcher
from klug.sensors.ingest import SensorCache, follow_structure_changes
from klug.sensors.mqtt import BridgeService
from klug.web import ops
from klug.web import pages as shell_pages

ROUTERS = [
    ops.router,
    shell_pages.router,
    identity_pages.router,
    identity_router.router,
    sensors_router.router,
    sensors_api.router,
    sensors_pages.router,
    content_pages.router,
    content_router.router,
    content_public.router,
    content_console.router,
    search_pages.router,
    search_router.router,
    energy_router.router,
    energy_pages.router,
    energy_console.router,
    mobility_pages.router,
    safety_pages.router,
    citizen_pages.router,
    reports_pages.router,
    reports_reporting.router,
    reports_unsubscribe.router,
    reports_mine.router,
    reports_console.router,
    reports_open311.router,
    services_pages.router,
    transparency.router,
    applications_pages.router,
    applications_mine.router,
    applications_console.router,
    applications_console_case.router,
    opendata_pages.router,
    goals_pages.router,
]


class StaticAssets(StaticFiles):
    """Static files are content-addressed (``?v=<hash>``), so browsers may keep them."""

    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _check_route_access(app: FastAPI) -> None:
    """Refuse to start when a route does not declare who may use it.

    A router's routes are module-level objects: once checked they are not checked again
    by a later app of the same process (the test suite makes one per test; the check
    builds every route's dependency tree, most of an app's start-up time)."""
    missing = []
    for top in app.router.routes:
        router = getattr(top, "original_router", None)
        key = (id(router), len(router.routes)) if router is not None else None
        if key in _ROUTERS_CHECKED:
            continue
        found = []
        for route in web.api_routes(app, [top]):
            markers = {access_marker(call) for call in route.dependencies} - {None}
            if len(markers) != 1:
                found.append(f"{route.method} {route.path}: {sorted(markers) or 'no access rule'}")  # type: ignore[type-var]
        missing += found
        if key is not None and not found:
            _ROUTERS_CHECKED.add(key)
    if missing:
        raise RuntimeError("routes without exactly one access rule:\n" + "\n".join(missing))


# Module-level routers (id, number of routes) whose routes all declared their access.
_ROUTERS_CHECKED: set[tuple[int, int]] = set()


def _settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector off the objects that live as long as the process.

    After start-up the heap holds some 130,000 long-lived objects (modules, routes,
    SQLAlchemy metadata, templates). Every full collection walked them all – 40–60 ms
    during which the request that triggered it (one reading 6,000 Observations makes a
    few) waits. Frozen, they are never walked again; the larger first threshold makes
    collections rarer, as request objects mostly die young by reference counting anyway.

    Once per process: a process that starts a second app (the test suite starts one per
    test) would otherwise freeze the earlier apps' objects for good once they are garbage
    – pools and their open database connections included (on PostgreSQL the suite ran out
    of connections).
    """
    global _gc_settled
    if _gc_settled:
        return
    _gc_settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(7000, 10, 10)


_gc_settled = False


def personal_data_registry() -> PersonalDataRegistry:
    """Every domain that keeps personal data, for "download my data" and "delete my account"."""
    registry = PersonalDataRegistry()
    registry.register("konto", export=identity_personal_data.export)
    registry.register(
        "antraege", export=application_personal_data.export, erase=application_personal_data.erase
    )
    registry.register(
        "meldungen", export=report_personal_data.export, erase=report_personal_data.erase
    )
    registry.register(
        "benachrichtigungen",
        export=notification_personal_data.export,
        erase=notification_personal_data.erase,
    )
    return registry


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    # A broken service definition stops the start rather than showing half a service.
    services_catalogue.catalogue()
    applications_forms.all_forms()
    secret = settings.secret()
    engine = create_db_engine(settings.database_url, pool_size=settings.db_pool_size)
    bus = create_bus(settings.redis_url)
    rate_limiter = RateLimiter(settings.redis_url)
    factory = make_session_factory(engine)
    mailer = Mailer(
        factory, create_transport(settings.smtp_url, settings.var_dir), settings.mail_from
    )
    sensor_cache = SensorCache()
    factory.configure(
        info={"klug_bus": bus, "klug_mailer": mailer, "klug_sensor_cache": sensor_cache}
    )
    scheduled = [
        sensors_jobs.RETENTION,
        energy_jobs.MONITORING,
        reports_jobs.pending_photos(settings.var_dir),
        notification_jobs.digest(hour=settings.digest_hour, base_url=settings.base_url),
    ]
    jobs = JobRunner(factory, scheduled if settings.jobs else [])
    bridge = BridgeService(settings, factory, bus) if settings.mqtt_url else None
    batcher = IngestBatcher(factory)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await bus.start()
        await mailer.start()
        await jobs.start()
        if bridge is not None:
            await bridge.start()
        cache_follower = asyncio.create_task(follow_structure_changes(bus, sensor_cache))
        _settle_garbage_collector()
        try:
            yield
        finally:
            cache_follower.cancel()
            if bridge is not None:
                await bridge.stop()
            await jobs.stop()
            await asyncio.to_thread(batcher.stop)
            await mailer.stop()
            await bus.stop()
            engine.dispose()

    app = FastAPI(
        title="klug API",
        version="0.1.0",
        summary="Open urban platform of the city of Kaiserslautern",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf)],
        # Metrics come from our own Prometheus middleware; FastAPI's built-in
        # OpenTelemetry instrumentation would cost time on every request for no reader.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.secret = secret
    app.state.engine = engine
    app.state.session_factory = factory
    app.state.bus = bus
    app.state.mailer = mailer
    app.state.rate_limiter = rate_limiter
    app.state.mqtt_bridge = bridge
    app.state.ingest_batcher = batcher
    app.state.secret_box = SecretBox(secret)
    app.state.personal_data = personal_data_registry()
    app.state.cells = {}
    app.state.session_policy = SessionPolicy.from_minutes(
        staff=settings.staff_idle_minutes, citizen=settings.citizen_idle_minutes
    )

    for router in ROUTERS:
        app.include_router(router)
    app.mount(
        "/static/vendor", StaticAssets(directory=web.VENDOR_DIR, check_dir=False), name="vendor"
    )
    app.mount("/static", StaticAssets(directory=web.STATIC_DIR), name="static")
    # Last of all, so that it only catches what nothing else serves.
    app.add_api_route(
        "/{unknown_path:path}", shell_pages.unknown_page, methods=["GET"], include_in_schema=False
    )
    routeindex.index_routes(app)
    install_error_handlers(app)
    _check_route_access(app)

    web.register_context_provider(shell_pages.shell_context)
    web.register_context_provider(content_pages.notice_context)

    # Added innermost first. From the outside in: language, security headers,
    # observation, body limit, rate limit, CSRF cookie.
    app.add_middleware(CsrfCookieMiddleware, secret=secret, secure=settings.cookies_secure)
    app.add_middleware(RateLimitMiddleware, limiter=rate_limiter, limit=settings.rate_limit_ip)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        uploads={
            **content_console.UPLOAD_LIMITS,
            **applications_attachments.UPLOAD_LIMITS,
            **report_photos.UPLOAD_LIMITS,
        },
    )
    app.add_middleware(ObservationMiddleware)
    tile_origins = [settings.map_tile_origin] if settings.map_tile_origin else []
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts=settings.base_url.startswith("https://"),
        csp=content_security_policy(image_origins=tile_origins),
    )
    app.add_middleware(LanguageMiddleware)
    return app

"""Open311 GeoReport v2 server at ``/open311/v2/`` (XML and JSON).

Reading is open to everyone (reports are public). Submitting needs an API key with the
scope ``reports.submit``, sent as the spec says: the form field ``api_key`` – which is
also why ``POST requests`` is exempt from the CSRF token that browser forms carry
(``klug.core.http.csrf_exempt``): it never acts on cookies. Errors are answered in the
spec's format with 400, 403 or 404, in the client's language (``Accept-Language``),
never as a 500 for bad input.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from klug.citizen.reports import georeport
from klug.citizen.reports import photos as report_photos
from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import CATEGORIES_FILE, catalogue, check_answers
from klug.citizen.reports.georeport import Format
from klug.citizen.reports.open311_query import (
    MAX_RESULTS,
    KeptAnswers,
    Open311Error,
    parse_filter,
    unknown_code,
)
from klug.citizen.reports.schemas import read_report
from klug.core import audit
from klug.core.db import PerEngine, SessionDep
from klug.core.forms import RawForm
from klug.core.http import csrf_exempt
from klug.core.i18n import Language, gettext, negotiate, use_language
from klug.core.ratelimit import Verdict
from klug.core.routes import Router
from klug.identity import apikeys
from klug.identity.deps import Principal, client_ip, public
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)
Anyone = Annotated[Principal, Depends(public)]
PREFIX = "/open311/v2"
# Per API key: an app that forwards its users' reports sends many; one that misbehaves
# must not flood the case workers' queue.
SUBMISSIONS_PER_KEY = "60/minute"
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")


def _answer(request: Request, fmt: str, build: Callable[[Format, Language], Response]) -> Response:
    """Run ``build`` in the client's language; errors in the spec's format."""
    with use_language(negotiate(request.headers.get("accept-language"))) as language:
        if fmt not in georeport.FORMATS:
            # XML is the format every GeoReport server must speak.
            return georeport.error_response(
                404, [gettext("Unknown format; use .xml or .json.")], "xml"
            )
        chosen: Format = "json" if fmt == "json" else "xml"
        try:
            return build(chosen, language)
        except Open311Error as error:
            return georeport.error_response(error.status, error.descriptions, chosen)


@router.get(PREFIX + "/discovery.{fmt}")
async def discovery(request: Request, fmt: str, _: Anyone) -> Response:
    """Open311 service discovery."""
    settings = request.app.state.settings
    changed = dt.datetime.fromtimestamp(CATEGORIES_FILE.stat().st_mtime, dt.UTC)

    def build(chosen: Format, _language: Language) -> Response:
        document = georeport.discovery(
            url=settings.base_url.rstrip("/") + PREFIX,
            changeset=georeport.w3_datetime(changed),
            contact=gettext("City of Kaiserslautern, Mängelmelder: %(url)s")
            % {"url": settings.base_url.rstrip("/") + "/maengelmelder"},
            key_service=gettext(
                "API keys for submitting reports are issued by the city's administrators."
            ),
        )
        return georeport.respond("discovery", document, chosen)

    return _answer(request, fmt, build)


@router.get(PREFIX + "/services.{fmt}")
async def services(request: Request, fmt: str, _: Anyone) -> Response:
    """Open311 service list: the report categories."""
    known = catalogue()

    def build(chosen: Format, language: Language) -> Response:
        document = [georeport.service(c, known, language) for c in known.categories]
        return georeport.respond("services", document, chosen)

    return _answer(request, fmt, build)


@router.get(PREFIX + "/services/{service_code}.{fmt}")
async def service_definition(request: Request, service_code: str, fmt: str, _: Anyone) -> Response:
    """Open311 service definition: a category's questions (attributes)."""

    def build(chosen: Format, language: Language) -> Response:
        category = catalogue().get(service_code)
        if category is None:
            raise Open311Error(404, unknown_code(service_code))
        document = georeport.service_definition(category, language)
        return georeport.respond("service_definition", document, chosen)

    return _answer(request, fmt, build)


# ---------------------------------------------------------------- reading requests

_KEPT: PerEngine[KeptAnswers] = PerEngine(KeptAnswers)


def _photo_urls(request: Request, session: Session, rows: Sequence[Any]) -> dict[int, str]:
    """Absolute URLs of the published photos of these reports (Open311 ``media_url``)."""
    base = request.app.state.settings.base_url.rstrip("/")
    names = report_photos.published_names(session=session, report_ids=[row.id for row in rows])
    return {
        report_id: base + report_photos.path_for(report_id, name)
        for report_id, name in names.items()
    }


@router.get(PREFIX + "/requests.{fmt}")
def list_requests(request: Request, fmt: str, session: SessionDep, _: Anyone) -> Response:
    """Open311 service requests: newest first, at most 1,000, at most 90 days."""

    def build(chosen: Format, language: Language) -> Response:
        known = catalogue()
        wanted = parse_filter(request.query_params, known)
        key = (chosen, language, wanted)
        revision = report_service.revision(session=session)

        def compute() -> bytes:
            rows = report_service.open311_rows(
                session=session,
                ids=wanted.ids,
                category_codes=wanted.category_codes,
                statuses=wanted.statuses,
                start=wanted.start,
                end=wanted.end,
                limit=MAX_RESULTS,
            )
            photo_urls = _photo_urls(request, session, rows)
            document = georeport.requests(rows, known, language, photo_urls)
            return georeport.encode("service_requests", document, chosen)

        body = _KEPT.get(session).get_or_compute(key, revision, compute)
        # Only read: ending the transaction here spares the request the thread hand-off
        # that the session dependency would need to commit it.
        session.rollback()
        return Response(body, media_type=georeport.MEDIA_TYPES[chosen])

    return _answer(request, fmt, build)


@router.get(PREFIX + "/requests/{request_id}.{fmt}")
def get_request(
    request: Request, request_id: str, fmt: str, session: SessionDep, _: Anyone
) -> Response:
    """One Open311 service request."""

    def build(chosen: Format, language: Language) -> Response:
        found = (
            report_service.open311_rows(session=session, ids=[int(request_id)])
            if request_id.isdigit() and len(request_id) <= 12
            else []
        )
        if not found:
            raise Open311Error(
                404, gettext("service_request_id %(id)s was not found.") % {"id": request_id}
            )
        document = georeport.requests(
            found, catalogue(), language, _photo_urls(request, session, found)
        )
        return georeport.respond("service_requests", document, chosen)

    return _answer(request, fmt, build)


@router.get(PREFIX + "/tokens/{token}.{fmt}")
def get_token(request: Request, token: str, fmt: str, session: SessionDep, _: Anyone) -> Response:
    """The service_request_id of a token."""

    def build(chosen: Format, _language: Language) -> Response:
        report = report_service.get_by_token(session=session, token=token) if token else None
        if report is None:
            raise Open311Error(404, gettext("token %(token)s was not found.") % {"token": token})
        return georeport.respond("service_requests", georeport.token(report.id, token), chosen)

    return _answer(request, fmt, build)


# ---------------------------------------------------------------- submitting


def _presented_key(request: Request, form: FormData) -> str:
    field = form.get("api_key")
    return (field if isinstance(field, str) else request.query_params.get("api_key", "")).strip()


async def submission_limit(request: Request, form: RawForm) -> Verdict:
    """A ceiling per API key (by its public prefix), before any database work."""
    presented = _presented_key(request, form)
    parts = presented.split("_")
    key = parts[1] if len(parts) >= 3 else f"ip:{client_ip(request)}"
    limiter = request.app.state.rate_limiter
    return await limiter.hit(SUBMISSIONS_PER_KEY, "open311", key)  # type: ignore[no-any-return]


def _attributes(form: FormData) -> dict[str, list[str]]:
    """``attribute[code]=v`` and, for lists, ``attribute[code][]=v1&attribute[code][]=v2``."""
    given: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        match = _ATTRIBUTE.match(name)
        if match and isinstance(value, str):
            given.setdefault(match.group(1), []).append(value)
    return given


def _submit(
    session: Session, request: Request, form: FormData, language: Language
) -> list[dict[str, object]]:
    presented = _presented_key(request, form)
    if not presented:
        raise Open311Error(403, gettext("api_key was not provided."))
    key = apikeys.authenticate(session=session, presented=presented)
    if key is None:
        raise Open311Error(403, gettext("api_key is invalid, expired or revoked."))
    if Permission.REPORTS_SUBMIT not in apikeys.scopes_of(key):
        raise Open311Error(403, gettext("This api_key may not submit service requests."))
    values = {name: v for name, v in form.items() if isinstance(v, str)}
    code = values.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, gettext("service_code was not provided."))
    known = catalogue()
    category = known.get(code)
    if category is None:
        raise Open311Error(404, unknown_code(code))
    answers, answer_errors = check_answers(category, _attributes(form))
    report_in, errors = read_report(
        values, category=category, answers=answers, area=known.area, description_required=False
    )
    problems = [f"attribute[{name}]: {text}" for name, text in answer_errors.items()]
    problems += [f"{name}: {text}" for name, text in errors.items()]
    if report_in is None or problems:
        raise Open311Error(400, *problems)
    report = report_service.create(
        session=session, report_in=report_in, category=category, source="open311", api_key_id=key.id
    )
    audit.record(
        session,
        action="report.submitted",
        actor=audit.Actor("apikey", key.id),
        target_kind="report",
        target_id=report.id,
        ip=client_ip(request),
    )
    return georeport.created(report.id, category, language)


@router.post(PREFIX + "/requests.{fmt}")
@csrf_exempt
def create_request(
    request: Request,
    fmt: str,
    session: SessionDep,
    form: RawForm,
    limit: Annotated[Verdict, Depends(submission_limit)],
    _: Anyone,
) -> Response:
    """Submit a service request (form-encoded, with ``api_key``)."""

    def build(chosen: Format, language: Language) -> Response:
        if not limit.allowed:
            response = georeport.error_response(
                429, [gettext("Too many requests; please wait a moment and try again.")], chosen
            )
            response.headers["Retry-After"] = str(limit.retry_after_s)
            return response
        return georeport.respond(
            "service_requests", _submit(session, request, form, language), chosen
        )

    return _answer(request, fmt, build)


@router.get(PREFIX + "/{unknown:path}")
async def unknown_resource(request: Request, unknown: str, _: Anyone) -> Response:
    """Anything else under the endpoint: a 404 in the spec's format."""
    fmt: Format = "json" if unknown.endswith(".json") else "xml"
    with use_language(negotiate(request.headers.get("accept-language"))):
        return georeport.error_response(404, [gettext("There is no such resource.")], fmt)

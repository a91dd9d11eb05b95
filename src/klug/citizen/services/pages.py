"""The service catalogue as pages (``/leistungen``) and as JSON (``/api/citizen/services``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse

from klug.citizen.services import catalogue
from klug.citizen.services.catalogue import TOPICS, Service
from klug.core.errors import NotFound
from klug.core.i18n import Language, current_language
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public

router = Router()
Anyone = Annotated[Principal, Depends(public)]
MAX_QUERY = 200
# The catalogue is read from files at start-up and changes only with a restart: its
# pages may be kept for anonymous visitors (klug.core.pagecache) as they are.
CATALOGUE_VERSION = "start-up"


@router.get("/leistungen", response_class=HTMLResponse, include_in_schema=False)
def services_page(request: Request, _: Anyone, q: str = "") -> HTMLResponse:
    """The catalogue by topic, optionally filtered by words."""
    query = q.strip()[:MAX_QUERY]
    found = catalogue.matching(query, current_language())
    by_topic = [(t, [s for s in found if s.topic == t]) for t in TOPICS]
    return render(
        request,
        "services/index.html",
        {"query": query, "found": len(found), "topics": [(t, s) for t, s in by_topic if s]},
        anonymous_version=CATALOGUE_VERSION,
    )


@router.get("/leistungen/{slug}", response_class=HTMLResponse, include_in_schema=False)
def service_page(request: Request, slug: str, _: Anyone) -> HTMLResponse:
    """One service: who may apply, documents, fees, processing time, office."""
    service = catalogue.find(slug)
    if service is None:
        raise NotFound
    return render(
        request, "services/detail.html", {"service": service}, anonymous_version=CATALOGUE_VERSION
    )


def service_json(service: Service, language: Language) -> dict[str, Any]:
    return {
        "slug": service.slug,
        "topic": service.topic,
        "title": service.title.get(language),
        "summary": service.summary.get(language),
        "description": [p.get(language) for p in service.description],
        "who_may_apply": service.who_may_apply.get(language),
        "documents": [d.get(language) for d in service.documents],
        "fees": [{"label": f.label.get(language), "eur": f.eur} for f in service.fees],
        "processing_days": service.processing_days,
        "processing_basis": service.processing_basis.get(language)
        if service.processing_basis
        else None,
        "legal_basis": service.legal_basis,
        "office": {
            "name": service.office.name.get(language),
            "address": service.office.address,
            "phone": service.office.phone,
            "email": service.office.email,
        },
        "online": service.online_form is not None,
        "verified": service.verified,
    }


@router.get("/api/citizen/services")
def list_services(
    _: Anyone, lang: Annotated[Language, Query()] = "de", q: str = ""
) -> dict[str, Any]:
    """The service catalogue (optionally filtered by words), in German or English."""
    found = catalogue.matching(q.strip()[:MAX_QUERY], lang)
    return {"services": [service_json(s, lang) for s in found]}


@router.get("/api/citizen/services/{slug}")
def get_service(slug: str, _: Anyone, lang: Annotated[Language, Query()] = "de") -> dict[str, Any]:
    """One service of the catalogue."""
    service = catalogue.find(slug)
    if service is None:
        raise NotFound
    return service_json(service, lang)

"""The service catalogue in the site search: one search document per service and language.

The catalogue lives in files and changes only with a release, so it is indexed when the
schema is brought up to date (``klug migrate``, ``klug demo``) – once per deployment, not
by every worker at start-up.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from klug.citizen.search import service as search_service
from klug.citizen.search.models import SearchEntry
from klug.citizen.services.catalogue import Service, catalogue
from klug.core.i18n import LANGUAGES, Language

KIND = "service"
# Services are valid as long as they are in the catalogue: visible from the start.
ALWAYS = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _document(service: Service, language: Language) -> search_service.Document:
    parts = [
        service.summary.get(language),
        *(p.get(language) for p in service.description),
        service.who_may_apply.get(language),
        *(d.get(language) for d in service.documents),
        " ".join(service.keywords),
    ]
    return search_service.Document(
        kind=KIND,
        key=service.slug,
        language=language,
        text_language="de" if service.description[0].only_german(language) else language,
        title=service.title.get(language),
        text="\n".join(parts),
        path=f"/leistungen/{service.slug}",
        visible_from=ALWAYS,
    )


def index_catalogue(session: Session) -> int:
    """Index every service of the catalogue and drop services no longer in it; returns
    the number of services. The caller commits."""
    services = catalogue()
    search_service.index(
        session=session,
        documents=[_document(s, language) for s in services for language in LANGUAGES],
    )
    current = {s.slug for s in services}
    indexed = session.scalars(select(SearchEntry.key).where(SearchEntry.kind == KIND)).all()
    for gone in set(indexed) - current:
        search_service.remove(session=session, kind=KIND, key=gone)
    return len(services)

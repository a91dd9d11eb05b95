"""The search page ``/suche``: a form, the number of hits, the hits, pages of hits."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klug.citizen.search import service as search_service
from klug.citizen.search.text import MAX_QUERY_CHARS
from klug.core.db import SessionDep
from klug.core.i18n import N_, current_language
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public

router = Router(include_in_schema=False)

HITS_PER_PAGE = 10
# Labels of the kinds of things the index holds; a kind without one shows none.
KIND_LABELS = {
    "page": N_("Page"),
    "news": N_("News item"),
    "event": N_("Event"),
    "service": N_("Service"),
}


@router.get("/suche", response_class=HTMLResponse)
def search_page(
    request: Request, session: SessionDep, _: Annotated[Principal, Depends(public)]
) -> HTMLResponse:
    """Search pages, news and events."""
    query = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
    raw_page = request.query_params.get("seite", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 1000 else 1
    results = search_service.search(
        session=session,
        query=query,
        language=current_language(),
        limit=HITS_PER_PAGE,
        offset=(page - 1) * HITS_PER_PAGE,
    )
    return render(
        request,
        "search/results.html",
        {
            "query": query,
            "results": results,
            "offset": (page - 1) * HITS_PER_PAGE,
            "page": page,
            "pages": max(1, math.ceil(results.total / HITS_PER_PAGE)),
            "kind_labels": KIND_LABELS,
        },
        # The same answer object while the index and the published items are unchanged
        # (search_service keeps answers per generation): the page may be kept as well.
        anonymous_version=results,
    )

"""The search as JSON, for apps and the city's other sites."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from klug.citizen.search import service as search_service
from klug.citizen.search.schemas import SearchHitRead, SearchResultsRead
from klug.citizen.search.text import MAX_QUERY_CHARS
from klug.core.db import SessionDep
from klug.core.i18n import localise_path
from klug.core.routes import Router
from klug.identity.deps import Principal, public

router = Router(tags=["search"])

Anyone = Annotated[Principal, Depends(public)]


@router.get("/api/content/search", response_model=SearchResultsRead)
def search_content(
    session: SessionDep,
    _: Anyone,
    q: Annotated[str, Query(description="Words to find; anything is accepted")] = "",
    lang: Literal["de", "en"] = "de",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> SearchResultsRead:
    """Full-text search over published pages, news and events, best hits first."""
    results = search_service.search(
        session=session, query=q, language=lang, limit=limit, offset=offset
    )
    return SearchResultsRead(
        query=q[:MAX_QUERY_CHARS],
        terms=results.terms,
        total=results.total,
        hits=[
            SearchHitRead(
                kind=hit.kind,
                key=hit.key,
                path=localise_path(hit.path, lang),
                language=hit.text_language,
                title_html=str(hit.title),
                snippet_html=str(hit.snippet),
            )
            for hit in results.hits
        ],
    )

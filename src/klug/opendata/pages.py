"""Pages of the open data programme."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public

router = Router(include_in_schema=False)


@router.get("/opendata", response_class=HTMLResponse)
async def opendata_home(request: Request, _: Annotated[Principal, Depends(public)]) -> HTMLResponse:
    """The open data catalogue of the city."""
    return render(request, "opendata/index.html")

"""Pages of the citizen services programme."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public

router = Router(include_in_schema=False)


@router.get("/buergerservice", response_class=HTMLResponse)
async def citizen_home(request: Request, _: Annotated[Principal, Depends(public)]) -> HTMLResponse:
    """Citizen services: information, online applications, reports."""
    return render(request, "citizen/index.html")

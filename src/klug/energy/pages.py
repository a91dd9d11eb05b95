"""Pages of the energy programme."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from klug.core.web import render
from klug.identity.deps import Principal, public

router = APIRouter(include_in_schema=False)


@router.get("/energie", response_class=HTMLResponse)
async def energy_home(request: Request, _: Annotated[Principal, Depends(public)]) -> HTMLResponse:
    """The energy programme: renewable share, the city's solar plants."""
    return render(request, "energy/index.html")

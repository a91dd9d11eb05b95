"""Pages of the safety programme."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public

router = Router(include_in_schema=False)


@router.get("/sicherheit", response_class=HTMLResponse)
async def safety_home(request: Request, _: Annotated[Principal, Depends(public)]) -> HTMLResponse:
    """The safety programme: public warnings and lawful monitoring."""
    return render(request, "safety/index.html")

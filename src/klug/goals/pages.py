"""Pages of the goals programme."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public

router = Router(include_in_schema=False)


@router.get("/ziele", response_class=HTMLResponse)
async def goals_home(request: Request, _: Annotated[Principal, Depends(public)]) -> HTMLResponse:
    """The goals of the smart-city initiative and their progress."""
    return render(request, "goals/index.html")

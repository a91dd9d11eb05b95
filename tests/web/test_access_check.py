"""create_app refuses to start when a route declares no access rule – also when the
router's other routes were checked by an earlier app of the same process."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI

from klug.app import _check_route_access
from klug.core.routes import Router
from klug.identity.deps import Principal, public


def _app(router: Router) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app


def test_a_route_without_an_access_rule_stops_the_start() -> None:
    router = Router()

    @router.get("/offen")
    def open_page(_: Annotated[Principal, Depends(public)]) -> dict[str, str]:
        return {}

    _check_route_access(_app(router))  # declared: starts
    _check_route_access(_app(router))  # checked once already: starts

    @router.get("/vergessen")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="GET /vergessen: no access rule"):
        _check_route_access(_app(router))

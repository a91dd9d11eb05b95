"""The first-segment guard on included routers picks the same route as FastAPI's full
matching, for every route of the app and for paths no route serves."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match

from klug.core.routeindex import index_routes


def _chosen(routes: list[BaseRoute], scope: dict[str, object], full: bool) -> int | None:
    """Index of the top-level route that wins: ``full`` ignores the guards."""
    partial = None
    for number, route in enumerate(routes):
        matches = type(route).matches.__get__(route) if full else route.matches
        match, _ = matches(scope)
        if match == Match.FULL:
            return number
        if match == Match.PARTIAL and partial is None:
            partial = number
    return partial


def _example(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_and_unknown_paths_are_matched_as_without_the_guard(
    client: TestClient,
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    routes = list(app.router.routes)
    assert index_routes(app) == 0, "create_app guards the routers already"
    guarded = [r for r in routes if "matches" in vars(r)]
    assert len(guarded) >= 20, "most routers should be guarded"
    paths = {_example(str(c.path)) for c in iter_route_contexts(routes)}
    paths |= {"/", "/gibt-es-nicht", "/konto", "/leistungen/", "/static/css/klug.css", "/en"}
    assert len(paths) > 100
    for path in sorted(paths):
        for method in ("GET", "POST", "DELETE"):
            scope = {
                "type": "http",
                "path": path,
                "root_path": "",
                "method": method,
                "headers": [],
                "query_string": b"",
            }
            assert _chosen(routes, scope, full=False) == _chosen(routes, scope, full=True), (
                method,
                path,
            )

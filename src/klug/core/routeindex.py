"""Route matching that skips the routers a path cannot belong to.

FastAPI tries every included router in turn, and each tries its routes' patterns: with
~30 routers and ~300 routes a page near the end of the list (services, case work) spent
about 1 ms per request on matching alone – a third of what a kept page costs. Each
router's routes begin with few literal segments (``/konto/…``, ``/leistungen/…``), so a
router whose routes cannot begin like the request's path (its first segment, or its
first two where routers share the first: ``/console/antraege/…``) answers "no match"
at once. Routers with a parameter as first segment (``/{path}``) are always tried; the
order of routers, and so which route wins, is unchanged (tested against the full
matching for every route).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

Matcher = Callable[[Scope], tuple[Match, Scope]]


@dataclass(frozen=True)
class Heads:
    """Where a router's routes can begin: a first segment alone (any second one), or a
    literal pair of first and second segments (``console/antraege``)."""

    singles: frozenset[str]
    pairs: frozenset[tuple[str, str]]

    def admit(self, path: str) -> bool:
        first, second = _segments(path)
        return first in self.singles or (first, second) in self.pairs


def _segments(path: str) -> tuple[str, str]:
    parts = path.split("/", 3)
    return (parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")


def _paths(included: Any, prefix: str = "") -> Iterator[tuple[str, bool]]:
    """``(path, is_mount)`` of every route under an included router, read from the routes
    themselves: FastAPI's effective route contexts (a dependency tree per route) are only
    built when a request first reaches the router – building all of them here made each
    app's start-up cost 0.2 s, paid by every test of the suite."""
    prefix += included.include_context.prefix
    router = included.original_router
    for route in (*router.routes, *getattr(router, "_low_priority_routes", ())):
        if hasattr(route, "original_router"):  # a router included in this one
            yield from _paths(route, prefix)
        else:
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                yield "/{unknown}", False  # a kind of route without a path: always try
            else:
                yield prefix + path, isinstance(route, Mount)


def _heads(router: BaseRoute) -> Heads | None:
    """The beginnings of the router's routes; None if any begins with a parameter."""
    singles, pairs = set(), set()
    for path, is_mount in _paths(router):
        first, second = _segments(path)
        if "{" in first:
            return None
        if "{" in second or path.count("/") < 2 or is_mount:
            singles.add(first)
        else:
            pairs.add((first, second))
    return Heads(frozenset(singles), frozenset(pairs))


def _guarded(matches: Matcher, heads: Heads) -> Matcher:
    def guarded(scope: Scope) -> tuple[Match, Scope]:
        if not heads.admit(get_route_path(scope)):
            return Match.NONE, {}
        return matches(scope)

    return guarded


def index_routes(app: FastAPI) -> int:
    """Guard each included router of ``app`` by its beginnings; the number guarded."""
    guarded = 0
    for route in app.router.routes:
        if not hasattr(route, "effective_route_contexts"):  # not an included router
            continue
        if "matches" in vars(route):  # guarded already
            continue
        heads = _heads(route)
        if heads is None:
            continue
        original: Any = route.matches
        setattr(route, "matches", _guarded(original, heads))  # noqa: B010 – an instance's own
        guarded += 1
    return guarded

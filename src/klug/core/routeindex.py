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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
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


def _heads(router: BaseRoute) -> Heads | None:
    """The beginnings of the router's routes; None if any begins with a parameter."""
    singles, pairs = set(), set()
    for context in iter_route_contexts([router]):
        path = str(context.path)
        first, second = _segments(path)
        if "{" in first:
            return None
        if "{" in second or path.count("/") < 2 or isinstance(context.original_route, Mount):
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

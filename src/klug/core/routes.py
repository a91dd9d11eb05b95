"""The platform's router: a synchronous route ends its own transaction in its own thread.

FastAPI runs a synchronous route in a worker thread, and the request's session
(``klug.core.db.get_session``) was then committed in a second hand-off to a worker thread
after the route returned. Each hand-off costs a wake-up of a pool thread and a trip
through the event loop – about 0.14 ms of CPU here, a few percent of a kept page (the
saved session and transaction count as much again). A route made by
:class:`Router` that takes the session as a parameter commits (or, on an error, leaves
the rollback to ``get_session``) right where it ran, before FastAPI turns to the
response; ``get_session`` then finds no transaction and only closes the session.

Nothing else changes: the commit still happens after the route returned and before the
response is sent, a failed commit is still an error response, and a route whose session
arrives only through another dependency keeps the commit in ``get_session``.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute

from klug.core.db import finish_session, get_session


def _session_parameter(endpoint: Callable[..., Any]) -> str | None:
    """The name of the endpoint's parameter that receives the request's session."""
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # an annotation that cannot be resolved here: FastAPI will say so
        return None
    for name, hint in hints.items():
        for extra in getattr(hint, "__metadata__", ()):
            if isinstance(extra, DependsParam) and extra.dependency is get_session:
                return name
    return None


def commits_in_its_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` wrapped to commit the request's session before it returns – for a
    synchronous endpoint with a session parameter; any other endpoint as it is."""
    if inspect.iscoroutinefunction(endpoint) or inspect.isgeneratorfunction(endpoint):
        return endpoint
    name = _session_parameter(endpoint)
    if name is None:
        return endpoint

    @functools.wraps(endpoint)
    def endpoint_then_commit(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        session = kwargs.get(name)
        if session is not None and session.in_transaction():
            finish_session(session, commit=True)
        return result

    return endpoint_then_commit


class TransactionalRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, commits_in_its_thread(endpoint), **kwargs)


class Router(APIRouter):
    """``APIRouter`` whose routes end their transaction in their own thread."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", TransactionalRoute)
        super().__init__(**kwargs)

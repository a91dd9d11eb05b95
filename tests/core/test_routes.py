"""A route made by ``klug.core.routes.Router`` ends its transaction in its own thread –
with the same outcome as before: committed when it returned, nothing when it failed."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from klug.core import db
from klug.core.db import (
    SessionDep,
    create_db_engine,
    make_session_factory,
    read_flag,
    utcnow,
    write_flag,
)
from klug.core.routes import Router
from klug.core.web import api_routes
from klug.identity.login import TOUCH_EVERY
from klug.identity.models import LoginSession
from klug.identity.permissions import Role
from tests.conftest import KnownAccount


@pytest.fixture
def small_app(database_url: str) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    """An app of three routes on the test database; ``seen`` records threads."""
    engine = create_db_engine(database_url, pool_size=2)
    seen: dict[str, Any] = {}
    router = Router()

    def remember_commit_thread(session: Session) -> None:
        event.listen(
            session,
            "after_commit",
            lambda _s: seen.setdefault("commit_thread", threading.get_ident()),
        )

    @router.post("/schreiben")
    def write(session: SessionDep) -> dict[str, str]:
        seen["route_thread"] = threading.get_ident()
        remember_commit_thread(session)
        write_flag(session, "routes-test", "written")
        return {"ok": "yes"}

    @router.post("/schreiben-und-scheitern")
    def write_then_fail(session: SessionDep) -> dict[str, str]:
        write_flag(session, "routes-test", "half")
        session.flush()
        raise HTTPException(409, "conflict after writing")

    @router.post("/commit-scheitert")
    def commit_fails(session: SessionDep) -> dict[str, str]:
        write_flag(session, "routes-test", "never")

        def refuse(_session: Session) -> None:
            raise RuntimeError("the database refused the commit")

        event.listen(session, "before_commit", refuse)
        return {"ok": "yes"}

    app = FastAPI()
    app.state.session_factory = make_session_factory(engine)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, seen
    engine.dispose()


def _flag(client: TestClient) -> str | None:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return read_flag(session, "routes-test")


def test_the_route_commits_in_its_own_thread(
    small_app: tuple[TestClient, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, seen = small_app
    handed_off: list[object] = []

    async def counting(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        handed_off.append(function)
        return function(*args, **kwargs)

    monkeypatch.setattr(db, "run_in_threadpool", counting)
    assert client.post("/schreiben").json() == {"ok": "yes"}
    assert _flag(client) == "written"
    assert seen["commit_thread"] == seen["route_thread"]
    assert handed_off == []  # get_session found the transaction ended


def test_a_failing_route_saves_nothing(small_app: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = small_app
    response = client.post("/schreiben-und-scheitern")
    assert response.status_code == 409
    assert _flag(client) is None


def test_a_failed_commit_is_an_error_and_saves_nothing(
    small_app: tuple[TestClient, dict[str, Any]],
) -> None:
    client, _ = small_app
    response = client.post("/commit-scheitert")
    assert response.status_code == 500 and "yes" not in response.text
    assert _flag(client) is None
    # The connection went back to the pool in a usable state.
    assert client.post("/schreiben").status_code == 200
    assert _flag(client) == "written"


def test_every_synchronous_route_with_a_session_commits_in_its_thread(client: TestClient) -> None:
    """A module that made its router with FastAPI's own APIRouter would fall back to the
    slower commit in a second thread hand-off; this names it."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from klug.core.routes import commits_in_its_thread

    unwrapped, wrapped = [], 0
    for context in iter_route_contexts(client.app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        original = getattr(route.endpoint, "__wrapped__", route.endpoint)
        if commits_in_its_thread(original) is not original and original is route.endpoint:
            unwrapped.append(f"{sorted(route.methods)} {route.path}")
        wrapped += original is not route.endpoint
    assert unwrapped == []
    assert wrapped > 50 and len(api_routes(client.app)) > 150  # the whole app was looked at


def test_a_due_login_touch_is_kept_when_the_route_fails(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    """The login is read in the route's transaction; its once-a-minute touch commits on
    its own, so a route that fails does not undo it."""
    account = logged_in(Role.CASEWORKER)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    long_ago = utcnow() - TOUCH_EVERY - dt.timedelta(seconds=30)
    with factory() as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == account.id)
            .values(last_seen_at=long_ago)
        )
        session.commit()
    response = client.get("/console/antraege/KL-2099-999999")
    assert response.status_code == 404
    with factory() as session:
        seen = session.query(LoginSession.last_seen_at).filter_by(account_id=account.id).scalar()
    assert seen > long_ago + dt.timedelta(seconds=20)
    # And the kept login still works for the next page.
    assert client.get("/console/antraege").status_code == 200

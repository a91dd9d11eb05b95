"""Helpers for the content tests: an editor's browser, items made through the console."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from klug.citizen.content import items as content_items
from klug.citizen.content.models import ContentItem
from klug.citizen.content.schemas import ItemCreate
from klug.core.audit import SYSTEM
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, post_form


@pytest.fixture
def editor(client: TestClient, logged_in: Callable[..., KnownAccount]) -> KnownAccount:
    """The test client, logged in as an editor."""
    return logged_in(Role.EDITOR)


def create_through_console(client: TestClient, kind: str = "news", **fields: str) -> int:
    """Fill in the console's form for a new item; returns the new item's id."""
    data = {"title_de": "Ein Titel", "body_de": "Ein Text.", **fields}
    art = {"page": "seiten", "news": "nachrichten", "event": "veranstaltungen"}[kind]
    data["kind"] = kind
    response = post_form(
        client,
        "/console/inhalte/neu",
        data,
        token_from=f"/console/inhalte/neu?art={art}",
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/console/inhalte/(\d+)\?gespeichert=1", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def console_action(client: TestClient, item_id: int, action: str) -> Any:
    """Press one of the item page's buttons (publish, withdraw, delete …)."""
    return post_form(
        client,
        f"/console/inhalte/{item_id}/{action}",
        {},
        token_from=f"/console/inhalte/{item_id}",
        follow_redirects=False,
    )


def session_of(client: TestClient) -> Session:
    return client.app.state.session_factory()  # type: ignore[attr-defined,no-any-return]


def make_item(
    client: TestClient,
    *,
    kind: str = "page",
    publish: bool = True,
    published_at: dt.datetime | None = None,
    **fields: Any,
) -> ContentItem:
    """An item made through the service (for tests of what the public sees)."""
    values = {"title_de": "Titel", "body_de": "Text.", **fields}
    with session_of(client) as session:
        item = content_items.create(
            session=session,
            item_in=ItemCreate(kind=kind, published_at=published_at, **values),
            actor=SYSTEM,
        )
        if publish:
            content_items.publish(session=session, item=item, actor=SYSTEM)
        session.commit()
        return item

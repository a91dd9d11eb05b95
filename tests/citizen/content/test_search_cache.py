"""Search answers kept in memory are exactly what a fresh search would give: a change of
the index (in any process) and a scheduled publication coming due both make them stale."""

from __future__ import annotations

import datetime as dt
import time

from fastapi.testclient import TestClient

from klug.citizen.search import service as search_service
from klug.core.db import utcnow


def _document(key: str, title: str, visible_from: dt.datetime) -> search_service.Document:
    return search_service.Document(
        kind="page",
        key=key,
        language="de",
        text_language="de",
        title=title,
        text="Informationen der Stadtverwaltung",
        path=f"/seiten/{key}",
        visible_from=visible_from,
    )


def _titles(client: TestClient, query: str) -> list[str]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        found = search_service.search(session=session, query=query, language="de")
        return [str(h.title.striptags()) for h in found.hits]


def _index(client: TestClient, *documents: search_service.Document) -> None:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        search_service.index(session=session, documents=documents)
        session.commit()


def test_a_kept_answer_follows_every_change_of_the_index(client: TestClient) -> None:
    earlier = utcnow() - dt.timedelta(days=1)
    _index(client, _document("a", "Wertstoffhof Öffnungszeiten", earlier))
    assert _titles(client, "Wertstoffhof") == ["Wertstoffhof Öffnungszeiten"]
    assert _titles(client, "Wertstoffhof") == ["Wertstoffhof Öffnungszeiten"]  # kept
    _index(client, _document("b", "Wertstoffhof Nord", earlier))
    assert sorted(_titles(client, "Wertstoffhof")) == [
        "Wertstoffhof Nord",
        "Wertstoffhof Öffnungszeiten",
    ]
    _index(client, _document("a", "Recyclinghof Öffnungszeiten", earlier))  # renamed
    assert _titles(client, "Wertstoffhof") == ["Wertstoffhof Nord"]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        search_service.remove(session=session, kind="page", key="b")
        session.rollback()  # not committed: the kept answer stays right
    assert _titles(client, "Wertstoffhof") == ["Wertstoffhof Nord"]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        search_service.remove(session=session, kind="page", key="b")
        session.commit()
    assert _titles(client, "Wertstoffhof") == []


def test_a_scheduled_publication_appears_when_it_comes_due(client: TestClient) -> None:
    _index(client, _document("soon", "Sperrmüll Termine 2027", utcnow() + dt.timedelta(seconds=1)))
    assert _titles(client, "Sperrmüll") == []
    time.sleep(1.2)
    assert _titles(client, "Sperrmüll") == ["Sperrmüll Termine 2027"]

"""Pages kept for anonymous visitors: the same page a fresh render gives, with each
visitor's own form token; never for logged-in visitors; never stale after a change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from klug.citizen.search import service as search_service
from klug.core import pagecache
from klug.core.db import utcnow
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, soup


def _builder(renders: list[str]) -> Callable[[str], tuple[str, int]]:
    def build(token: str) -> tuple[str, int]:
        renders.append(token)
        return f'<input name="csrf_token" value="{token}"> page {len(renders)}', 200

    return build


def test_a_kept_page_carries_each_visitors_own_token() -> None:
    cache = pagecache.PageCache()
    renders: list[str] = []
    first, _ = cache.page("key", 1, "token-of-anna", _builder(renders))
    second, _ = cache.page("key", 1, "token-of-ben", _builder(renders))
    assert len(renders) == 1, "the second visitor's page was rendered again"
    assert 'value="token-of-anna"> page 1' in first
    assert 'value="token-of-ben"> page 1' in second
    assert pagecache.TOKEN_PLACEHOLDER not in second


def test_a_new_version_or_an_old_entry_renders_again(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: now[0])
    cache = pagecache.PageCache(ttl_s=5)
    renders: list[str] = []
    cache.page("key", 1, "t", _builder(renders))
    cache.page("key", 1, "t", _builder(renders))
    assert len(renders) == 1
    page, _ = cache.page("key", 2, "t", _builder(renders))
    assert len(renders) == 2 and page.endswith("page 2")
    now[0] += 5.1
    page, _ = cache.page("key", 2, "t", _builder(renders))
    assert len(renders) == 3 and page.endswith("page 3")


def test_the_oldest_entries_make_room() -> None:
    cache = pagecache.PageCache(max_entries=2)
    renders: list[str] = []
    for key in ("a", "b", "a", "c"):  # "a" used again: "b" is the oldest
        cache.page(key, 1, "t", _builder(renders))
    assert len(renders) == 3
    cache.page("a", 1, "t", _builder(renders))
    assert len(renders) == 3
    cache.page("b", 1, "t", _builder(renders))
    assert len(renders) == 4


def _header_links(client: TestClient, path: str) -> list[str]:
    page = soup(client.get(path))
    return [a.get_text(strip=True) for a in page.select("header a")]


def test_a_logged_in_visitor_never_gets_the_page_kept_for_anonymous_ones(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    path = "/leistungen/bewohnerparkausweis"
    assert "Anmelden" in _header_links(client, path)
    assert "Anmelden" in _header_links(client, path)  # kept
    logged_in(Role.CITIZEN)
    links = _header_links(client, path)
    assert "Mein Konto" in links and "Anmelden" not in links
    client.cookies.clear()
    assert "Anmelden" in _header_links(client, path)


def _document(key: str, title: str) -> search_service.Document:
    return search_service.Document(
        kind="page",
        key=key,
        language="de",
        text_language="de",
        title=title,
        text="Informationen der Stadtverwaltung",
        path=f"/seiten/{key}",
        visible_from=utcnow() - dt.timedelta(days=1),
    )


def test_a_kept_search_page_follows_a_change_of_the_index_at_once(client: TestClient) -> None:
    def hits() -> list[str]:
        page = soup(client.get("/suche?q=Wertstoffhof"))
        return [a.get_text(" ", strip=True) for a in page.select("main .record__title a")]

    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        search_service.index(session=session, documents=[_document("a", "Wertstoffhof Süd")])
        session.commit()
    assert hits() == ["Wertstoffhof Süd"]
    assert hits() == ["Wertstoffhof Süd"]  # kept
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        search_service.index(session=session, documents=[_document("b", "Wertstoffhof Nord")])
        session.commit()
    assert sorted(hits()) == ["Wertstoffhof Nord", "Wertstoffhof Süd"]

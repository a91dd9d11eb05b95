"""The demo city's pages, news and events: published, searchable, seeded once."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.citizen.content.models import ContentItem
from klug.sim.content import seed_content
from tests.citizen.content.conftest import session_of
from tests.conftest import soup


def test_demo_content_is_published_once_and_can_be_found(client: TestClient) -> None:
    with session_of(client) as session:
        assert seed_content(session) == 26
        session.commit()
        assert seed_content(session) == 0, "seeding again adds nothing"
        session.commit()
        stored = session.scalars(select(ContentItem)).all()
    assert Counter(item.kind for item in stored) == {"page": 10, "news": 10, "event": 6}
    assert all(item.status == "published" and item.is_demo for item in stored)
    assert len(soup(client.get("/veranstaltungen")).select("main .record")) == 4
    assert len(soup(client.get("/veranstaltungen/archiv")).select("main .record")) == 2
    news = soup(client.get("/aktuelles")).select("main .record")
    assert len(news) == 10
    english_only_german = soup(client.get("/en/aktuelles/stadtbibliothek-onleihe"))
    assert english_only_german.find("h1").find("span", lang="de") is not None
    hits = client.get("/api/content/search", params={"q": "Parkausweise"}).json()["hits"]
    assert "/seiten/parken" in [hit["path"] for hit in hits]

"""The news as an Atom 1.0 feed: well-formed, complete, published news only."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient

from tests.citizen.content.conftest import make_item

A = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NOW = dt.datetime.now(dt.UTC)


def _feed(client: TestClient, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - the server under test wrote it
    assert root.tag == f"{A}feed"
    return root


def _is_rfc3339(value: str | None) -> bool:
    assert value is not None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def test_the_feed_lists_published_news_only_with_what_atom_requires(client: TestClient) -> None:
    make_item(
        client,
        kind="news",
        slug="alt",
        title_de="Ältere Meldung",
        published_at=NOW - dt.timedelta(days=3),
    )
    make_item(
        client,
        kind="news",
        slug="neu",
        title_de="Neue Meldung & mehr",
        body_de="Text mit <script>alert(1)</script> **fett**.",
        summary_de="Kurz gesagt.",
    )
    make_item(client, kind="news", slug="entwurf", title_de="Entwurf", publish=False)
    make_item(
        client,
        kind="news",
        slug="geplant",
        title_de="Geplant",
        published_at=NOW + dt.timedelta(days=1),
    )
    make_item(client, kind="page", slug="seite", title_de="Eine Seite")

    feed = _feed(client, "/aktuelles/feed.atom")
    assert feed.get(XML_LANG) == "de"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{A}{required}") is not None, required
    assert _is_rfc3339(feed.findtext(f"{A}updated"))
    self_link = feed.find(f"{A}link[@rel='self']")
    assert (
        self_link is not None and self_link.get("href") == "http://testserver/aktuelles/feed.atom"
    )

    entries = feed.findall(f"{A}entry")
    assert [e.findtext(f"{A}title") for e in entries] == ["Neue Meldung & mehr", "Ältere Meldung"]
    ids = [e.findtext(f"{A}id") for e in entries]
    assert len(set(ids)) == 2 and all(i and i.startswith("tag:testserver,") for i in ids)
    newest = entries[0]
    assert newest.find(f"{A}link").get("href") == "http://testserver/aktuelles/neu"
    assert _is_rfc3339(newest.findtext(f"{A}updated"))
    assert _is_rfc3339(newest.findtext(f"{A}published"))
    assert newest.findtext(f"{A}summary") == "Kurz gesagt."
    content = newest.find(f"{A}content")
    assert content is not None and content.get("type") == "html"
    # The sanitised HTML is the element's text: the markup an aggregator will show.
    assert "<strong>fett</strong>" in (content.text or "")
    assert "<script>" not in (content.text or "")


def test_the_english_feed_links_english_pages_and_marks_german_entries(
    client: TestClient,
) -> None:
    make_item(client, kind="news", slug="beides", title_de="Abfall", title_en="Waste",
              body_de="Tonne.", body_en="Bin.")  # fmt: skip
    make_item(
        client,
        kind="news",
        slug="deutsch",
        title_de="Nur deutsch",
        published_at=NOW - dt.timedelta(hours=1),
    )
    feed = _feed(client, "/en/aktuelles/feed.atom")
    assert feed.get(XML_LANG) == "en"
    entries = {e.findtext(f"{A}title"): e for e in feed.findall(f"{A}entry")}
    assert set(entries) == {"Waste", "Nur deutsch"}
    assert entries["Waste"].get(XML_LANG) is None
    assert entries["Nur deutsch"].get(XML_LANG) == "de"
    assert entries["Waste"].find(f"{A}link").get("href") == "http://testserver/en/aktuelles/beides"


def test_an_empty_feed_is_still_a_valid_feed(client: TestClient) -> None:
    feed = _feed(client, "/aktuelles/feed.atom")
    assert feed.findall(f"{A}entry") == []
    assert _is_rfc3339(feed.findtext(f"{A}updated"))

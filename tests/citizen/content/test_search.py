"""Full-text search over published content, on SQLite (FTS5) and PostgreSQL alike.

The suite runs these against the database under test: SQLite by default, PostgreSQL
with ``KLUG_TEST_DATABASE=postgres`` (``make test`` does both).
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from klug.citizen.search import service as search_service
from tests.citizen.content.conftest import (
    console_action,
    create_through_console,
    make_item,
    session_of,
)
from tests.conftest import KnownAccount, soup

NOW = dt.datetime.now(dt.UTC)


def _api(client: TestClient, q: str, lang: str = "de", **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/content/search", params={"q": q, "lang": lang, **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _paths(client: TestClient, q: str, lang: str = "de") -> list[str]:
    return [hit["path"] for hit in _api(client, q, lang)["hits"]]


def test_german_words_are_found_by_their_stem(client: TestClient) -> None:
    make_item(
        client,
        slug="parken",
        title_de="Parken in der Innenstadt",
        body_de="Bewohner beantragen einen Parkausweis im Bürgerbüro.",
    )
    make_item(client, slug="abfall", title_de="Abfall", body_de="Die Tonnen werden geleert.")
    assert _paths(client, "Parkausweise") == ["/seiten/parken"]
    assert _paths(client, "Parkausweisen beantrage") == ["/seiten/parken"]
    assert _paths(client, "Burgerburo") == ["/seiten/parken"], "umlauts may be left out"
    assert _paths(client, "Parkausweis Müll") == [], "every word must occur"
    assert _paths(client, "Tonne") == ["/seiten/abfall"]


def test_english_visitors_search_english_text_with_english_stems(client: TestClient) -> None:
    make_item(
        client,
        slug="permit",
        title_de="Parkausweis",
        title_en="Parking permit",
        body_de="Bewohner beantragen ihn.",
        body_en="Residents apply for it online.",
    )
    assert _paths(client, "parking permits", "en") == ["/en/seiten/permit"]
    assert _paths(client, "applied", "en") == ["/en/seiten/permit"]
    assert _paths(client, "parking permits", "de") == []


def test_english_search_finds_german_only_items_marked_as_german(client: TestClient) -> None:
    make_item(client, slug="hunde", title_de="Hundesteuer", body_de="Für jeden Hund zahlen.")
    result = _api(client, "Hundesteuer", "en")
    assert [(h["path"], h["language"]) for h in result["hits"]] == [("/en/seiten/hunde", "de")]
    page = soup(client.get("/en/suche", params={"q": "Hundesteuer"}))
    hit = page.find("ol").find("li")
    assert hit["lang"] == "de"
    assert "(only in German)" in hit.get_text()


def test_title_hits_rank_before_text_hits(client: TestClient) -> None:
    make_item(
        client,
        slug="viel-im-text",
        title_de="Wertstoffhof",
        body_de="Sperrmüll " * 30 + "und noch einmal Sperrmüll.",
        published_at=NOW - dt.timedelta(minutes=5),
    )
    make_item(
        client,
        slug="im-titel",
        title_de="Sperrmüll anmelden",
        body_de="Die Abholung wird online gebucht. " * 20,
        published_at=NOW - dt.timedelta(days=30),
    )
    assert _paths(client, "Sperrmüll") == ["/seiten/im-titel", "/seiten/viel-im-text"]


def test_snippets_are_escaped_and_only_the_marks_are_markup(client: TestClient) -> None:
    make_item(
        client,
        slug="xss",
        title_de="<b>Fett</b> Sperrmüll",
        body_de="Vorher `<script>alert(1)</script>` & danach: "
        "Sperrmüll <img src=x onerror=alert(2)>",
    )
    [hit] = _api(client, "Sperrmüll")["hits"]
    assert hit["title_html"] == "&lt;b&gt;Fett&lt;/b&gt; <mark>Sperrmüll</mark>"
    assert "&lt;script&gt;" in hit["snippet_html"]
    assert "&amp; danach" in hit["snippet_html"]
    assert "<mark>Sperrmüll</mark>" in hit["snippet_html"]
    page = soup(client.get("/suche", params={"q": "Sperrmüll"}))
    result = page.find("ol")
    assert result.find("script") is None and result.find("img") is None and result.find("b") is None
    assert [m.get_text() for m in result.find_all("mark")] == ["Sperrmüll", "Sperrmüll"]


ODD_QUERIES = [
    '"',
    '"unbalanced',
    "AND",
    "OR NOT",
    "NEAR(a b)",
    "title: Sperrmüll",
    "{title}: x",
    "*",
    "Sperr*",
    "-Sperrmüll",
    "a & b | !c",
    "'; DROP TABLE citizen_search_entry; --",
    "\\",
    "%_%",
    "ü" * 300,
    "Sperrmüll " * 60,
    "x" * 5000,
    "\u200b\u0000",
    "🚮 Müll",
    "",
    "   ",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_never_fail(client: TestClient, query: str) -> None:
    make_item(client, slug="sperrmuell", title_de="Sperrmüll", body_de="Abholung buchen.")
    result = _api(client, query)
    assert result["total"] == len(result["hits"]) <= 1
    assert len(result["terms"]) <= 8
    page = client.get("/suche", params={"q": query})
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert client.get("/en/suche", params={"q": query}).status_code == 200


def test_operators_are_words_and_all_words_must_occur(client: TestClient) -> None:
    make_item(client, slug="a", title_de="Sperrmüll", body_de="Abholung buchen.")
    make_item(client, slug="b", title_de="Grünschnitt", body_de="Abholung im Herbst.")
    assert sorted(_paths(client, "Abholung")) == ["/seiten/a", "/seiten/b"]
    assert _paths(client, "Abholung Herbst") == ["/seiten/b"]
    assert _paths(client, "Sperrmüll OR Grünschnitt") == [], "OR is a word, not an operator"
    assert _paths(client, "-Sperrmüll") == ["/seiten/a"], "a minus is punctuation"


def test_only_published_content_is_found(
    client: TestClient, editor: KnownAccount, client_factory: object
) -> None:
    make_item(client, slug="entwurf", title_de="Sperrmüll Entwurf", publish=False)
    make_item(
        client,
        slug="geplant",
        title_de="Sperrmüll geplant",
        published_at=NOW + dt.timedelta(hours=2),
    )
    item_id = create_through_console(client, "news", title_de="Sperrmüll jetzt", slug="jetzt")
    assert _paths(client, "Sperrmüll") == []
    console_action(client, item_id, "veroeffentlichen")
    assert _paths(client, "Sperrmüll") == ["/aktuelles/jetzt"]
    console_action(client, item_id, "zurueckziehen")
    assert _paths(client, "Sperrmüll") == []
    console_action(client, item_id, "veroeffentlichen")
    console_action(client, item_id, "loeschen")
    assert _paths(client, "Sperrmüll") == []


def test_results_page_has_a_counted_heading_a_list_and_pages(client: TestClient) -> None:
    for n in range(13):
        make_item(
            client,
            kind="news",
            slug=f"meldung-{n}",
            title_de=f"Abfallkalender {n}",
            body_de="Neue Termine für die Müllabfuhr.",
            published_at=NOW - dt.timedelta(days=n),
        )
    page = soup(client.get("/en/suche", params={"q": "Müllabfuhr"}))
    heading = page.find("h2", id="treffer")
    assert heading.get_text(strip=True) == "13 results for “Müllabfuhr”"
    results = page.find("ol", attrs={"aria-labelledby": "treffer"})
    assert len(results.find_all("li", recursive=False)) == 10
    assert page.find("input", id="q")["value"] == "Müllabfuhr"
    assert page.find("label", attrs={"for": "q"}) is not None
    pager = page.find("nav", class_="pager")
    second = soup(client.get("/en/suche" + pager.find("a", rel="next")["href"]))
    rest = second.find("ol")
    assert rest["start"] == "11" and len(rest.find_all("li", recursive=False)) == 3
    one = soup(client.get("/en/suche", params={"q": "Abfallkalender 7"}))
    assert one.find("h2", id="treffer").get_text(strip=True) == "1 result for “Abfallkalender 7”"


def test_the_api_pages_and_refuses_unknown_languages(client: TestClient) -> None:
    for n in range(5):
        make_item(client, slug=f"s-{n}", title_de=f"Bürgerbüro {n}", body_de="Termine.")
    first = _api(client, "Termine", limit=2)
    rest = _api(client, "Termine", limit=2, offset=4)
    assert (first["total"], len(first["hits"]), len(rest["hits"])) == (5, 2, 1)
    assert {"kind", "key", "path", "language", "title_html", "snippet_html"} == set(
        first["hits"][0]
    )
    assert client.get("/api/content/search", params={"q": "x", "lang": "fr"}).status_code == 422
    assert client.get("/api/content/search", params={"q": "x", "limit": 500}).status_code == 422


def test_other_kinds_can_share_the_index(client: TestClient) -> None:
    """The service catalogue will index its services next to pages (kind + key)."""
    with session_of(client) as session:
        search_service.index(
            session=session,
            documents=[
                search_service.Document(
                    kind="service",
                    key="bewohnerparkausweis",
                    language="de",
                    text_language="de",
                    title="Bewohnerparkausweis beantragen",
                    text="Für Anwohnerinnen und Anwohner in Parkzonen.",
                    path="/leistungen/bewohnerparkausweis",
                    visible_from=NOW - dt.timedelta(seconds=1),
                )
            ],
        )
        session.commit()
    [hit] = _api(client, "Anwohner Parkzone")["hits"]
    assert (hit["kind"], hit["key"]) == ("service", "bewohnerparkausweis")
    with session_of(client) as session:
        search_service.remove(session=session, kind="service", key="bewohnerparkausweis")
        session.commit()
    assert _api(client, "Anwohner Parkzone")["hits"] == []

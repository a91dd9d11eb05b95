"""The service catalogue: definitions validated, pages structured, JSON for apps."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from klug.citizen.services import catalogue
from klug.citizen.services.catalogue import CatalogueError, read_catalogue
from tests.conftest import soup

SHIPPED = {"bewohnerparkausweis", "sperrmuellabholung", "sondernutzungserlaubnis"}


def test_every_shipped_definition_is_valid_and_bilingual() -> None:
    services = read_catalogue()
    assert {s.slug for s in services} >= SHIPPED
    for service in services:
        for text in [service.title, service.summary, service.who_may_apply, *service.description]:
            assert text.en, f"{service.slug}: English text missing"
        assert service.office.address
    # The three procedures of the issue are online procedures.
    assert all(catalogue.find(slug).online_form for slug in SHIPPED)  # type: ignore[union-attr]


def test_a_broken_definition_names_its_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "kaputt.yaml").write_text(
        "slug: kaputt\ntopic: verkehr\ntitle: {de: Kaputt}\n", encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"kaputt\.yaml.*summary"):
        read_catalogue(tmp_path)
    (tmp_path / "kaputt.yaml").write_text("slug: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"kaputt\.yaml"):
        read_catalogue(tmp_path)


def test_the_slug_must_match_the_file_name(tmp_path: Path) -> None:
    text = (catalogue.DEFINITIONS / "gewerbeanmeldung.yaml").read_text(encoding="utf-8")
    (tmp_path / "anders.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="must match the file name"):
        read_catalogue(tmp_path)


def test_catalogue_page_groups_by_topic_and_filters(client: TestClient) -> None:
    page = soup(client.get("/leistungen"))
    assert page.h1.get_text(strip=True) == "Leistungen A–Z"
    sections = {h.get_text(strip=True) for h in page.select("section h2")}
    assert {"Verkehr und Parken", "Abfall"} <= sections
    links = {a["href"] for a in page.select("section a")}
    assert "/leistungen/bewohnerparkausweis" in links
    filtered = soup(client.get("/leistungen", params={"q": "Sperrmüll"}))
    assert [a["href"] for a in filtered.select("section a")] == ["/leistungen/sperrmuellabholung"]
    assert "1 Leistung" in filtered.select_one("[role=status]").get_text()
    nothing = soup(client.get("/leistungen", params={"q": "<script>x</script>"}))
    assert nothing.select("section") == []
    assert nothing.find("script", string="x") is None  # the query is shown as text only


def test_service_page_in_both_languages(client: TestClient) -> None:
    page = soup(client.get("/leistungen/bewohnerparkausweis"))
    headings = [h.get_text(strip=True) for h in page.select("h2")]
    assert headings[:5] == [
        "Wer kann das beantragen?",
        "Was Sie brauchen",
        "Gebühren",
        "Bearbeitungsdauer",
        "Rechtsgrundlage",
    ]
    fee = page.select_one("table.data-table tbody td").get_text(strip=True)
    assert fee == "30,70\u00a0€"  # a no-break space, as German typesetting wants
    assert page.select_one("[role=note]") is not None  # unconfirmed facts are said so
    english = soup(client.get("/en/leistungen/bewohnerparkausweis"))
    assert english.h1.get_text(strip=True) == "Apply for a resident parking permit"
    assert english.select_one("table.data-table tbody td").get_text(strip=True) == "€30.70"
    assert client.get("/leistungen/gibt-es-nicht").status_code == 404


def test_json_api_for_apps(client: TestClient) -> None:
    listed = client.get("/api/citizen/services", params={"lang": "en"}).json()["services"]
    slugs = [s["slug"] for s in listed]
    assert set(slugs) >= SHIPPED
    one = client.get("/api/citizen/services/personalausweis", params={"lang": "en"}).json()
    assert one["title"] == "Apply for an identity card"
    assert one["online"] is False and one["verified"] is False
    assert [f["eur"] for f in one["fees"]] == [37.0, 22.8]
    assert client.get("/api/citizen/services/nope").status_code == 404
    assert client.get("/api/citizen/services", params={"lang": "fr"}).status_code in (400, 422)


def test_services_are_found_by_the_site_search(client: TestClient) -> None:
    from klug.citizen.services.indexing import index_catalogue

    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert index_catalogue(session) == len(catalogue.catalogue())
        session.commit()
        assert index_catalogue(session) == len(catalogue.catalogue())  # again: no duplicates
        session.commit()
    page = soup(client.get("/suche", params={"q": "Parkausweise"}))
    links = [a["href"] for a in page.select("main ol a, main ul a") if "/leistungen/" in a["href"]]
    assert links == ["/leistungen/bewohnerparkausweis"]
    api = client.get("/api/content/search", params={"q": "Sperrmüll", "lang": "en"}).json()
    assert [h["path"] for h in api["hits"] if h["kind"] == "service"] == [
        "/en/leistungen/sperrmuellabholung"
    ]

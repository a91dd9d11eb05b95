"""The web shell: every page in both languages, landmarks, language switch, demo banner."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from klug.core.db import DEMO_FLAG, write_flag
from klug.identity.permissions import Role
from tests.conftest import SHELL_PAGES, KnownAccount, soup


@pytest.mark.parametrize("path", SHELL_PAGES)
@pytest.mark.parametrize("language", ["de", "en"])
def test_page_renders_with_landmarks_and_language(
    client: TestClient, path: str, language: str
) -> None:
    url = path if language == "de" else "/en" + path
    response = client.get(url)
    assert response.status_code == 200
    page = soup(response)
    assert page.html["lang"] == language
    skip = page.find("a", class_="skip-link")
    assert skip is not None and skip["href"] == "#main"
    assert page.find("main", id="main") is not None
    assert page.find("header") is not None and page.find("footer") is not None
    main_nav = page.find("nav", attrs={"aria-label": True})
    assert main_nav is not None
    assert len(page.find_all("h1")) == 1
    other = "en" if language == "de" else "de"
    switch = page.find("a", attrs={"hreflang": other})
    assert switch is not None, "every page links to itself in the other language"
    expected = "/en" + path if other == "en" else path
    assert switch["href"] == expected


def test_german_and_english_texts_differ(client: TestClient) -> None:
    german = soup(client.get("/energie")).find("h1").get_text(strip=True)
    english = soup(client.get("/en/energie")).find("h1").get_text(strip=True)
    assert german == "Energie"
    assert english == "Energy"


def test_current_programme_is_marked_in_navigation(client: TestClient) -> None:
    page = soup(client.get("/mobilitaet"))
    current = page.find("nav", class_="main-nav").find("a", attrs={"aria-current": "page"})
    assert current is not None and current["href"] == "/mobilitaet"


def test_demo_banner_only_while_demo_data_is_present(client: TestClient) -> None:
    assert soup(client.get("/")).find(class_="demo-banner") is None
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        write_flag(session, DEMO_FLAG, "true")
        session.commit()
    client.app.state.cells.clear()  # type: ignore[attr-defined]
    banner = soup(client.get("/impressum")).find(class_="demo-banner")
    assert banner is not None and "Demo" in banner.get_text()


@pytest.mark.parametrize("language", ["de", "en"])
def test_unknown_page_is_a_404_page_in_the_visitors_language(
    client: TestClient, language: str
) -> None:
    prefix = "" if language == "de" else "/en"
    response = client.get(prefix + "/gibt-es-nicht")
    assert response.status_code == 404
    page = soup(response)
    assert page.html["lang"] == language
    title = page.find("h1").get_text(strip=True)
    assert title == ("Seite nicht gefunden" if language == "de" else "Page not found")


def test_the_404_page_knows_who_is_logged_in(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.CITIZEN)
    page = soup(client.get("/gibt-es-nicht"))
    assert page.find("form", attrs={"action": "/konto/abmelden"}) is not None
    assert page.find("a", attrs={"href": "/konto/anmelden"}) is None

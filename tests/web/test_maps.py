"""The map settings: a tile server is the city's choice, its origin (and only it) enters the
Content-Security-Policy, and the map widgets carry it – or say that there is none."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from klug.core.config import Settings, SettingsError, load_settings
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, soup

TILES = "https://karten.kaiserslautern.de/tiles/{z}/{x}/{y}.png"
REPORT_FORM = "/maengelmelder/melden?kategorie=pothole"
APPLICATION = "/leistungen/sondernutzungserlaubnis/antrag"


def _directives(csp: str) -> dict[str, str]:
    parsed = {}
    for directive in csp.split(";"):
        name, _, value = directive.strip().partition(" ")
        parsed[name] = value
    return parsed


def test_without_a_tile_server_images_come_only_from_klug(client: TestClient) -> None:
    for path in ("/", "/maengelmelder", REPORT_FORM):
        csp = _directives(client.get(path).headers["content-security-policy"])
        assert csp["img-src"] == "'self' data:"


def test_a_tile_server_adds_exactly_its_origin_to_img_src(
    client: TestClient, client_factory: Callable[..., TestClient]
) -> None:
    plain = _directives(client.get("/maengelmelder").headers["content-security-policy"])
    with_tiles = client_factory(map_tile_url=TILES, map_attribution="© Stadt Kaiserslautern")
    csp = _directives(with_tiles.get("/maengelmelder").headers["content-security-policy"])
    assert csp["img-src"] == "'self' data: https://karten.kaiserslautern.de"
    assert {k: v for k, v in csp.items() if k != "img-src"} == {
        k: v for k, v in plain.items() if k != "img-src"
    }, "no other directive changes (scripts, styles, connections stay klug's own)"


def test_the_tile_origin_keeps_its_port_and_ignores_the_path() -> None:
    settings = Settings(map_tile_url="https://Tiles.Example.org:8443/a/{z}/{x}/{y}.png?key=1")
    assert settings.map_tile_origin == "https://tiles.example.org:8443"
    assert Settings().map_tile_origin is None


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("karten.kaiserslautern.de/{z}/{x}/{y}.png", "absolute http(s) URL"),
        ("ftp://karten.kaiserslautern.de/{z}/{x}/{y}.png", "absolute http(s) URL"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "no {s} sub-domains"),
        ("https://user:secret@tiles.example.org/{z}/{x}/{y}.png", "no user name"),
        ("https://tiles.example.org/{z}/{x}.png", "lacks {y}"),
    ],
)
def test_a_tile_url_that_is_no_single_origin_template_is_refused(url: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match="KLUG_MAP_TILE_URL") as refused:
        load_settings(map_tile_url=url)
    assert complaint in str(refused.value)


def test_production_wants_https_tiles() -> None:
    prod = {
        "env": "prod",
        "secret_key": "v8Jq2mX9pLr4Tz7Wc1Nb6Hd3Fg5Ks0Ya-Qe_Ui8Oo",
        "base_url": "https://klug.kaiserslautern.de",
        "smtp_url": "smtp://mail.kaiserslautern.de:587",
    }
    with pytest.raises(SettingsError, match="KLUG_MAP_TILE_URL must be an https"):
        load_settings(**prod, map_tile_url="http://karten.kaiserslautern.de/{z}/{x}/{y}.png")
    assert load_settings(**prod, map_tile_url=TILES).map_tile_url == TILES


def test_the_report_form_offers_the_map_above_the_fields_it_fills(client: TestClient) -> None:
    page = soup(client.get("/en" + REPORT_FORM))
    location = page.find("fieldset", id="location")
    widget = location.find(attrs={"data-map-point": True})
    assert widget is not None and widget.has_attr("hidden"), "shown only once the map is drawn"
    assert widget["data-map-lat-input"] == "lat" and widget["data-map-lon-input"] == "long"
    assert widget["data-map-tiles"] == ""
    map_ = widget.find(id="location-map")
    assert map_["role"] == "application" and map_["aria-label"]
    assert page.find(id=map_["aria-describedby"]).get_text(strip=True)
    assert "No background map is configured" in widget.get_text()
    assert widget.find(attrs={"role": "status"}) is not None, "a chosen point is announced"
    inputs = [i["id"] for i in location.find_all("input")]
    assert inputs[:2] == ["lat", "long"], "the coordinates come right after the map"
    sources = [s["src"] for s in page.find_all("script")] + [
        link["href"] for link in page.find_all("link", rel="stylesheet")
    ]
    assert any(s.startswith("/static/vendor/leaflet/leaflet.js?v=") for s in sources)
    assert any(s.startswith("/static/js/klug-map.js?v=") for s in sources)
    assert all(s.startswith("/static/") for s in sources), "nothing from a CDN"
    assert not page.find_all(style=True) and page.find("style") is None


def test_a_configured_tile_server_reaches_the_map(
    client_factory: Callable[..., TestClient],
) -> None:
    client = client_factory(map_tile_url=TILES, map_attribution="© GeoBasis-DE / LVermGeoRP")
    widget = soup(client.get("/en" + REPORT_FORM)).find(attrs={"data-map-point": True})
    assert widget["data-map-tiles"] == TILES
    assert widget["data-map-attribution"] == "© GeoBasis-DE / LVermGeoRP"
    assert "No background map is configured" not in widget.get_text()


def test_the_application_point_uses_the_same_map(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.CITIZEN)
    page = soup(client.get(APPLICATION))
    widget = page.find(attrs={"data-map-point": True})
    assert widget is not None
    assert widget["data-map-lat-input"] == "site_point-lat"
    assert widget["data-map-lon-input"] == "site_point-lon"
    assert widget["data-map-area"] == "49.35,7.6,49.52,7.95"
    assert widget.find_parent("fieldset").find(id="site_point-lat") is not None
    sources = [s["src"] for s in page.find_all("script")]
    assert any(s.startswith("/static/js/klug-map.js") for s in sources)


def test_forms_without_a_point_do_not_load_the_map(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.CITIZEN)
    page = soup(client.get("/leistungen/sperrmuellabholung/antrag"))
    assert page.find(attrs={"data-map-point": True}) is None
    assert not [s for s in page.find_all("script") if "leaflet" in s["src"]]

"""The maps in Chromium: choosing a place for a report or an application by mouse, by
typing and by keyboard; the public map of open reports; axe on every page with a map;
and, with the default settings, not a single request to anyone but klug itself."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from klug.citizen.reports.categories import catalogue
from klug.citizen.reports.models import OPEN_STATUSES, Report
from klug.core.db import create_db_engine, make_session_factory
from tests.e2e.conftest import DemoSite, assert_no_axe_violations, axe_context, log_in
from tests.servers import start_server

pytestmark = pytest.mark.e2e

FORM = "/maengelmelder/melden?kategorie=pothole"
APPLICATION = "/leistungen/sondernutzungserlaubnis/antrag"
LANGUAGES = {"de": "", "en": "/en"}


@pytest.fixture
def visitor(browser: Browser, axe_script: Path) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    yield context.new_page()
    context.close()


@pytest.fixture
def citizen(browser: Browser, axe_script: Path, demo_site: DemoSite) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    page = context.new_page()
    log_in(page, demo_site, demo_site.accounts["citizen"])
    yield page
    context.close()


def _coordinates(page: Page, lat_id: str = "lat", lon_id: str = "long") -> tuple[float, float]:
    return (
        float(page.locator(f"[id='{lat_id}']").input_value()),
        float(page.locator(f"[id='{lon_id}']").input_value()),
    )


def _inside_report_area(lat: float, lon: float) -> bool:
    return catalogue().area.contains(lat, lon)


def _click_in_frame(page: Page, widget: Locator, x: float, y: float) -> None:
    """Click at a fraction (x from the left, y from the top) of the city frame on the map."""
    frame = widget.locator(".map__area")
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)


def _marker_centre(page: Page, widget: Locator) -> tuple[float, float]:
    box = widget.locator(".leaflet-marker-icon").bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"]


def _open_reports_with_coordinates(site: DemoSite, category: str | None = None) -> set[int]:
    engine = create_db_engine(site.database_url)
    try:
        with make_session_factory(engine)() as session:
            query = select(Report.id).where(
                Report.status.in_(OPEN_STATUSES), Report.lat.is_not(None)
            )
            if category:
                query = query.where(Report.category_code == category)
            return set(session.scalars(query))
    finally:
        engine.dispose()


def test_a_click_on_the_report_map_fills_in_coordinates_inside_the_area(
    visitor: Page, demo_site: DemoSite
) -> None:
    page = visitor
    page.goto(demo_site.url(FORM))
    widget = page.locator("[data-map-point]")
    expect(widget).to_be_visible()
    expect(page.locator("#location-map")).to_have_attribute("role", "application")
    _click_in_frame(page, widget, 0.6, 0.4)

    lat, lon = _coordinates(page)
    assert _inside_report_area(lat, lon), (lat, lon)
    expect(widget.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(widget.locator("[data-map-status]")).to_contain_text(f"{lat:.6f}")

    # A second click moves the point: the map and the fields say the same.
    _click_in_frame(page, widget, 0.3, 0.7)
    lat2, lon2 = _coordinates(page)
    assert lat2 < lat and lon2 < lon, "lower left of the first click"
    expect(widget.locator(".leaflet-marker-icon")).to_have_count(1)
    assert_no_axe_violations(page, "report form with a point set on the map")


def test_typed_coordinates_move_the_marker(visitor: Page, demo_site: DemoSite) -> None:
    page = visitor
    page.goto(demo_site.url("/en" + FORM))
    widget = page.locator("[data-map-point]")
    expect(widget).to_be_visible()
    expect(widget).to_contain_text("No background map is configured")
    expect(widget.locator(".leaflet-marker-icon")).to_have_count(0)

    page.fill("#lat", "49.4443")
    page.fill("#long", "7.7690")
    expect(widget.locator(".leaflet-marker-icon")).to_have_count(1)
    x1, y1 = _marker_centre(page, widget)

    page.fill("#lat", "49,4700")  # a German decimal comma works too
    page.fill("#long", "7.8000")
    x2, y2 = _marker_centre(page, widget)
    assert y2 < y1 - 5, "further north is higher on the map"
    assert x2 > x1 + 5, "further east is further right"

    page.fill("#lat", "48.0")  # outside the city: no point on the map
    expect(widget.locator(".leaflet-marker-icon")).to_have_count(0)


def test_the_keyboard_sets_the_point_at_the_centre_of_the_map(
    visitor: Page, demo_site: DemoSite
) -> None:
    page = visitor
    page.goto(demo_site.url(FORM))
    map_ = page.locator("#location-map")
    expect(map_).to_be_visible()
    assert map_.get_attribute("tabindex") == "0", "the map is in the tab order"
    # Reached with Tab from the field before it, as a keyboard user would.
    page.locator("[data-locate] button").focus()
    page.keyboard.press("Tab")
    expect(map_).to_be_focused()
    page.keyboard.press("Enter")
    lat, lon = _coordinates(page)
    assert _inside_report_area(lat, lon), (lat, lon)
    status = page.locator("[data-map-point] [data-map-status]")
    expect(status).to_contain_text(f"{lon:.6f}")

    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(400)  # Leaflet's pan animation
    scrolled = page.evaluate("window.scrollY")
    page.keyboard.press(" ")
    lat2, lon2 = _coordinates(page)
    assert lon2 > lon, "panned east, the centre is further east"
    assert lat2 == pytest.approx(lat, abs=1e-4), "and as far north as before"
    expect(status).to_contain_text(f"{lon2:.6f}")
    assert page.evaluate("window.scrollY") == scrolled, "Space sets the point, not scrolls"


def test_the_public_map_shows_the_open_reports_and_links_to_them(
    visitor: Page, demo_site: DemoSite
) -> None:
    page = visitor
    page.goto(demo_site.url("/maengelmelder"))
    widget = page.locator("[data-map-markers]")
    open_reports = _open_reports_with_coordinates(demo_site)
    expect(widget).to_have_attribute("data-map-loaded", str(min(500, len(open_reports))))
    markers = widget.locator(".leaflet-marker-icon")
    expect(markers).to_have_count(len(open_reports))
    expect(widget.locator("[data-map-status]")).to_contain_text(str(markers.count()))
    assert_no_axe_violations(page, "/maengelmelder with the map of open reports")

    # A marker is a button with a name; Enter opens its popup and takes the focus to the link.
    first = markers.first
    name = first.get_attribute("alt") or ""
    assert name.startswith("Meldung Nr.") or name.startswith("Report no."), name
    first.focus()
    page.keyboard.press("Enter")
    link = widget.locator(".leaflet-popup-content a")
    expect(link).to_be_focused()
    expect(widget.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
    href = link.get_attribute("href") or ""
    report_id = int(href.rsplit("/", 1)[1])
    assert report_id in _open_reports_with_coordinates(demo_site)
    assert_no_axe_violations(page, "/maengelmelder with a marker's popup open")
    page.keyboard.press("Escape")
    expect(widget.locator(".leaflet-popup")).to_have_count(0)
    expect(first).to_be_focused()

    with page.expect_navigation():
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == f"/maengelmelder/{report_id}"

    # With the mouse: a marker that nothing covers.
    page.go_back()
    expect(widget).to_have_attribute("data-map-loaded", str(markers.count()))
    widget.scroll_into_view_if_needed()
    uncovered = markers.evaluate_all(
        """els => els.findIndex(e => {
             const r = e.getBoundingClientRect();
             return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 3) === e;
           })"""
    )
    assert uncovered >= 0
    markers.nth(uncovered).click()
    with page.expect_navigation():
        widget.locator(".leaflet-popup-content a").click()
    assert urlsplit(page.url).path.startswith("/maengelmelder/")
    expect(page.locator("h1")).to_contain_text(str(int(urlsplit(page.url).path.rsplit("/", 1)[1])))


def test_the_public_map_follows_the_category_filter(visitor: Page, demo_site: DemoSite) -> None:
    page = visitor
    page.goto(demo_site.url("/en/maengelmelder?kategorie=street_light"))
    widget = page.locator("[data-map-markers]")
    expected = _open_reports_with_coordinates(demo_site, "street_light")
    expect(widget).to_have_attribute("data-map-loaded", str(len(expected)))
    for alt in widget.locator(".leaflet-marker-icon").evaluate_all("els => els.map(e => e.alt)"):
        assert "Street light" in alt, alt


def test_the_application_map_point_is_the_same_widget(citizen: Page, demo_site: DemoSite) -> None:
    page = citizen
    page.goto(demo_site.url(APPLICATION))
    widget = page.locator("[data-map-point]")
    expect(widget).to_be_visible()
    map_ = page.locator("[id='site_point-map']")
    _click_in_frame(page, widget, 0.5, 0.5)
    lat, lon = _coordinates(page, "site_point-lat", "site_point-lon")
    assert 49.35 <= lat <= 49.52 and 7.60 <= lon <= 7.95, (lat, lon)
    assert_no_axe_violations(page, f"{APPLICATION} with a point set on the map")

    page.fill("[id='site_point-lat']", "")
    page.fill("[id='site_point-lon']", "")
    map_.focus()
    page.keyboard.press("Enter")
    assert _coordinates(page, "site_point-lat", "site_point-lon")[0] > 0


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", ["/maengelmelder", FORM])
def test_pages_with_a_map_have_no_axe_violations(
    visitor: Page, demo_site: DemoSite, language: str, path: str
) -> None:
    visitor.goto(demo_site.url(LANGUAGES[language] + path))
    expect(visitor.locator(".map.leaflet-container")).to_be_visible()
    assert_no_axe_violations(visitor, f"{path} with its map")


def test_with_the_default_settings_no_request_leaves_klug(
    citizen: Page, demo_site: DemoSite
) -> None:
    page = citizen
    origin = demo_site.server.url
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    for path in ("/maengelmelder", FORM, APPLICATION):
        page.goto(demo_site.url(path))
        expect(page.locator(".map.leaflet-container")).to_be_visible()
        page.wait_for_load_state("networkidle")
    _click_in_frame(page, page.locator("[data-map-point]"), 0.5, 0.5)
    page.wait_for_load_state("networkidle")

    foreign = [u for u in requested if not u.startswith(origin + "/") and not u.startswith("data:")]
    assert requested and not foreign, f"requests past klug: {foreign}"
    assert not [u for u in requested if "tile" in u.lower()], "no tiles without a tile server"
    assert not problems, f"errors in the console (CSP?): {problems}"


def test_without_javascript_the_fields_remain_and_no_map_is_promised(
    browser: Browser, demo_site: DemoSite
) -> None:
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(demo_site.url(FORM))
        expect(page.locator("[data-map-point]")).to_be_hidden()
        expect(page.locator("#lat")).to_be_visible()
        expect(page.locator("#long")).to_be_visible()
        page.goto(demo_site.url("/maengelmelder"))
        expect(page.locator("[data-map-markers]")).to_be_hidden()
        expect(page.locator("table.data-table")).to_be_visible()
    finally:
        context.close()


def test_the_keyboard_cannot_set_a_point_outside_the_city(
    visitor: Page, demo_site: DemoSite
) -> None:
    page = visitor
    page.goto(demo_site.url("/en" + FORM))
    map_ = page.locator("#location-map")
    map_.focus()
    for _ in range(6):  # 480 px east: past the frame's edge
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(350)
    page.keyboard.press("Enter")
    expect(page.locator("[data-map-point] [data-map-status]")).to_have_text(
        "This place is outside the city area. Please choose a place inside the frame."
    )
    assert page.locator("#lat").input_value() == "" and page.locator("#long").input_value() == ""


def test_my_current_position_puts_the_marker_on_the_map(
    browser: Browser, axe_script: Path, demo_site: DemoSite
) -> None:
    context = axe_context(
        browser,
        axe_script,
        geolocation={"latitude": 49.4443, "longitude": 7.769},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        page.goto(demo_site.url(FORM))
        widget = page.locator("[data-map-point]")
        expect(widget.locator(".leaflet-marker-icon")).to_have_count(0)
        page.locator("[data-locate] button").click()
        expect(page.locator("#lat")).to_have_value("49.444300")
        expect(widget.locator(".leaflet-marker-icon")).to_have_count(1)
    finally:
        context.close()


class _TileServer(BaseHTTPRequestHandler):
    """A stand-in for the city's tile server: one plain PNG for every tile."""

    tile = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.tile)))
        self.end_headers()
        self.wfile.write(self.tile)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the browser's requests."""


@pytest.fixture(scope="module")
def tile_server() -> Iterator[str]:
    png = io.BytesIO()
    Image.new("RGB", (256, 256), (222, 235, 222)).save(png, format="PNG")
    _TileServer.tile = png.getvalue()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TileServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_configured_tile_server_is_the_only_other_origin_asked(
    browser: Browser,
    axe_script: Path,
    demo_site: DemoSite,
    tile_server: str,
    tmp_path: Path,
) -> None:
    klug = start_server(
        demo_site.database_url,
        tmp_path / "var",
        map_tile_url=tile_server + "/tiles/{z}/{x}/{y}.png",
        map_attribution="© <b>Testkarten</b>",
    )
    context = axe_context(browser, axe_script)
    try:
        page = context.new_page()
        requested: list[str] = []
        problems: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.goto(klug.url + "/en" + FORM)
        widget = page.locator("[data-map-point]")
        expect(widget.locator("img.leaflet-tile-loaded").first).to_be_visible()
        assert "No background map is configured" not in widget.inner_text()
        attribution = widget.locator(".leaflet-control-attribution")
        expect(attribution).to_contain_text("© <b>Testkarten</b>")  # text, never markup
        expect(attribution.locator("b")).to_have_count(0)
        assert_no_axe_violations(page, "report form with background tiles")

        tiles = [u for u in requested if u.startswith(tile_server + "/tiles/")]
        others = [u for u in requested if not u.startswith((klug.url + "/", tile_server + "/"))]
        assert tiles and not others, others
        assert all(urlsplit(u).path.endswith(".png") for u in tiles)
        assert not problems, f"errors in the console (CSP?): {problems}"
    finally:
        context.close()
        klug.stop()

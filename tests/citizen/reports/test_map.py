"""The map of open reports on /maengelmelder: what its JSON source gives (open reports with
coordinates, public fields only, in the visitor's language) and how the page offers it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import catalogue
from klug.citizen.reports.schemas import StatusChange
from klug.core.audit import SYSTEM
from tests.citizen.reports.conftest import CENTRE, offset_north
from tests.conftest import soup

SOURCE = "/maengelmelder/karte.json"


def _set_status(client: TestClient, report_id: int, status: str) -> None:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        report = report_service.get(session=session, report_id=report_id)
        assert report is not None
        report_service.change_status(
            session=session, report=report, change=StatusChange(status=status), actor=SYSTEM
        )
        session.commit()


def test_the_map_shows_open_reports_with_coordinates_and_nothing_private(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    received = store_report("pothole", email="anwohnerin@example.org")
    in_progress = store_report("street_light", lat=offset_north(CENTRE[0], 300))
    closed = store_report("pothole", lat=offset_north(CENTRE[0], 600))
    _set_status(client, in_progress, "in_progress")
    _set_status(client, closed, "closed")
    store_report("graffiti", lat=None, lon=None, address="Marktstraße 1")  # no point to show

    answer = client.get(SOURCE)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    data = answer.json()
    assert data["total"] == 2
    markers = {m["id"]: m for m in data["markers"]}
    assert set(markers) == {received, in_progress}
    assert markers[in_progress] == {
        "id": in_progress,
        "lat": offset_north(CENTRE[0], 300),
        "lon": CENTRE[1],
        "category": "street_light",
        "status": "in_progress",
        "title": f"Meldung Nr. {in_progress}: Straßenbeleuchtung defekt",
        "text": "In Bearbeitung",
        "url": f"/maengelmelder/{in_progress}",
    }
    assert [m["id"] for m in data["markers"]] == [in_progress, received], "newest first"
    assert "anwohnerin" not in answer.text, "contact data never reaches the map"


def test_the_map_speaks_the_visitors_language_and_follows_the_category_filter(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    pothole = store_report("pothole")
    store_report("graffiti", lat=offset_north(CENTRE[0], 100))

    english = client.get("/en" + SOURCE + "?kategorie=pothole").json()
    assert english["total"] == 1
    (marker,) = english["markers"]
    assert marker["id"] == pothole
    assert marker["title"] == f"Report no. {pothole}: Pothole"
    assert marker["text"] == "Received"
    assert marker["url"] == f"/en/maengelmelder/{pothole}"

    unknown = client.get(SOURCE + "?kategorie=keine-kategorie").json()
    assert unknown["total"] == 2, "an unknown category filters nothing, as on the list"


def test_the_map_shows_at_most_the_newest_500_and_says_how_many_there_are(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    category = catalogue().get("other")
    assert category is not None
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        rows, total = report_service.open_on_map(session=session, limit=500)
        assert (list(rows), total) == ([], 0)
    newest = [store_report("other", lat=offset_north(CENTRE[0], i)) for i in range(3)][-1]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        rows, total = report_service.open_on_map(session=session, limit=2)
    assert total == 3
    assert [row.id for row in rows] == [newest, newest - 1]


def test_the_list_page_offers_the_map_with_the_list_as_its_alternative(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    store_report("pothole")
    page = soup(client.get("/maengelmelder?kategorie=pothole"))
    widget = page.find(attrs={"data-map-markers": True})
    assert widget is not None
    assert widget.has_attr("hidden"), "without JavaScript no map is promised"
    assert widget["data-map-source"] == SOURCE + "?kategorie=pothole"
    area = catalogue().area
    assert widget["data-map-area"] == f"{area.south},{area.west},{area.north},{area.east}"
    region = widget.find(attrs={"role": "region"})
    assert region is not None and region["aria-labelledby"] == "reports-map-heading"
    skip = widget.find("a", class_="map-widget__skip")
    assert skip is not None and skip["href"] == "#reports-heading"
    assert page.find(id="reports-heading") is not None, "the skip link lands on the list"
    assert page.find("table", class_="data-table") is not None

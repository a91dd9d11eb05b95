"""The Mängelmelder in Chromium: a report made with the keyboard alone, without the map; a
pothole reported next to an open one is offered as a duplicate, "me too" supports it
instead – and every step passes axe (WCAG 2.1 AA)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import catalogue
from klug.citizen.reports.schemas import ReportCreate
from klug.core.db import create_db_engine, make_session_factory
from tests.e2e.conftest import DemoSite, assert_no_axe_violations, axe_context
from tests.e2e.test_keyboard_login import focused, skip_to_main, tab

pytestmark = pytest.mark.e2e

# South-west of the demo reports (which lie within ~1.3 km of the Stiftsplatz).
EXISTING = (49.42500, 7.74000)
TWENTY_METRES_NORTH = (49.42518, 7.74000)
LANGUAGES = {"de": "", "en": "/en"}


def _existing_pothole(site: DemoSite) -> int:
    engine = create_db_engine(site.database_url)
    try:
        with make_session_factory(engine)() as session:
            category = catalogue().get("pothole")
            assert category is not None
            report = report_service.create(
                session=session,
                report_in=ReportCreate(
                    category_code="pothole",
                    description="Loch an der Einfahrt zum Parkplatz",
                    lat=EXISTING[0],
                    lon=EXISTING[1],
                    answers={"size": "large"},
                ),
                category=category,
            )
            session.commit()
            return report.id
    finally:
        engine.dispose()


@pytest.fixture
def visitor(browser: Browser, axe_script: Path) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    yield context.new_page()
    context.close()


def test_maengelmelder_duplicate_is_suggested_and_me_too_supports_it(
    visitor: Page, demo_site: DemoSite
) -> None:
    existing = _existing_pothole(demo_site)
    page = visitor
    page.goto(demo_site.url("/en/maengelmelder/melden"))
    page.get_by_label("Pothole").check()
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert_no_axe_violations(page, "report form (pothole)")

    page.locator("#q-size").check()  # the first size
    page.fill("#description", "Tiefes Schlagloch direkt an der Einfahrt")
    page.fill("#lat", f"{TWENTY_METRES_NORTH[0]:.5f}")
    page.fill("#long", f"{TWENTY_METRES_NORTH[1]:.5f}")
    page.fill("#email", "nachbar@example.org")
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()

    expect(page.locator("h1")).to_have_text("Is it one of these reports?")
    support = page.locator(f"form[action='/en/maengelmelder/{existing}/unterstuetzen'] button")
    expect(support).to_have_count(1)
    assert_no_axe_violations(page, "duplicate suggestions")

    with page.expect_navigation():
        support.click()
    assert page.url.endswith(f"/en/maengelmelder/{existing}?unterstuetzt=ja#unterstuetzen")
    expect(page.locator("main [role=status]")).to_be_visible()
    supporters = page.locator("main dl.facts").first.locator("dd").last
    expect(supporters).to_have_text("1")
    assert_no_axe_violations(page, "report page after me too")


KEYBOARD_REPORT = {
    "description": "Die Laterne flackert seit Tagen und geht nachts ganz aus.",
    "address_string": "Pfaffplatz 3",
    "location_text": "Vor dem Eingang der Bücherei, Laterne rechts vom Fahrradständer",
    "email": "laterne@example.org",
}
MAX_TABS = 60


def _tab_to(page: Page, wanted: str) -> None:
    for _ in range(MAX_TABS):
        if tab(page)["id"] == wanted:
            return
    raise AssertionError(f"#{wanted} not reached with {MAX_TABS} presses of Tab")


def test_a_report_by_keyboard_alone_without_the_map(visitor: Page, demo_site: DemoSite) -> None:
    page = visitor
    page.goto(demo_site.url("/maengelmelder/melden"))
    skip_to_main(page)
    # One radio group across the category fieldsets: Tab enters it, arrows choose.
    _tab_to(page, "kategorie-pothole")
    for _ in range(20):
        if focused(page)["id"] == "kategorie-street_light":
            break
        page.keyboard.press("ArrowDown")
    else:
        raise AssertionError("the street light category was not reached with the arrow keys")
    element = tab(page)
    assert element["tag"] == "button", element
    with page.expect_navigation(url=lambda url: "kategorie=street_light" in url):
        page.keyboard.press("Enter")

    skip_to_main(page)
    done: set[str] = set()
    for _ in range(MAX_TABS):
        element = tab(page)
        name = element["id"]
        if name in done:
            continue
        if name == "q-fault":
            page.keyboard.press("Space")  # the first kind of fault
            done.add(name)
        elif name in KEYBOARD_REPORT:
            page.keyboard.type(KEYBOARD_REPORT[name])
            done.add(name)
        elif element["tag"] == "button" and element["text"] in ("Meldung senden", "Send report"):
            break
    else:
        raise AssertionError(f"the send button was not reached; filled {sorted(done)}")
    assert done == set(KEYBOARD_REPORT) | {"q-fault"}, sorted(done)
    with page.expect_navigation(url=lambda url: url.endswith("/danke")):
        page.keyboard.press("Enter")
    expect(page.locator("main [role=status]")).to_be_visible()
    assert_no_axe_violations(page, "thanks page after a keyboard report")

    report_id = int(page.url.rsplit("/", 2)[1])
    for _ in range(MAX_TABS):
        if tab(page)["href"] == f"/maengelmelder/{report_id}":
            break
    else:
        raise AssertionError("the link to the new report was not reached")
    with page.expect_navigation(url=lambda url: url.endswith(f"/maengelmelder/{report_id}")):
        page.keyboard.press("Enter")
    body = page.locator("main").inner_text()
    assert "Die Laterne flackert seit Tagen" in body
    assert "Pfaffplatz 3" in body
    assert "Straßenbeleuchtung defekt" in body
    assert "laterne@example.org" not in body, "the reporter's address is on the public page"


@pytest.mark.parametrize(
    "path",
    [
        "/maengelmelder/1",
        "/maengelmelder/1/danke",
        "/maengelmelder/melden?kategorie=illegal_dumping",
        "/maengelmelder/melden?kategorie=playground",
        "/maengelmelder/melden?kategorie=damaged_sign",
        "/maengelmelder?status=offen&kategorie=pothole",
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_maengelmelder_page_has_no_axe_violations(
    visitor: Page, demo_site: DemoSite, language: str, path: str
) -> None:
    response = visitor.goto(demo_site.url(LANGUAGES[language] + path))
    assert response is not None and response.status == 200
    assert_no_axe_violations(visitor, path)


@pytest.mark.parametrize("language", LANGUAGES)
def test_maengelmelder_form_with_errors_has_no_axe_violations(
    visitor: Page, demo_site: DemoSite, language: str
) -> None:
    visitor.goto(demo_site.url(LANGUAGES[language] + "/maengelmelder/melden?kategorie=pothole"))
    with visitor.expect_response(
        lambda r: r.request.method == "POST" and r.request.resource_type == "document"
    ) as answer:
        visitor.locator("main form[method=post] button[type=submit]").click()
    visitor.wait_for_load_state()
    assert answer.value.status == 400
    expect(visitor.locator(".error-summary")).to_be_focused()
    assert_no_axe_violations(visitor, "report form sent empty")

"""The Mängelmelder in Chromium: a pothole reported next to an open one is offered as a
duplicate, "me too" supports it instead – and every step passes axe (WCAG 2.1 AA)."""

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

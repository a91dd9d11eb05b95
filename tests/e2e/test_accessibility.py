"""WCAG 2.1 AA (BITV 2.0): axe-core finds no violation on any page, in German and English.

Every page is checked as a visitor would reach it: logged out, logged in (the demo
administrator, through the login form with the second factor), as a citizen, while
setting up or entering the second factor, with form errors shown, and 320 px wide.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import SHELL_PAGES
from tests.e2e.conftest import (
    DemoSite,
    assert_no_axe_violations,
    axe_context,
    log_in,
    submit_login,
)

pytestmark = pytest.mark.e2e

LANGUAGES = {"de": "", "en": "/en"}

# Published demo content (klug.sim.content): a news item, one shown in German only on
# the English pages, an event and an information page.
CONTENT_PAGES = [
    "/aktuelles/solaranlagen-auf-schulen",
    "/aktuelles/stadtbibliothek-onleihe",
    "/veranstaltungen/repair-cafe",
    "/seiten/parken",
]
PUBLIC_PAGES = [*SHELL_PAGES, *CONTENT_PAGES, "/gibt-es-nicht"]
NOT_FOUND = {"/gibt-es-nicht"}
# A logged-in visitor who opens the login form is sent on to where a login would lead.
LOGGED_IN_REDIRECTS = {"/konto/anmelden": "/console/"}

ADMIN_PAGES = [
    "/konto/",
    "/console/",
    "/console/hinweise",
    "/console/rueckmeldungen",
    "/console/meldungen",
    "/console/meldungen/1",
    "/console/inhalte",
    "/console/inhalte/neu",
    "/console/inhalte/1",
    "/console/inhalte/21",
    "/console/konten",
    "/console/konten/{editor}",
    "/console/api-schluessel",
    "/console/protokoll",
    "/console/sensoren",
    "/console/sensoren/1",
    "/console/energie",
    "/console/energie/einheiten/neu",
    "/console/energie/einheiten/pv-hoelzengraben",
    "/console/energie/ziel",
    "/console/energie/konfiguration",
    "/console/antraege",
]


def _path_of(page: Page) -> str:
    return urlsplit(page.url).path


def visit(
    page: Page,
    site: DemoSite,
    path: str,
    *,
    status: int = 200,
    lands_on: str | None = None,
) -> None:
    """Open a page and make sure it is the page meant (no error, no detour to the login)."""
    response = page.goto(site.url(path))
    assert response is not None
    assert response.status == status, (
        f"{path}: HTTP {response.status}, expected {status}\nserver log:\n{site.log_tail()}"
    )
    assert _path_of(page) == (lands_on or path), f"{path} led to {page.url}"


def assert_logged_in(page: Page) -> None:
    logout = page.locator("header form[action$='/konto/abmelden'] button")
    assert logout.count() == 1, f"not logged in on {page.url}"


def assert_logged_out(page: Page) -> None:
    login_link = page.locator("header a[href$='/konto/anmelden']:not([hreflang])")
    assert login_link.count() == 1, page.url
    assert page.locator("header form[action$='/konto/abmelden']").count() == 0, page.url


# --- browsers kept for the module: one per kind of visitor --------------------------


@pytest.fixture(scope="module")
def anonymous(browser: Browser, axe_script: Path) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def admin(browser: Browser, axe_script: Path, demo_site: DemoSite) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    page = context.new_page()
    log_in(page, demo_site, demo_site.accounts["admin"])
    assert _path_of(page) == "/console/"
    yield page
    context.close()


@pytest.fixture(scope="module")
def citizen(browser: Browser, axe_script: Path, demo_site: DemoSite) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    page = context.new_page()
    log_in(page, demo_site, demo_site.accounts["citizen"])
    assert _path_of(page) == "/konto/"
    yield page
    context.close()


# --- pages ------------------------------------------------------------------------


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_public_page_logged_out(
    anonymous: Page, demo_site: DemoSite, language: str, path: str
) -> None:
    url = LANGUAGES[language] + path
    visit(anonymous, demo_site, url, status=404 if path in NOT_FOUND else 200)
    assert_logged_out(anonymous)
    assert_no_axe_violations(anonymous, f"{url} (logged out)")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_public_page_logged_in(admin: Page, demo_site: DemoSite, language: str, path: str) -> None:
    prefix = LANGUAGES[language]
    url = prefix + path
    target = LOGGED_IN_REDIRECTS.get(path)
    visit(
        admin,
        demo_site,
        url,
        status=404 if path in NOT_FOUND else 200,
        lands_on=prefix + target if target else None,
    )
    assert_logged_in(admin)
    assert_no_axe_violations(admin, f"{url} (logged in as administrator)")


@pytest.mark.parametrize("path", ADMIN_PAGES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_console_page(admin: Page, demo_site: DemoSite, language: str, path: str) -> None:
    url = LANGUAGES[language] + path.format(editor=demo_site.account_ids["editor"])
    visit(admin, demo_site, url)
    assert_logged_in(admin)
    assert_no_axe_violations(admin, f"{url} (administrator)")


CITIZEN_PAGES = [
    "/konto/",
    "/konto/zwei-faktor/aktivieren",
    "/konto/antraege",
    "/konto/meldungen",
    "/konto/loeschen",
]


@pytest.mark.parametrize("path", CITIZEN_PAGES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_citizen_account_page(citizen: Page, demo_site: DemoSite, language: str, path: str) -> None:
    url = LANGUAGES[language] + path
    visit(citizen, demo_site, url)
    assert_logged_in(citizen)
    assert_no_axe_violations(citizen, f"{url} (citizen)")


@pytest.mark.parametrize("language", LANGUAGES)
def test_citizen_own_report_page(citizen: Page, demo_site: DemoSite, language: str) -> None:
    """The demo citizen's own report (klug.sim.reports), opened from "My reports"."""
    prefix = LANGUAGES[language]
    visit(citizen, demo_site, prefix + "/konto/meldungen")
    assert citizen.locator("main table:has(#supported-caption) tbody tr").count() == 1
    own = citizen.locator("main table:has(#own-caption) tbody th a")
    assert own.count() == 1, "the demo citizen has no report of their own"
    path = own.get_attribute("href")
    assert path is not None and path.startswith(prefix + "/konto/meldungen/")
    visit(citizen, demo_site, path)
    assert citizen.locator("main ol.record-list > li").count() >= 2
    assert_logged_in(citizen)
    assert_no_axe_violations(citizen, f"{path} (citizen)")


@pytest.mark.parametrize("language", LANGUAGES)
def test_second_factor_code_page(
    browser: Browser, axe_script: Path, demo_site: DemoSite, language: str
) -> None:
    context = axe_context(browser, axe_script)
    try:
        page = context.new_page()
        prefix = LANGUAGES[language]
        submit_login(page, demo_site, demo_site.accounts["operator_energy"], prefix)
        assert _path_of(page) == prefix + "/konto/zwei-faktor"
        assert page.locator("input#code").is_visible()
        assert_no_axe_violations(page, f"{page.url} (code of the second factor)")
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_second_factor_enrolment_page(
    browser: Browser, axe_script: Path, demo_site: DemoSite, language: str
) -> None:
    context = axe_context(browser, axe_script)
    try:
        page = context.new_page()
        prefix = LANGUAGES[language]
        submit_login(page, demo_site, demo_site.accounts["enrolling_editor"], prefix)
        assert _path_of(page) == prefix + "/konto/zwei-faktor/einrichten"
        assert page.locator(".qr svg").is_visible()
        assert_no_axe_violations(page, f"{page.url} (setting up the second factor)")
    finally:
        context.close()


# --- forms with errors ------------------------------------------------------------


def _submit_empty(page: Page, site: DemoSite, path: str, expected_status: int) -> None:
    visit(page, site, path)
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.request.resource_type == "document"
    ) as answer:
        page.locator(
            f"main form[method=post][action='{path}'] button[type=submit],"
            f" main form[method=post][action^='{path}#'] button[type=submit]"
        ).click()
    page.wait_for_load_state()
    assert answer.value.status == expected_status, f"{path}: HTTP {answer.value.status}"


PUBLIC_FORMS = ["/konto/registrieren", "/konto/anmelden", "/konto/passwort-vergessen"]
CONSOLE_FORMS = [
    "/console/hinweise",
    "/console/meldungen/1",
    "/console/inhalte/neu",
    "/console/konten",
    "/console/api-schluessel",
    "/console/energie/einheiten/neu",
]


@pytest.mark.parametrize("path", PUBLIC_FORMS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_public_form_with_errors(
    anonymous: Page, demo_site: DemoSite, language: str, path: str
) -> None:
    _submit_empty(anonymous, demo_site, LANGUAGES[language] + path, 400)
    assert anonymous.locator(".error-summary").is_visible()
    assert anonymous.locator("[aria-invalid=true]").count() >= 1
    assert_no_axe_violations(anonymous, f"{anonymous.url} (empty form sent)")


@pytest.mark.parametrize("language", LANGUAGES)
def test_accessibility_feedback_form_with_errors(
    anonymous: Page, demo_site: DemoSite, language: str
) -> None:
    _submit_empty(anonymous, demo_site, LANGUAGES[language] + "/barrierefreiheit", 400)
    assert anonymous.locator(".error-summary").is_visible()
    assert_no_axe_violations(anonymous, f"{anonymous.url} (empty feedback sent)")


@pytest.mark.parametrize("language", LANGUAGES)
def test_login_failure_message(anonymous: Page, demo_site: DemoSite, language: str) -> None:
    visit(anonymous, demo_site, LANGUAGES[language] + "/konto/anmelden")
    anonymous.fill("#email", "nobody@example.org")
    anonymous.fill("#password", "not the password")
    with anonymous.expect_navigation():
        anonymous.press("#password", "Enter")
    assert anonymous.locator("main [role=alert]").is_visible()
    assert_no_axe_violations(anonymous, f"{anonymous.url} (wrong password)")


@pytest.mark.parametrize("path", CONSOLE_FORMS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_console_form_with_errors(
    admin: Page, demo_site: DemoSite, language: str, path: str
) -> None:
    _submit_empty(admin, demo_site, LANGUAGES[language] + path, 400)
    assert admin.locator(".error-summary").is_visible()
    assert_no_axe_violations(admin, f"{admin.url} (empty form sent)")


# --- small screens (WCAG 1.4.10 Reflow: 320 CSS px without horizontal scrolling) ---


@pytest.fixture(scope="module")
def narrow(browser: Browser, axe_script: Path) -> Iterator[Page]:
    context = axe_context(browser, axe_script, viewport={"width": 320, "height": 640})
    yield context.new_page()
    context.close()


def _assert_no_horizontal_scrolling(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} is {width} px wide at a 320 px viewport"


@pytest.mark.parametrize("language", LANGUAGES)
def test_home_page_at_320_px(narrow: Page, demo_site: DemoSite, language: str) -> None:
    visit(narrow, demo_site, LANGUAGES[language] + "/")
    _assert_no_horizontal_scrolling(narrow)
    assert_no_axe_violations(narrow, f"{narrow.url} (320 px wide)")


@pytest.mark.parametrize("path", PUBLIC_PAGES[1:])
@pytest.mark.parametrize("language", LANGUAGES)
def test_public_page_reflows_at_320_px(
    narrow: Page, demo_site: DemoSite, language: str, path: str
) -> None:
    url = LANGUAGES[language] + path
    visit(narrow, demo_site, url, status=404 if path in NOT_FOUND else 200)
    _assert_no_horizontal_scrolling(narrow)

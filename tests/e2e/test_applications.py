"""An application from start to decision in Chromium: the citizen applies for a bulky-waste
collection with the keyboard alone, the caseworker asks for more information, the
citizen answers by message, the caseworker approves, the citizen sees the timeline.
axe checks every page on the way (WCAG 2.1 AA)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import DemoSite, assert_no_axe_violations, axe_context, log_in
from tests.e2e.test_keyboard_login import focused, skip_to_main, tab

pytestmark = pytest.mark.e2e

FORM = "/leistungen/sperrmuellabholung/antrag"
TYPED = {
    "pickup_address-street": "Marktstraße",
    "pickup_address-house_number": "12",
    "pickup_address-postcode": "67655",
    "pickup_address-city": "Kaiserslautern",
    "items": "Sofa",
    "volume_m3": "2",
}
CHOSEN = {"placement", "pickup_date", "no_hazardous"}  # first radio / the checkbox: Space
MAX_TABS = 60


@pytest.fixture(scope="module")
def citizen(browser: Browser, axe_script: Path, demo_site: DemoSite) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    page = context.new_page()
    log_in(page, demo_site, demo_site.accounts["citizen"])
    yield page
    context.close()


@pytest.fixture(scope="module")
def caseworker(browser: Browser, axe_script: Path, demo_site: DemoSite) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    page = context.new_page()
    log_in(page, demo_site, demo_site.accounts["caseworker"])
    yield page
    context.close()


def _apply_by_keyboard(page: Page, site: DemoSite) -> str:
    page.goto(site.url(FORM))
    assert_no_axe_violations(page, f"{FORM} (citizen)")
    skip_to_main(page)
    done: set[str] = set()
    for _ in range(MAX_TABS):
        element = tab(page)
        if element["id"] in TYPED and element["id"] not in done:
            page.keyboard.type(TYPED[element["id"]])
            done.add(element["id"])
        elif element["id"] in CHOSEN and element["id"] not in done:
            page.keyboard.press("Space")
            done.add(element["id"])
        elif element["tag"] == "button" and element["text"] in (
            "Antrag einreichen",
            "Submit application",
        ):
            break
    else:
        raise AssertionError(f"the submit button was not reached; filled {sorted(done)}")
    assert done == set(TYPED) | CHOSEN, f"not every field was reached: {sorted(done)}"
    with page.expect_navigation(url=lambda url: "/konto/antraege/KL-" in url):
        page.keyboard.press("Enter")
    return urlsplit(page.url).path.rsplit("/", 1)[1]


def _error_summary_by_keyboard(page: Page, site: DemoSite) -> None:
    """An empty form comes back with the summary focused, linked to the first field."""
    page.goto(site.url(FORM))
    page.locator("button[value=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert focused(page)["id"] == "error-summary"
    assert_no_axe_violations(page, f"{FORM} (sent empty)")
    page.keyboard.press("Tab")
    assert focused(page)["href"] == "#pickup_address-street"


def _set_status(page: Page, site: DemoSite, reference: str, status: str, message: str = "") -> None:
    page.goto(site.url(f"/console/antraege/{reference}"))
    page.check(f"input[name=to_status][value={status}]")
    if message:
        page.fill("#message", message)
    with page.expect_navigation():
        page.click("form[action$='/status'] button[type=submit]")
    assert "ok=status" in page.url, page.url


def test_apply_ask_answer_approve(citizen: Page, caseworker: Page, demo_site: DemoSite) -> None:
    _error_summary_by_keyboard(citizen, demo_site)
    reference = _apply_by_keyboard(citizen, demo_site)
    assert citizen.locator(".message--success").is_visible()
    assert_no_axe_violations(citizen, f"case page {reference} (citizen)")

    caseworker.goto(demo_site.url("/console/antraege"))
    assert caseworker.locator(f"a[href='/console/antraege/{reference}']").count() == 1
    assert_no_axe_violations(caseworker, "/console/antraege")
    _set_status(caseworker, demo_site, reference, "in_review")
    _set_status(
        caseworker,
        demo_site,
        reference,
        "more_info_needed",
        "Stehen die Gegenstände im Hof oder an der Straße?",
    )
    assert_no_axe_violations(caseworker, f"/console/antraege/{reference}")

    citizen.goto(demo_site.url(f"/konto/antraege/{reference}"))
    assert "Stehen die Gegenstände" in citizen.locator(".thread").inner_text()
    citizen.fill("#body", "An der Straße vor dem Haus.")
    with citizen.expect_navigation():
        citizen.click("form[action*='/nachrichten'] button[type=submit]")

    caseworker.goto(demo_site.url(f"/console/antraege/{reference}"))
    assert "An der Straße vor dem Haus." in caseworker.locator(".thread").inner_text()
    _set_status(caseworker, demo_site, reference, "in_review")
    _set_status(caseworker, demo_site, reference, "approved")

    citizen.goto(demo_site.url(f"/konto/antraege/{reference}"))
    steps = citizen.locator(".timeline .status")
    assert [steps.nth(i).get_attribute("class") for i in range(steps.count())] == [
        f"status status--{s}"
        for s in ("received", "in_review", "more_info_needed", "in_review", "approved")
    ]
    assert_no_axe_violations(citizen, f"case page {reference} (approved)")


@pytest.mark.parametrize("language", ["", "/en"])
def test_application_pages_pass_axe(
    citizen: Page, caseworker: Page, demo_site: DemoSite, language: str
) -> None:
    for slug in ("bewohnerparkausweis", "sondernutzungserlaubnis"):
        citizen.goto(demo_site.url(f"{language}/leistungen/{slug}/antrag"))
        assert_no_axe_violations(citizen, f"{slug} form")
    citizen.goto(demo_site.url(f"{language}/konto/antraege"))
    assert_no_axe_violations(citizen, "my applications")
    draft = citizen.locator("a[href*='/konto/antraege/entwuerfe/']").first
    citizen.goto(demo_site.url(draft.get_attribute("href") or ""))
    assert_no_axe_violations(citizen, "a draft")
    caseworker.goto(demo_site.url(f"{language}/console/antraege?status=all"))
    assert_no_axe_violations(caseworker, "all cases")

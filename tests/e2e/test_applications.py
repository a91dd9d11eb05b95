"""An application from registration to decision in Chromium.

A new citizen registers and confirms the address through the link of a real mail (a
local SMTP server), applies for a resident parking permit with the keyboard alone –
the vehicle registration attached through the file chooser – the caseworker asks for
more information, the citizen answers by message, the caseworker approves, the citizen
sees the timeline. axe checks every page on the way (WCAG 2.1 AA).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import MailSink
from tests.e2e.conftest import (
    Credentials,
    DemoSite,
    assert_no_axe_violations,
    axe_context,
    log_in,
)
from tests.e2e.test_keyboard_login import focused, skip_to_main, tab

pytestmark = pytest.mark.e2e

FORM = "/leistungen/bewohnerparkausweis/antrag"
EMPTY_FORM = "/leistungen/sperrmuellabholung/antrag"
BIRTH_DATE = ("14", "03", "1988")  # day, month, year
# Typed into the focused field.
TYPED = {
    "given_name": "Jana",
    "family_name": "Neumann",
    "birth_date": "",  # in the order the browser shows the segments: date_keys()
    "residence-street": "Marktstraße",
    "residence-house_number": "12",
    "residence-postcode": "67655",
    "residence-city": "Kaiserslautern",
    "plate": "KL-JN 123",
}
CHOSEN = {"keeper", "truthful"}  # the first radio ("I am") and the consent box: Space
ATTACHED = {"registration"}  # Space opens the file chooser
SKIPPED = {"keeper_name", "keeper_confirmation"}  # only when someone else is the keeper
MAX_TABS = 80


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


@pytest.fixture
def newcomer(browser: Browser, axe_script: Path) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    yield context.new_page()
    context.close()


def date_keys(context: BrowserContext, day: str, month: str, year: str) -> str:
    """The digits a keyboard user types into the browser's date field for this date.

    The order of the segments (DD.MM.YYYY, MM/DD/YYYY, …) follows the browser's own
    locale, not the page's language: look at which order this Chromium uses.
    """
    probe = context.new_page()
    try:
        probe.set_content('<input type="date" id="d">')
        probe.focus("#d")
        probe.keyboard.type("01022003")
        value = probe.eval_on_selector("#d", "e => e.value")
    finally:
        probe.close()
    orders = {"2003-02-01": day + month + year, "2003-01-02": month + day + year}
    assert value in orders, f"unknown date field order: typing 01022003 gave {value!r}"
    return orders[value]


def _registration_scan(directory: Path) -> Path:
    """A photographed registration certificate: a JPEG the server re-encodes."""
    image = Image.new("RGB", (640, 420), (236, 233, 220))
    for x in range(40, 600, 8):
        for y in range(60, 80):
            image.putpixel((x, y), (30, 30, 30))
    path = directory / "fahrzeugschein.jpg"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return path


def _register_and_confirm(page: Page, site: DemoSite) -> Credentials:
    account = Credentials("jana.neumann@example.org", "Betzenberg bei Nebel 1988")
    page.goto(site.url("/konto/registrieren"))
    assert_no_axe_violations(page, "registration form")
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    page.check("#privacy")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.locator(".message--success").is_visible()

    confirmation = site.mail.wait_for(account.email)[0]
    link = MailSink.link(confirmation, "/konto/bestaetigen")
    assert link.startswith(site.server.url), link
    page.goto(link)
    assert_no_axe_violations(page, "confirmation page")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.locator(".message--success").is_visible()
    return account


def _apply_by_keyboard(page: Page, site: DemoSite, attachment: Path) -> str:
    # Playwright turns on file-chooser interception with a message it does not wait for; a
    # listener from the start (and a round trip after it) makes sure it is on before the
    # Space below – under load the key press could otherwise open the native dialog.
    page.on("filechooser", lambda _chooser: None)
    page.goto(site.url(FORM))
    page.evaluate("1")
    assert_no_axe_violations(page, f"{FORM} (citizen)")
    skip_to_main(page)
    done: set[str] = set()
    for _ in range(MAX_TABS):
        element = tab(page)
        name = element["id"]
        if name in done:
            continue
        if name in TYPED:
            page.keyboard.type(TYPED[name] or date_keys(page.context, *BIRTH_DATE))
            done.add(name)
        elif name in CHOSEN:
            page.keyboard.press("Space")
            done.add(name)
        elif name in ATTACHED:
            with page.expect_file_chooser() as chooser:
                page.keyboard.press("Space")
            chooser.value.set_files(str(attachment))
            done.add(name)
        elif element["tag"] == "button" and element["text"] in (
            "Antrag einreichen",
            "Submit application",
        ):
            break
    else:
        raise AssertionError(f"the submit button was not reached; filled {sorted(done)}")
    assert done == set(TYPED) | CHOSEN | ATTACHED, f"not every field was reached: {sorted(done)}"
    with page.expect_navigation(url=lambda url: "/konto/antraege/KL-" in url):
        page.keyboard.press("Enter")
    return urlsplit(page.url).path.rsplit("/", 1)[1]


def _error_summary_by_keyboard(page: Page, site: DemoSite) -> None:
    """An empty form comes back with the summary focused, linked to the first field."""
    page.goto(site.url(EMPTY_FORM))
    page.locator("button[value=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert focused(page)["id"] == "error-summary"
    assert_no_axe_violations(page, f"{EMPTY_FORM} (sent empty)")
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


def test_register_apply_ask_answer_approve(
    newcomer: Page,
    caseworker: Page,
    citizen: Page,
    demo_site: DemoSite,
    tmp_path: Path,
) -> None:
    _error_summary_by_keyboard(citizen, demo_site)
    account = _register_and_confirm(newcomer, demo_site)
    log_in(newcomer, demo_site, account)
    reference = _apply_by_keyboard(newcomer, demo_site, _registration_scan(tmp_path))
    assert newcomer.locator(".message--success").is_visible()
    assert_no_axe_violations(newcomer, f"case page {reference} (citizen)")
    receipt = demo_site.mail.wait_for(account.email, count=2)[1]
    assert reference in str(receipt["Subject"])
    assert "Neumann" not in receipt.get_content(), "the mail repeats personal answers"

    caseworker.goto(demo_site.url("/console/antraege"))
    assert caseworker.locator(f"a[href='/console/antraege/{reference}']").count() == 1
    assert_no_axe_violations(caseworker, "/console/antraege")
    caseworker.goto(demo_site.url(f"/console/antraege/{reference}"))
    attachment = caseworker.locator("a[href*='/dateien/']", has_text="fahrzeugschein")
    assert attachment.count() == 1, "the caseworker does not see the registration scan"
    scan = caseworker.context.request.get(demo_site.url(attachment.get_attribute("href") or ""))
    assert scan.ok and scan.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(scan.body())).size == (640, 420)
    _set_status(caseworker, demo_site, reference, "in_review")
    _set_status(
        caseworker,
        demo_site,
        reference,
        "more_info_needed",
        "Ist das Fahrzeug auf Sie zugelassen oder ein Firmenwagen?",
    )
    assert_no_axe_violations(caseworker, f"/console/antraege/{reference}")

    newcomer.goto(demo_site.url(f"/konto/antraege/{reference}"))
    assert "Firmenwagen" in newcomer.locator(".thread").inner_text()
    newcomer.fill("#body", "Es ist mein eigenes Fahrzeug.")
    with newcomer.expect_navigation():
        newcomer.click("form[action*='/nachrichten'] button[type=submit]")

    caseworker.goto(demo_site.url(f"/console/antraege/{reference}"))
    assert "Es ist mein eigenes Fahrzeug." in caseworker.locator(".thread").inner_text()
    _set_status(caseworker, demo_site, reference, "in_review")
    _set_status(caseworker, demo_site, reference, "approved")

    newcomer.goto(demo_site.url(f"/konto/antraege/{reference}"))
    steps = newcomer.locator(".timeline .status")
    assert [steps.nth(i).get_attribute("class") for i in range(steps.count())] == [
        f"status status--{s}"
        for s in ("received", "in_review", "more_info_needed", "in_review", "approved")
    ]
    assert_no_axe_violations(newcomer, f"case page {reference} (approved)")


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

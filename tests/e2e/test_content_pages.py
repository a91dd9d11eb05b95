"""Search results and the image form in a real browser: axe finds no WCAG 2.1 AA violation.

The page lists of ``test_accessibility`` cover the content pages without a query; here
are the states only a query or a submitted form produces.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import DemoSite, assert_no_axe_violations, axe_context, log_in

pytestmark = pytest.mark.e2e

LANGUAGES = {"de": "", "en": "/en"}


@pytest.fixture(scope="module")
def visitor(browser: Browser, axe_script: Path) -> Iterator[Page]:
    context = axe_context(browser, axe_script)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(
    "query", ["Parkausweise", "Hundesteuer", "Stadtbibliothek", "gibt es nicht", '"<b>Abfall']
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_search_results_suche(
    visitor: Page, demo_site: DemoSite, language: str, query: str
) -> None:
    visitor.goto(demo_site.url(LANGUAGES[language] + "/suche"))
    visitor.fill("#q", query)
    with visitor.expect_navigation():
        visitor.press("#q", "Enter")
    assert visitor.locator("h2#treffer").is_visible(), visitor.url
    assert_no_axe_violations(visitor, f"{visitor.url} (search results)")


@pytest.mark.parametrize(("language", "query"), [("de", "Abfall"), ("en", "recycling")])
def test_search_results_by_keyboard_suche(
    visitor: Page, demo_site: DemoSite, language: str, query: str
) -> None:
    """The header's search link, the field and the first hit, with the keyboard alone."""
    visitor.goto(demo_site.url(LANGUAGES[language] + "/"))
    visitor.locator("header a[href$='/suche']").focus()
    with visitor.expect_navigation():
        visitor.keyboard.press("Enter")
    visitor.locator("#q").focus()
    visitor.keyboard.type(query)
    with visitor.expect_navigation():
        visitor.keyboard.press("Enter")
    first = visitor.locator("ol[aria-labelledby=treffer] li a").first
    first.focus()
    with visitor.expect_navigation():
        visitor.keyboard.press("Enter")
    assert visitor.url.endswith(LANGUAGES[language] + "/seiten/abfall")


@pytest.mark.parametrize("language", LANGUAGES)
def test_image_form_with_errors_inhalte(
    browser: Browser, axe_script: Path, demo_site: DemoSite, language: str
) -> None:
    context = axe_context(browser, axe_script)
    try:
        page = context.new_page()
        log_in(page, demo_site, demo_site.accounts["editor"])
        page.goto(demo_site.url(LANGUAGES[language] + "/console/inhalte/11"))
        page.set_input_files(
            "#image",
            files=[{"name": "bild.jpg", "mimeType": "image/jpeg", "buffer": b"kein Bild"}],
        )
        with page.expect_navigation():
            page.locator("form[action$='/bild'] button[type=submit]").click()
        assert page.locator("#image-error").is_visible()
        assert page.locator("#alt_de[aria-invalid=true]").count() == 1
        assert_no_axe_violations(page, f"{page.url} (image refused, alt texts missing)")
    finally:
        context.close()

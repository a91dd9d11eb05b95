"""A staff member logs in with the keyboard alone (WCAG 2.1.1 Keyboard, 2.4.1 Bypass
Blocks, 2.4.7 Focus Visible): Tab, Shift+Tab, typing and Enter – no mouse, no fill()."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import DemoSite

pytestmark = pytest.mark.e2e

# Every link, button and field of the header and main navigation comes before the
# login link; more presses than that means the link is not reachable.
MAX_TABS = 40

FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    tag: element.tagName.toLowerCase(),
    id: element.id,
    classes: element.className,
    href: element.getAttribute("href") || "",
    text: (element.innerText || element.value || "").trim(),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    // The calendar button inside a date field: focus is in the field's own shadow tree,
    // the field itself no longer matches :focus, and Chromium rings the button itself.
    datePicker: element.type === "date" && !element.matches(":focus"),
    inViewport: box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0
      && box.bottom <= window.innerHeight && box.right <= window.innerWidth,
  };
}"""


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def assert_focus_visible(element: dict[str, Any]) -> None:
    if element["datePicker"]:
        return
    assert element["outlineStyle"] != "none" and element["outlineWidth"] >= 2, (
        f"no visible focus indicator on {element}"
    )


def tab(page: Page, *, backwards: bool = False) -> dict[str, Any]:
    page.keyboard.press("Shift+Tab" if backwards else "Tab")
    element = focused(page)
    assert element["tag"] != "body", "focus was lost"
    assert_focus_visible(element)
    return element


def tab_until(page: Page, wanted: Any, what: str) -> dict[str, Any]:
    for _ in range(MAX_TABS):
        element = tab(page)
        if wanted(element):
            return element
    raise AssertionError(f"{what} not reached with {MAX_TABS} presses of Tab")


def skip_to_main(page: Page) -> None:
    """Tab to the skip link (the first stop of every page) and follow it."""
    skip = tab(page)
    assert "skip-link" in skip["classes"], f"the first Tab stop is not the skip link: {skip}"
    assert skip["inViewport"], "the focused skip link is not visible"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main", "the skip link did not move focus to the main content"


def press_enter_and_wait(page: Page, path: str) -> None:
    with page.expect_navigation(url=lambda url: urlsplit(url).path == path):
        page.keyboard.press("Enter")


def test_admin_logs_in_with_the_keyboard_alone(page: Page, demo_site: DemoSite) -> None:
    admin = demo_site.accounts["admin"]
    page.goto(demo_site.url("/"))

    # The skip link is the first Tab stop and shows itself when focused.
    skip = tab(page)
    assert "skip-link" in skip["classes"], f"the first Tab stop is not the skip link: {skip}"
    assert skip["href"] == "#main"
    assert skip["inViewport"], "the focused skip link is not visible"
    assert page.locator(".skip-link").is_visible()

    # Shift+Tab from the first stop leaves the page; Tab comes back to the skip link.
    page.keyboard.press("Shift+Tab")
    assert "skip-link" in tab(page)["classes"]

    login_link = tab_until(
        page, lambda e: urlsplit(e["href"]).path == "/konto/anmelden", "the login link"
    )
    assert login_link["text"].casefold() in {"anmelden", "log in"}, login_link
    press_enter_and_wait(page, "/konto/anmelden")

    skip_to_main(page)
    assert tab(page)["id"] == "email", "the e-mail field is not the first field of the form"
    page.keyboard.type(admin.email)
    assert tab(page)["id"] == "password"
    page.keyboard.type(admin.password)
    press_enter_and_wait(page, "/konto/zwei-faktor")

    skip_to_main(page)
    assert tab(page)["id"] == "code", "the code field is not the first field of the form"
    page.keyboard.type(demo_site.next_code(admin))
    press_enter_and_wait(page, "/console/")

    assert page.locator("main#main h1").is_visible()
    logout = page.locator("header form[action$='/konto/abmelden'] button")
    assert logout.is_visible()
    assert logout.inner_text().strip().casefold() in {"abmelden", "log out"}
    assert page.locator("header a[href$='/konto/anmelden']:not([hreflang])").count() == 0

    # The logout button is reachable with Shift+Tab from the start of the main content.
    skip_to_main(page)
    button = None
    for _ in range(MAX_TABS):
        element = tab(page, backwards=True)
        if element["tag"] == "button" and element["text"].casefold() in {"abmelden", "log out"}:
            button = element
            break
    assert button is not None, "the logout button is not reachable with Shift+Tab"

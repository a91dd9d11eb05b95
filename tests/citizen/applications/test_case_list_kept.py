"""The case list is kept per caseworker while no application and no account changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from klug.citizen.applications.models import Application
from klug.identity.models import Account
from klug.identity.permissions import Role
from tests.citizen.applications.conftest import apply, bulky_waste, submitted_reference
from tests.citizen.applications.test_case_work import act
from tests.conftest import KnownAccount, log_in, soup


def _rows(page: TestClient, **params: str) -> dict[str, str]:
    table = soup(page.get("/console/antraege", params=params)).find("tbody")
    return {
        row.find("th").get_text(strip=True): row.get_text(" ", strip=True)
        for row in table.find_all("tr")
        if row.find("th") is not None  # an empty list says so in a row without a case
    }


def _rename(client: TestClient, account: KnownAccount, name: str) -> None:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        session.execute(update(Account).where(Account.id == account.id).values(display_name=name))
        session.commit()


@pytest.fixture
def caseworker(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> Callable[[], tuple[TestClient, KnownAccount]]:
    """A caseworker logged in on an app of their own (as another worker process would be)."""

    def make() -> tuple[TestClient, KnownAccount]:
        browser, account = client_factory(), make_account(Role.CASEWORKER)
        log_in(browser, account)
        return browser, account

    return make


def test_every_committed_change_shows_at_once_and_a_rolled_back_one_never(
    client: TestClient,
    citizen: KnownAccount,
    caseworker: Callable[[], tuple[TestClient, KnownAccount]],
) -> None:
    first = submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    staff, _ = caseworker()
    colleague, erika = caseworker()
    _rename(client, erika, "Erika Beispiel")
    assert set(_rows(staff)) == {first}
    assert set(_rows(staff)) == {first}  # now kept
    assert staff.app.state.page_cache._entries, "the case list is kept"  # type: ignore[attr-defined]

    second = submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    assert set(_rows(staff)) == {first, second}, "a new application"

    act(colleague, first, "zuweisung", assignee="me")
    assert "Erika Beispiel" in _rows(staff)[first], "assigned by a colleague"

    _rename(client, erika, "Erika Muster")
    assert "Erika Muster" in _rows(staff)[first], "a renamed colleague"

    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        session.execute(
            update(Application).where(Application.reference == second).values(status="rejected")
        )
        session.rollback()
        session.execute(
            update(Application).where(Application.reference == first).values(status="rejected")
        )
        session.commit()
    assert set(_rows(staff)) == {second}, "a change made outside the console"


def test_two_caseworkers_never_see_each_others_page(
    client: TestClient,
    citizen: KnownAccount,
    caseworker: Callable[[], tuple[TestClient, KnownAccount]],
    make_account: Callable[..., KnownAccount],
) -> None:
    reference = submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    mine, _ = caseworker()
    # The other caseworker's browser on the same app, so on the same kept pages.
    theirs = TestClient(mine.app, base_url="http://testserver")
    log_in(theirs, make_account(Role.CASEWORKER))
    act(mine, reference, "zuweisung", assignee="me")
    assert set(_rows(mine, zugewiesen="me")) == {reference}
    assert set(_rows(theirs, zugewiesen="me")) == set(), "the same address, another person"
    assert set(_rows(mine, zugewiesen="me")) == {reference}

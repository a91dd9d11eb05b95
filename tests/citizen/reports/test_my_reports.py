"""'My reports' in the citizen's account: the reports sent while logged in and those
supported with "me too" – only one's own, with the whole public timeline, never
internal notes, and nobody else's report by guessing its number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from klug.citizen.reports import service as report_service
from klug.citizen.reports.mine import PER_PAGE
from klug.citizen.reports.schemas import StatusChange
from klug.core.audit import SYSTEM
from klug.identity.permissions import Role
from klug.sim.reports import seed_citizen_reports, seed_reports
from tests.citizen.reports.conftest import CENTRE, offset_north
from tests.conftest import KnownAccount, log_in, post_form, soup

MINE = "/konto/meldungen"


def _table(page: BeautifulSoup, caption_id: str) -> Tag | None:
    caption = page.find("caption", id=caption_id)
    return caption.find_parent("table") if caption is not None else None


def _row_ids(page: BeautifulSoup, caption_id: str) -> list[int]:
    table = _table(page, caption_id)
    if table is None:
        return []
    return [int(th.get_text(" ", strip=True).split()[0]) for th in table.select("tbody th")]


def _cells(page: BeautifulSoup, caption_id: str, report_id: int) -> list[str]:
    table = _table(page, caption_id)
    assert table is not None
    for row in table.select("tbody tr"):
        if row.th.get_text(" ", strip=True).split()[0] == str(report_id):
            return [c.get_text(" ", strip=True) for c in row.find_all(["th", "td"])]
    raise AssertionError(f"no row of report {report_id}")


def _change(client: TestClient, report_id: int, **change: Any) -> None:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        report = report_service.get(session=session, report_id=report_id)
        assert report is not None
        report_service.change_status(
            session=session,
            report=report,
            change=StatusChange(**change),
            actor=SYSTEM,
        )
        session.commit()


def _support(client: TestClient, report_id: int) -> None:
    page = f"/maengelmelder/{report_id}"
    response = post_form(
        client, f"{page}/unterstuetzen", {}, token_from=page, follow_redirects=False
    )
    assert response.headers["location"] == f"{page}?unterstuetzt=ja#unterstuetzen"


def test_my_reports_lists_my_reports_and_those_i_support_never_others(
    client: TestClient,
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
    store_report: Callable[..., int],
) -> None:
    me = make_account(Role.CITIZEN)
    someone = make_account(Role.CITIZEN)
    now = dt.datetime.now(dt.UTC)
    older = store_report(
        account_id=me.id,
        address="Marktstraße 3, Kaiserslautern",
        created_at=now - dt.timedelta(days=5),
    )
    theirs = store_report(
        "graffiti",
        account_id=someone.id,
        description="Fremde Meldung",
        lat=offset_north(CENTRE[0], 400),
        answers={"offensive": "no"},
    )
    theirs_unsupported = store_report(
        "street_light",
        account_id=someone.id,
        lat=offset_north(CENTRE[0], 800),
        answers={"fault": "off"},
    )
    anonymous = store_report(
        "other", email="jemand@example.org", lat=None, lon=None, address="Rathaus"
    )
    log_in(client, me)
    # Sent through the form while logged in: the account is the reporter.
    response = post_form(
        client,
        "/maengelmelder/melden",
        {
            "kategorie": "other",
            "description": "Bank am Brunnen kaputt",
            "location_text": "Am Brunnen im Stadtpark",
        },
        token_from="/maengelmelder/melden?kategorie=other",
        follow_redirects=False,
    )
    assert response.status_code == 303
    newest = int(response.headers["location"].split("/")[-2])
    _support(client, theirs)
    _change(client, older, status="in_progress", public_note="Bauhof informiert")

    page = soup(client.get("/en" + MINE))
    assert page.find("h1").get_text(strip=True) == "My reports"
    assert _row_ids(page, "own-caption") == [newest, older]
    assert _row_ids(page, "supported-caption") == [theirs]
    shown = page.find("main").get_text(" ", strip=True)
    assert "Fremde Meldung" not in shown and "Rathaus" not in shown

    row = _cells(page, "own-caption", older)
    assert row[1:4] == ["Pothole", "Marktstraße 3, Kaiserslautern", "In progress"]
    assert row[4] != row[5]  # reported five days ago, changed now
    assert _cells(page, "own-caption", newest)[1:4] == [
        "Something else",
        "Am Brunnen im Stadtpark",
        "Received",
    ]
    place = f"{offset_north(CENTRE[0], 400):.5f}, {CENTRE[1]:.5f}"
    assert _cells(page, "supported-caption", theirs)[1:4] == ["Graffiti", place, "Received"]
    # Own reports open in the account, every report also on its public page.
    own_table = _table(page, "own-caption")
    assert own_table is not None
    assert own_table.find("a", href=f"/en{MINE}/{older}") is not None
    assert own_table.find("a", href=f"/en/maengelmelder/{older}") is not None
    supported_table = _table(page, "supported-caption")
    assert supported_table is not None
    assert supported_table.find("a", href=f"/en{MINE}/{theirs}") is None
    assert supported_table.find("a", href=f"/en/maengelmelder/{theirs}") is not None

    other = client_factory()
    log_in(other, someone)
    theirs_page = soup(other.get(MINE))
    assert _row_ids(theirs_page, "own-caption") == [theirs_unsupported, theirs]
    assert _row_ids(theirs_page, "supported-caption") == []
    assert anonymous not in _row_ids(theirs_page, "own-caption")


def test_my_reports_need_a_login(client: TestClient, store_report: Callable[..., int]) -> None:
    report_id = store_report()
    for prefix in ("", "/en"):
        for path in (MINE, f"{MINE}/{report_id}"):
            response = client.get(prefix + path, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"] == f"{prefix}/konto/anmelden?next={path}"


def test_empty_lists_point_to_the_maengelmelder(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.CITIZEN)
    page = soup(client.get(MINE)).find("main")
    assert page.find("table") is None
    links = [a["href"] for a in page.find_all("a")]
    assert links.count("/maengelmelder") == 2


def test_my_report_shows_what_i_gave_and_the_public_timeline_never_internal_notes(
    client: TestClient,
    logged_in: Callable[..., KnownAccount],
    store_report: Callable[..., int],
) -> None:
    me = logged_in(Role.CITIZEN, email="melderin@example.org")
    report_id = store_report(
        account_id=me.id,
        description="Tiefes Loch, Radfahrer stürzen",
        answers={"size": "large", "surface": "cycle_path"},
        address="Pirmasenser Straße 12, Kaiserslautern",
    )
    _change(
        client,
        report_id,
        status="in_progress",
        public_note="Stelle ist gesichert.",
        internal_note="Firma Müller beauftragt, Tel. 0631 123",
    )
    _change(client, report_id, status="closed", public_note="Repariert.")

    response = client.get(f"/en{MINE}/{report_id}")
    assert response.status_code == 200
    page = soup(response).find("main")
    text = page.get_text(" ", strip=True)
    assert "Tiefes Loch, Radfahrer stürzen" in text
    answers = {
        dt_.get_text(strip=True): dt_.find_next("dd").get_text(strip=True)
        for dt_ in page.find_all("dt")
    }
    assert answers["How large is the pothole?"] == "Larger than a car tyre"
    assert answers["Address"] == "Pirmasenser Straße 12, Kaiserslautern"
    assert answers["Status"] == "Closed"
    assert page.find(id="contact").get_text(" ", strip=True).startswith("melderin@example.org")
    steps = [li.get_text(" ", strip=True) for li in page.select("ol.record-list > li")]
    assert len(steps) == 3
    assert steps[0].endswith("Received")
    assert "In progress" in steps[1] and "Stelle ist gesichert." in steps[1]
    assert "Closed" in steps[2] and "Repariert." in steps[2]
    assert "Firma Müller" not in response.text and "0631 123" not in response.text
    assert page.find("a", href=f"/en/maengelmelder/{report_id}") is not None


def test_someone_else_s_report_answers_404(
    client: TestClient,
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
    store_report: Callable[..., int],
) -> None:
    owner = make_account(Role.CITIZEN, email="eigentuemerin@example.org")
    theirs = store_report(account_id=owner.id, description="Geheimnis der Eigentümerin")
    anonymous = store_report(email="anonym@example.org", lat=offset_north(CENTRE[0], 300))
    intruder = client_factory()
    log_in(intruder, make_account(Role.CITIZEN))
    _support(intruder, theirs)  # supporting a report does not make it one's own
    for report_id in (theirs, anonymous, 999_999):
        for prefix in ("", "/en"):
            response = intruder.get(f"{prefix}{MINE}/{report_id}")
            assert response.status_code == 404, (prefix, report_id)
            assert "eigentuemerin@" not in response.text and "anonym@" not in response.text
    log_in(client, owner)
    assert client.get(f"{MINE}/{theirs}").status_code == 200


def test_long_lists_are_paged_each_on_its_own(
    client: TestClient,
    logged_in: Callable[..., KnownAccount],
    store_report: Callable[..., int],
) -> None:
    me = logged_in(Role.CITIZEN)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    ids = [
        store_report(
            "other",
            account_id=me.id,
            lat=None,
            lon=None,
            address=f"Marktstraße {n}",
            created_at=start + dt.timedelta(hours=n),
        )
        for n in range(PER_PAGE + 1)
    ]
    supported = store_report()
    _support(client, supported)

    first = soup(client.get(MINE + "?seite_unterstuetzt=1"))
    assert _row_ids(first, "own-caption") == ids[::-1][:PER_PAGE]
    pagers = first.find_all("nav", class_="pager")
    assert len(pagers) == 1  # the supported list has one page
    following = pagers[0].find("a", rel="next")
    assert following["href"] == "?seite_unterstuetzt=1&seite=2#meine"
    assert pagers[0].find("a", rel="prev") is None

    second = soup(client.get(MINE + following["href"].split("#")[0]))
    assert _row_ids(second, "own-caption") == [ids[0]]
    assert _row_ids(second, "supported-caption") == [supported]
    assert second.find("nav", class_="pager").find("a", rel="prev")["href"] == (
        "?seite_unterstuetzt=1&seite=1#meine"
    )
    # A page past the end shows the last one rather than an empty list.
    assert _row_ids(soup(client.get(MINE + "?seite=9")), "own-caption") == [ids[0]]
    assert len(_row_ids(soup(client.get(MINE + "?seite=x")), "own-caption")) == PER_PAGE


def test_links_to_my_reports(client: TestClient, logged_in: Callable[..., KnownAccount]) -> None:
    response = post_form(
        client,
        "/maengelmelder/melden",
        {"kategorie": "other", "description": "Anonym", "location_text": "Hinter dem Rathaus"},
        token_from="/maengelmelder/melden?kategorie=other",
    )
    anonymous_thanks = soup(response).find("main")
    assert anonymous_thanks.find("a", href=MINE) is None

    logged_in(Role.CITIZEN)
    response = post_form(
        client,
        "/en/maengelmelder/melden",
        {"kategorie": "other", "description": "Angemeldet", "location_text": "Vor dem Rathaus"},
        token_from="/en/maengelmelder/melden?kategorie=other",
    )
    assert response.url.path.endswith("/danke")
    thanks = soup(response).find("main")
    assert thanks.find("a", href=f"/en{MINE}").get_text(strip=True) == "My reports"
    account = soup(client.get("/en/konto/")).find("main")
    assert account.find("a", href=f"/en{MINE}").get_text(strip=True) == "My reports"
    services = soup(client.get("/en/buergerservice")).find("main")
    assert services.find("a", href=f"/en{MINE}") is not None


def test_the_demo_citizen_has_a_report_and_supports_one(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        seed_reports(session)
        assert seed_citizen_reports(session, citizen.id) == 2
        session.commit()
        assert seed_citizen_reports(session, citizen.id) == 0
        session.commit()
    log_in(client, citizen)
    page = soup(client.get(MINE))
    own = _row_ids(page, "own-caption")
    assert len(own) == 1 and len(_row_ids(page, "supported-caption")) == 1
    detail = client.get(f"/en{MINE}/{own[0]}")
    assert "Der Auftrag ist an die Stadtwerke gegangen." in detail.text
    assert "Vorschaltgerät" not in detail.text

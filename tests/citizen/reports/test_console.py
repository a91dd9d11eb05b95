"""Staff handle reports: overdue marked, status changes audited, internal notes internal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.core.audit import AuditEvent
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, post_form, soup

NOW = dt.datetime.now(dt.UTC)


def test_the_list_marks_what_is_overdue(
    client: TestClient, logged_in: Callable[..., KnownAccount], store_report: Callable[..., int]
) -> None:
    late = store_report("pothole", created_at=NOW - dt.timedelta(days=15))  # target: 14 days
    in_time = store_report("graffiti", created_at=NOW - dt.timedelta(days=15))  # target: 30 days
    fresh = store_report("pothole", address="Marktstraße 1")
    logged_in(Role.CASEWORKER)
    rows = {
        tr.find("th").find("a")["href"]: tr
        for tr in soup(client.get("/en/console/meldungen"))
        .find("main")
        .find("tbody")
        .find_all("tr")
    }
    assert set(rows) == {f"/en/console/meldungen/{i}" for i in (late, in_time, fresh)}
    late_row = rows[f"/en/console/meldungen/{late}"]
    assert "overdue" in late_row["class"] and "overdue" in late_row.get_text()
    for other in (in_time, fresh):
        row = rows[f"/en/console/meldungen/{other}"]
        assert "overdue" not in (row.get("class") or []) and "overdue" not in row.get_text()

    only = soup(client.get("/console/meldungen?ueberfaellig=1")).find("main").find("tbody")
    assert [a["href"] for a in only.select("th a")] == [f"/console/meldungen/{late}"]
    by_category = soup(client.get("/console/meldungen?kategorie=graffiti")).find("tbody")
    assert [a["href"] for a in by_category.select("th a")] == [f"/console/meldungen/{in_time}"]


def test_a_status_change_is_audited_and_the_internal_note_stays_internal(
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
    store_report: Callable[..., int],
) -> None:
    from tests.conftest import log_in

    staff, visitor = client_factory(), client_factory()
    caseworker = make_account(Role.CASEWORKER)
    log_in(staff, caseworker)
    report_id = store_report(email="melder@example.org")
    page = f"/console/meldungen/{report_id}"
    detail = soup(staff.get("/en" + page)).find("main")
    assert (
        detail.find("dt", string="Contact").find_next("dd").get_text(strip=True)
        == "melder@example.org"
    )

    response = post_form(
        staff,
        page,
        {
            "status": "in_progress",
            "public_note": "Die Reparatur ist für Dienstag geplant.",
            "internal_note": "Kolonne 3, Material bestellt – NICHT ÖFFENTLICH",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}?ok=1"

    with staff.app.state.session_factory() as session:  # type: ignore[attr-defined]
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.status_changed")
        ).all()
    assert (event.actor_kind, event.actor_id) == ("account", caseworker.id)
    assert (event.target_kind, event.target_id) == ("report", str(report_id))
    assert event.detail == {
        "from": "received",
        "to": "in_progress",
        "public_note": True,
        "internal_note": True,
    }

    history = soup(staff.get(page)).find("main").get_text()
    assert "NICHT ÖFFENTLICH" in history and "für Dienstag" in history
    public = visitor.get(f"/maengelmelder/{report_id}").text
    assert "für Dienstag" in public and "NICHT ÖFFENTLICH" not in public
    assert "melder@example.org" not in public
    for fmt in ("json", "xml"):
        body = visitor.get(f"/open311/v2/requests/{report_id}.{fmt}").text
        assert "für Dienstag" in body and "NICHT ÖFFENTLICH" not in body

    # Closing records the time; a change that changes nothing is refused.
    post_form(staff, page, {"status": "closed", "public_note": "Repariert."})
    (found,) = visitor.get(f"/open311/v2/requests/{report_id}.json").json()
    assert found["status"] == "closed" and found["status_notes"] == "Repariert."
    response = post_form(staff, page, {"status": "closed"})
    assert response.status_code == 400
    assert soup(response).find(class_="error-summary").find("a")["href"] == "#status"
    response = post_form(staff, page, {"status": "lost"})
    assert response.status_code == 400


def test_only_report_staff_may_handle_reports(
    client: TestClient, logged_in: Callable[..., KnownAccount], store_report: Callable[..., int]
) -> None:
    report_id = store_report()
    anonymous = client.get("/console/meldungen", follow_redirects=False)
    assert anonymous.status_code == 303
    logged_in(Role.EDITOR)
    assert client.get("/console/meldungen").status_code == 403
    assert client.get(f"/console/meldungen/{report_id}").status_code == 403
    nav = soup(client.get("/console/")).find("nav", class_="console-nav")
    assert nav.find("a", href="/console/meldungen") is None


def test_caseworkers_find_the_section(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.CASEWORKER)
    nav = soup(client.get("/console/")).find("nav", class_="console-nav")
    assert nav.find("a", href="/console/meldungen") is not None
    assert client.get("/console/meldungen/999").status_code == 404

"""Case work: transitions, assignment, queues, bulk actions, history, notifications."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select, update

from klug.citizen.applications.models import Application
from klug.core.audit import AuditEvent
from klug.identity.permissions import Role
from tests.citizen.applications.conftest import (
    apply,
    bulky_waste,
    parking_permit,
    registration_file,
    submitted_reference,
)
from tests.conftest import KnownAccount, MailSink, csrf_token, log_in, soup


@pytest.fixture
def staff(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> TestClient:
    caseworker = client_factory()
    log_in(caseworker, make_account(Role.CASEWORKER))
    return caseworker


def act(staff: TestClient, reference: str, what: str, **data: str) -> object:
    token = csrf_token(staff, f"/console/antraege/{reference}")
    return staff.post(
        f"/console/antraege/{reference}/{what}",
        data={**data, "csrf_token": token},
        follow_redirects=False,
    )


def status_of(client: TestClient, reference: str) -> str:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return str(
            session.scalar(select(Application.status).where(Application.reference == reference))
        )


def test_statuses_follow_the_allowed_transitions(
    client: TestClient, citizen: KnownAccount, staff: TestClient
) -> None:
    reference = submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    refused = act(staff, reference, "status", to_status="approved")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert status_of(client, reference) == "received"
    for step in ("in_review", "more_info_needed", "in_review", "approved", "completed"):
        response = act(staff, reference, "status", to_status=step)
        assert response.status_code == 303, step  # type: ignore[attr-defined]
        assert status_of(client, reference) == step
    assert act(staff, reference, "status", to_status="in_review").status_code == 400  # type: ignore[attr-defined]
    history = soup(staff.get(f"/console/antraege/{reference}")).find(id="verlauf").find_next("ol")
    assert len(history.find_all("li")) == 6
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        changes = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "applications.status_changed")
        ).all()
    assert [c["to"] for c in changes] == [
        "in_review",
        "more_info_needed",
        "in_review",
        "approved",
        "completed",
    ]
    timeline = soup(client.get(f"/konto/antraege/{reference}")).find(class_="timeline")
    assert len(timeline.find_all("li")) == 6


def test_internal_notes_never_reach_the_applicant(
    client: TestClient, citizen: KnownAccount, staff: TestClient
) -> None:
    reference = submitted_reference(
        apply(client, "bewohnerparkausweis", parking_permit(), files=registration_file())
    )
    act(staff, reference, "notiz", note="GEHEIM-NOTIZ-1 applicant seems unreliable")
    act(staff, reference, "status", to_status="in_review", status_note="GEHEIM-NOTIZ-2")
    staff_page = staff.get(f"/console/antraege/{reference}").text
    assert "GEHEIM-NOTIZ-1" in staff_page and "GEHEIM-NOTIZ-2" in staff_page
    pages = [
        client.get("/konto/antraege").text,
        client.get(f"/konto/antraege/{reference}").text,
        client.get(f"/en/konto/antraege/{reference}").text,
    ]
    receipt = client.get(f"/konto/antraege/{reference}/quittung.pdf").content
    pages.append("".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt)).pages))
    link = soup(client.get(f"/konto/antraege/{reference}")).find(
        "a", href=lambda h: bool(h) and "/dateien/" in h
    )
    pages.append(client.get(link["href"]).content.decode("latin-1"))
    for text in pages:
        assert "GEHEIM" not in text
        assert "unreliable" not in text


def test_the_applicant_is_told_of_flagged_status_changes_only(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
) -> None:
    account = make_account()
    log_in(mail_client, account)
    reference = submitted_reference(apply(mail_client, "sperrmuellabholung", bulky_waste()))
    mail_sink.wait_for(account.email)  # the confirmation
    staff = client_factory(smtp_url=mail_sink.url)  # type: ignore[attr-defined]
    log_in(staff, make_account(Role.CASEWORKER))
    act(staff, reference, "status", to_status="in_review")
    act(
        staff,
        reference,
        "status",
        to_status="more_info_needed",
        message="Bitte Foto der Gegenstände schicken",
        status_note="intern: prüfen",
    )
    mails = mail_sink.wait_for(account.email, count=2)
    assert len(mails) == 2  # nothing for "in review", one mail for the flagged change
    notice = mails[1]
    body = notice.get_content()
    assert reference in notice["Subject"]
    assert "Weitere Angaben" in body or "More information needed" in body
    assert f"/konto/antraege/{reference}" in body
    assert "Foto" not in body and "intern" not in body
    page = soup(mail_client.get(f"/konto/antraege/{reference}"))
    assert "Bitte Foto der Gegenstände schicken" in page.find(class_="thread").get_text()


def test_queues_by_office_assignment_and_overdue_cases(
    client: TestClient, citizen: KnownAccount, staff: TestClient
) -> None:
    waste = submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    parking = submitted_reference(
        apply(client, "bewohnerparkausweis", parking_permit(), files=registration_file())
    )
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        session.execute(
            update(Application)
            .where(Application.reference == waste)
            .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        )
        session.commit()
    queue = soup(staff.get("/console/antraege"))
    rows = {r.find("th").get_text(strip=True): r for r in queue.find("tbody").find_all("tr")}
    assert set(rows) == {waste, parking}
    assert "row--overdue" in rows[waste]["class"]
    assert "überfällig" in rows[waste].get_text()
    assert not rows[parking].get("class")
    office = "Stadtbildpflege Kaiserslautern, Abfallberatung"
    only = soup(staff.get("/console/antraege", params={"amt": office}))
    assert [r.find("th").get_text(strip=True) for r in only.find("tbody").find_all("tr")] == [waste]
    overdue = soup(staff.get("/console/antraege", params={"ueberfaellig": "1"}))
    assert [r.find("th").get_text(strip=True) for r in overdue.find("tbody").find_all("tr")] == [
        waste
    ]
    act(staff, parking, "zuweisung", assignee="me")
    mine = soup(staff.get("/console/antraege", params={"zugewiesen": "me"}))
    assert [r.find("th").get_text(strip=True) for r in mine.find("tbody").find_all("tr")] == [
        parking
    ]
    nobody = soup(staff.get("/console/antraege", params={"zugewiesen": "none"}))
    assert [r.find("th").get_text(strip=True) for r in nobody.find("tbody").find_all("tr")] == [
        waste
    ]


def test_bulk_actions_check_every_case_on_its_own(
    client: TestClient, citizen: KnownAccount, staff: TestClient
) -> None:
    first, second, third = (
        submitted_reference(apply(client, "sperrmuellabholung", bulky_waste())) for _ in range(3)
    )
    act(staff, third, "status", to_status="in_review")
    token = csrf_token(staff, "/console/antraege")
    response = staff.post(
        "/console/antraege/sammelaktion",
        data={
            "case": [first, second, third],
            "action": "status",
            "to_status": "in_review",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    result = soup(staff.get(response.headers["location"]))
    assert third in result.find(class_="message--error").get_text()
    assert [status_of(client, r) for r in (first, second, third)] == ["in_review"] * 3
    staff.post(
        "/console/antraege/sammelaktion",
        data={"case": [first, second], "action": "assign", "assignee": "me", "csrf_token": token},
    )
    mine = soup(staff.get("/console/antraege", params={"zugewiesen": "me"}))
    assert {r.find("th").get_text(strip=True) for r in mine.find("tbody").find_all("tr")} == {
        first,
        second,
    }

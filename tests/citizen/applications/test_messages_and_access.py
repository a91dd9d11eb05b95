"""Messages between applicant and office; nobody else's case; stored XSS stays inert."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.citizen.applications.models import ApplicationAttachment
from klug.identity.permissions import Role
from tests.citizen.applications.conftest import (
    MINIMAL_PDF,
    apply,
    bulky_waste,
    parking_permit,
    registration_file,
    submitted_reference,
)
from tests.citizen.applications.test_case_work import act
from tests.conftest import KnownAccount, MailSink, csrf_token, log_in, soup

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>"><svg onload=alert(2)>'


def _write(client: TestClient, reference: str, body: str, file: bytes | None = None) -> object:
    token = csrf_token(client, f"/konto/antraege/{reference}")
    return client.post(
        f"/konto/antraege/{reference}/nachrichten",
        data={"body": body, "csrf_token": token},
        files={"file": ("antwort.pdf", io.BytesIO(file), "application/pdf")} if file else None,
        follow_redirects=False,
    )


def test_a_message_thread_with_files_and_mails_without_content(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
) -> None:
    account = make_account()
    log_in(mail_client, account)
    reference = submitted_reference(apply(mail_client, "sperrmuellabholung", bulky_waste()))
    staff = client_factory(smtp_url=mail_sink.url)  # type: ignore[attr-defined]
    log_in(staff, make_account(Role.CASEWORKER))
    sent = _write(mail_client, reference, "Hier das Foto vom Sofa.", MINIMAL_PDF)
    assert sent.status_code == 303  # type: ignore[attr-defined]
    case_page = soup(staff.get(f"/console/antraege/{reference}"))
    thread = case_page.find(class_="thread")
    assert "Hier das Foto vom Sofa." in thread.get_text()
    file_link = thread.find("a", href=lambda h: bool(h) and "/dateien/" in h)
    assert staff.get(file_link["href"]).content == MINIMAL_PDF
    token = csrf_token(staff, f"/console/antraege/{reference}")
    staff.post(
        f"/console/antraege/{reference}/nachrichten",
        data={"body": "Danke, Termin bestätigt: Donnerstag.", "csrf_token": token},
    )
    mails = mail_sink.wait_for(account.email, count=2)
    notice = mails[-1]
    assert reference in notice["Subject"]
    body = notice.get_content()
    assert f"/konto/antraege/{reference}" in body
    assert "Termin" not in body and "Donnerstag" not in body and "Sofa" not in body
    mine = soup(mail_client.get(f"/konto/antraege/{reference}")).find(class_="thread")
    assert "Danke, Termin bestätigt: Donnerstag." in mine.get_text()


def test_an_empty_message_or_a_bad_file_is_refused(
    client: TestClient, citizen: KnownAccount
) -> None:
    reference = submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    empty = _write(client, reference, "")
    assert empty.status_code == 400  # type: ignore[attr-defined]
    bad = _write(client, reference, "Anbei", b"MZ\x90\x00 pretending to be a PDF")
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert soup(bad).find(id="file-error") is not None
    assert soup(client.get(f"/konto/antraege/{reference}")).find(class_="thread") is None


def test_another_citizen_gets_404_for_case_receipt_file_and_messages(
    client: TestClient,
    citizen: KnownAccount,
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
) -> None:
    reference = submitted_reference(
        apply(client, "bewohnerparkausweis", parking_permit(), files=registration_file())
    )
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        attachment_id = session.scalar(select(ApplicationAttachment.id))
    intruder = client_factory()
    log_in(intruder, make_account())
    for path in (
        f"/konto/antraege/{reference}",
        f"/konto/antraege/{reference}/quittung.pdf",
        f"/konto/antraege/{reference}/dateien/{attachment_id}",
        "/konto/antraege/KL-2000-999999",
    ):
        assert intruder.get(path).status_code == 404, path
    assert _write(intruder, reference, "hallo").status_code == 404  # type: ignore[attr-defined]
    listing = intruder.get("/konto/antraege").text
    assert reference not in listing
    assert intruder.get(f"/console/antraege/{reference}").status_code == 403


@pytest.mark.parametrize("language", ["", "/en"])
def test_stored_xss_payloads_are_rendered_inert(
    client: TestClient, citizen: KnownAccount, staff_client: TestClient, language: str
) -> None:
    values = parking_permit(given_name=XSS[:100])
    reference = submitted_reference(
        apply(client, "bewohnerparkausweis", values, files=registration_file())
    )
    submitted_reference(apply(client, "sperrmuellabholung", bulky_waste(items=XSS)))
    _write(client, reference, XSS)
    act(staff_client, reference, "notiz", note=XSS)
    for page in (
        soup(client.get(f"{language}/konto/antraege/{reference}")),
        soup(staff_client.get(f"{language}/console/antraege/{reference}")),
        soup(staff_client.get(f"{language}/console/antraege")),
    ):
        assert not [s for s in page.find_all("script") if "alert" in (s.string or "")]
        assert page.find("img", onerror=True) is None
        assert page.find("svg") is None
    shown = soup(client.get(f"{language}/konto/antraege/{reference}")).get_text()
    assert '<script>alert("x")</script>' in shown


@pytest.fixture
def staff_client(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> TestClient:
    staff = client_factory()
    log_in(staff, make_account(Role.CASEWORKER))
    return staff

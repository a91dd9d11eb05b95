"""Submission: a case with a reference, a PDF receipt, a confirmation mail, a rate limit."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from klug.citizen.applications import service as application_service
from klug.citizen.applications.models import Application, ApplicationEvent
from klug.core.audit import AuditEvent
from klug.core.db import create_db_engine, make_session_factory
from tests.citizen.applications.conftest import (
    apply,
    bulky_waste,
    parking_permit,
    registration_file,
    submitted_reference,
    today,
)
from tests.conftest import KnownAccount, MailSink, log_in, soup


def test_submission_creates_a_case_with_a_sequential_reference(
    client: TestClient, citizen: KnownAccount
) -> None:
    first = submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    second = submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    year = today().year
    assert (first, second) == (f"KL-{year}-000001", f"KL-{year}-000002")
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        case = session.scalar(select(Application).where(Application.reference == first))
        assert case is not None
        assert case.status == "received"
        assert case.office.startswith("Stadtbildpflege")
        assert case.due_at is not None and (case.due_at - case.submitted_at).days == 21
        assert case.answers["volume_m3"] == 2.5
        assert case.answers["pickup_address"]["postcode"] == "67655"
        kinds = session.scalars(
            select(ApplicationEvent.kind).where(ApplicationEvent.application_id == case.id)
        ).all()
        assert kinds == ["submitted"]
        audited = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "applications.submitted", AuditEvent.target_id == str(case.id)
            )
        )
        assert audited is not None and audited.actor_id == citizen.id
    page = soup(client.get(f"/konto/antraege/{first}?eingereicht=1"))
    assert page.find(class_="message--success") is not None
    assert (
        "Received" in page.find(class_="timeline").get_text()
        or "Eingegangen" in page.find(class_="timeline").get_text()
    )


def test_references_stay_unique_under_concurrent_submissions(database_url: str) -> None:
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine)
    references: list[str] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            for _ in range(5):
                with factory() as session:
                    references.append(application_service.next_reference(session, year=2031))
                    session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert not errors, errors
    assert sorted(references) == [f"KL-2031-{n:06d}" for n in range(1, 21)]


def test_the_receipt_is_a_pdf_with_the_reference_and_the_answers(
    client: TestClient, citizen: KnownAccount
) -> None:
    reference = submitted_reference(
        apply(
            client,
            "bewohnerparkausweis",
            parking_permit(family_name="Łukasiewicz"),
            files=registration_file(),
        )
    )
    response = client.get(f"/konto/antraege/{reference}/quittung.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert reference in text
    assert "Bewohnerparkausweis" in text
    assert "Łukasiewicz" in text
    assert "KL-AB 123" in text
    assert "fahrzeugschein.pdf" in text


def test_a_confirmation_mail_names_the_reference_but_no_answers(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
) -> None:
    account = make_account()
    log_in(mail_client, account)
    reference = submitted_reference(
        apply(mail_client, "sperrmuellabholung", bulky_waste(items="Omas Klavier"))
    )
    (mail,) = mail_sink.wait_for(account.email)
    body = mail.get_content()
    assert reference in mail["Subject"]
    assert f"http://testserver/konto/antraege/{reference}" in body
    assert "Klavier" not in body and "Marktstraße" not in body


def test_more_than_ten_submissions_a_minute_are_refused(
    client: TestClient, citizen: KnownAccount
) -> None:
    for _ in range(10):
        submitted_reference(apply(client, "sperrmuellabholung", bulky_waste()))
    response = apply(client, "sperrmuellabholung", bulky_waste())
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert len(session.scalars(select(Application.reference)).all()) == 10

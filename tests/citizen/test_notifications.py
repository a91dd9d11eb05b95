"""Notification preferences: mails about applications and reports at once, in a daily
digest or not at all; report status mails to reporters and supporters with a one-click
unsubscribe for bare addresses; the receipt and account mails are never affected."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from klug.citizen.notifications import jobs as notification_jobs
from klug.citizen.notifications import service as notification_service
from klug.citizen.notifications.models import DigestEntry
from klug.citizen.reports import service as report_service
from klug.citizen.reports.models import Report, ReportSupporter
from klug.core.audit import AuditEvent
from klug.core.config import Settings
from klug.core.i18n import CITY_TZ
from klug.core.jobs import claim, daily
from klug.core.mail import OutgoingMail
from klug.identity.models import Account
from klug.identity.permissions import Role
from tests.citizen.applications.conftest import (
    apply,
    bulky_waste,
    citizen,  # noqa: F401 (fixture)
    submitted_reference,
)
from tests.citizen.reports.conftest import store_report  # noqa: F401 (fixture)
from tests.conftest import KnownAccount, MailSink, csrf_token, log_in, post_form, soup

BASE_URL = "http://testserver"


# --------------------------------------------------------------------- helpers


def _factory(client: TestClient) -> Any:
    return client.app.state.session_factory  # type: ignore[attr-defined]


def _mode_of(client: TestClient, account_id: int) -> str:
    with _factory(client)() as session:
        return str(session.get(Account, account_id).notification_mode)


def _choose(client: TestClient, mode: str) -> Any:
    return post_form(
        client,
        "/konto/benachrichtigungen",
        {"notification_mode": mode},
        token_from="/konto/",
        follow_redirects=False,
    )


def _settled(client: TestClient, timeout_s: float = 10.0) -> None:
    """Wait until the outbox is empty: every queued mail has reached the sink."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with _factory(client)() as session:
            if not session.scalar(select(func.count()).select_from(OutgoingMail)):
                return
        time.sleep(0.05)
    raise AssertionError("mails still waiting in the outbox")


def _mails_to(client: TestClient, sink: MailSink, address: str) -> list[Any]:
    """What reached the sink for this address, once nothing is left in the outbox."""
    _settled(client)
    return [m for m in sink.messages if m["To"] == address]


def _entries(client: TestClient, account_id: int) -> list[tuple[str, str]]:
    with _factory(client)() as session:
        rows = session.scalars(
            select(DigestEntry).where(DigestEntry.account_id == account_id).order_by(DigestEntry.id)
        ).all()
        return [(r.kind, r.reference) for r in rows]


def _staff(
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
    sink: MailSink,
) -> TestClient:
    staff = client_factory(smtp_url=sink.url)  # type: ignore[attr-defined]
    log_in(staff, make_account(Role.CASEWORKER))
    return staff


def _case_action(staff: TestClient, reference: str, what: str, **data: str) -> None:
    token = csrf_token(staff, f"/console/antraege/{reference}")
    answer = staff.post(
        f"/console/antraege/{reference}/{what}",
        data={**data, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]


def _report_status(staff: TestClient, report_id: int, status: str, **notes: str) -> None:
    answer = post_form(
        staff,
        f"/console/meldungen/{report_id}",
        {"status": status, **notes},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]


def _citizen_with_cases(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    count: int,
) -> tuple[KnownAccount, list[str]]:
    account = make_account()
    log_in(mail_client, account)
    references = [
        submitted_reference(apply(mail_client, "sperrmuellabholung", bulky_waste()))
        for _ in range(count)
    ]
    assert len(_mails_to(mail_client, mail_sink, account.email)) == count  # the receipts
    return account, references


# --------------------------------------------------------------------- the form


def test_the_preference_form_saves_refuses_and_needs_the_token(
    client: TestClient,
    citizen: KnownAccount,  # noqa: F811
) -> None:
    page = soup(client.get("/konto/"))
    form = page.find("form", action="/konto/benachrichtigungen")
    fieldset = form.find("fieldset")
    assert fieldset.find("legend").get_text(strip=True)
    radios = fieldset.find_all("input", type="radio")
    assert [r["value"] for r in radios] == ["immediate", "digest", "none"]
    for radio in radios:
        assert radio["name"] == "notification_mode"
        assert fieldset.find("label", attrs={"for": radio["id"]}).get_text(strip=True)
    assert [r["value"] for r in radios if r.has_attr("checked")] == ["immediate"]
    assert form.find("input", attrs={"name": "csrf_token"}) is not None

    saved = _choose(client, "digest")
    assert saved.status_code == 303
    assert saved.headers["location"] == "/konto/?ok=notifications"
    after = soup(client.get(saved.headers["location"]))
    assert after.find(class_="message--success") is not None
    checked = after.find("form", action="/konto/benachrichtigungen").find(
        "input", checked=True, type="radio"
    )
    assert checked["value"] == "digest"
    assert _mode_of(client, citizen.id) == "digest"
    with _factory(client)() as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.notifications_changed")
        ).all()
    assert event.target_id == str(citizen.id)
    assert event.detail == {"from": "immediate", "to": "digest"}

    for bad in ({"notification_mode": "weekly"}, {}):
        refused = post_form(client, "/konto/benachrichtigungen", bad, token_from="/konto/")
        assert refused.status_code == 400
        page = soup(refused)
        summary = page.find(id="error-summary")
        assert [a["href"] for a in summary.find_all("a")] == ["#notification_mode"]
        first = page.find(id="notification_mode")
        assert first["aria-invalid"] == "true"
        assert page.find(id="notification_mode-error").get_text(strip=True)
        assert _mode_of(client, citizen.id) == "digest"

    forged = client.post("/konto/benachrichtigungen", data={"notification_mode": "none"})
    assert forged.status_code == 403
    assert _mode_of(client, citizen.id) == "digest"

    english = soup(client.get("/en/konto/"))
    assert english.find("form", action="/en/konto/benachrichtigungen") is not None


# --------------------------------------------------------------------- applications


def test_application_news_come_at_once_by_default(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
) -> None:
    account, (reference,) = _citizen_with_cases(mail_client, mail_sink, make_account, 1)
    staff = _staff(client_factory, make_account, mail_sink)
    _case_action(staff, reference, "status", to_status="in_review")
    _case_action(
        staff, reference, "status", to_status="more_info_needed", status_note="INTERN-Akte-7"
    )
    _case_action(staff, reference, "nachrichten", body="Bitte Foto schicken")
    mails = _mails_to(mail_client, mail_sink, account.email)
    assert len(mails) == 3  # receipt, the flagged status, the message
    for mail in mails[1:]:
        body = mail.get_content()
        assert reference in mail["Subject"] and f"/konto/antraege/{reference}" in body
        assert "INTERN" not in body and "Foto" not in body
    assert _entries(mail_client, account.id) == []


def test_the_daily_digest_lists_both_references_once_and_nothing_the_second_time(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
) -> None:
    account, (first, second) = _citizen_with_cases(mail_client, mail_sink, make_account, 2)
    assert _choose(mail_client, "digest").status_code == 303
    staff = _staff(client_factory, make_account, mail_sink)
    _case_action(staff, first, "status", to_status="in_review")
    _case_action(staff, first, "status", to_status="rejected", status_note="INTERN-Grund")
    _case_action(staff, second, "nachrichten", body="Termin am Donnerstag")
    assert len(_mails_to(mail_client, mail_sink, account.email)) == 2  # only the receipts
    assert _entries(mail_client, account.id) == [
        ("application_status", first),
        ("application_message", second),
    ]

    sent = notification_service.send_digests(_factory(mail_client), base_url=BASE_URL)
    mails = _mails_to(mail_client, mail_sink, account.email)
    assert len(mails) == 3
    digest = mails[-1]
    body = digest.get_content()
    lines = [line.strip() for line in body.splitlines()]
    for reference in (first, second):
        assert lines.count(f"{BASE_URL}/konto/antraege/{reference}") == 1
    assert f"{BASE_URL}/konto/#benachrichtigungen" in body
    assert "INTERN" not in body and "Donnerstag" not in body
    assert _entries(mail_client, account.id) == []
    # The scheduler of a test app may have run it first on the stroke of the hour.
    assert sent in (0, 1)

    assert notification_service.send_digests(_factory(mail_client), base_url=BASE_URL) == 0
    assert len(_mails_to(mail_client, mail_sink, account.email)) == 3


def test_no_mails_when_the_account_says_none_but_the_receipt_still_comes(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
) -> None:
    account = make_account()
    log_in(mail_client, account)
    assert _choose(mail_client, "none").status_code == 303
    reference = submitted_reference(apply(mail_client, "sperrmuellabholung", bulky_waste()))
    (receipt,) = _mails_to(mail_client, mail_sink, account.email)
    assert reference in receipt["Subject"]

    staff = _staff(client_factory, make_account, mail_sink)
    _case_action(staff, reference, "status", to_status="in_review")
    _case_action(staff, reference, "status", to_status="more_info_needed")
    _case_action(staff, reference, "nachrichten", body="Bitte melden Sie sich")
    assert len(_mails_to(mail_client, mail_sink, account.email)) == 1
    assert _entries(mail_client, account.id) == []
    assert notification_service.send_digests(_factory(mail_client), base_url=BASE_URL) == 0
    # The status and the message are in the account.
    page = soup(mail_client.get(f"/konto/antraege/{reference}"))
    assert "Bitte melden Sie sich" in page.find(class_="thread").get_text()
    assert "Weitere Angaben" in page.get_text() or "More information" in page.get_text()


def test_the_digest_job_runs_once_a_day_from_its_hour(
    client: TestClient, settings_factory: Callable[..., Settings]
) -> None:
    job = notification_jobs.digest(hour=7, base_url=BASE_URL)
    assert job.daily_at == dt.time(7, 0)
    assert settings_factory().digest_hour == 7
    with pytest.raises(ValidationError, match="digest_hour"):
        settings_factory(digest_hour=24)

    runs: list[int] = []
    probe = daily("test.daily-probe", dt.time(7, 0), lambda _factory: runs.append(1))

    def at(day: int, hour: int, minute: int) -> float:
        return dt.datetime(2031, 3, day, hour, minute, tzinfo=CITY_TZ).timestamp()

    factory = _factory(client)
    assert not claim(factory, probe, now=at(10, 6, 59))
    assert claim(factory, probe, now=at(10, 7, 0))
    # A second process, or the next tick, finds the day taken.
    assert not claim(factory, probe, now=at(10, 7, 0))
    assert not claim(factory, probe, now=at(10, 23, 59))
    assert not claim(factory, probe, now=at(11, 6, 0))
    # A server that was down at 07:00 sends when it is back that day.
    assert claim(factory, probe, now=at(11, 9, 30))


# --------------------------------------------------------------------- reports


def test_a_new_report_status_reaches_reporter_and_supporters_once_each(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
    store_report: Callable[..., int],  # noqa: F811
) -> None:
    reporter, fan, collector = make_account(), make_account(), make_account()
    report_id = store_report(account_id=reporter.id)
    with _factory(mail_client)() as session:
        session.get(Account, collector.id).notification_mode = "digest"
        report = session.get(Report, report_id)
        for account_id, email in (
            (fan.id, None),
            (None, "nachbarin@example.org"),
            (None, None),  # anonymous: counted, told nothing
            (reporter.id, None),  # the reporter's own "me too"
            (collector.id, None),
        ):
            assert report_service.support(
                session=session, report=report, account_id=account_id, email=email
            )
        session.commit()
    staff = _staff(client_factory, make_account, mail_sink)
    _report_status(
        staff,
        report_id,
        "in_progress",
        public_note="Reparatur am Dienstag",
        internal_note="INTERN-GEHEIM Kolonne 3",
    )

    (to_reporter,) = _mails_to(mail_client, mail_sink, reporter.email)
    (to_fan,) = _mails_to(mail_client, mail_sink, fan.email)
    (to_neighbour,) = _mails_to(mail_client, mail_sink, "nachbarin@example.org")
    assert _mails_to(mail_client, mail_sink, collector.email) == []
    assert _entries(mail_client, collector.id) == [("report_status", str(report_id))]
    for mail in (to_reporter, to_fan, to_neighbour):
        body = mail.get_content()
        assert str(report_id) in mail["Subject"]
        assert f"{BASE_URL}/maengelmelder/{report_id}" in body.splitlines()
        assert "In Bearbeitung" in body
    assert "abbestellen" not in to_reporter.get_content()
    assert "abbestellen" not in to_fan.get_content()
    assert "/maengelmelder/abbestellen?token=" in to_neighbour.get_content()
    assert "/en/maengelmelder/abbestellen?token=" in to_neighbour.get_content()

    # A note without a new status tells nobody.
    _report_status(staff, report_id, "in_progress", internal_note="INTERN-GEHEIM nochmal")
    _settled(mail_client)
    assert len(mail_sink.messages) == 3

    # Someone who gave only an address when reporting hears at once.
    anonymous = store_report(email="melder@example.org", lat=49.45, lon=7.75)
    _report_status(staff, anonymous, "closed", internal_note="INTERN-GEHEIM erledigt")
    (to_anonymous,) = _mails_to(mail_client, mail_sink, "melder@example.org")
    assert f"/maengelmelder/{anonymous}" in to_anonymous.get_content()

    notification_service.send_digests(_factory(mail_client), base_url=BASE_URL)
    (digest,) = _mails_to(mail_client, mail_sink, collector.email)
    assert f"{BASE_URL}/maengelmelder/{report_id}" in digest.get_content()
    for mail in mail_sink.messages:
        text = mail["Subject"] + mail.get_content()
        assert "INTERN" not in text and "GEHEIM" not in text and "Kolonne" not in text


def test_one_click_unsubscribe_and_a_forged_link_refused(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
    store_report: Callable[..., int],  # noqa: F811
) -> None:
    report_id = store_report(email="melder@example.org")
    with _factory(mail_client)() as session:
        report_service.support(
            session=session,
            report=session.get(Report, report_id),
            account_id=None,
            email="nachbar@example.org",
        )
        session.commit()
    staff = _staff(client_factory, make_account, mail_sink)
    _report_status(staff, report_id, "in_progress")
    (mail,) = _mails_to(mail_client, mail_sink, "nachbar@example.org")
    link = MailSink.link(mail, "/maengelmelder/abbestellen").removeprefix(BASE_URL)

    visitor = client_factory()  # no login
    page = soup(visitor.get(link))
    form = page.find("main").find("form", method="post")
    assert form["action"] == "/maengelmelder/abbestellen"
    assert "n…@example.org" in page.find("main").get_text()
    token = form.find("input", attrs={"name": "token"})["value"]

    # A changed token is refused with a page that says so, and changes nothing.
    for forged in (token[:-1] + ("0" if token[-1] != "0" else "1"), "1-m-abc", "", "x"):
        refused = visitor.get("/maengelmelder/abbestellen", params={"token": forged})
        assert refused.status_code == 400
        assert soup(refused).find(class_="message--error") is not None
        assert soup(refused).find("main").find("form") is None
    reporter_token = f"{report_id}-m-{'0' * 32}"
    refused = post_form(
        visitor, "/maengelmelder/abbestellen", {"token": reporter_token}, token_from=link
    )
    assert refused.status_code == 400

    done = post_form(visitor, "/maengelmelder/abbestellen", {"token": token}, token_from=link)
    assert done.status_code == 200
    assert soup(done).find(class_="message--success") is not None
    with _factory(mail_client)() as session:
        report = session.get(Report, report_id)
        assert report.contact_email == "melder@example.org"
        assert report.supporters == 1  # the "me too" still counts
        (supporter,) = session.scalars(select(ReportSupporter)).all()
        assert supporter.email is None
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.unsubscribed")
        ).all()
        assert event.target_id == str(report_id) and "nachbar" not in json.dumps(event.detail)
    again = soup(visitor.get(link))
    assert again.find(class_="message--info") is not None
    assert again.find("main").find("form") is None

    _report_status(staff, report_id, "closed")
    assert len(_mails_to(mail_client, mail_sink, "melder@example.org")) == 2
    assert len(_mails_to(mail_client, mail_sink, "nachbar@example.org")) == 1


# --------------------------------------------------------------------- own data


def test_own_data_holds_the_preference_and_deletion_drops_pending_entries(
    client: TestClient,
    citizen: KnownAccount,  # noqa: F811
) -> None:
    assert _choose(client, "digest").status_code == 303
    with _factory(client)() as session:
        outcome = notification_service.notify(
            session=session,
            account_id=citizen.id,
            kind="application_status",
            reference="KL-2026-000001",
            path="/konto/antraege/KL-2026-000001",
            base_url=BASE_URL,
            compose=lambda language, link: ("", ""),
        )
        session.commit()
    assert outcome == notification_service.COLLECTED
    answer = client.get("/konto/daten.zip")
    data = json.loads(zipfile.ZipFile(io.BytesIO(answer.content)).read("daten.json"))
    assert data["konto"]["notification_mode"] == "digest"
    (pending,) = data["benachrichtigungen"]["pending_digest"]
    assert pending["reference"] == "KL-2026-000001"
    assert pending["link"] == f"{BASE_URL}/konto/antraege/KL-2026-000001"

    token = csrf_token(client, "/konto/loeschen")
    deleted = client.post(
        "/konto/loeschen", data={"delete_password": citizen.password, "csrf_token": token}
    )
    assert deleted.status_code == 200
    assert _entries(client, citizen.id) == []

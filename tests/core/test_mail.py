"""The mail outbox: nothing is sent for a rolled-back change, nothing is lost on failure."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import func, select

from klug.core.db import create_db_engine, make_session_factory
from klug.core.mail import MAX_ATTEMPTS, Mailer, OutgoingMail, queue_mail
from tests.conftest import MailSink


class FlakyTransport:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("SMTP server down")
        self.sent.append(message)


def _count(factory, status: str | None = None) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        query = select(func.count()).select_from(OutgoingMail)
        if status:
            query = query.where(OutgoingMail.status == status)
        return int(session.scalar(query) or 0)


def test_a_rolled_back_change_sends_no_mail(database_url: str) -> None:
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine)
    transport = FlakyTransport(0)
    with factory() as session:
        queue_mail(session, recipient="a@example.org", subject="x", body="y")
        session.rollback()
    assert Mailer(factory, transport, "klug <noreply@example.org>").deliver_pending() == 0
    assert transport.sent == []
    engine.dispose()


def test_failed_delivery_is_retried_and_delivered_mail_is_deleted(database_url: str) -> None:
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine)
    transport = FlakyTransport(1)
    mailer = Mailer(factory, transport, "klug <noreply@example.org>")
    with factory() as session:
        queue_mail(
            session, recipient="b@example.org", subject="Betreff", body="Link: https://x/?token=abc"
        )
        session.commit()
    assert mailer.deliver_pending() == 0
    assert _count(factory, "pending") == 1, "kept for a retry"
    with factory() as session:
        mail = session.scalars(select(OutgoingMail)).one()
        assert mail.attempts == 1 and "ConnectionRefusedError" in (mail.last_error or "")
        mail.next_attempt_at = mail.created_at  # due now
        session.commit()
    assert mailer.deliver_pending() == 1
    assert transport.sent[0]["To"] == "b@example.org"
    assert transport.sent[0]["Subject"] == "Betreff"
    assert _count(factory) == 0, "a delivered mail (with its one-time link) is not kept"
    engine.dispose()


def test_a_mail_that_keeps_failing_is_given_up_and_its_body_erased(database_url: str) -> None:
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine)
    mailer = Mailer(factory, FlakyTransport(MAX_ATTEMPTS), "klug <noreply@example.org>")
    with factory() as session:
        queue_mail(session, recipient="c@example.org", subject="x", body="secret link")
        session.commit()
    for _ in range(MAX_ATTEMPTS):
        with factory() as session:
            for mail in session.scalars(select(OutgoingMail)):
                mail.next_attempt_at = mail.created_at
            session.commit()
        mailer.deliver_pending()
    with factory() as session:
        mail = session.scalars(select(OutgoingMail)).one()
        assert mail.status == "failed" and mail.body == ""
    engine.dispose()


def test_smtp_transport_delivers_to_a_real_server(database_url: str, mail_sink: MailSink) -> None:
    from klug.core.mail import SmtpTransport

    engine = create_db_engine(database_url)
    factory = make_session_factory(engine)
    mailer = Mailer(factory, SmtpTransport(mail_sink.url), "klug <noreply@example.org>")  # type: ignore[attr-defined]
    with factory() as session:
        queue_mail(
            session,
            recipient="d@example.org",
            subject="Grüße aus Kaiserslautern",
            body="Hallo – schön!",
        )
        session.commit()
    assert mailer.deliver_pending() == 1
    received = mail_sink.wait_for("d@example.org")[0]
    assert received["Subject"] == "Grüße aus Kaiserslautern"
    assert received.get_payload(decode=True).decode().strip() == "Hallo – schön!"  # type: ignore[union-attr]
    engine.dispose()

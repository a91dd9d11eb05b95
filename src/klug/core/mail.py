"""Outgoing e-mail through a transactional outbox.

A mail is a row written in the same transaction as the change that causes it (an
account, a reset token), so a rollback never sends a mail and a crash never loses
one. After the commit the mailer delivers it; failed deliveries are retried.
Delivered mails are deleted: their bodies hold one-time links.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import Integer, String, Text, delete, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from klug.core.db import Base, UtcDateTime, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_INTERVAL_S = 60
STALE_CLAIM = dt.timedelta(minutes=10)


class OutgoingMail(Base):
    __tablename__ = "core_outgoing_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(255))


class MailTransport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """``smtp://[user:pass@]host[:port][?starttls=true]`` or ``smtps://...`` (implicit TLS)."""

    def __init__(self, url: str, timeout_s: float = 20) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(
                "KLUG_SMTP_URL must look like smtp://host:port or smtps://user:pass@host"
            )
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        query = parse_qs(parts.query)
        self.starttls = query.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"}
        self.timeout_s = timeout_s

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.username and self.password:
                client.login(self.username, self.password)
            client.send_message(message)


class DirectoryTransport:
    """Development fallback without SMTP: each mail becomes an .eml file in ``var/mail``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}.eml"
        path.write_bytes(bytes(message))
        log.info("mail written to %s (no KLUG_SMTP_URL set)", path)


def queue_mail(session: Session, *, recipient: str, subject: str, body: str) -> OutgoingMail:
    mail = OutgoingMail(recipient=recipient, subject=subject, body=body)
    session.add(mail)
    session.flush()
    mailer = session.info.get("klug_mailer")
    if isinstance(mailer, Mailer) and not sa_event.contains(
        session, "after_commit", mailer.on_commit
    ):
        sa_event.listen(session, "after_commit", mailer.on_commit)
    return mail


class Mailer:
    """Delivers queued mails in the background: right after a commit, and every minute."""

    def __init__(
        self, factory: sessionmaker[Session], transport: MailTransport, sender: str
    ) -> None:
        self.factory = factory
        self.transport = transport
        self.sender = sender
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def on_commit(self, _session: Session) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="klug-mailer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._loop = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=RETRY_INTERVAL_S)
            self._wake.clear()
            try:
                await asyncio.to_thread(self.deliver_pending)
            except Exception:
                log.exception("mail delivery run failed")

    def deliver_pending(self, limit: int = 50) -> int:
        """Send what is due; returns the number of mails delivered."""
        now = utcnow()
        delivered = 0
        with self.factory() as session:
            session.execute(
                update(OutgoingMail)
                .where(
                    OutgoingMail.status == "sending", OutgoingMail.claimed_at < now - STALE_CLAIM
                )
                .values(status="pending")
            )
            session.commit()
            due = session.scalars(
                select(OutgoingMail.id)
                .where(OutgoingMail.status == "pending", OutgoingMail.next_attempt_at <= now)
                .order_by(OutgoingMail.id)
                .limit(limit)
            ).all()
        for mail_id in due:
            if self._deliver_one(mail_id):
                delivered += 1
        return delivered

    def _deliver_one(self, mail_id: int) -> bool:
        with self.factory() as session:
            # Claim it first, so that two workers never send the same mail.
            claimed = session.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id == mail_id, OutgoingMail.status == "pending")
                .values(status="sending", claimed_at=utcnow())
            ).rowcount  # type: ignore[attr-defined]
            session.commit()
            if not claimed:
                return False
            mail = session.get_one(OutgoingMail, mail_id)
            message = EmailMessage()
            message["From"] = self.sender
            message["To"] = mail.recipient
            message["Subject"] = mail.subject
            message["Message-ID"] = make_msgid(domain="klug.kaiserslautern.de")
            message.set_content(mail.body)
            try:
                self.transport.send(message)
            except Exception as exc:
                mail.attempts += 1
                mail.last_error = f"{type(exc).__name__}: {exc}"[:255]
                if mail.attempts >= MAX_ATTEMPTS:
                    mail.status = "failed"
                    mail.body = ""
                    log.error("mail %s failed for good after %s attempts", mail_id, mail.attempts)
                else:
                    mail.status = "pending"
                    mail.next_attempt_at = utcnow() + dt.timedelta(
                        seconds=RETRY_INTERVAL_S * 2**mail.attempts
                    )
                    log.warning(
                        "mail %s not delivered (%s); will retry", mail_id, type(exc).__name__
                    )
                session.commit()
                return False
            session.execute(delete(OutgoingMail).where(OutgoingMail.id == mail_id))
            session.commit()
            return True


def create_transport(smtp_url: str | None, var_dir: Path) -> MailTransport:
    return SmtpTransport(smtp_url) if smtp_url else DirectoryTransport(var_dir / "mail")

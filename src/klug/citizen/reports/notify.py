"""Who hears of a report's new status, and the one-click way out for addresses given
without an account.

The reporter and every supporter ("me too") who left an account or an address are told;
accounts as they chose (at once, daily digest, not at all), bare addresses at once with
a signed unsubscribe link. Each person is told once, even when they also supported their
own report. Everything happens in the caller's transaction.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from klug.citizen.notifications import models as notices
from klug.citizen.notifications import service as notification_service
from klug.citizen.reports import mails
from klug.citizen.reports.models import Report, ReportSupporter
from klug.core import audit
from klug.core.i18n import localise_path
from klug.core.mail import queue_mail
from klug.core.security import keyed_digest
from klug.identity import service as account_service

UNSUBSCRIBE_PATH = "/maengelmelder/abbestellen"
REPORTER = "m"  # the reporter's contact address; supporters are "s<row id>"
_PURPOSE = "report-unsubscribe"
_MAX_ID = 2**31 - 1


def _signature(secret: bytes, report_id: int, who: str) -> str:
    return keyed_digest(secret, _PURPOSE, f"{report_id}:{who}")[:32]


def unsubscribe_token(secret: bytes, report_id: int, who: str) -> str:
    """``<report>-<who>-<signature>``: names the report and the address's place in it
    (never the address itself), signed with the platform's secret."""
    return f"{report_id}-{who}-{_signature(secret, report_id, who)}"


@dataclass(frozen=True)
class Subscription:
    report: Report
    who: str
    # None once the address has been removed (the link was used already).
    email: str | None

    @property
    def is_reporter(self) -> bool:
        return self.who == REPORTER


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) <= _MAX_ID else None


def find_subscription(*, session: Session, secret: bytes, token: str) -> Subscription | None:
    """What a genuine token stands for; None for a forged, altered or foreign token."""
    parts = token.split("-")
    if len(parts) != 3:
        return None
    report_id, who, signature = _number(parts[0]), parts[1], parts[2]
    supporter_id = _number(who[1:]) if who.startswith("s") else None
    if report_id is None or (who != REPORTER and supporter_id is None):
        return None
    if not hmac.compare_digest(signature, _signature(secret, report_id, who)):
        return None
    report = session.get(Report, report_id)
    if report is None:
        return None
    if who == REPORTER:
        return Subscription(report, who, report.contact_email)
    supporter = session.get(ReportSupporter, supporter_id)
    email = supporter.email if supporter is not None and supporter.report_id == report.id else None
    return Subscription(report, who, email)


def unsubscribe(*, session: Session, subscription: Subscription, ip: str | None = None) -> None:
    """Remove the address from the report (a supporter's "me too" still counts), audited."""
    report = subscription.report
    if subscription.is_reporter:
        report.contact_email = None
    else:
        session.execute(
            update(ReportSupporter)
            .where(
                ReportSupporter.id == int(subscription.who[1:]),
                ReportSupporter.report_id == report.id,
            )
            .values(email=None)
        )
    session.flush()
    audit.record(
        session,
        action="report.unsubscribed",
        actor=None,
        target_kind="report",
        target_id=report.id,
        ip=ip,
        detail={"who": "reporter" if subscription.is_reporter else "supporter"},
    )


def _links(base_url: str, path: str) -> dict[str, str]:
    return {language: base_url + localise_path(path, language) for language in ("de", "en")}


def status_changed(*, session: Session, report: Report, base_url: str, secret: bytes) -> int:
    """Tell the reporter and the supporters that the report has a new status; returns
    how many were told (by mail now or in their digest)."""
    path = f"/maengelmelder/{report.id}"
    told_accounts: set[int] = set()
    told_addresses: set[str] = set()
    told = 0

    def tell_account(account_id: int, *, supporter: bool) -> None:
        nonlocal told
        if account_id in told_accounts:
            return
        told_accounts.add(account_id)
        account = account_service.get(session=session, account_id=account_id)
        if account is not None:
            told_addresses.add(account.email.lower())

        def compose(language: str, link: str) -> tuple[str, str]:
            return mails.compose_for_account(
                language,
                number=report.id,
                category_code=report.category_code,
                status=report.status,
                link=link,
                supporter=supporter,
            )

        outcome = notification_service.notify(
            session=session,
            account_id=account_id,
            kind=notices.REPORT_STATUS,
            reference=str(report.id),
            path=path,
            base_url=base_url,
            compose=compose,
        )
        if outcome != notification_service.DROPPED:
            told += 1

    def tell_address(address: str, who: str, *, supporter: bool) -> None:
        nonlocal told
        if address.lower() in told_addresses:
            return
        told_addresses.add(address.lower())
        token = unsubscribe_token(secret, report.id, who)
        subject, body = mails.compose_for_address(
            number=report.id,
            category_code=report.category_code,
            status=report.status,
            links=_links(base_url, path),
            unsubscribe_links={
                language: f"{link}?token={token}"
                for language, link in _links(base_url, UNSUBSCRIBE_PATH).items()
            },
            supporter=supporter,
        )
        queue_mail(session, recipient=address, subject=subject, body=body)
        told += 1

    if report.reporter_account_id is not None:
        tell_account(report.reporter_account_id, supporter=False)
    elif report.contact_email:
        tell_address(report.contact_email, REPORTER, supporter=False)
    supporters = session.execute(
        select(ReportSupporter.id, ReportSupporter.account_id, ReportSupporter.email)
        .where(ReportSupporter.report_id == report.id)
        .order_by(ReportSupporter.id)
    ).all()
    for supporter_id, account_id, email in supporters:
        if account_id is not None:
            tell_account(account_id, supporter=True)
        elif email:
            tell_address(email, f"s{supporter_id}", supporter=True)
    return told

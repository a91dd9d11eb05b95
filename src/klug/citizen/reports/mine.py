"""The citizen's own reports under "My account": those sent while logged in – with the
description, answers and contact address given – and those supported with "me too".

A report is looked up together with the account asking for it: someone else's number
answers 404, exactly like one that does not exist. The timeline is the public one
(``service.timeline``), so internal notes cannot reach these pages. Reports sent without
logging in have no account and do not appear (an e-mail address proves nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import catalogue, shown_answers
from klug.citizen.reports.models import Report, ReportSupporter
from klug.citizen.reports.pages import category_names
from klug.citizen.reports.schemas import ReportRead
from klug.citizen.reports.texts import STATUS_LABELS
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.i18n import gettext
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, require
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)
Citizen = Annotated[Principal, Depends(require(Permission.ACCOUNT_SELF))]
MINE = "/konto/meldungen"
PER_PAGE = 50
# Each list pages on its own, so that paging one keeps the other where it was.
OWN_PAGE, SUPPORTED_PAGE = "seite", "seite_unterstuetzt"

Fetch = Callable[[int, int], tuple[list[Report], int]]


# ---------------------------------------------------------------- queries


def own_reports(
    *, session: Session, account_id: int, limit: int = PER_PAGE, offset: int = 0
) -> tuple[list[Report], int]:
    """The reports this account sent, newest first, with their number (index on the
    reporter's account)."""
    mine = Report.reporter_account_id == account_id
    total = session.scalar(select(func.count()).select_from(Report).where(mine)) or 0
    rows = session.scalars(
        select(Report)
        .where(mine)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def supported_reports(
    *, session: Session, account_id: int, limit: int = PER_PAGE, offset: int = 0
) -> tuple[list[Report], int]:
    """The reports this account supports ("me too"), newest first, with their number."""
    query = (
        select(Report)
        .join(ReportSupporter, ReportSupporter.report_id == Report.id)
        .where(ReportSupporter.account_id == account_id)
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def get_own(*, session: Session, report_id: int, account_id: int) -> Report | None:
    """A report this account sent – None for anyone else's (the page answers 404)."""
    return session.scalar(
        select(Report).where(Report.id == report_id, Report.reporter_account_id == account_id)
    )


# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class Listing:
    """One page of one of the two lists, with the links to its neighbours."""

    reports: list[ReportRead]
    total: int
    page: int
    pages: int
    previous_href: str | None
    next_href: str | None


def _requested_page(request: Request, name: str) -> int:
    raw = request.query_params.get(name, "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


def _listing(request: Request, name: str, anchor: str, fetch: Fetch) -> Listing:
    page = _requested_page(request, name)
    reports, total = fetch(PER_PAGE, (page - 1) * PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:  # a bookmarked page that no longer exists: show the last one
        page = pages
        reports, total = fetch(PER_PAGE, (page - 1) * PER_PAGE)

    def href(number: int) -> str:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != name]
        return "?" + urlencode([*kept, (name, str(number))]) + "#" + anchor

    return Listing(
        reports=[report_service.public(r) for r in reports],
        total=total,
        page=page,
        pages=pages,
        previous_href=href(page - 1) if page > 1 else None,
        next_href=href(page + 1) if page < pages else None,
    )


@router.get(MINE, response_class=HTMLResponse)
def my_reports(request: Request, session: SessionDep, principal: Citizen) -> HTMLResponse:
    """My reports and the reports I support, with their status."""
    account_id = principal.id or 0
    own = _listing(
        request,
        OWN_PAGE,
        "meine",
        lambda limit, offset: own_reports(
            session=session, account_id=account_id, limit=limit, offset=offset
        ),
    )
    supported = _listing(
        request,
        SUPPORTED_PAGE,
        "unterstuetzt",
        lambda limit, offset: supported_reports(
            session=session, account_id=account_id, limit=limit, offset=offset
        ),
    )
    return render(
        request,
        "reports/mine.html",
        {
            "own": own,
            "supported": supported,
            "names": category_names(),
            "status_labels": STATUS_LABELS,
        },
    )


@router.get(MINE + "/{report_id:int}", response_class=HTMLResponse)
def my_report(
    request: Request, report_id: int, session: SessionDep, principal: Citizen
) -> HTMLResponse:
    """One of my reports: what I wrote, my contact address, the status timeline."""
    report = get_own(session=session, report_id=report_id, account_id=principal.id or 0)
    if report is None:
        raise NotFound(gettext("There is no report with this number in your account."))
    shown = report_service.public(report)
    category = catalogue().get(shown.category_code)
    return render(
        request,
        "reports/mine_report.html",
        {
            "report": shown,
            "category": category,
            "answers": shown_answers(category, shown.answers),
            # A report sent while logged in keeps no address of its own: the account's is it.
            "contact_email": report.contact_email or principal.email,
            "contact_is_account": report.contact_email is None,
            "timeline": report_service.timeline(session=session, report_id=shown.id),
            "expected_at": category.expected_at(shown.created_at) if category else None,
            "overdue": report_service.is_overdue(shown, category, dt.datetime.now(dt.UTC)),
            "status_labels": STATUS_LABELS,
        },
    )

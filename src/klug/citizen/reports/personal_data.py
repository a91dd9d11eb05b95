"""A reporter's data for "download my data", and what "delete my account" does to it:
reports stay public (they describe a place, not a person) without the link to the
account and without a contact address; "me too" subscriptions go."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from klug.citizen.reports.models import Report, ReportSupporter
from klug.core.personal_data import Export


def export(session: Session, account_id: int, var_dir: Path) -> Export:
    reports = session.scalars(
        select(Report).where(Report.reporter_account_id == account_id).order_by(Report.id)
    ).all()
    supported = session.scalars(
        select(ReportSupporter.report_id).where(ReportSupporter.account_id == account_id)
    ).all()
    return Export(
        {
            "reports": [
                {
                    "id": r.id,
                    "category": r.category_code,
                    "status": r.status,
                    "description": r.description,
                    "lat": r.lat,
                    "lon": r.lon,
                    "address": r.address,
                    "location_text": r.location_text,
                    "answers": r.answers,
                    "contact_email": r.contact_email,
                    "created_at": r.created_at,
                    "closed_at": r.closed_at,
                }
                for r in reports
            ],
            "supported_reports": sorted(supported),
        }
    )


def erase(session: Session, account_id: int, var_dir: Path) -> None:
    session.execute(
        update(Report)
        .where(Report.reporter_account_id == account_id)
        .values(reporter_account_id=None, contact_email=None)
    )
    session.execute(delete(ReportSupporter).where(ReportSupporter.account_id == account_id))

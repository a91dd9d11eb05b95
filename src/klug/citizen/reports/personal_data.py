"""A reporter's data for "download my data", and what "delete my account" does to it:
reports stay public (they describe a place, not a person) without the link to the
account and without a contact address; "me too" subscriptions go. A photo that staff
have not published goes with the account; a published one stays with its report, like
the report's text."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from klug.citizen.reports import photo_uploads
from klug.citizen.reports import photos as report_photos
from klug.citizen.reports.models import Report, ReportPhoto, ReportSupporter
from klug.core.personal_data import Export


def export(session: Session, account_id: int, var_dir: Path) -> Export:
    reports = session.scalars(
        select(Report).where(Report.reporter_account_id == account_id).order_by(Report.id)
    ).all()
    supported = session.scalars(
        select(ReportSupporter.report_id).where(ReportSupporter.account_id == account_id)
    ).all()
    photos = {
        photo.report_id: photo
        for photo in session.scalars(
            select(ReportPhoto).where(ReportPhoto.report_id.in_([r.id for r in reports]))
        )
    }
    directory = report_photos.photos_dir(var_dir)
    files = [(_photo_name(photo), directory / photo.stored_name) for photo in photos.values()]
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
                    "photo": (
                        {
                            "file": _photo_name(photos[r.id]),
                            "published": photos[r.id].published,
                        }
                        if r.id in photos
                        else None
                    ),
                }
                for r in reports
            ],
            "supported_reports": sorted(supported),
        },
        files,
    )


def _photo_name(photo: ReportPhoto) -> str:
    return f"meldung-{photo.report_id}-foto.{photo.stored_name.rsplit('.', 1)[-1]}"


def erase(session: Session, account_id: int, var_dir: Path) -> None:
    own = session.scalars(select(Report.id).where(Report.reporter_account_id == account_id)).all()
    report_photos.forget_unpublished(
        session=session, report_ids=own, directory=report_photos.photos_dir(var_dir)
    )
    photo_uploads.forget_pending(
        session=session, account_id=account_id, directory=report_photos.pending_dir(var_dir)
    )
    session.execute(
        update(Report)
        .where(Report.reporter_account_id == account_id)
        .values(reporter_account_id=None, contact_email=None)
    )
    session.execute(delete(ReportSupporter).where(ReportSupporter.account_id == account_id))

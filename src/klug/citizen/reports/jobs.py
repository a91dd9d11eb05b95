"""Scheduled work of the Mängelmelder: photos that waited in vain for their report go."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from klug.citizen.reports import photo_uploads
from klug.citizen.reports import photos as report_photos
from klug.core.jobs import Job


def pending_photos(var_dir: Path) -> Job:
    """Every 10 minutes: delete pending photos older than an hour (rows, then files once
    that committed) and files a crashed process left in the pending directory."""
    directory = report_photos.pending_dir(var_dir)

    def run(factory: sessionmaker[Session]) -> int:
        with factory() as session:
            expired = photo_uploads.expire_pending(session=session, directory=directory)
            session.commit()
        return expired + photo_uploads.sweep_pending_files(directory)

    return Job("reports.pending_photos", 10 * 60.0, run)

"""Photos waiting for their report: the form came back with a problem, or the duplicates
step is shown, and the already cleaned photo must not be uploaded again.

A pending upload is a row and a file under ``<var>/data/reports/pending``, found by the
SHA-256 of a random token that the form carries in a hidden field – and only for the
account that uploaded it or, not logged in, the browser (the hash of its random CSRF
cookie): a token copied into another browser finds nothing. It lives an hour; the job
``reports.pending_photos`` and every new upload delete older ones.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from klug.citizen.reports import photos as report_photos
from klug.citizen.reports.models import Report, ReportPhoto, ReportPhotoUpload
from klug.core.db import utcnow
from klug.core.security import new_token, token_digest

PENDING_FOR = dt.timedelta(hours=1)
# A browser that uploads again and again keeps only its newest few pending photos.
PENDING_PER_OWNER = 3


def owner_of(*, account_id: int | None, browser: str | None, ip: str | None) -> str:
    """Whom a pending upload belongs to: the account, else the browser (its random CSRF
    cookie), else the address – hashed, so the table holds no cookie."""
    if account_id is not None:
        return token_digest(f"account:{account_id}")
    if browser:
        return token_digest(f"browser:{browser}")
    return token_digest(f"ip:{ip}")


def hold(
    *,
    session: Session,
    prepared: report_photos.PreparedPhoto,
    owner: str,
    directory: Path,
    now: dt.datetime | None = None,
) -> str:
    """Keep a photo for the next step of the form; the token for its hidden field."""
    now = now or utcnow()
    expire_pending(session=session, directory=directory, now=now)
    kept = session.scalars(
        select(ReportPhotoUpload)
        .where(ReportPhotoUpload.owner_hash == owner)
        .order_by(ReportPhotoUpload.created_at.desc(), ReportPhotoUpload.id.desc())
    ).all()
    for old in kept[PENDING_PER_OWNER - 1 :]:
        drop(session=session, pending=old, directory=directory)
    token = new_token()
    pending = ReportPhotoUpload(
        token_hash=token_digest(token),
        owner_hash=owner,
        stored_name=report_photos.new_name(prepared.extension),
        media_type=prepared.media_type,
        size_bytes=len(prepared.data),
        width_px=prepared.width_px,
        height_px=prepared.height_px,
        location_read=prepared.location_read,
        photo_lat=prepared.location[0] if prepared.location else None,
        photo_lon=prepared.location[1] if prepared.location else None,
        created_at=now,
    )
    session.add(pending)
    session.flush()
    path = directory / pending.stored_name
    report_photos.write_file(path, prepared.data)
    report_photos.after_transaction(session, rollback=lambda: report_photos.remove_file(path))
    return token


def find_pending(
    *, session: Session, token: str, owner: str, now: dt.datetime | None = None
) -> ReportPhotoUpload | None:
    """The pending photo of this token – only for its owner, only within the hour."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    return session.scalar(
        select(ReportPhotoUpload).where(
            ReportPhotoUpload.token_hash == token_digest(token),
            ReportPhotoUpload.owner_hash == owner,
            ReportPhotoUpload.created_at > now - PENDING_FOR,
        )
    )


def drop(*, session: Session, pending: ReportPhotoUpload, directory: Path) -> None:
    """The citizen removed the photo (or chose another): row now, file on commit."""
    path = directory / pending.stored_name
    session.delete(pending)
    session.flush()
    report_photos.after_transaction(session, commit=lambda: report_photos.remove_file(path))


def adopt(
    *,
    session: Session,
    pending: ReportPhotoUpload,
    report: Report,
    pending_directory: Path,
    directory: Path,
) -> ReportPhoto | None:
    """Make a pending photo the photo of the new report; None when the clean-up took it
    meanwhile. The pending file goes once this commits."""
    source = pending_directory / pending.stored_name
    if not source.is_file():
        return None
    claimed = session.execute(
        delete(ReportPhotoUpload)
        .where(ReportPhotoUpload.id == pending.id)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not claimed:
        return None
    session.expunge(pending)
    photo = ReportPhoto(
        report_id=report.id,
        stored_name=report_photos.new_name(pending.stored_name.rsplit(".", 1)[-1]),
        media_type=pending.media_type,
        size_bytes=pending.size_bytes,
        width_px=pending.width_px,
        height_px=pending.height_px,
        published=False,
    )
    session.add(photo)
    session.flush()
    target = directory / photo.stored_name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(source, target)
    report_photos.after_transaction(
        session,
        commit=lambda: report_photos.remove_file(source),
        rollback=lambda: report_photos.remove_file(target),
    )
    return photo


def forget_pending(*, session: Session, account_id: int, directory: Path) -> int:
    """Delete an account's pending photos (account deletion); how many."""
    owner = owner_of(account_id=account_id, browser=None, ip=None)
    found = session.scalars(
        select(ReportPhotoUpload).where(ReportPhotoUpload.owner_hash == owner)
    ).all()
    for pending in found:
        drop(session=session, pending=pending, directory=directory)
    return len(found)


def expire_pending(*, session: Session, directory: Path, now: dt.datetime | None = None) -> int:
    """Delete pending photos older than an hour: rows now, files on commit; how many."""
    now = now or utcnow()
    names = session.scalars(
        delete(ReportPhotoUpload)
        .where(ReportPhotoUpload.created_at <= now - PENDING_FOR)
        .returning(ReportPhotoUpload.stored_name)
        .execution_options(synchronize_session=False)
    ).all()
    if names:
        paths = [directory / name for name in names]

        def remove_files() -> None:
            for path in paths:
                report_photos.remove_file(path)

        report_photos.after_transaction(session, commit=remove_files)
    return len(names)


def sweep_pending_files(directory: Path, *, now_s: float | None = None) -> int:
    """Remove files of the pending directory older than two hours: no row can refer to
    them any more (a process that died between writing a file and committing its row
    leaves such a file behind). How many."""
    if not directory.is_dir():
        return 0
    cutoff = (time.time() if now_s is None else now_s) - 2 * PENDING_FOR.total_seconds()
    removed = 0
    for path in directory.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed

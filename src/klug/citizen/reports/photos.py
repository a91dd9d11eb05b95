"""Photos of reports: checked, re-encoded, kept back until staff publish them.

What a file *is* comes from its content (Pillow identifies it), never from its name or
the browser's Content-Type. Every photo is decoded and encoded anew from its pixels
alone (``klug.core.images``), so EXIF – camera, time, GPS position – never reaches the
city. The position is read only when the citizen ticks "use the location stored in the
photo", and then before re-encoding; without the tick the GPS data is never looked at.

A photo may show people or number plates: staff see it at once, everyone else only
after staff published it. Files live under ``<var>/data/reports/photos`` with random
names; a file is written only after its row and removed again when the transaction does
not commit, so a refused or failed upload leaves nothing behind. Photos waiting for
their report are ``photo_uploads``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, UnidentifiedImageError
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from klug.citizen.reports import service as report_service
from klug.citizen.reports.models import Report, ReportPhoto
from klug.core import audit
from klug.core import images as core_images
from klug.core.audit import Actor
from klug.core.db import utcnow
from klug.core.i18n import N_

MAX_BYTES = 10 * 1024 * 1024
# Far above a phone's photo (50 MP), far below what would exhaust memory when decoded.
MAX_PIXELS = 60_000_000
# Pages show a photo at most ~1,200 px wide; twice that serves high-density screens and
# still shows a house number or a sign's text to staff.
MAX_EDGE_PX = 2400
# The report form accepts a body as large as the photo plus the text around it.
UPLOAD_LIMITS = {"/maengelmelder/melden": MAX_BYTES + 1024 * 1024}

# Pillow's format → what we store. Phones write MPO (JPEG with a depth map) and HEIC;
# HEIC is read only where a Pillow plugin (pillow-heif) is installed, and kept as JPEG.
_STORED_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "HEIF": "JPEG"}
_MEDIA_TYPES = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
_GPS = ExifTags.GPS


class PhotoRejected(Exception):
    """The upload is refused; ``message`` is an English message id with ``variables``."""

    def __init__(self, message: str, **variables: str) -> None:
        super().__init__(message % variables if variables else message)
        self.message = message
        self.variables = variables


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked photo, re-encoded; ``location`` only when it was allowed to be read."""

    data: bytes
    media_type: str
    extension: str
    width_px: int
    height_px: int
    location_read: bool
    location: tuple[float, float] | None


def heic_readable() -> bool:
    Image.init()
    return "HEIF" in Image.OPEN


def kinds_label() -> str:
    """The accepted kinds as the form names them."""
    return "JPEG, PNG, WebP, HEIC" if heic_readable() else "JPEG, PNG, WebP"


def accept_attribute() -> str:
    """The file input's ``accept``: HEIC only where it can be read – otherwise iPhones
    convert their HEIC photos to JPEG when a form does not list HEIC."""
    kinds = "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"
    return kinds + ",image/heic,image/heif,.heic,.heif" if heic_readable() else kinds


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    """EXIF degrees, minutes, seconds (three rationals) and N/S or E/W → signed degrees."""
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    degrees = d + m / 60 + s / 3600
    if not math.isfinite(degrees):
        return None
    return -degrees if str(ref).strip().upper() == negative else degrees


def read_location(image: Image.Image) -> tuple[float, float] | None:
    """The position in the photo's EXIF GPS data (WGS84), or None."""
    try:
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):
        return None
    if not gps:
        return None
    lat = _degrees(gps.get(_GPS.GPSLatitude), gps.get(_GPS.GPSLatitudeRef), "S")
    lon = _degrees(gps.get(_GPS.GPSLongitude), gps.get(_GPS.GPSLongitudeRef), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # "no fix" as some cameras write it
        return None
    return lat, lon


def prepare(data: bytes, *, read_gps: bool) -> PreparedPhoto:
    """Check an upload and clean it (raises ``PhotoRejected`` with the reason)."""
    if not data:
        raise PhotoRejected(N_("The chosen file is empty."))
    if len(data) > MAX_BYTES:
        raise PhotoRejected(N_("The photo is larger than 10 MB. Please choose a smaller one."))
    location = None
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            if kind in _STORED_AS and read_gps:
                location = read_location(probe)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        kind = ""
    if kind not in _STORED_AS:
        raise PhotoRejected(
            N_("This file is not accepted: only photos as %(kinds)s are (checked by content)."),
            kinds=kinds_label(),
        )
    stored_as = _STORED_AS[kind]
    try:
        clean = core_images.reencode(
            data, stored_as, max_pixels=MAX_PIXELS, max_edge_px=MAX_EDGE_PX, quality=85
        )
    except core_images.TooManyPixels as exc:
        raise PhotoRejected(
            N_("The photo has too many pixels. Please choose a smaller one.")
        ) from exc
    except core_images.ImageUnreadable as exc:
        raise PhotoRejected(
            N_("The photo is damaged or incomplete and cannot be read. Please choose it again.")
        ) from exc
    media_type, extension = _MEDIA_TYPES[stored_as]
    return PreparedPhoto(
        clean.data, media_type, extension, clean.width_px, clean.height_px, read_gps, location
    )


# ---------------------------------------------------------------- files


def photos_dir(var_dir: Path) -> Path:
    return var_dir / "data" / "reports" / "photos"


def pending_dir(var_dir: Path) -> Path:
    return var_dir / "data" / "reports" / "pending"


def new_name(extension: str) -> str:
    return f"{secrets.token_hex(20)}.{extension}"


def remove_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def after_transaction(
    session: Session,
    *,
    commit: Callable[[], None] | None = None,
    rollback: Callable[[], None] | None = None,
) -> None:
    """File work for when the session's outermost transaction ends: ``commit`` after it
    committed, ``rollback`` after it rolled back. A savepoint's rollback (``begin_nested``)
    is not the end of the request's transaction, so it does not count."""
    root = session.get_transaction()
    committed = False
    done = False

    def after_commit(current: Session) -> None:
        nonlocal committed
        if current.get_nested_transaction() is None:
            committed = True

    def after_transaction_end(_current: Session, transaction: SessionTransaction) -> None:
        nonlocal done
        if done or transaction is not root:
            return
        done = True
        work = commit if committed else rollback
        if work is not None:
            work()

    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_transaction_end)


# ---------------------------------------------------------------- a report's photo


def attach(
    *, session: Session, report: Report, prepared: PreparedPhoto, directory: Path
) -> ReportPhoto:
    """The photo of a new report (not published); its file goes again on rollback."""
    photo = ReportPhoto(
        report_id=report.id,
        stored_name=new_name(prepared.extension),
        media_type=prepared.media_type,
        size_bytes=len(prepared.data),
        width_px=prepared.width_px,
        height_px=prepared.height_px,
        published=False,
    )
    session.add(photo)
    session.flush()
    path = directory / photo.stored_name
    write_file(path, prepared.data)
    after_transaction(session, rollback=lambda: remove_file(path))
    return photo


def of_report(*, session: Session, report_id: int) -> ReportPhoto | None:
    return session.scalar(select(ReportPhoto).where(ReportPhoto.report_id == report_id))


def published_names(*, session: Session, report_ids: Sequence[int]) -> dict[int, str]:
    """Report id → file name of its published photo, for the given reports."""
    if not report_ids:
        return {}
    rows = session.execute(
        select(ReportPhoto.report_id, ReportPhoto.stored_name).where(
            ReportPhoto.report_id.in_(report_ids), ReportPhoto.published.is_(True)
        )
    )
    return {int(report_id): str(name) for report_id, name in rows}


def path_for(report_id: int, photo: ReportPhoto | str) -> str:
    """The photo's address on the site (without the base URL)."""
    name = photo if isinstance(photo, str) else photo.stored_name
    return f"/maengelmelder/{report_id}/foto/{name}"


def _audited(
    session: Session, action: str, report: Report, photo: ReportPhoto, actor: Actor, ip: str | None
) -> None:
    audit.record(
        session,
        action=action,
        actor=actor,
        target_kind="report",
        target_id=report.id,
        ip=ip,
        detail={"photo": photo.id},
    )


def set_published(
    *,
    session: Session,
    report: Report,
    photo: ReportPhoto,
    published: bool,
    actor: Actor,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Publish the photo (page, Open311 ``media_url``) or hide it again, audited;
    ``False`` when it already was so."""
    if photo.published == published:
        return False
    now = now or utcnow()
    photo.published = published
    photo.published_at = now if published else None
    # Open311 clients that sync by updated_datetime see the new media_url.
    report.updated_at = now
    session.flush()
    report_service.changed(session=session)
    action = "report.photo_published" if published else "report.photo_hidden"
    _audited(session, action, report, photo, actor, ip)
    return True


def _forget(session: Session, photo: ReportPhoto, directory: Path) -> None:
    path = directory / photo.stored_name
    session.delete(photo)
    session.flush()
    after_transaction(session, commit=lambda: remove_file(path))


def remove(
    *,
    session: Session,
    report: Report,
    photo: ReportPhoto,
    directory: Path,
    actor: Actor,
    ip: str | None = None,
) -> None:
    """Delete a report's photo for good (staff), audited; the file goes on commit."""
    was_public = photo.published
    _audited(session, "report.photo_deleted", report, photo, actor, ip)
    _forget(session, photo, directory)
    if was_public:
        report.updated_at = utcnow()
        session.flush()
        report_service.changed(session=session)


def forget_unpublished(*, session: Session, report_ids: Sequence[int], directory: Path) -> int:
    """Delete the unpublished photos of these reports (account deletion); how many."""
    if not report_ids:
        return 0
    found = session.scalars(
        select(ReportPhoto).where(
            ReportPhoto.report_id.in_(report_ids), ReportPhoto.published.is_(False)
        )
    ).all()
    for photo in found:
        _forget(session, photo, directory)
    return len(found)


# ---------------------------------------------------------------- showing


@dataclass(frozen=True)
class PhotoView:
    """What a page shows of a report's photo."""

    url: str
    width_px: int
    height_px: int
    size_bytes: int
    media_type: str
    published: bool
    published_at: dt.datetime | None


def view(photo: ReportPhoto) -> PhotoView:
    return PhotoView(
        path_for(photo.report_id, photo),
        photo.width_px,
        photo.height_px,
        photo.size_bytes,
        photo.media_type,
        photo.published,
        photo.published_at,
    )


def public_view(*, session: Session, report_id: int) -> PhotoView | None:
    """The report's photo if staff published it."""
    photo = of_report(session=session, report_id=report_id)
    return view(photo) if photo is not None and photo.published else None

"""The photo part of the report form: read the upload (or the photo held from an earlier
step), take its location only with consent, hold it while the form goes round again or
the duplicates page is shown, and attach it to the new report.

The form knows a held photo only by a random token in a hidden field (``foto_token``),
which counts only for the browser or account that uploaded it: a token copied into
another browser finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.from_thread
from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from klug.citizen.reports import photo_uploads
from klug.citizen.reports import photos as report_photos
from klug.citizen.reports.categories import Area
from klug.citizen.reports.models import Report, ReportPhotoUpload
from klug.core.i18n import gettext
from klug.core.ratelimit import Verdict
from klug.identity.deps import client_ip

FILE_FIELD = "foto"
TOKEN_FIELD = "foto_token"  # noqa: S105 - a form field's name
REMOVE_FIELD = "foto_entfernen"
CONSENT_FIELD = "foto_ort"
# Photos decoded per account (or address) – decoding a photo costs far more than a form.
UPLOADS = "30/hour"


@dataclass
class PhotoStep:
    """The photo of one submission: a fresh upload, or one held from an earlier step."""

    owner: str
    fresh: report_photos.PreparedPhoto | None = None
    pending: ReportPhotoUpload | None = None
    token: str = ""
    error: str | None = None

    @property
    def present(self) -> bool:
        return self.fresh is not None or self.pending is not None

    @property
    def location_read(self) -> bool:
        if self.fresh is not None:
            return self.fresh.location_read
        return self.pending is not None and self.pending.location_read

    @property
    def location(self) -> tuple[float, float] | None:
        if self.fresh is not None:
            return self.fresh.location
        if self.pending is not None and self.pending.photo_lat is not None:
            assert self.pending.photo_lon is not None
            return self.pending.photo_lat, self.pending.photo_lon
        return None

    def shown(self) -> dict[str, Any] | None:
        """What the form says about the photo it holds."""
        held = self.fresh or self.pending
        if held is None:
            return None
        return {
            "kind": held.media_type.removeprefix("image/").upper().replace("WEBP", "WebP"),
            "width_px": held.width_px,
            "height_px": held.height_px,
        }


def _var_dir(request: Request) -> Path:
    return Path(request.app.state.settings.var_dir)


def owner(request: Request, account_id: int | None) -> str:
    return photo_uploads.owner_of(
        account_id=account_id, browser=request.scope.get("klug_csrf_cookie"), ip=client_ip(request)
    )


def _upload_allowed(request: Request, account_id: int | None) -> bool:
    key = f"account:{account_id}" if account_id is not None else f"ip:{client_ip(request)}"
    limiter = request.app.state.rate_limiter
    verdict: Verdict = anyio.from_thread.run(limiter.hit, UPLOADS, "report-photos", key)
    return verdict.allowed


def expired_message() -> str:
    return gettext(
        "Your photo is no longer kept (a photo waits at most an hour for its report)."
        " Please choose it again."
    )


def _rejected(exc: report_photos.PhotoRejected) -> str:
    text = gettext(exc.message)
    return text % exc.variables if exc.variables else text


def read(
    request: Request,
    session: Session,
    form: FormData,
    values: dict[str, str],
    account_id: int | None,
) -> PhotoStep:
    """The photo of this submission; a refused file is an ``error``, never stored."""
    step = PhotoStep(owner=owner(request, account_id))
    pending_dir = report_photos.pending_dir(_var_dir(request))
    token = values.get(TOKEN_FIELD, "")
    if token:
        step.pending = photo_uploads.find_pending(session=session, token=token, owner=step.owner)
        if step.pending is not None and values.get(REMOVE_FIELD) == "1":
            photo_uploads.drop(session=session, pending=step.pending, directory=pending_dir)
            step.pending = None
        elif step.pending is not None:
            step.token = token
        elif values.get(REMOVE_FIELD) != "1":
            step.error = expired_message()
    upload = form.get(FILE_FIELD)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return step
    if not _upload_allowed(request, account_id):
        step.error = gettext("You have sent many photos in a short time. Please try again later.")
        return step
    data = upload.file.read(report_photos.MAX_BYTES + 1)
    try:
        step.fresh = report_photos.prepare(data, read_gps=values.get(CONSENT_FIELD) == "1")
    except report_photos.PhotoRejected as exc:
        step.error = _rejected(exc)
        return step
    step.error = None  # a new photo replaces one that was no longer kept
    if step.pending is not None:
        photo_uploads.drop(session=session, pending=step.pending, directory=pending_dir)
        step.pending, step.token = None, ""
    return step


def use_location(step: PhotoStep, values: dict[str, str], area: Area) -> str | None:
    """With consent and no point given: the photo's location as the report's point (in
    ``values``). Else why not, as a hint for the location message (None: no hint)."""
    if values.get(CONSENT_FIELD) != "1" or not step.present:
        return None
    if values.get("lat", "").strip() or values.get("long", "").strip():
        return None
    if not step.location_read:
        return gettext(
            "The photo's location was not read, because the box was not ticked when you"
            " chose the photo. Choose the photo again to use its location."
        )
    location = step.location
    if location is None:
        return gettext("The photo has no stored location.")
    if not area.contains(*location):
        return gettext("The location stored in the photo is outside the city of Kaiserslautern.")
    values["lat"], values["long"] = f"{location[0]:.6f}", f"{location[1]:.6f}"
    return None


def keep(request: Request, session: Session, step: PhotoStep) -> str:
    """Hold a fresh photo for the next step; the token for the form ("" if none)."""
    if step.fresh is not None and not step.token:
        step.token = photo_uploads.hold(
            session=session,
            prepared=step.fresh,
            owner=step.owner,
            directory=report_photos.pending_dir(_var_dir(request)),
        )
    return step.token


def attach(request: Request, session: Session, step: PhotoStep, report: Report) -> bool:
    """Store the photo with the new report; ``False`` if the held one was taken by the
    clean-up meanwhile (the caller then stores nothing)."""
    var_dir = _var_dir(request)
    directory = report_photos.photos_dir(var_dir)
    if step.fresh is not None:
        report_photos.attach(
            session=session, report=report, prepared=step.fresh, directory=directory
        )
        return True
    if step.pending is not None:
        adopted = photo_uploads.adopt(
            session=session,
            pending=step.pending,
            report=report,
            pending_directory=report_photos.pending_dir(var_dir),
            directory=directory,
        )
        return adopted is not None
    return True

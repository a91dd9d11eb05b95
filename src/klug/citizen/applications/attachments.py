"""Files of applications and messages: checked, cleaned, stored outside the web root.

What a file *is* comes from its content – the PDF signature, or Pillow identifying an
image – never from its name or the browser's Content-Type. Images are decoded and
encoded anew from their pixels alone, so EXIF (GPS position, camera), XMP and comments
never reach the city; PDFs are kept as they are (they are documents, re-rendering would
change them). With ``KLUG_CLAMD_SOCKET`` set, every file is scanned by ClamAV first.

Files get random names under ``<var>/data/applications``; a file is written only after
its row, and removed again when the transaction does not commit, so that a refused or
failed upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

from klug.citizen.applications import clamav
from klug.citizen.applications.forms import MAX_FILE_FIELDS
from klug.citizen.applications.models import ApplicationAttachment
from klug.core import images as core_images
from klug.core.i18n import N_

MAX_BYTES = 10 * 1024 * 1024
# Far above a phone's photo (50 MP), far below what would exhaust memory when decoded.
MAX_PIXELS = 60_000_000
KIND_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "webp": "WebP"}
_MEDIA_TYPES = {
    "pdf": ("application/pdf", "pdf"),
    "jpeg": ("image/jpeg", "jpg"),
    "png": ("image/png", "png"),
    "webp": ("image/webp", "webp"),
}
_PILLOW_KINDS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
# Pages that take uploads accept bodies beyond the platform's limit: the files plus the
# form around them (each file is checked here, with a message next to its field).
_UPLOAD_BODY = MAX_FILE_FIELDS * MAX_BYTES + 1024 * 1024
UPLOAD_LIMITS = {
    "/leistungen/": _UPLOAD_BODY,
    "/konto/antraege/": _UPLOAD_BODY,
    "/console/antraege/": _UPLOAD_BODY,
}


class AttachmentRejected(Exception):
    """The file is refused; ``message`` is an English message id with ``variables``."""

    def __init__(self, message: str, **variables: str) -> None:
        super().__init__(message % variables if variables else message)
        self.message = message
        self.variables = variables


@dataclass(frozen=True)
class PreparedFile:
    data: bytes
    kind: str
    media_type: str
    original_name: str


def safe_name(name: str, kind: str) -> str:
    """The name shown for a file: no path, no control characters, our extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable())
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", base).strip(" .")[:100] or "datei"
    return f"{stem}.{_MEDIA_TYPES[kind][1]}"


def sniff(data: bytes) -> str | None:
    """The kind of file by its content: pdf, jpeg, png, webp – or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    try:
        with Image.open(io.BytesIO(data)) as probe:
            return _PILLOW_KINDS.get(probe.format or "")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return None


def _check_pdf(data: bytes) -> None:
    # A complete PDF ends with %%EOF (ISO 32000-1, 7.5.5); a cut-off upload does not.
    if b"%%EOF" not in data[-2048:]:
        raise AttachmentRejected(N_("The PDF file is damaged or incomplete."))


def _reencode(data: bytes, kind: str) -> bytes:
    try:
        pillow_format = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[kind]
        return core_images.reencode(data, pillow_format, max_pixels=MAX_PIXELS, quality=90).data
    except core_images.TooManyPixels as exc:
        raise AttachmentRejected(N_("The image has too many pixels.")) from exc
    except core_images.ImageUnreadable as exc:
        raise AttachmentRejected(N_("The image is damaged and cannot be read.")) from exc


def prepare(
    data: bytes, name: str, *, accept: Sequence[str], clamd_socket: str | None
) -> PreparedFile:
    """Check an upload and clean it (raises ``AttachmentRejected`` with the reason)."""
    if not data:
        raise AttachmentRejected(N_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise AttachmentRejected(N_("The file is larger than 10 MB. Please choose a smaller one."))
    kind = sniff(data)
    allowed = ", ".join(KIND_LABELS[k] for k in accept)
    if kind is None or kind not in accept:
        raise AttachmentRejected(
            N_("This file is not accepted: only %(kinds)s files are (checked by their content)."),
            kinds=allowed,
        )
    if clamd_socket:
        try:
            found = clamav.scan(clamd_socket, data)
        except clamav.ScanUnavailable as exc:
            raise AttachmentRejected(
                N_("The virus check is not available right now. Please try again later.")
            ) from exc
        if found is not None:
            raise AttachmentRejected(
                N_("The virus check found %(signature)s in this file. It was not accepted."),
                signature=found,
            )
    if kind == "pdf":
        _check_pdf(data)
        clean = data
    else:
        clean = _reencode(data, kind)
    return PreparedFile(clean, kind, _MEDIA_TYPES[kind][0], safe_name(name, kind))


def files_dir(var_dir: Path) -> Path:
    return var_dir / "data" / "applications"


def path_of(directory: Path, attachment: ApplicationAttachment) -> Path:
    return directory / attachment.stored_name


def _on_rollback(session: Session, undo: Callable[[], None]) -> None:
    done = False

    def after_commit(_session: Session) -> None:
        nonlocal done
        done = True

    def after_rollback(_session: Session) -> None:
        nonlocal done
        if not done:
            undo()
        done = True

    event.listen(session, "after_commit", after_commit, once=True)
    event.listen(session, "after_rollback", after_rollback, once=True)


def store(
    *,
    session: Session,
    prepared: PreparedFile,
    directory: Path,
    application_id: int,
    field: str | None,
    message_id: int | None,
    uploaded_by_id: int | None,
) -> ApplicationAttachment:
    """A row and its file; the file goes again if the transaction rolls back."""
    attachment = ApplicationAttachment(
        application_id=application_id,
        message_id=message_id,
        field=field,
        stored_name=secrets.token_hex(20),
        original_name=prepared.original_name,
        media_type=prepared.media_type,
        size_bytes=len(prepared.data),
        uploaded_by_id=uploaded_by_id,
    )
    session.add(attachment)
    session.flush()
    path = path_of(directory, attachment)
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(prepared.data)
    os.replace(partial, path)

    def remove() -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    _on_rollback(session, remove)
    return attachment


def forget(*, session: Session, attachment: ApplicationAttachment, directory: Path) -> None:
    """Delete an attachment; its file goes once the deletion is committed."""
    path = path_of(directory, attachment)
    session.delete(attachment)
    session.flush()

    def remove(_session: Session) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    event.listen(session, "after_commit", remove, once=True)

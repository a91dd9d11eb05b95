"""Images of pages, news and events: checked, re-encoded, stored outside the web root.

What a file *is* comes from its content (Pillow identifies it), never from its name or
the browser's Content-Type. Every accepted image is decoded and encoded anew from its
pixels alone, so EXIF (camera, GPS position), XMP, comments and ICC data never reach
the public, and a file that only pretends to be an image is refused.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from klug.citizen.content.items import PUBLISHED
from klug.citizen.content.models import ContentImage, ContentItem
from klug.citizen.content.schemas import ImageAlt
from klug.core import audit
from klug.core import images as core_images
from klug.core.audit import Actor
from klug.core.db import utcnow
from klug.core.i18n import N_

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Far above any photo editors use (24 MP cameras), far below what would exhaust memory.
MAX_PIXELS = 60_000_000
# Pages show images at most ~1,200 px wide; twice that serves high-density screens.
MAX_EDGE_PX = 2400
_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


class ImageRejected(Exception):
    """The upload is not an image klug accepts; ``message`` is an English message id."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    media_type: str
    extension: str
    width_px: int
    height_px: int


def _identify(upload: bytes) -> str:
    if not upload:
        raise ImageRejected(N_("Please choose an image file."))
    if len(upload) > MAX_UPLOAD_BYTES:
        raise ImageRejected(N_("The image is larger than 10 MB. Please choose a smaller one."))
    try:
        with Image.open(io.BytesIO(upload)) as probe:
            kind = probe.format or ""
            width, height = probe.size
            if kind in _FORMATS and width * height <= MAX_PIXELS:
                probe.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise ImageRejected(
            N_("The file is not an image klug can read. Please upload a JPEG, PNG or WebP image.")
        ) from exc
    if kind not in _FORMATS:
        raise ImageRejected(N_("Only JPEG, PNG and WebP images are accepted."))
    if width * height > MAX_PIXELS:
        raise ImageRejected(N_("The image has too many pixels. Please upload a smaller one."))
    return kind


def prepare(upload: bytes) -> PreparedImage:
    """Check an upload and re-encode it from its pixels (raises ``ImageRejected``)."""
    kind = _identify(upload)
    media_type, extension = _FORMATS[kind]
    try:
        clean = core_images.reencode(
            upload, kind, max_pixels=MAX_PIXELS, max_edge_px=MAX_EDGE_PX, quality=85
        )
    except core_images.TooManyPixels as exc:
        raise ImageRejected(
            N_("The image has too many pixels. Please upload a smaller one.")
        ) from exc
    except core_images.ImageUnreadable as exc:
        raise ImageRejected(
            N_("The file is not an image klug can read. Please upload a JPEG, PNG or WebP image.")
        ) from exc
    return PreparedImage(clean.data, media_type, extension, clean.width_px, clean.height_px)


# --- files that follow the transaction ------------------------------------------------


def _when_done(
    session: Session,
    *,
    committed: Callable[[], None] | None = None,
    rolled_back: Callable[[], None] | None = None,
) -> None:
    """Run ``committed`` after the commit or ``rolled_back`` after a rollback (once)."""
    done = False

    def after_commit(_session: Session) -> None:
        nonlocal done
        if not done and committed is not None:
            committed()
        done = True

    def after_rollback(_session: Session) -> None:
        nonlocal done
        if not done and rolled_back is not None:
            rolled_back()
        done = True

    event.listen(session, "after_commit", after_commit, once=True)
    event.listen(session, "after_rollback", after_rollback, once=True)


def _unlink(path: Path) -> Callable[[], None]:
    def remove() -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    return remove


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def file_path(image_dir: Path, image: ContentImage) -> Path:
    return image_dir / image.file_name


# --- use cases ------------------------------------------------------------------------


def attach(
    *,
    session: Session,
    item: ContentItem,
    upload: bytes,
    alt: ImageAlt,
    image_dir: Path,
    actor: Actor | None,
    ip: str | None = None,
) -> ContentImage:
    """Give an item its image (replacing one it had). Nothing is stored if it is refused,
    and the file disappears again if the transaction does not commit."""
    prepared = prepare(upload)
    image = ContentImage(
        file_name=f"{secrets.token_hex(16)}.{prepared.extension}",
        media_type=prepared.media_type,
        width_px=prepared.width_px,
        height_px=prepared.height_px,
        size_bytes=len(prepared.data),
        alt_de=alt.alt_de,
        alt_en=alt.alt_en,
        created_by_id=actor.id if actor and actor.kind == "account" else None,
    )
    session.add(image)
    previous = item.image
    item.image = image
    item.updated_at = utcnow()
    session.flush()
    path = file_path(image_dir, image)
    _write(path, prepared.data)
    _when_done(session, rolled_back=_unlink(path))
    if previous is not None:
        _forget(session, previous, image_dir)
    audit.record(
        session,
        action="content.image_added",
        actor=actor,
        target_kind="content_item",
        target_id=item.id,
        ip=ip,
        detail={"image_id": image.id, "bytes": image.size_bytes},
    )
    return image


def _forget(session: Session, image: ContentImage, image_dir: Path) -> None:
    session.delete(image)
    session.flush()
    _when_done(session, committed=_unlink(file_path(image_dir, image)))


def detach(
    *,
    session: Session,
    item: ContentItem,
    image_dir: Path,
    actor: Actor | None,
    ip: str | None = None,
) -> None:
    """Remove an item's image (the file goes once the change is committed)."""
    image = item.image
    if image is None:
        return
    item.image = None
    item.updated_at = utcnow()
    session.flush()
    _forget(session, image, image_dir)
    audit.record(
        session,
        action="content.image_removed",
        actor=actor,
        target_kind="content_item",
        target_id=item.id,
        ip=ip,
        detail={"image_id": image.id},
    )


def forget_with_item(*, session: Session, item: ContentItem, image_dir: Path) -> None:
    """An item is being deleted: its image goes too."""
    if item.image is not None:
        image = item.image
        item.image = None
        session.flush()
        _forget(session, image, image_dir)


def get(*, session: Session, image_id: int, published_only: bool) -> ContentImage | None:
    """An image; for the public only one that a published item shows."""
    if not published_only:
        return session.get(ContentImage, image_id)
    return session.scalar(
        select(ContentImage)
        .join(ContentItem, ContentItem.image_id == ContentImage.id)
        .where(
            ContentImage.id == image_id,
            ContentItem.status == PUBLISHED,
            ContentItem.published_at <= utcnow(),
        )
        .limit(1)
    )

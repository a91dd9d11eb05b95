"""Uploaded images made safe to keep: decoded, turned upright and re-encoded from their
pixels alone, so that no metadata of the upload survives (EXIF with GPS position and
camera serial, comments, ICC tricks) – the city stores what it shows, nothing more."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

# Pillow format names → what we write.
_SAVE = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}


class ImageUnreadable(ValueError):
    """The data cannot be decoded as an image of an accepted kind."""


class TooManyPixels(ValueError):
    """The image is larger (in pixels) than allowed: a decompression bomb or a scan."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    width_px: int
    height_px: int


def reencode(
    data: bytes,
    pillow_format: str,
    *,
    max_pixels: int,
    max_edge_px: int | None = None,
    quality: int = 85,
) -> CleanImage:
    """The image's pixels as a new JPEG/PNG/WebP of the same format, without metadata,
    scaled down to ``max_edge_px`` if given. Raises ``ImageUnreadable``/``TooManyPixels``."""
    if pillow_format not in _SAVE:
        raise ImageUnreadable(f"unsupported image format {pillow_format!r}")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > max_pixels:
                raise TooManyPixels(f"{opened.width} × {opened.height} pixels")
            opened.load()
            upright = ImageOps.exif_transpose(opened) or opened
            has_alpha = upright.mode in {"RGBA", "LA", "PA"} or "transparency" in upright.info
            mode = "RGBA" if has_alpha and pillow_format != "JPEG" else "RGB"
            pixels = upright.convert(mode)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, TooManyPixels):
            raise
        raise ImageUnreadable(str(exc)) from exc
    if max_edge_px is not None:
        pixels.thumbnail((max_edge_px, max_edge_px))
    # A new image from the raw pixels carries no metadata of the upload at all.
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    output = io.BytesIO()
    options = {"optimize": True} if pillow_format == "PNG" else {"quality": quality}
    clean.save(output, format=_SAVE[pillow_format], **options)
    return CleanImage(output.getvalue(), clean.width, clean.height)

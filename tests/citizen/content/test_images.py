"""Images: type from content, at most 10 MB, re-encoded without EXIF, alt text required."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from klug.citizen.content import images
from klug.citizen.content.models import ContentImage, ContentItem
from klug.core.audit import AuditEvent
from tests.citizen.content.conftest import console_action, create_through_console, session_of
from tests.conftest import KnownAccount, csrf_token, soup

ALT = {"alt_de": "Das Rathaus im Schnee", "alt_en": "The town hall in the snow"}


def photo(*, fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A photo as a camera writes it: EXIF with maker, GPS position, orientation, comment."""
    image = Image.new("RGB", size, (200, 30, 40))
    exif = Image.Exif()
    exif[0x010F] = "KlugCam"  # Make
    exif[0x0112] = 6  # Orientation: the camera was turned; show rotated by 90°
    exif.get_ifd(0x8825).update({1: "N", 2: (49.0, 26.0, 40.0), 3: "E", 4: (7.0, 46.0, 10.0)})
    buffer = io.BytesIO()
    extra: dict[str, Any] = {"exif": exif.tobytes()}
    if fmt == "JPEG":
        extra["comment"] = b"Wohnung von Familie Muster"
    image.save(buffer, format=fmt, **extra)
    return buffer.getvalue()


def upload(
    client: TestClient, item_id: int, content: bytes, name: str, media_type: str, **alt: str
) -> Any:
    data = {"csrf_token": csrf_token(client, f"/console/inhalte/{item_id}"), **alt}
    return client.post(
        f"/console/inhalte/{item_id}/bild",
        data=data,
        files={"image": (name, content, media_type)},
        follow_redirects=False,
    )


def stored_files(client: TestClient) -> list[Path]:
    folder = Path(client.app.state.settings.var_dir) / "content" / "images"  # type: ignore[attr-defined]
    return sorted(folder.iterdir()) if folder.exists() else []


def image_rows(client: TestClient) -> int:
    with session_of(client) as session:
        return session.scalar(select(func.count()).select_from(ContentImage)) or 0


@pytest.fixture
def item_id(client: TestClient, editor: KnownAccount) -> int:
    return create_through_console(client, "news", title_de="Winter", slug="winter")


def test_a_photo_is_stored_without_exif_upright_and_outside_the_static_files(
    client: TestClient, item_id: int, client_factory: Callable[..., TestClient]
) -> None:
    response = upload(client, item_id, photo(), "IMG_0001.JPG", "image/jpeg", **ALT)
    assert response.status_code == 303, response.text
    [path] = stored_files(client)
    assert "static" not in path.parts
    with session_of(client) as session:
        image = session.scalars(select(ContentImage)).one()
        assert (image.media_type, image.width_px, image.height_px) == ("image/jpeg", 48, 64)
        assert session.get_one(ContentItem, item_id).image_id == image.id
        actions = session.scalars(select(AuditEvent.action)).all()
        assert "content.image_added" in actions
    served = client.get(f"/inhalte/bilder/{image.id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    for secret in (b"KlugCam", b"Exif", b"Muster"):
        assert secret not in served.content
    reopened = Image.open(io.BytesIO(served.content))
    assert len(reopened.getexif()) == 0
    assert reopened.size == (48, 64), "turned upright as the camera meant it"

    visitor = client_factory()
    assert visitor.get(f"/inhalte/bilder/{image.id}").status_code == 404, "the item is a draft"
    console_action(client, item_id, "veroeffentlichen")
    assert visitor.get(f"/inhalte/bilder/{image.id}").status_code == 200
    shown = soup(visitor.get("/en/aktuelles/winter")).find("figure").find("img")
    assert (shown["src"], shown["alt"]) == (f"/inhalte/bilder/{image.id}", ALT["alt_en"])
    german = soup(visitor.get("/aktuelles/winter")).find("figure").find("img")
    assert german["alt"] == ALT["alt_de"]


def test_the_type_comes_from_the_content_not_the_name(client: TestClient, item_id: int) -> None:
    png_named_jpeg = upload(client, item_id, photo(fmt="PNG"), "bild.jpg", "image/jpeg", **ALT)
    assert png_named_jpeg.status_code == 303
    with session_of(client) as session:
        assert session.scalars(select(ContentImage.media_type)).one() == "image/png"
    [path] = stored_files(client)
    assert path.suffix == ".png"


@pytest.mark.parametrize(
    ("content", "name", "media_type", "message"),
    [
        (b"<?php system($_GET['c']); ?>", "bild.jpg", "image/jpeg", "JPEG, PNG or WebP"),
        (b"GIF89a" + b"\x00" * 40, "bild.png", "image/png", "JPEG, PNG or WebP"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "kaputt.jpg", "image/jpeg", "JPEG, PNG or WebP"),
        (b"", "leer.jpg", "image/jpeg", "choose an image"),
    ],
    ids=["script-named-jpg", "gif-named-png", "truncated-jpeg", "empty"],
)
def test_files_that_are_not_accepted_images_are_refused_and_nothing_is_kept(
    client: TestClient, item_id: int, content: bytes, name: str, media_type: str, message: str
) -> None:
    client.get("/en/")  # the message is checked in English, the message ids' language
    response = client.post(
        f"/en/console/inhalte/{item_id}/bild",
        data={"csrf_token": csrf_token(client, f"/en/console/inhalte/{item_id}"), **ALT},
        files={"image": (name, content, media_type)},
    )
    assert response.status_code == 400
    error = soup(response).find(id="image-error")
    assert error is not None and message in error.get_text(), error
    assert image_rows(client) == 0
    assert stored_files(client) == []


def test_a_real_gif_is_refused_with_the_accepted_types(client: TestClient, item_id: int) -> None:
    buffer = io.BytesIO()
    Image.new("P", (8, 8)).save(buffer, format="GIF")
    response = client.post(
        f"/en/console/inhalte/{item_id}/bild",
        data={"csrf_token": csrf_token(client, f"/en/console/inhalte/{item_id}"), **ALT},
        files={"image": ("bild.gif", buffer.getvalue(), "image/gif")},
    )
    assert response.status_code == 400
    assert "Only JPEG, PNG and WebP" in soup(response).find(id="image-error").get_text()
    assert image_rows(client) == 0


def test_an_image_over_10_mb_is_refused_with_a_message(client: TestClient, item_id: int) -> None:
    too_large = photo() + b"\x00" * (images.MAX_UPLOAD_BYTES + 1)
    response = client.post(
        f"/en/console/inhalte/{item_id}/bild",
        data={"csrf_token": csrf_token(client, f"/en/console/inhalte/{item_id}"), **ALT},
        files={"image": ("gross.jpg", too_large, "image/jpeg")},
    )
    assert response.status_code == 400
    assert "larger than 10 MB" in soup(response).find(id="image-error").get_text()
    assert image_rows(client) == 0
    assert stored_files(client) == []


@pytest.mark.parametrize("missing", ["alt_de", "alt_en"])
def test_alt_text_is_required_in_both_languages(
    client: TestClient, item_id: int, missing: str
) -> None:
    alt = {**ALT, missing: "   "}
    response = upload(client, item_id, photo(), "foto.jpg", "image/jpeg", **alt)
    assert response.status_code == 400
    page = soup(response)
    assert page.find("input", id=missing)["aria-invalid"] == "true"
    other = "alt_en" if missing == "alt_de" else "alt_de"
    assert page.find("input", id=other)["value"] == ALT[other], "what was typed is kept"
    assert image_rows(client) == 0
    assert stored_files(client) == []


def test_replacing_and_removing_an_image_removes_the_old_files(
    client: TestClient, item_id: int
) -> None:
    upload(client, item_id, photo(), "eins.jpg", "image/jpeg", **ALT)
    [first] = stored_files(client)
    upload(client, item_id, photo(fmt="PNG"), "zwei.png", "image/png", **ALT)
    [second] = stored_files(client)
    assert second != first and second.suffix == ".png"
    assert image_rows(client) == 1
    response = console_action(client, item_id, "bild/entfernen")
    assert response.status_code == 303
    assert stored_files(client) == []
    assert image_rows(client) == 0


def test_an_image_file_written_in_a_transaction_that_fails_is_removed_again(
    client: TestClient, item_id: int
) -> None:
    from klug.citizen.content.schemas import ImageAlt

    folder = Path(client.app.state.settings.var_dir) / "content" / "images"  # type: ignore[attr-defined]
    with session_of(client) as session:
        item = session.get_one(ContentItem, item_id)
        images.attach(
            session=session,
            item=item,
            upload=photo(),
            alt=ImageAlt(**ALT),
            image_dir=folder,
            actor=None,
        )
        assert len(stored_files(client)) == 1
        session.rollback()
    assert stored_files(client) == []
    assert image_rows(client) == 0

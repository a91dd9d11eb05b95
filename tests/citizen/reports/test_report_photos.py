"""A photo with a report: cleaned of its metadata, its location used only with consent,
held over the duplicates step for its own browser only, public only once staff publish
it – on the page and as Open311 ``media_url`` – and part of the reporter's own data."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image
from sqlalchemy import select, update

from klug.citizen.reports import jobs as reports_jobs
from klug.citizen.reports import photo_uploads
from klug.citizen.reports import photos as report_photos
from klug.citizen.reports.models import Report, ReportPhoto, ReportPhotoUpload
from klug.core.audit import AuditEvent
from klug.identity.permissions import Role
from tests.citizen.reports.conftest import CENTRE, offset_north
from tests.conftest import KnownAccount, csrf_token, log_in, post_form, soup

FORM = "/maengelmelder/melden"
POTHOLE_FORM = FORM + "?kategorie=pothole"
# The form in English, so that messages can be compared.
EN_FORM = "/en" + FORM
# Where the test photos were "taken": 100 m north of the Stiftsplatz, inside the city.
PHOTO_PLACE = (offset_north(CENTRE[0], 100), CENTRE[1])


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round(((value - degrees) * 60 - minutes) * 60, 4)


def photo(
    fmt: str = "JPEG",
    *,
    gps: tuple[float, float] | None = PHOTO_PLACE,
    size: tuple[int, int] = (320, 240),
) -> bytes:
    """A photo with camera EXIF (and a GPS position unless ``gps`` is None), random
    pixels so that it does not compress to nothing."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "KlugCam"
    exif[ExifTags.Base.BodySerialNumber] = "SN-0815"
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N" if gps[0] >= 0 else "S",
            ExifTags.GPS.GPSLatitude: _dms(abs(gps[0])),
            ExifTags.GPS.GPSLongitudeRef: "E" if gps[1] >= 0 else "W",
            ExifTags.GPS.GPSLongitude: _dms(abs(gps[1])),
        }
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif.tobytes())
    return buffer.getvalue()


def pothole_form(**change: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kategorie": "pothole",
        "attribute[size]": "medium",
        "description": "Großes Loch in der Fahrbahn",
        "lat": f"{CENTRE[0]:.6f}",
        "long": f"{CENTRE[1]:.6f}",
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def send(
    client: TestClient, data: dict[str, Any], file: bytes | None = None, name: str = "IMG_0001.jpg"
) -> Any:
    files = {"foto": (name, file, "image/jpeg")} if file is not None else None
    return post_form(
        client, EN_FORM, data, token_from=POTHOLE_FORM, files=files, follow_redirects=False
    )


def rows(client: TestClient, model: Any) -> list[Any]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(model).order_by(model.id)))


def var_dir(client: TestClient) -> Path:
    return Path(client.app.state.settings.var_dir)  # type: ignore[attr-defined]


def files_under(client: TestClient) -> list[Path]:
    base = var_dir(client) / "data" / "reports"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def sent_report(response: Any) -> int:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/en/maengelmelder/") and location.endswith("/danke")
    return int(location.split("/")[3])


def audited(client: TestClient, action: str) -> list[AuditEvent]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def error_links(response: Any) -> list[str]:
    summary = soup(response).find(class_="error-summary")
    return [a["href"] for a in summary.find_all("a")] if summary else []


# ---------------------------------------------------------------- upload and location


def test_the_stored_photo_has_no_metadata(client: TestClient) -> None:
    report_id = sent_report(send(client, pothole_form(), photo()))
    (stored,) = rows(client, ReportPhoto)
    assert stored.report_id == report_id and not stored.published
    assert stored.media_type == "image/jpeg" and (stored.width_px, stored.height_px) == (320, 240)
    path = report_photos.photos_dir(var_dir(client)) / stored.stored_name
    with Image.open(path) as kept:
        assert kept.format == "JPEG"
        assert dict(kept.getexif()) == {}
        assert kept.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert "exif" not in kept.info
    assert b"KlugCam" not in path.read_bytes() and b"SN-0815" not in path.read_bytes()
    # The citizen gave a point; the photo's position was neither asked for nor used.
    (report,) = rows(client, Report)
    assert (report.lat, report.lon) == pytest.approx(CENTRE)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_kept_in_their_format(client: TestClient, fmt: str) -> None:
    sent_report(send(client, pothole_form(), photo(fmt), name="bild.bin"))
    (stored,) = rows(client, ReportPhoto)
    assert stored.media_type == f"image/{fmt.lower()}"
    with Image.open(report_photos.photos_dir(var_dir(client)) / stored.stored_name) as kept:
        assert kept.format == fmt and dict(kept.getexif()) == {}


def test_the_photo_s_location_is_used_only_with_consent(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real = report_photos.read_location

    def counting(image: Image.Image) -> tuple[float, float] | None:
        reads.append(1)
        return real(image)

    monkeypatch.setattr(report_photos, "read_location", counting)
    no_point = pothole_form(lat=None, long=None)

    # Without the tick: the GPS data is never read, so there is no place.
    response = send(client, no_point, photo())
    assert response.status_code == 400 and reads == []
    assert error_links(response) == ["#location"]
    assert "no stored location" not in response.text
    assert rows(client, Report) == []

    # With the tick: the photo's position becomes the report's point.
    report_id = sent_report(send(client, {**no_point, "foto_ort": "1"}, photo()))
    assert reads == [1]
    (report,) = rows(client, Report)
    assert report.id == report_id
    assert (report.lat, report.lon) == pytest.approx(PHOTO_PLACE, abs=1e-5)

    # A point the citizen gives wins over the photo's.
    sent_report(
        send(
            client,
            {
                **pothole_form(lat=f"{offset_north(CENTRE[0], 900):.6f}"),
                "foto_ort": "1",
                "neu": "1",
            },
            photo(),
        )
    )
    assert rows(client, Report)[-1].lat == pytest.approx(offset_north(CENTRE[0], 900), abs=1e-6)


def test_a_photo_without_location_explains_the_missing_place(client: TestClient) -> None:
    response = send(client, {**pothole_form(lat=None, long=None), "foto_ort": "1"}, photo(gps=None))
    assert response.status_code == 400
    page = soup(response)
    assert error_links(response) == ["#location"]
    message = page.find(id="location-error").get_text(" ", strip=True)
    assert message.startswith("Please say where the problem is")
    assert message.endswith("The photo has no stored location.")
    assert rows(client, Report) == [] and rows(client, ReportPhoto) == []
    # The photo itself was fine: it is kept for the corrected form.
    token = page.find("input", attrs={"name": "foto_token"})["value"]
    assert token and page.find(id="foto-kept") is not None
    assert page.find("input", id="foto_ort").has_attr("checked")
    response = post_form(
        client,
        EN_FORM,
        {**pothole_form(lat=None, long=None, location_text="Vor dem Rathaus"), "foto_token": token},
        token_from=POTHOLE_FORM,
        follow_redirects=False,
    )
    sent_report(response)
    (stored,) = rows(client, ReportPhoto)
    assert rows(client, ReportPhotoUpload) == []
    assert [p.name for p in files_under(client)] == [stored.stored_name]


def test_consent_given_later_cannot_read_a_cleaned_photo(client: TestClient) -> None:
    response = send(client, pothole_form(lat=None, long=None, description=None), photo())
    assert response.status_code == 400
    token = soup(response).find("input", attrs={"name": "foto_token"})["value"]
    (pending,) = rows(client, ReportPhotoUpload)
    assert not pending.location_read and pending.photo_lat is None  # never read
    response = post_form(
        client,
        EN_FORM,
        {**pothole_form(lat=None, long=None), "foto_token": token, "foto_ort": "1"},
        token_from=POTHOLE_FORM,
        follow_redirects=False,
    )
    assert response.status_code == 400 and error_links(response) == ["#location"]
    assert "Choose the photo again to use its location." in response.text
    assert rows(client, Report) == []


def test_a_kept_photo_can_be_removed(client: TestClient) -> None:
    response = send(client, pothole_form(description=None), photo())
    assert response.status_code == 400 and error_links(response) == ["#description"]
    token = soup(response).find("input", attrs={"name": "foto_token"})["value"]
    assert len(rows(client, ReportPhotoUpload)) == 1 and len(files_under(client)) == 1
    response = post_form(
        client,
        EN_FORM,
        {**pothole_form(), "foto_token": token, "foto_entfernen": "1"},
        token_from=POTHOLE_FORM,
        follow_redirects=False,
    )
    sent_report(response)
    assert rows(client, ReportPhoto) == [] and rows(client, ReportPhotoUpload) == []
    assert files_under(client) == []


def test_english_form_labels_the_photo_and_the_consent(client: TestClient) -> None:
    form = soup(client.get("/en" + POTHOLE_FORM)).find("main").find("form", method="post")
    assert form["enctype"] == "multipart/form-data"
    upload = form.find("input", attrs={"name": "foto", "type": "file"})
    assert form.find("label", attrs={"for": upload["id"]}).get_text(strip=True) == "Photo file"
    assert "image/jpeg" in upload["accept"]
    consent = form.find("input", attrs={"name": "foto_ort"})
    assert consent["type"] == "checkbox" and not consent.has_attr("checked")
    label = form.find("label", attrs={"for": consent["id"]}).get_text(strip=True)
    assert label == "Use the location stored in the photo"


def _truncated() -> bytes:
    whole = photo(size=(800, 600))
    return whole[: int(len(whole) * 0.6)]


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (b"\xff\xd8\xff" + bytes(10 * 1024 * 1024), "larger than 10 MB"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n", "only photos as JPEG, PNG, WebP"),
        (b"<html><script>alert(1)</script></html>", "only photos as JPEG, PNG, WebP"),
        (_truncated(), "damaged or incomplete"),
        (b"", "empty"),
    ],
    ids=["oversized", "pdf", "html", "truncated", "empty"],
)
def test_refused_files_store_nothing(client: TestClient, file: bytes, expected: str) -> None:
    response = send(client, pothole_form(), file)
    assert response.status_code == 400
    page = soup(response)
    assert error_links(response) == ["#foto"]
    assert expected in page.find(id="foto-error").get_text()
    assert page.find("input", id="foto")["aria-invalid"] == "true"
    assert rows(client, Report) == [] and rows(client, ReportPhoto) == []
    assert rows(client, ReportPhotoUpload) == [] and files_under(client) == []


def test_a_file_past_the_body_limit_is_refused_early(client: TestClient) -> None:
    response = send(client, pothole_form(), b"\xff\xd8\xff" + bytes(12 * 1024 * 1024))
    assert response.status_code == 413
    assert rows(client, Report) == [] and files_under(client) == []


# ---------------------------------------------------------------- the duplicates step


def _duplicates_step(client: TestClient, store_report: Callable[..., int]) -> dict[str, str]:
    store_report("pothole")
    response = send(client, pothole_form(), photo())
    assert response.status_code == 200
    again = soup(response).find("main").find("form", action=EN_FORM)
    return {i["name"]: i["value"] for i in again.find_all("input", type="hidden")}


def test_the_photo_survives_the_duplicates_step(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    carried = _duplicates_step(client, store_report)
    assert carried["foto_token"] and carried["neu"] == "1"
    (pending,) = rows(client, ReportPhotoUpload)
    assert pending.token_hash != carried["foto_token"]  # only its hash is stored
    assert len(rows(client, Report)) == 1 and rows(client, ReportPhoto) == []

    response = client.post(EN_FORM, data=carried, follow_redirects=False)
    report_id = sent_report(response)
    (stored,) = rows(client, ReportPhoto)
    assert stored.report_id == report_id
    assert rows(client, ReportPhotoUpload) == []
    assert [p.name for p in files_under(client)] == [stored.stored_name]
    assert [p.parent.name for p in files_under(client)] == ["photos"]

    # The token is spent.
    response = client.post(EN_FORM, data=carried, follow_redirects=False)
    assert response.status_code == 400 and error_links(response) == ["#foto"]
    assert len(rows(client, Report)) == 2


def test_another_browser_cannot_use_a_pending_photo(
    client_factory: Callable[..., TestClient],
    store_report: Callable[..., int],
    make_account: Callable[..., KnownAccount],
) -> None:
    owner, stranger = client_factory(), client_factory()
    carried = _duplicates_step(owner, store_report)
    stolen = {**carried, "csrf_token": csrf_token(stranger, POTHOLE_FORM)}
    response = stranger.post(EN_FORM, data=stolen, follow_redirects=False)
    assert response.status_code == 400
    assert error_links(response) == ["#foto"]
    assert len(rows(owner, Report)) == 1 and rows(owner, ReportPhoto) == []
    log_in(stranger, make_account(Role.CITIZEN))  # a login does not help either
    stolen["csrf_token"] = csrf_token(stranger, POTHOLE_FORM)
    assert stranger.post(EN_FORM, data=stolen, follow_redirects=False).status_code == 400
    assert len(rows(owner, ReportPhotoUpload)) == 1

    sent_report(owner.post(EN_FORM, data=carried, follow_redirects=False))
    assert len(rows(owner, ReportPhoto)) == 1


def test_pending_photos_expire_after_an_hour(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    carried = _duplicates_step(client, store_report)
    job = reports_jobs.pending_photos(var_dir(client))
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    assert job.run(factory) == 0 and len(files_under(client)) == 1
    with factory() as session:
        session.execute(
            update(ReportPhotoUpload).values(
                created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=61)
            )
        )
        session.commit()
    # Past the hour the photo cannot be used even before the clean-up ran …
    response = client.post(EN_FORM, data=carried, follow_redirects=False)
    assert response.status_code == 400 and error_links(response) == ["#foto"]
    assert "Please choose it again" in soup(response).find(id="foto-error").get_text()
    assert len(rows(client, Report)) == 1
    # … and the job deletes row and file.
    assert job.run(factory) == 1
    assert rows(client, ReportPhotoUpload) == [] and files_under(client) == []


def test_the_job_sweeps_files_left_behind(client: TestClient) -> None:
    directory = report_photos.pending_dir(var_dir(client))
    directory.mkdir(parents=True)
    old, fresh = directory / "alt.jpg", directory / "neu.jpg"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    three_hours_ago = dt.datetime.now(dt.UTC).timestamp() - 3 * 3600
    os.utime(old, (three_hours_ago, three_hours_ago))
    assert photo_uploads.sweep_pending_files(directory) == 1
    assert not old.exists() and fresh.exists()


# ---------------------------------------------------------------- staff and the public


def _report_with_photo(client: TestClient) -> tuple[int, str]:
    report_id = sent_report(send(client, pothole_form(), photo()))
    (stored,) = rows(client, ReportPhoto)
    return report_id, f"/maengelmelder/{report_id}/foto/{stored.stored_name}"


def test_an_unpublished_photo_is_for_staff_only(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    visitor, citizen, staff = client_factory(), client_factory(), client_factory()
    report_id, url = _report_with_photo(visitor)
    log_in(citizen, make_account(Role.CITIZEN))
    log_in(staff, make_account(Role.CASEWORKER))
    for outsider in (visitor, citizen):
        assert outsider.get(url).status_code == 404
        assert soup(outsider.get(f"/maengelmelder/{report_id}")).find("main").find("img") is None
        (found,) = outsider.get(f"/open311/v2/requests/{report_id}.json").json()
        assert found["media_url"] is None
    assert staff.get(url.replace(".jpg", ".png")).status_code == 404
    assert staff.get(f"/maengelmelder/{report_id}/foto/nichts").status_code == 404

    seen = staff.get(url)
    assert seen.status_code == 200 and seen.headers["content-type"] == "image/jpeg"
    assert seen.headers["cache-control"] == "private, no-store"
    assert seen.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(seen.content)) as shown:
        assert shown.size == (320, 240)
    detail = soup(staff.get(f"/en/console/meldungen/{report_id}")).find("main")
    image = detail.find("img", src=url)
    assert image is not None and image["alt"] == f"Photo sent with report no. {report_id}"
    assert detail.find("button", attrs={"value": "veroeffentlichen"}) is not None


def test_staff_publish_and_hide_a_photo(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    visitor, staff = client_factory(), client_factory()
    report_id, url = _report_with_photo(visitor)
    caseworker = make_account(Role.CASEWORKER)
    log_in(staff, caseworker)
    action = f"/console/meldungen/{report_id}/foto"
    console = f"/console/meldungen/{report_id}"

    response = post_form(
        staff, action, {"aktion": "veroeffentlichen"}, token_from=console, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{console}?foto=veroeffentlicht#photo"
    (event,) = audited(staff, "report.photo_published")
    assert (event.actor_id, event.target_id) == (caseworker.id, str(report_id))

    page = soup(visitor.get(f"/en/maengelmelder/{report_id}")).find("main")
    image = page.find("img", src=url)
    assert image is not None
    assert image["alt"] == f"Photo of the reported problem (Pothole, report no. {report_id})"
    public = visitor.get(url)
    assert public.status_code == 200 and public.headers["content-type"] == "image/jpeg"
    assert public.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert public.headers["x-content-type-options"] == "nosniff"

    absolute = "http://testserver" + url
    (found,) = visitor.get(f"/open311/v2/requests/{report_id}.json").json()
    assert found["media_url"] == absolute
    listed = visitor.get("/open311/v2/requests.json").json()
    assert [r["media_url"] for r in listed if r["service_request_id"] == str(report_id)] == [
        absolute
    ]
    xml = visitor.get(f"/open311/v2/requests/{report_id}.xml").text
    assert f"<media_url>{absolute}</media_url>" in xml

    post_form(staff, action, {"aktion": "verbergen"}, token_from=console)
    assert len(audited(staff, "report.photo_hidden")) == 1
    assert visitor.get(url).status_code == 404
    assert soup(visitor.get(f"/maengelmelder/{report_id}")).find("main").find("img") is None
    (found,) = visitor.get(f"/open311/v2/requests/{report_id}.json").json()
    assert found["media_url"] is None
    assert "<media_url />" in visitor.get(f"/open311/v2/requests/{report_id}.xml").text
    assert visitor.get("/open311/v2/requests.json").json()[0]["media_url"] is None


def test_staff_delete_a_photo_after_confirming(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    visitor, staff = client_factory(), client_factory()
    report_id, url = _report_with_photo(visitor)
    log_in(staff, make_account(Role.CASEWORKER))
    action = f"/console/meldungen/{report_id}/foto"
    console = f"/console/meldungen/{report_id}"

    response = post_form(staff, action, {"aktion": "loeschen"}, token_from=console)
    assert response.status_code == 400 and error_links(response) == ["#foto_bestaetigt"]
    assert len(rows(visitor, ReportPhoto)) == 1

    response = post_form(
        staff,
        action,
        {"aktion": "loeschen", "bestaetigt": "1"},
        token_from=console,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert rows(visitor, ReportPhoto) == [] and files_under(visitor) == []
    assert len(audited(staff, "report.photo_deleted")) == 1
    assert staff.get(url).status_code == 404
    assert len(rows(visitor, Report)) == 1  # the report stays
    assert (
        post_form(staff, action, {"aktion": "veroeffentlichen"}, token_from=console).status_code
        == 404
    )


def test_only_report_staff_may_publish(
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
) -> None:
    visitor, citizen, staff = client_factory(), client_factory(), client_factory()
    report_id, url = _report_with_photo(visitor)
    other_id = sent_report(send(visitor, pothole_form(lat=f"{offset_north(CENTRE[0], 900):.6f}")))
    log_in(citizen, make_account(Role.CITIZEN))
    action = f"/console/meldungen/{report_id}/foto"
    for outsider in (visitor, citizen):
        token = csrf_token(outsider, POTHOLE_FORM)
        response = outsider.post(
            action, data={"aktion": "veroeffentlichen", "csrf_token": token}, follow_redirects=False
        )
        assert response.status_code in (303, 401, 403)
        assert outsider.get(url).status_code == 404
    assert audited(visitor, "report.photo_published") == []
    assert not rows(visitor, ReportPhoto)[0].published

    # Staff acting on a report without a photo touch nobody else's.
    log_in(staff, make_account(Role.CASEWORKER))
    response = post_form(
        staff,
        f"/console/meldungen/{other_id}/foto",
        {"aktion": "veroeffentlichen"},
        token_from=f"/console/meldungen/{other_id}",
    )
    assert response.status_code == 404
    assert not rows(visitor, ReportPhoto)[0].published
    assert visitor.get(url).status_code == 404


# ---------------------------------------------------------------- own data


def test_own_photos_in_the_data_download_and_on_deletion(
    client: TestClient,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
) -> None:
    reporter = make_account(Role.CITIZEN)
    log_in(client, reporter)
    kept_id = sent_report(send(client, pothole_form(), photo()))
    gone_id = sent_report(
        send(client, pothole_form(lat=f"{offset_north(CENTRE[0], 900):.6f}"), photo("PNG"))
    )
    photo_of = {p.report_id: p for p in rows(client, ReportPhoto)}

    archive = zipfile.ZipFile(io.BytesIO(client.get("/konto/daten.zip").content))
    names = set(archive.namelist())
    assert f"dateien/meldungen/meldung-{kept_id}-foto.jpg" in names
    assert f"dateien/meldungen/meldung-{gone_id}-foto.png" in names
    data = json.loads(archive.read("daten.json"))
    shown = {r["id"]: r["photo"] for r in data["meldungen"]["reports"]}
    assert shown[kept_id] == {"file": f"meldung-{kept_id}-foto.jpg", "published": False}
    with Image.open(
        io.BytesIO(archive.read(f"dateien/meldungen/meldung-{gone_id}-foto.png"))
    ) as image:
        assert image.format == "PNG" and dict(image.getexif()) == {}

    staff = client_factory()
    log_in(staff, make_account(Role.CASEWORKER))
    post_form(
        staff,
        f"/console/meldungen/{kept_id}/foto",
        {"aktion": "veroeffentlichen"},
        token_from=f"/console/meldungen/{kept_id}",
    )

    response = post_form(client, "/konto/loeschen", {"delete_password": reporter.password})
    assert response.status_code == 200, response.text
    remaining = rows(client, ReportPhoto)
    assert [p.report_id for p in remaining] == [kept_id] and remaining[0].published
    directory = report_photos.photos_dir(var_dir(client))
    assert (directory / photo_of[kept_id].stored_name).is_file()
    assert not (directory / photo_of[gone_id].stored_name).exists()
    assert {r.id for r in rows(client, Report)} == {kept_id, gone_id}
    assert all(r.reporter_account_id is None for r in rows(client, Report))

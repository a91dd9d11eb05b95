"""Uploads: type from the content, size, EXIF removed, virus scan, nothing half-saved."""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image
from sqlalchemy import func, select

from klug.citizen.applications import attachments, clamav
from klug.citizen.applications.models import Application, ApplicationAttachment
from tests.citizen.applications.conftest import (
    MINIMAL_PDF,
    apply,
    error_summary_links,
    jpeg,
    parking_permit,
    registration_file,
    submitted_reference,
)
from tests.conftest import KnownAccount, log_in

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _rows(client: TestClient) -> tuple[int, int]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        applications = session.scalar(select(func.count()).select_from(Application)) or 0
        files = session.scalar(select(func.count()).select_from(ApplicationAttachment)) or 0
    return applications, files


def _stored_files(client: TestClient) -> list[Path]:
    directory = attachments.files_dir(client.app.state.settings.var_dir)  # type: ignore[attr-defined]
    return sorted(directory.glob("*")) if directory.exists() else []


def _gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (49.0, 26.0, 40.9)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (7.0, 46.0, 8.4)
    data = jpeg(exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo), (
        "test image has GPS"
    )
    return data


def test_a_jpeg_is_stored_without_its_exif_and_gps_data(
    client: TestClient, citizen: KnownAccount
) -> None:
    files = {"registration": ("IMG_0001.JPG", _gps_jpeg(), "image/jpeg")}
    reference = submitted_reference(
        apply(client, "bewohnerparkausweis", parking_permit(), files=files)
    )
    (stored,) = _stored_files(client)
    assert "IMG" not in stored.name and len(stored.name) == 40
    assert stored.resolve().is_relative_to(client.app.state.settings.var_dir.resolve())  # type: ignore[attr-defined]
    data = stored.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (40, 30)
        assert not image.getexif()
    assert b"PhoneMaker" not in data and b"Exif" not in data
    page = client.get(f"/konto/antraege/{reference}")
    assert "IMG_0001.jpg" in page.text


def test_a_pdf_is_kept_as_it_is_and_served_only_to_its_owner(
    client: TestClient, citizen: KnownAccount, make_account: Callable[..., KnownAccount]
) -> None:
    reference = submitted_reference(
        apply(client, "bewohnerparkausweis", parking_permit(), files=registration_file())
    )
    (stored,) = _stored_files(client)
    assert stored.read_bytes() == MINIMAL_PDF
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        attachment_id = session.scalar(select(ApplicationAttachment.id))
    url = f"/konto/antraege/{reference}/dateien/{attachment_id}"
    download = client.get(url)
    assert download.status_code == 200
    assert download.content == MINIMAL_PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["content-security-policy"]
    client.cookies.clear()
    assert client.get(url, follow_redirects=False).status_code == 303  # to the login
    log_in(client, make_account())
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("fahrzeugschein.pdf", b"This is plain text, not a PDF at all." * 10, "nur PDF, JPEG"),
        ("fahrzeugschein.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\n" * 10, "beschädigt"),
        ("foto.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 500, "nur PDF, JPEG"),
        ("leer.pdf", b"", "leer"),
        ("gross.pdf", b"%PDF-1.4\n" + b"0" * attachments.MAX_BYTES + b"\n%%EOF", "10 MB"),
    ],
)
def test_refused_uploads_say_why_and_leave_nothing_behind(
    client: TestClient, citizen: KnownAccount, name: str, data: bytes, fragment: str
) -> None:
    files = {"registration": (name, data, "application/pdf")}
    response = apply(client, "bewohnerparkausweis", parking_permit(), files=files)
    assert response.status_code == 400
    assert fragment in error_summary_links(response)["registration"]
    assert _rows(client) == (0, 0)
    assert _stored_files(client) == []


def test_one_refused_file_keeps_the_accepted_one_from_being_stored(
    client: TestClient, citizen: KnownAccount
) -> None:
    files = {
        **registration_file(),
        "keeper_confirmation": ("vollmacht.pdf", b"GIF89a not allowed", "application/pdf"),
    }
    values = parking_permit(keeper="other", keeper_name="Autohaus Becker")
    response = apply(client, "bewohnerparkausweis", values, files=files, action="save")
    assert response.status_code == 400
    assert list(error_summary_links(response)) == ["keeper_confirmation"]
    assert _rows(client) == (0, 0)
    assert _stored_files(client) == []


# --- ClamAV -----------------------------------------------------------------------


class FakeClamd:
    """Speaks clamd's INSTREAM protocol on a UNIX socket and finds the EICAR test string."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, connection: socket.socket, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = connection.recv(count - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                assert self._read(connection, 10) == b"zINSTREAM\0"
                received = b""
                while True:
                    (size,) = struct.unpack("!L", self._read(connection, 4))
                    if size == 0:
                        break
                    received += self._read(connection, size)
                found = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in received
                connection.sendall(b"stream: Eicar-Signature FOUND\0" if found else b"stream: OK\0")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.path.unlink(missing_ok=True)


@pytest.fixture
def clamd(tmp_path: Path) -> Iterator[FakeClamd]:
    server = FakeClamd(tmp_path / "clamd.sock")
    yield server
    server.close()


def test_the_clamd_protocol(clamd: FakeClamd) -> None:
    assert clamav.scan(str(clamd.path), MINIMAL_PDF) is None
    assert clamav.scan(str(clamd.path), b"%PDF-1.4 " + EICAR + b"\n%%EOF") == "Eicar-Signature"
    with pytest.raises(clamav.ScanUnavailable):
        clamav.scan(str(clamd.path) + ".missing", MINIMAL_PDF)


def test_a_file_with_a_virus_is_refused(
    client_factory: Callable[..., TestClient],
    make_account: Callable[..., KnownAccount],
    clamd: FakeClamd,
) -> None:
    client = client_factory(clamd_socket=str(clamd.path))
    log_in(client, make_account())
    infected = {
        "registration": ("scan.pdf", b"%PDF-1.4\n" + EICAR + b"\n%%EOF\n", "application/pdf")
    }
    response = apply(client, "bewohnerparkausweis", parking_permit(), files=infected)
    assert response.status_code == 400
    assert "Eicar-Signature" in error_summary_links(response)["registration"]
    assert _rows(client) == (0, 0)
    submitted_reference(
        apply(client, "bewohnerparkausweis", parking_permit(), files=registration_file())
    )
    clamd.close()
    response = apply(client, "bewohnerparkausweis", parking_permit(), files=registration_file())
    assert response.status_code == 400
    message = error_summary_links(response)["registration"]
    assert "Virenprüfung ist gerade nicht verfügbar" in message

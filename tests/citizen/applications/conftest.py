"""Helpers for the application tests: valid answers per form, uploads, a citizen."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from klug.citizen.applications import calc
from klug.core.i18n import CITY_TZ
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, csrf_token, soup

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def today() -> dt.date:
    return dt.datetime.now(CITY_TZ).date()


def jpeg(size: tuple[int, int] = (40, 30), exif: bytes | None = None) -> bytes:
    output = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if exif is None:
        image.save(output, format="JPEG")
    else:
        image.save(output, format="JPEG", exif=exif)
    return output.getvalue()


def bulky_waste(**overrides: str) -> dict[str, str]:
    values = {
        "pickup_address-street": "Marktstraße",
        "pickup_address-house_number": "12",
        "pickup_address-postcode": "67655",
        "pickup_address-city": "Kaiserslautern",
        "placement": "kerb",
        "items": "Sofa\nSchrank (zerlegt)",
        "volume_m3": "2,5",
        "pickup_date": calc.collection_dates(today())[0].isoformat(),
        "no_hazardous": "yes",
    }
    values.update(overrides)
    return values


def parking_permit(**overrides: str) -> dict[str, str]:
    values = {
        "given_name": "Erika",
        "family_name": "Mustermann",
        "birth_date": "1980-05-17",
        "residence-street": "Pfaffstraße",
        "residence-house_number": "3",
        "residence-postcode": "67655",
        "residence-city": "Kaiserslautern",
        "plate": "KL-AB 123",
        "keeper": "self",
        "truthful": "yes",
    }
    values.update(overrides)
    return values


def special_use(**overrides: str) -> dict[str, str]:
    start = today() + dt.timedelta(days=20)
    values = {
        "applicant_name": "Umzüge Becker GmbH",
        "use_kind": "container",
        "area_m2": "12",
        "site_point-lat": "49.4447",
        "site_point-lon": "7.7690",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=5)).isoformat(),
        "traffic_safety": "yes",
    }
    values.update(overrides)
    return values


def apply(
    client: TestClient,
    slug: str,
    values: dict[str, str],
    *,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    action: str = "submit",
    path: str | None = None,
) -> Any:
    """Send an application form as a browser would (multipart, with the CSRF token)."""
    target = path or f"/leistungen/{slug}/antrag"
    data = {**values, "action": action, "csrf_token": csrf_token(client, "/konto/")}
    return client.post(
        target,
        data=data,
        files={k: (n, io.BytesIO(b), t) for k, (n, b, t) in (files or {}).items()} or None,
        follow_redirects=False,
    )


def registration_file() -> dict[str, tuple[str, bytes, str]]:
    return {"registration": ("fahrzeugschein.pdf", MINIMAL_PDF, "application/pdf")}


def submitted_reference(response: Any) -> str:
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["location"]
    assert "/konto/antraege/KL-" in location, location
    return location.split("/konto/antraege/")[1].split("?")[0]


def error_summary_links(response: Any) -> dict[str, str]:
    page = soup(response)
    summary = page.find(id="error-summary")
    assert summary is not None, "no error summary"
    return {str(a["href"]).lstrip("#"): a.get_text(strip=True) for a in summary.find_all("a")}


@pytest.fixture
def citizen(logged_in: Callable[..., KnownAccount]) -> KnownAccount:
    return logged_in(Role.CITIZEN)

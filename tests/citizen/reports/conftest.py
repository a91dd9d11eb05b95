"""Helpers of the Mängelmelder tests: reports stored through the service, API keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import catalogue
from klug.citizen.reports.schemas import ReportCreate
from klug.core.audit import SYSTEM
from klug.identity import apikeys

# The Stiftsplatz in Kaiserslautern's centre; 0.00045° of latitude is about 50 m.
CENTRE = (49.4443, 7.7690)


def offset_north(lat: float, metres: float) -> float:
    return lat + metres / 111_195.0


@pytest.fixture
def store_report(client: TestClient) -> Callable[..., int]:
    """Store a report directly (as if submitted earlier); returns its id."""

    def store(
        code: str = "pothole",
        *,
        lat: float | None = CENTRE[0],
        lon: float | None = CENTRE[1],
        description: str = "Tiefes Loch vor der Hausnummer 3",
        answers: dict[str, Any] | None = None,
        email: str | None = None,
        account_id: int | None = None,
        created_at: dt.datetime | None = None,
        address: str | None = None,
    ) -> int:
        category = catalogue().get(code)
        assert category is not None
        report_in = ReportCreate(
            category_code=code,
            description=description,
            lat=lat,
            lon=lon,
            address=address,
            contact_email=email,
            answers=answers if answers is not None else {},
        )
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        with factory() as session:
            report = report_service.create(
                session=session,
                report_in=report_in,
                category=category,
                reporter_account_id=account_id,
                now=created_at,
            )
            session.commit()
            return report.id

    return store


@pytest.fixture
def api_key(client: TestClient) -> Callable[[str], str]:
    """A new API key with the given scopes (the plain key)."""

    def make(scopes: str = "reports.submit") -> str:
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        with factory() as session:
            _key, plain = apikeys.create(
                session=session, name="Open311-App", scopes=scopes, actor=SYSTEM
            )
            session.commit()
            return plain

    return make

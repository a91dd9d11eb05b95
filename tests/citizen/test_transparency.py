"""The transparency page: applications per service against the promised time, reports per
category – the figures computed from what happened, shown as tables and as JSON."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from klug.citizen.applications.models import APPROVED, IN_REVIEW, RECEIVED, REJECTED, Application
from klug.citizen.services.catalogue import find
from tests.conftest import soup

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


def _case(n: int, status: str, submitted_days_ago: float, decided_after_days: float | None):
    submitted = NOW - submitted_days_ago * DAY
    return Application(
        reference=f"KL-2026-{n:06d}",
        service_slug="sperrmuellabholung",
        form_key="sperrmuellabholung",
        status=status,
        values={},
        answers={},
        office="Stadtbildpflege",
        created_at=submitted,
        submitted_at=submitted,
        due_at=submitted + 21 * DAY,
        decided_at=None if decided_after_days is None else submitted + decided_after_days * DAY,
    )


def test_applications_are_measured_against_the_promised_time(client: TestClient) -> None:
    service = find("sperrmuellabholung")
    assert service is not None and service.processing_days == 21
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        session.add_all(
            [
                _case(1, APPROVED, 40, 2),
                _case(2, REJECTED, 50, 10),
                _case(3, APPROVED, 60, 30),  # decided after the promised 21 days
                _case(4, RECEIVED, 30, None),  # open and overdue
                _case(5, IN_REVIEW, 3, None),  # open, in time
                _case(6, APPROVED, 400, 5),  # outside the 365-day window
            ]
        )
        session.commit()
    body = client.get("/api/citizen/transparency").json()
    row = next(a for a in body["applications"] if a["service"] == "sperrmuellabholung")
    assert row["submitted"] == 5
    assert row["decided"] == 3
    assert row["median_days_to_decision"] == 10.0
    assert row["share_decided_in_time"] == 0.667
    assert (row["open_now"], row["overdue_now"]) == (2, 1)
    # Services without an online form are not listed: nothing could be counted for them.
    assert all(a["service"] != "personalausweis" for a in body["applications"])
    reports = {r["category"]: r for r in body["reports"]}
    assert {"pothole", "street_light", "illegal_dumping"} <= reports.keys()
    assert reports["pothole"]["open"] == 0 and reports["pothole"]["median_days_to_fix"] is None

    page = soup(client.get("/transparenz"))
    table = page.find("table", attrs={"class": "data-table"})
    rows = {
        tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in table.tbody.find_all("tr")
    }
    assert rows["Sperrmüllabholung anmelden"] == ["5", "3", "10,0 Tage", "21 Tage", "67 %", "2 (1)"]
    assert len(page.find_all("table")) == 2  # applications and reports, both as tables


def test_no_applications_yet_shows_dashes_not_zeros(client: TestClient) -> None:
    page = soup(client.get("/en/transparenz"))
    row = page.find("table").tbody.find("tr")
    cells = [td.get_text(strip=True) for td in row.find_all("td")]
    assert cells[0] == "0"
    assert cells[2] == "–" and cells[4] == "–"  # no median, no share: nothing to measure

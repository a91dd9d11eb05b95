"""Open311 GET requests: filters, the 90-day window, the 1,000 cap, and what is public."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from klug.citizen.reports import service as report_service
from klug.citizen.reports.models import Report
from klug.citizen.reports.schemas import StatusChange
from klug.core.audit import SYSTEM
from tests.citizen.reports.conftest import CENTRE
from tests.conftest import BACKEND

V2 = "/open311/v2"
NOW = dt.datetime.now(dt.UTC)


def ids(client: TestClient, query: str) -> list[str]:
    response = client.get(f"{V2}/requests.json?{query}")
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in response.json()]


def test_filters_by_status_code_and_id(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    hole = store_report("pothole", created_at=NOW - dt.timedelta(days=3))
    light = store_report(
        "street_light", answers={"fault": "off"}, created_at=NOW - dt.timedelta(days=2)
    )
    graffiti = store_report("graffiti", created_at=NOW - dt.timedelta(days=1))
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        report = report_service.get(session=session, report_id=light)
        assert report is not None
        report_service.change_status(
            session=session, report=report, change=StatusChange(status="closed"), actor=SYSTEM
        )
        session.commit()
    hole, light, graffiti = str(hole), str(light), str(graffiti)

    assert ids(client, "") == [graffiti, light, hole]  # newest first
    assert ids(client, "status=open") == [graffiti, hole]
    assert ids(client, "status=closed") == [light]
    assert ids(client, "status=open,closed") == [graffiti, light, hole]
    assert ids(client, "service_code=pothole,graffiti") == [graffiti, hole]
    assert ids(client, "service_code=pothole&status=closed") == []
    # service_request_id overrides every other argument
    assert ids(client, f"service_request_id={hole},{light}&service_code=graffiti") == [light, hole]
    root = ET.fromstring(client.get(f"{V2}/requests.xml?status=closed").content)  # noqa: S314 - our own server's answer
    assert [r.findtext("status") for r in root.findall("./request")] == ["closed"]


def test_the_date_window(client: TestClient, store_report: Callable[..., int]) -> None:
    old = str(store_report(created_at=NOW - dt.timedelta(days=120)))
    recent = str(store_report(created_at=NOW - dt.timedelta(days=10)))
    assert ids(client, "") == [recent]  # the last 90 days by default
    start = (NOW - dt.timedelta(days=130)).isoformat()
    end = (NOW - dt.timedelta(days=100)).isoformat()
    query = f"start_date={start}&end_date={end}".replace("+", "%2B")
    assert ids(client, query) == [old]
    # only a start: 90 days from it
    assert ids(client, "start_date=" + start.replace("+", "%2B")) == [old]
    # a client that forgets to encode "+" of the offset still gets what it meant
    assert ids(client, f"start_date={start}&end_date={end}") == [old]


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-05-01T00:00:00Z", "90 days"),
        ("start_date=2026-03-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "end_date"),
        ("start_date=yesterday", "start_date"),
        ("end_date=2026-13-45", "end_date"),
        ("status=pending", "status"),
        ("service_request_id=12,abc", "service_request_id"),
        ("service_code=moon_crater", "moon_crater"),
    ],
)
def test_bad_queries_are_400_or_404(client: TestClient, query: str, mentions: str) -> None:
    response = client.get(f"{V2}/requests.json?{query}", headers={"Accept-Language": "en"})
    assert response.status_code in (400, 404), response.text
    (error,) = response.json()
    assert error["code"] == response.status_code
    assert mentions in error["description"]
    xml_response = client.get(f"{V2}/requests.xml?{query}")
    assert xml_response.status_code == response.status_code
    assert ET.fromstring(xml_response.content).tag == "errors"  # noqa: S314 - our own server's answer


def test_at_most_1000_newest_first(client: TestClient) -> None:
    rows = [
        {
            "category_code": "graffiti",
            "status": "received",
            "description": "",
            "lat": CENTRE[0],
            "lon": CENTRE[1],
            "answers": {},
            "agency_responsible": "Stadtbildpflege Kaiserslautern",
            "supporters": 0,
            "token": f"t{i}",
            "source": "web",
            "created_at": NOW - dt.timedelta(minutes=i),
            "updated_at": NOW - dt.timedelta(minutes=i),
            "is_demo": False,
        }
        for i in range(1005)
    ]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        session.execute(insert(Report), rows)
        session.commit()
    found = client.get(f"{V2}/requests.json").json()
    assert len(found) == 1000
    times = [dt.datetime.fromisoformat(r["requested_datetime"]) for r in found]
    assert times == sorted(times, reverse=True)
    assert times[0] >= (NOW - dt.timedelta(minutes=1)).replace(microsecond=0)


def test_internal_notes_and_contact_data_never_leave_the_console(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    report_id = store_report(email="anwohner@example.org")
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        report = report_service.get(session=session, report_id=report_id)
        assert report is not None
        report_service.change_status(
            session=session,
            report=report,
            change=StatusChange(
                status="in_progress",
                public_note="Die Kolonne kommt am Montag.",
                internal_note="INTERN: Firma Muster beauftragt",
            ),
            actor=SYSTEM,
        )
        session.commit()
    for path in (
        "requests.json",
        "requests.xml",
        f"requests/{report_id}.json",
        f"requests/{report_id}.xml",
    ):
        body = client.get(f"{V2}/{path}").text
        assert "INTERN" not in body and "anwohner@" not in body, path
    (found,) = client.get(f"{V2}/requests/{report_id}.json").json()
    assert found["status"] == "open" and found["status_notes"] == "Die Kolonne kommt am Montag."
    assert client.get(f"{V2}/requests/99999.json").status_code == 404


def test_the_requests_query_uses_an_index(client: TestClient) -> None:
    """Newest first within a window must be served by an index, not by sorting the table."""
    start, end = NOW - dt.timedelta(days=90), NOW
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        for filters, index in (
            ({}, "ix_citizen_report_created_at"),
            ({"statuses": ["closed"]}, "ix_citizen_report_status_created_at"),
            ({"category_codes": ["pothole"]}, "ix_citizen_report_category_created_at"),
        ):
            query = report_service.open311_query(start=start, end=end, limit=1000, **filters)  # type: ignore[arg-type]
            compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            if BACKEND == "postgres":
                session.execute(text("SET LOCAL enable_seqscan = off"))
                plan = " ".join(r[0] for r in session.execute(text(f"EXPLAIN {compiled}")))
            else:
                plan = " ".join(
                    str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
                )
            assert index in plan, (filters, plan)
            assert "TEMP B-TREE" not in plan.upper(), (filters, plan)
            session.rollback()


def test_kept_answers_follow_every_change(
    client: TestClient, store_report: Callable[..., int]
) -> None:
    """Polls are answered from memory, but never with an answer older than the data."""
    first = store_report()
    assert ids(client, "") == [str(first)]
    assert ids(client, "") == [str(first)]  # kept
    second = store_report("graffiti", answers={"offensive": "no"})
    assert ids(client, "") == [str(second), str(first)]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        report = report_service.get(session=session, report_id=first)
        assert report is not None
        report_service.change_status(
            session=session, report=report, change=StatusChange(status="closed"), actor=SYSTEM
        )
        session.commit()
    statuses = [r["status"] for r in client.get(f"{V2}/requests.json").json()]
    assert statuses == ["open", "closed"]
    english = client.get(f"{V2}/requests.json", headers={"Accept-Language": "en"}).json()
    assert english[0]["service_name"] == "Graffiti" and english[1]["service_name"] == "Pothole"
    assert client.get(f"{V2}/requests.json").json()[1]["service_name"] == "Schlagloch"

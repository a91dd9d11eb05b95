"""The demo city's reports: plausible, labelled as demo data, seeded once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from klug.citizen.reports import figures
from klug.citizen.reports.categories import catalogue
from klug.citizen.reports.models import Report, ReportEvent
from klug.sim.reports import COUNT, seed_reports
from tests.conftest import soup


def test_demo_reports_are_seeded_once_and_labelled(client: TestClient) -> None:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        assert seed_reports(session) == COUNT
        session.commit()
        assert seed_reports(session) == 0
        session.commit()
        reports = list(session.scalars(select(Report)))
        assert len(reports) == COUNT == 30
        assert all(r.is_demo and r.source == "demo" for r in reports)
        known = catalogue()
        assert all(
            r.lat is not None and r.lon is not None and known.area.contains(r.lat, r.lon)
            for r in reports
        )
        assert {r.category_code for r in reports} == {c.code for c in known.categories}
        statuses = {r.status for r in reports}
        assert statuses == {"received", "in_progress", "closed"}
        closed = [r for r in reports if r.status == "closed"]
        assert all(r.closed_at is not None and r.closed_at > r.created_at for r in closed)
        assert session.scalar(select(func.count()).select_from(ReportEvent)) > COUNT
        published = figures.statistics(session=session, catalogue=known)
        assert any(f.median_days_to_fix is not None for f in published)
    page = soup(client.get("/en/maengelmelder")).find("main")
    assert page.find("tbody").find(class_="badge").get_text(strip=True) == "demo"

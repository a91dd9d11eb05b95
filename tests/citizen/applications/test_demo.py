"""The demo applications: seeded once, in the statuses a caseworker meets."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.citizen.applications.demo import seed_demo_applications
from klug.citizen.applications.models import Application
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, log_in, soup


def test_demo_applications_are_seeded_once_and_shown(
    client: TestClient,
    make_account: Callable[..., KnownAccount],
    client_factory: Callable[..., TestClient],
) -> None:
    citizen = make_account()
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    for _ in range(2):
        with factory() as session:
            seed_demo_applications(session=session, account_id=citizen.id)
            session.commit()
    with factory() as session:
        rows = session.scalars(select(Application).order_by(Application.id)).all()
        statuses = sorted(a.status for a in rows)
        references = [a.reference for a in rows if a.reference]
    assert statuses == ["approved", "draft", "in_review", "more_info_needed", "received"]
    assert all(a.is_demo for a in rows)
    log_in(client, citizen)
    listing = soup(client.get("/konto/antraege")).get_text()
    assert all(reference in listing for reference in references)
    waiting = next(a for a in rows if a.status == "more_info_needed")
    page = soup(client.get(f"/konto/antraege/{waiting.reference}"))
    assert "Fahrzeugschein" in page.find(class_="thread").get_text()
    staff = client_factory()
    log_in(staff, make_account(Role.CASEWORKER))
    queue = soup(staff.get("/console/antraege"))
    assert len(queue.select("tr.row--overdue")) == 1

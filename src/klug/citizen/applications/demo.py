"""Demo applications of the demo citizen, in the statuses a caseworker meets (idempotent).

They go through the same steps as real ones (reference, history, messages) and carry
the demo flag, so the console marks them and a real installation never has them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from klug.citizen.applications import calc
from klug.citizen.applications import service as application_service
from klug.citizen.applications.models import (
    APPROVED,
    DRAFT,
    IN_REVIEW,
    MORE_INFO_NEEDED,
    RECEIVED,
    Application,
    ApplicationEvent,
    ApplicationMessage,
)
from klug.citizen.services import catalogue as services_catalogue
from klug.core.db import utcnow
from klug.core.i18n import CITY_TZ

_ADDRESS = {
    "street": "Marktstraße",
    "house_number": "12",
    "postcode": "67655",
    "city": "Kaiserslautern",
}


def _answers(today: dt.date) -> dict[str, dict[str, Any]]:
    start = today + dt.timedelta(days=21)
    return {
        "sperrmuellabholung": {
            "pickup_address": _ADDRESS,
            "placement": "kerb",
            "items": "Sofa\nKleiderschrank (zerlegt)\nMatratze",
            "volume_m3": 2.5,
            "pickup_date": calc.collection_dates(today)[0].isoformat(),
            "no_hazardous": True,
        },
        "bewohnerparkausweis": {
            "given_name": "Erika",
            "family_name": "Demo",
            "birth_date": "1985-04-12",
            "residence": _ADDRESS,
            "plate": "KL-DE 123",
            "keeper": "self",
            "registration": "fahrzeugschein-demo.pdf",
            "truthful": True,
        },
        "sondernutzungserlaubnis": {
            "applicant_name": "Erika Demo",
            "use_kind": "container",
            "area_m2": 10,
            "site_address": {**_ADDRESS, "street": "Fackelstraße", "house_number": "5"},
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=4)).isoformat(),
            "traffic_safety": True,
        },
    }


# (service, days since submission, status path after "received", staff message)
_CASES = [
    ("sperrmuellabholung", 2, [], None),
    (
        "bewohnerparkausweis",
        6,
        [IN_REVIEW, MORE_INFO_NEEDED],
        "Bitte laden Sie den Fahrzeugschein noch einmal lesbar hoch (Demo).",
    ),
    ("sondernutzungserlaubnis", 12, [IN_REVIEW, APPROVED], None),
    ("sperrmuellabholung", 30, [IN_REVIEW], None),
]


def seed_demo_applications(*, session: Session, account_id: int) -> None:
    """A draft and four cases (received, more information needed, approved, overdue)."""
    if session.scalar(select(Application.id).where(Application.is_demo.is_(True)).limit(1)):
        return
    now = utcnow()
    answers = _answers(now.astimezone(CITY_TZ).date())
    for slug, age_days, path, message in _CASES:
        service = services_catalogue.find(slug)
        assert service is not None and service.online_form is not None
        submitted = now - dt.timedelta(days=age_days)
        case = Application(
            reference=application_service.next_reference(
                session, year=submitted.astimezone(CITY_TZ).year
            ),
            service_slug=slug,
            form_key=service.online_form,
            account_id=account_id,
            status=path[-1] if path else RECEIVED,
            values={},
            answers=answers[slug],
            office=service.office.name.de,
            created_at=submitted,
            updated_at=submitted,
            submitted_at=submitted,
            due_at=submitted + dt.timedelta(days=service.processing_days or 14),
            is_demo=True,
        )
        session.add(case)
        session.flush()
        session.add(
            ApplicationEvent(
                application_id=case.id, occurred_at=submitted, kind="submitted", to_status=RECEIVED
            )
        )
        previous = RECEIVED
        for step, status in enumerate(path, start=1):
            session.add(
                ApplicationEvent(
                    application_id=case.id,
                    occurred_at=submitted + dt.timedelta(hours=20 * step),
                    kind="status",
                    from_status=previous,
                    to_status=status,
                )
            )
            previous = status
        if message:
            session.add(
                ApplicationMessage(
                    application_id=case.id,
                    from_staff=True,
                    body=message,
                    created_at=submitted + dt.timedelta(hours=20 * len(path)),
                )
            )
    session.add(
        Application(
            service_slug="sondernutzungserlaubnis",
            form_key="sondernutzungserlaubnis",
            account_id=account_id,
            status=DRAFT,
            values={"applicant_name": "Erika Demo", "use_kind": "scaffold"},
            answers={},
            office="Referat Tiefbau, Sondernutzungen",
            is_demo=True,
        )
    )
    session.flush()

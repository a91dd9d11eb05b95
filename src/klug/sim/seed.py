"""Seed the demo city: one account per role, a demo notice, the demo flag.

Demo accounts use the reserved domain ``example.org`` (RFC 2606); their passwords and
TOTP seeds are new at every start and printed once by ``klug demo``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from klug.citizen.applications.demo import seed_demo_applications
from klug.citizen.content import service as content_service
from klug.citizen.content.schemas import NoticeCreate
from klug.core.db import DEMO_FLAG, write_flag
from klug.core.security import SecretBox, new_totp_secret
from klug.identity import service as account_service
from klug.identity.permissions import STAFF_ROLES, Role
from klug.sim.content import seed_content
from klug.sim.energy import seed_energy
from klug.sim.reports import seed_citizen_reports, seed_reports
from klug.sim.sensors import seed_sensors

DEMO_DOMAIN = "demo.klug.example.org"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    totp_secret: str | None


def demo_email(role: Role) -> str:
    return f"{role.value.replace('_', '-')}@{DEMO_DOMAIN}"


def seed_demo(*, session: Session, secret: bytes) -> list[DemoAccount]:
    box = SecretBox(secret)
    created = []
    for role in Role:
        password = secrets.token_urlsafe(12)
        totp = new_totp_secret() if role in STAFF_ROLES else None
        account_service.upsert_demo_account(
            session=session,
            email=demo_email(role),
            role=role,
            password=password,
            totp_secret=totp,
            box=box,
        )
        created.append(DemoAccount(role.value, demo_email(role), password, totp))
    if not any(n.is_demo for n in content_service.list_current(session=session)):
        content_service.create(
            session=session,
            notice_in=NoticeCreate(
                title_de="Demo-Betrieb",
                title_en="Demo mode",
                body_de="Diese Installation zeigt eine simulierte Stadt. "
                "Alle Messwerte sind erfunden.",
                body_en="This installation shows a simulated city. All measurements are made up.",
            ),
            actor=None,
            is_demo=True,
        )
    seed_content(session)
    seed_sensors(session)
    seed_energy(session)
    seed_reports(session)
    demo_citizen = account_service.get_by_email(session=session, email=demo_email(Role.CITIZEN))
    if demo_citizen is not None:
        seed_demo_applications(session=session, account_id=demo_citizen.id)
        seed_citizen_reports(session, demo_citizen.id)
    write_flag(session, DEMO_FLAG, "true")
    return created

"""How a person wants to hear about their applications and reports.

The choice belongs to the account; the domains that write the mails ask for it
(``klug.citizen.notifications``). It never touches account and security mails
(address confirmation, password reset, login warnings) nor the confirmation of a
submitted application, which is its receipt.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from klug.core import audit
from klug.core.audit import Actor
from klug.core.i18n import N_
from klug.identity.models import Account

IMMEDIATE = "immediate"
DIGEST = "digest"
NONE = "none"
MODES = (IMMEDIATE, DIGEST, NONE)
MODE_LABELS = {
    IMMEDIATE: N_("Immediately: one e-mail for each change"),
    DIGEST: N_("Once a day: one e-mail listing the changes of the day"),
    NONE: N_("No e-mails: I look in my account"),
}

Mode = Literal["immediate", "digest", "none"]


class NotificationForm(BaseModel):
    notification_mode: Mode


def set_mode(
    *, session: Session, account: Account, mode: Mode, actor: Actor, ip: str | None = None
) -> bool:
    """Keep the account's choice, audited; False when it was already the choice."""
    previous = account.notification_mode
    if previous == mode:
        return False
    account.notification_mode = mode
    session.flush()
    audit.record(
        session,
        action="account.notifications_changed",
        actor=actor,
        target_kind="account",
        target_id=account.id,
        ip=ip,
        detail={"from": previous, "to": mode},
    )
    return True

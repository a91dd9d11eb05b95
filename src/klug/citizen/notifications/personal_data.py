"""Digest entries not sent yet in "download my data"; deleted with the account (the
preference itself belongs to the account: ``klug.identity.personal_data``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

from klug.citizen.notifications import service as notification_service
from klug.citizen.notifications.models import DigestEntry
from klug.core.personal_data import Export


def export(session: Session, account_id: int, var_dir: Path) -> Export:
    return Export(
        {
            "pending_digest": [
                {
                    "kind": e.kind,
                    "reference": e.reference,
                    "link": e.link,
                    "created_at": e.created_at,
                }
                for e in notification_service.pending(session=session, account_id=account_id)
            ]
        }
    )


def erase(session: Session, account_id: int, var_dir: Path) -> None:
    session.execute(delete(DigestEntry).where(DigestEntry.account_id == account_id))

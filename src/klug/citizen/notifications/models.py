"""Pending entries of the daily digest: what happened and where to look – never what was
written (the digest, like every mail, carries references and links only)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from klug.core.db import Base, UtcDateTime, utcnow

APPLICATION_STATUS = "application_status"
APPLICATION_MESSAGE = "application_message"
REPORT_STATUS = "report_status"
KINDS = (APPLICATION_STATUS, APPLICATION_MESSAGE, REPORT_STATUS)


class DigestEntry(Base):
    """One change waiting for the account's next daily digest (deleted when it is sent)."""

    __tablename__ = "citizen_digest_entry"
    __table_args__ = (Index("ix_citizen_digest_entry_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("identity_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    # An application's reference (KL-2026-000123) or a report's number.
    reference: Mapped[str] = mapped_column(String(40))
    link: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

"""Site notices (banners on every page) and accessibility feedback."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from klug.core.db import Base, UtcDateTime, utcnow


class SiteNotice(Base):
    """A short notice shown on every page while it is current (e.g. an outage)."""

    __tablename__ = "citizen_site_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_de: Mapped[str] = mapped_column(String(160))
    title_en: Mapped[str] = mapped_column(String(160))
    body_de: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16), default="info")
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )
    is_demo: Mapped[bool] = mapped_column(default=False)


class AccessibilityFeedback(Base):
    """A report of an accessibility barrier (required by BITV 2.0 §7)."""

    __tablename__ = "citizen_accessibility_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    page_url: Mapped[str] = mapped_column(String(500), default="")
    message: Mapped[str] = mapped_column(Text)
    # Optional: only for a reply. Personal data is kept to what the sender chose to give.
    reply_email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(2))

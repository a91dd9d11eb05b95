"""Site notices, accessibility feedback, and the pages, news and events editors keep."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class ContentImage(Base):
    """An uploaded picture, re-encoded without metadata and kept outside the web root.

    Alt texts are required in both languages (WCAG 1.1.1): an image without one is
    never stored.
    """

    __tablename__ = "citizen_content_image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The file's name under ``<var_dir>/content/images/``; random, never from the upload.
    file_name: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(32))
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    alt_de: Mapped[str] = mapped_column(String(300))
    alt_en: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )


class ContentItem(Base):
    """A page, news item or event that editors keep in German and English.

    English fields may stay empty: pages then show the German text, marked as German.
    The public sees an item only while it is published and its publish time has come.
    """

    __tablename__ = "citizen_content_item"
    __table_args__ = (UniqueConstraint("kind", "slug", name="uq_citizen_content_item_kind_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), index=True)
    title_de: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    summary_de: Mapped[str] = mapped_column(String(500), default="")
    summary_en: Mapped[str] = mapped_column(String(500), default="")
    body_de: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    # Events only.
    starts_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), index=True)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    place_de: Mapped[str] = mapped_column(String(200), default="")
    place_en: Mapped[str] = mapped_column(String(200), default="")
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizen_content_image.id", ondelete="SET NULL")
    )
    image: Mapped[ContentImage | None] = relationship(lazy="joined")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )
    is_demo: Mapped[bool] = mapped_column(default=False)

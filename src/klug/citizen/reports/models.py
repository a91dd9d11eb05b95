"""Tables of the Mängelmelder: reports, their status timeline and their supporters.

A report's contact data (the reporter's account or e-mail) lives in the report row and
is read only by staff; pages and Open311 answers are built from explicit lists of
public fields (``service``), never from the row as a whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from klug.core.db import Base, UtcDateTime, utcnow

# Internal states; Open311 knows only "open" (received, in progress) and "closed".
RECEIVED = "received"
IN_PROGRESS = "in_progress"
CLOSED = "closed"
STATUSES = (RECEIVED, IN_PROGRESS, CLOSED)
OPEN_STATUSES = (RECEIVED, IN_PROGRESS)


class Report(Base):
    """A problem in public space reported by a citizen or an Open311 client."""

    __tablename__ = "citizen_report"
    __table_args__ = (
        # Open311 GET requests: newest first within a time window, optionally by status
        # or service code; the duplicate search: open reports of a category by latitude.
        Index("ix_citizen_report_created_at", "created_at"),
        Index("ix_citizen_report_status_created_at", "status", "created_at"),
        Index("ix_citizen_report_category_created_at", "category_code", "created_at"),
        Index("ix_citizen_report_category_status_lat", "category_code", "status", "lat"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    address_id: Mapped[str | None] = mapped_column(String(64))
    location_text: Mapped[str | None] = mapped_column(String(500))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    media_url: Mapped[str | None] = mapped_column(String(500))
    agency_responsible: Mapped[str] = mapped_column(String(200), default="")
    # The latest public note of staff (Open311 status_notes).
    status_notes: Mapped[str | None] = mapped_column(Text)
    supporters: Mapped[int] = mapped_column(Integer, default=0)
    # Contact data: staff only. Anonymous reports have neither.
    reporter_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL"), index=True
    )
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # Open311 tokens/{token}; random, so that it says nothing about other reports.
    token: Mapped[str] = mapped_column(String(40), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="web")
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_api_key.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    is_demo: Mapped[bool] = mapped_column(default=False)

    @property
    def is_open(self) -> bool:
        return self.status != CLOSED


class ReportEvent(Base):
    """One step of a report's timeline: a status (changed or not) with notes."""

    __tablename__ = "citizen_report_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_report.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    public_note: Mapped[str | None] = mapped_column(Text)
    # Never shown to citizens nor through Open311.
    internal_note: Mapped[str | None] = mapped_column(Text)
    actor_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="SET NULL")
    )


class ReportSupporter(Base):
    """Someone who has the same problem ("me too") and wants to follow the report."""

    __tablename__ = "citizen_report_supporter"
    __table_args__ = (
        UniqueConstraint("report_id", "account_id", name="uq_citizen_report_supporter_account"),
        UniqueConstraint("report_id", "email", name="uq_citizen_report_supporter_email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_report.id", ondelete="CASCADE"), index=True
    )
    # Indexed for "reports I support" in the citizen's account.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_account.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReportRevision(Base):
    """A counter raised in the transaction of every change that Open311 answers show, so
    that each process can keep answers until the data changes (one row, id 1)."""

    __tablename__ = "citizen_report_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class ReportPhoto(Base):
    """The photo sent with a report, re-encoded from its pixels (no EXIF, no GPS).

    Staff see it at once; the public (page, Open311 ``media_url``) only once staff have
    published it, since a photo may show people or number plates. The file lives under
    the var dir, named ``stored_name``.
    """

    __tablename__ = "citizen_report_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_report.id", ondelete="CASCADE"), unique=True
    )
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReportPhotoUpload(Base):
    """A photo already checked and re-encoded whose report is not sent yet (the form came
    back with errors, or the duplicates step is shown): kept for an hour, found by the
    hash of a random token in the form, and only for the browser or account it came from.
    """

    __tablename__ = "citizen_report_photo_upload"
    __table_args__ = (Index("ix_citizen_report_photo_upload_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner_hash: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    # Whether the citizen allowed reading the photo's location when uploading it; the
    # position found then (None: the photo had none). Without consent never read.
    location_read: Mapped[bool] = mapped_column(default=False)
    photo_lat: Mapped[float | None] = mapped_column(Float)
    photo_lon: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

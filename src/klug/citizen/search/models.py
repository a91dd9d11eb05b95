"""The search index: one row per published thing and audience language.

Any kind of thing can be indexed (``kind`` + ``key``): content items today, the
service catalogue later. The full-text structures are backend-specific and live only
in the migration: an FTS5 table ``citizen_search_fts`` (rowid = entry id) on SQLite,
and a generated ``search_vector`` column with a GIN index on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from klug.core.db import Base, UtcDateTime, utcnow


class SearchEntry(Base):
    __tablename__ = "citizen_search_entry"
    __table_args__ = (
        UniqueConstraint("kind", "key", "language", name="uq_citizen_search_entry_kind_key_lang"),
        Index("ix_citizen_search_entry_visible", "id", "language", "visible_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(160))
    # The visitor's language this row answers for ...
    language: Mapped[str] = mapped_column(String(2))
    # ... and the language its text is in: German where English is missing, so that
    # German stemming applies and pages can mark the hit as German.
    text_language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    # The page path in German form (``/aktuelles/…``); pages localise it.
    path: Mapped[str] = mapped_column(String(500))
    # Scheduled publications are indexed at once but found only from this time on.
    visible_from: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

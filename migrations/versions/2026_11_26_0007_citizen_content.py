"""Citizen content: pages, news and events with images; the full-text search index.

Revision ID: 20261126_0007
Revises: 20261126_0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261126_0007"
down_revision: str | None = "20261126_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# German stemming for German text (also in the English rows that fall back to it),
# English for English; the title weighs A, the text B, so that title hits rank first.
_PG_CONFIG = "CASE text_language WHEN 'en' THEN 'english'::regconfig ELSE 'german'::regconfig END"
_PG_VECTOR = (
    f"setweight(to_tsvector({_PG_CONFIG}, coalesce(title, '')), 'A') || "
    f"setweight(to_tsvector({_PG_CONFIG}, coalesce(text, '')), 'B')"
)


def upgrade() -> None:
    op.create_table(
        "citizen_content_image",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file_name", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("alt_de", sa.String(300), nullable=False),
        sa.Column("alt_en", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_by_id",
            sa.Integer(),
            sa.ForeignKey(
                "identity_account.id",
                ondelete="SET NULL",
                name="fk_citizen_content_image_created_by_id_identity_account",
            ),
            nullable=True,
        ),
        sa.UniqueConstraint("file_name", name="uq_citizen_content_image_file_name"),
    )
    op.create_table(
        "citizen_content_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title_de", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("summary_de", sa.String(500), nullable=False),
        sa.Column("summary_en", sa.String(500), nullable=False),
        sa.Column("body_de", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("place_de", sa.String(200), nullable=False),
        sa.Column("place_en", sa.String(200), nullable=False),
        sa.Column(
            "image_id",
            sa.Integer(),
            sa.ForeignKey(
                "citizen_content_image.id",
                ondelete="SET NULL",
                name="fk_citizen_content_item_image_id_citizen_content_image",
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_by_id",
            sa.Integer(),
            sa.ForeignKey(
                "identity_account.id",
                ondelete="SET NULL",
                name="fk_citizen_content_item_updated_by_id_identity_account",
            ),
            nullable=True,
        ),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("kind", "slug", name="uq_citizen_content_item_kind_slug"),
    )
    op.create_index(
        "ix_citizen_content_item_published_at", "citizen_content_item", ["published_at"]
    )
    op.create_index("ix_citizen_content_item_starts_at", "citizen_content_item", ["starts_at"])

    op.create_table(
        "citizen_search_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("text_language", sa.String(2), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("visible_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "kind", "key", "language", name="uq_citizen_search_entry_kind_key_lang"
        ),
    )
    # Covers what a search checks of every matching row (SQLite: no visit of the row
    # and its long text); PostgreSQL filters on the same columns after the GIN scan.
    op.create_index(
        "ix_citizen_search_entry_visible",
        "citizen_search_entry",
        ["id", "language", "visible_from"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE citizen_search_entry ADD COLUMN search_vector tsvector"
            f" GENERATED ALWAYS AS ({_PG_VECTOR}) STORED"
        )
        op.execute(
            "CREATE INDEX ix_citizen_search_entry_search_vector"
            " ON citizen_search_entry USING gin (search_vector)"
        )
    else:
        # Holds the stemmed words (klug.citizen.search.text); rowid = the entry's id.
        # unicode61 with remove_diacritics 2 folds what stemming leaves (é, ñ, ü in
        # English text), so "Bürgerbüro" and "Burgerburo" meet. The visitor language
        # is a column too: a search then never ranks the other language's rows.
        op.execute(
            "CREATE VIRTUAL TABLE citizen_search_fts USING fts5("
            "title, body, language, tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS citizen_search_fts")
    op.drop_index("ix_citizen_search_entry_visible", table_name="citizen_search_entry")
    op.drop_table("citizen_search_entry")
    op.drop_index("ix_citizen_content_item_starts_at", table_name="citizen_content_item")
    op.drop_index("ix_citizen_content_item_published_at", table_name="citizen_content_item")
    op.drop_table("citizen_content_item")
    op.drop_table("citizen_content_image")

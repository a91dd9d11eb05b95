"""Use cases of pages, news and events: edit, publish, list, show in a language.

Every change is audited in the same transaction as the change itself, and the search
index follows in that transaction too: what the index finds is what is published.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from klug.citizen.content import markdown
from klug.citizen.content.models import ContentItem
from klug.citizen.content.schemas import ContentKind, ItemCreate
from klug.citizen.search import service as search_service
from klug.core import audit
from klug.core.audit import Actor
from klug.core.db import utcnow
from klug.core.i18n import LANGUAGES, Language

PUBLIC_PATHS: dict[str, str] = {
    "page": "/seiten",
    "news": "/aktuelles",
    "event": "/veranstaltungen",
}
DRAFT, PUBLISHED = "draft", "published"


class SlugTaken(Exception):
    """Another item of the same kind already has this address."""


@dataclass(frozen=True)
class Localised:
    """A text and the language it is really in (German where English is missing)."""

    text: str
    language: Language


@dataclass(frozen=True)
class ShownImage:
    id: int
    alt: Localised
    width_px: int
    height_px: int


@dataclass(frozen=True)
class ShownItem:
    """An item as a page in one language shows it."""

    id: int
    kind: str
    slug: str
    path: str
    title: Localised
    # The editor's summary, or else the beginning of the text (for lists and the feed).
    summary: Localised
    summary_written: bool
    body_html: Markup
    body_language: Language
    published_at: dt.datetime | None
    updated_at: dt.datetime
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    place: Localised
    image: ShownImage | None
    # Anything on an English page that is shown in German.
    in_german_only: bool


def public_path(item: ContentItem) -> str:
    return f"{PUBLIC_PATHS[item.kind]}/{item.slug}"


_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def slug_from(title: str) -> str:
    """``Müllabfuhr 2027: neue Termine`` → ``muellabfuhr-2027-neue-termine``."""
    ascii_title = (
        unicodedata.normalize("NFKD", title.lower().translate(_TRANSLITERATION))
        .encode("ascii", "ignore")
        .decode()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:80].rstrip("-")
    return slug or "eintrag"


def _pick(german: str, english: str, language: Language) -> Localised:
    if language == "en" and english.strip():
        return Localised(english, "en")
    return Localised(german, "de")


def shown(item: ContentItem, language: Language) -> ShownItem:
    title = _pick(item.title_de, item.title_en, language)
    body = _pick(item.body_de, item.body_en, language)
    summary = _pick(item.summary_de, item.summary_en, language)
    summary_written = bool(summary.text)
    if not summary_written:
        summary = Localised(markdown.excerpt(body.text), body.language)
    place = _pick(item.place_de, item.place_en, language)
    image = None
    if item.image is not None:
        image = ShownImage(
            id=item.image.id,
            alt=Localised(item.image.alt_en, "en")
            if language == "en"
            else Localised(item.image.alt_de, "de"),
            width_px=item.image.width_px,
            height_px=item.image.height_px,
        )
    texts = [title, body, summary] + ([place] if item.kind == "event" else [])
    return ShownItem(
        id=item.id,
        kind=item.kind,
        slug=item.slug,
        path=public_path(item),
        title=title,
        summary=summary,
        summary_written=summary_written,
        body_html=markdown.to_html(body.text),
        body_language=body.language,
        published_at=item.published_at,
        updated_at=item.updated_at,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        place=place,
        image=image,
        in_german_only=any(t.language != language for t in texts),
    )


# --- the search index -------------------------------------------------------------------


def _reindex(session: Session, item: ContentItem) -> None:
    key = str(item.id)
    if item.status != PUBLISHED or item.published_at is None:
        search_service.remove(session=session, kind=item.kind, key=key)
        return
    documents = []
    plain: dict[str, str] = {}  # English rows often repeat the German body
    for language in LANGUAGES:
        title = _pick(item.title_de, item.title_en, language)
        body = _pick(item.body_de, item.body_en, language)
        summary = _pick(item.summary_de, item.summary_en, language)
        # The body's language decides: an English title over a German body is rare,
        # and the text is what most words of a hit come from.
        if body.text not in plain:
            plain[body.text] = markdown.to_text(body.text)
        pieces = [summary.text, plain[body.text]]
        if item.kind == "event":
            pieces.insert(0, _pick(item.place_de, item.place_en, language).text)
        documents.append(
            search_service.Document(
                kind=item.kind,
                key=key,
                language=language,
                text_language=body.language,
                title=title.text,
                text="\n".join(p for p in pieces if p),
                path=public_path(item),
                visible_from=item.published_at,
            )
        )
    search_service.index(session=session, documents=documents)


# --- changes --------------------------------------------------------------------------


def _audit(
    session: Session, action: str, item: ContentItem, actor: Actor | None, ip: str | None
) -> None:
    audit.record(
        session,
        action=f"content.{action}",
        actor=actor,
        target_kind="content_item",
        target_id=item.id,
        ip=ip,
        detail={"kind": item.kind, "slug": item.slug, "status": item.status},
    )


def _slug_taken(session: Session, kind: str, slug: str, except_id: int | None) -> bool:
    query = select(ContentItem.id).where(ContentItem.kind == kind, ContentItem.slug == slug)
    if except_id is not None:
        query = query.where(ContentItem.id != except_id)
    return session.scalar(query) is not None


def _apply(item: ContentItem, item_in: ItemCreate) -> None:
    for name in (
        "title_de", "title_en", "summary_de", "summary_en", "body_de", "body_en",
        "published_at", "place_de", "place_en",
    ):  # fmt: skip
        setattr(item, name, getattr(item_in, name))
    is_event = item.kind == "event"
    item.starts_at = item_in.starts_at if is_event else None
    item.ends_at = item_in.ends_at if is_event else None


def create(
    *,
    session: Session,
    item_in: ItemCreate,
    actor: Actor | None,
    ip: str | None = None,
    is_demo: bool = False,
) -> ContentItem:
    """A new draft. Raises ``SlugTaken`` when the address is in use."""
    slug = item_in.slug or slug_from(item_in.title_de)
    if _slug_taken(session, item_in.kind, slug, None):
        raise SlugTaken(slug)
    item = ContentItem(kind=item_in.kind, slug=slug, status=DRAFT, is_demo=is_demo)
    _apply(item, item_in)
    item.updated_by_id = actor.id if actor and actor.kind == "account" else None
    session.add(item)
    session.flush()
    _audit(session, "created", item, actor, ip)
    return item


def update(
    *,
    session: Session,
    item: ContentItem,
    item_in: ItemCreate,
    actor: Actor | None,
    ip: str | None = None,
) -> ContentItem:
    slug = item_in.slug or item.slug
    if _slug_taken(session, item.kind, slug, item.id):
        raise SlugTaken(slug)
    item.slug = slug
    _apply(item, item_in)
    if item.status == PUBLISHED and item.published_at is None:
        item.published_at = utcnow()
    item.updated_at = utcnow()
    item.updated_by_id = actor.id if actor and actor.kind == "account" else None
    session.flush()
    _reindex(session, item)
    _audit(session, "updated", item, actor, ip)
    return item


def publish(
    *, session: Session, item: ContentItem, actor: Actor | None, ip: str | None = None
) -> ContentItem:
    """Publish now, or at the publish time the editor set (scheduled, or back-dated)."""
    item.status = PUBLISHED
    if item.published_at is None:
        item.published_at = utcnow()
    item.updated_at = utcnow()
    session.flush()
    _reindex(session, item)
    _audit(session, "published", item, actor, ip)
    return item


def unpublish(
    *, session: Session, item: ContentItem, actor: Actor | None, ip: str | None = None
) -> ContentItem:
    item.status = DRAFT
    item.published_at = None
    item.updated_at = utcnow()
    session.flush()
    _reindex(session, item)
    _audit(session, "unpublished", item, actor, ip)
    return item


def delete(
    *, session: Session, item: ContentItem, actor: Actor | None, ip: str | None = None
) -> None:
    """Remove an item (its image goes with it: see ``images.forget``)."""
    _audit(session, "deleted", item, actor, ip)
    search_service.remove(session=session, kind=item.kind, key=str(item.id))
    session.delete(item)
    session.flush()


# --- reading --------------------------------------------------------------------------


def get(*, session: Session, item_id: int) -> ContentItem | None:
    return session.get(ContentItem, item_id)


def get_by_slug(*, session: Session, kind: ContentKind, slug: str) -> ContentItem | None:
    return session.scalar(
        select(ContentItem).where(ContentItem.kind == kind, ContentItem.slug == slug)
    )


def _visible(now: dt.datetime) -> ColumnElement[bool]:
    return and_(ContentItem.status == PUBLISHED, ContentItem.published_at <= now)


def get_published(*, session: Session, kind: ContentKind, slug: str) -> ContentItem | None:
    """The item as the public may see it: ``None`` for drafts and future publications."""
    return session.scalar(
        select(ContentItem).where(
            ContentItem.kind == kind, ContentItem.slug == slug, _visible(utcnow())
        )
    )


def list_for_console(*, session: Session, kind: str | None = None) -> list[ContentItem]:
    query = select(ContentItem).order_by(ContentItem.updated_at.desc(), ContentItem.id.desc())
    if kind is not None:
        query = query.where(ContentItem.kind == kind)
    return list(session.scalars(query))


def list_news(
    *, session: Session, limit: int = 10, offset: int = 0
) -> tuple[list[ContentItem], int]:
    """Published news, newest first, with the total for paging."""
    condition = and_(ContentItem.kind == "news", _visible(utcnow()))
    total = session.scalar(select(func.count()).select_from(ContentItem).where(condition)) or 0
    rows = session.scalars(
        select(ContentItem)
        .where(condition)
        .order_by(ContentItem.published_at.desc(), ContentItem.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def list_upcoming_events(*, session: Session, limit: int = 100) -> list[ContentItem]:
    """Published events that have not ended, soonest first."""
    now = utcnow()
    return list(
        session.scalars(
            select(ContentItem)
            .where(
                ContentItem.kind == "event",
                _visible(now),
                or_(ContentItem.ends_at >= now, ContentItem.starts_at >= now),
            )
            .order_by(ContentItem.starts_at, ContentItem.id)
            .limit(limit)
        )
    )


def list_past_events(
    *, session: Session, limit: int = 20, offset: int = 0
) -> tuple[list[ContentItem], int]:
    """The archive: published events that are over, latest first."""
    now = utcnow()
    condition = and_(
        ContentItem.kind == "event",
        _visible(now),
        ContentItem.starts_at < now,
        or_(ContentItem.ends_at.is_(None), ContentItem.ends_at < now),
    )
    total = session.scalar(select(func.count()).select_from(ContentItem).where(condition)) or 0
    rows = session.scalars(
        select(ContentItem)
        .where(condition)
        .order_by(ContentItem.starts_at.desc(), ContentItem.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total

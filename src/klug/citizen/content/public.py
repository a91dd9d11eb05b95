"""Public pages of editorial content: news with its Atom feed, events, pages, images.

Drafts and items whose publish time has not come are answered with 404, exactly like
an address that never existed: their existence is not given away either.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated

from babel.dates import format_date, format_time
from fastapi import Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from klug.citizen.content import calendar, feed, images, items
from klug.citizen.content.schemas import ContentKind
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.i18n import CITY_TZ, current_language
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)

Anyone = Annotated[Principal, Depends(public)]
NEWS_PER_PAGE = 10
ARCHIVE_PER_PAGE = 20


def image_dir(request: Request) -> Path:
    """Uploaded images live in the data directory, never under the static files."""
    return Path(request.app.state.settings.var_dir) / "content" / "images"


def page_number(request: Request) -> int:
    """``?seite=N``; anything that is not a page number means the first page."""
    raw = request.query_params.get("seite", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def event_when(starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> str:
    """``Samstag, 5. Dezember 2026, 18:00–20:00`` in the visitor's language."""
    if starts_at is None:
        return ""
    language = current_language()
    start = starts_at.astimezone(CITY_TZ)
    day = format_date(start, format="full", locale=language)
    begin = format_time(start, format="short", locale=language)
    if ends_at is None:
        return f"{day}, {begin}"
    end = ends_at.astimezone(CITY_TZ)
    until = format_time(end, format="short", locale=language)
    if end.date() == start.date():
        return f"{day}, {begin}–{until}"
    return f"{day}, {begin} – {format_date(end, format='full', locale=language)}, {until}"


def day(value: dt.datetime) -> str:
    """``5. Dezember 2026`` – the city's calendar day of a time."""
    return format_date(value.astimezone(CITY_TZ), format="long", locale=current_language())


# Formatting the templates of content pages use.
HELPERS = {"event_when": event_when, "day": day}


def _detail(
    request: Request, session: SessionDep, kind: ContentKind, slug: str, template: str
) -> HTMLResponse:
    item = items.get_published(session=session, kind=kind, slug=slug)
    if item is None:
        raise NotFound
    return render(
        request,
        template,
        {"item": items.shown(item, current_language()), **HELPERS},
    )


@router.get("/aktuelles", response_class=HTMLResponse)
def news_list(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """News of the city, newest first."""
    page = page_number(request)
    found, total = items.list_news(
        session=session, limit=NEWS_PER_PAGE, offset=(page - 1) * NEWS_PER_PAGE
    )
    language = current_language()
    return render(
        request,
        "content/news_list.html",
        {
            "news": [items.shown(item, language) for item in found],
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / NEWS_PER_PAGE)),
            **HELPERS,
        },
    )


@router.get("/aktuelles/feed.atom")
def news_feed(request: Request, session: SessionDep, _: Anyone) -> Response:
    """The news as an Atom 1.0 feed, in the language of the address."""
    found, _total = items.list_news(session=session, limit=feed.ENTRIES)
    language = current_language()
    document = feed.atom(
        [items.shown(item, language) for item in found],
        language=language,
        base_url=request.app.state.settings.base_url,
    )
    return Response(document, media_type="application/atom+xml; charset=utf-8")


@router.get("/aktuelles/{slug}", response_class=HTMLResponse)
def news_item(request: Request, slug: str, session: SessionDep, _: Anyone) -> HTMLResponse:
    """One news item."""
    return _detail(request, session, "news", slug, "content/item.html")


@router.get("/veranstaltungen", response_class=HTMLResponse)
def events_upcoming(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """Upcoming events by date."""
    language = current_language()
    found = items.list_upcoming_events(session=session)
    return render(
        request,
        "content/events.html",
        {
            "events": [items.shown(item, language) for item in found],
            "archive": False,
            **HELPERS,
            "page": 1,
            "pages": 1,
        },
    )


@router.get("/veranstaltungen/archiv", response_class=HTMLResponse)
def events_archive(request: Request, session: SessionDep, _: Anyone) -> HTMLResponse:
    """Past events, latest first."""
    page = page_number(request)
    found, total = items.list_past_events(
        session=session, limit=ARCHIVE_PER_PAGE, offset=(page - 1) * ARCHIVE_PER_PAGE
    )
    language = current_language()
    return render(
        request,
        "content/events.html",
        {
            "events": [items.shown(item, language) for item in found],
            "archive": True,
            **HELPERS,
            "page": page,
            "pages": max(1, math.ceil(total / ARCHIVE_PER_PAGE)),
        },
    )


@router.get("/veranstaltungen/{slug}", response_class=HTMLResponse)
def event_item(request: Request, slug: str, session: SessionDep, _: Anyone) -> HTMLResponse:
    """One event."""
    return _detail(request, session, "event", slug, "content/item.html")


@router.get("/veranstaltungen/{slug}/kalender.ics")
def event_calendar(request: Request, slug: str, session: SessionDep, _: Anyone) -> Response:
    """One event as an iCalendar file for the visitor's calendar."""
    item = items.get_published(session=session, kind="event", slug=slug)
    if item is None:
        raise NotFound
    document = calendar.ics(
        items.shown(item, current_language()), base_url=request.app.state.settings.base_url
    )
    return Response(
        document,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{item.slug}.ics"'},
    )


@router.get("/seiten/{slug}", response_class=HTMLResponse)
def content_page(request: Request, slug: str, session: SessionDep, _: Anyone) -> HTMLResponse:
    """An information page (e.g. the citizens' office, waste collection)."""
    return _detail(request, session, "page", slug, "content/item.html")


@router.get("/inhalte/bilder/{image_id}")
def content_image(
    request: Request, image_id: int, session: SessionDep, principal: Anyone
) -> Response:
    """An image of a published item; editors also see those of drafts."""
    may_preview = Permission.CONTENT_MANAGE in principal.permissions
    image = images.get(session=session, image_id=image_id, published_only=not may_preview)
    if image is None:
        raise NotFound
    path = images.file_path(image_dir(request), image)
    if not path.is_file():
        raise NotFound
    # A draft's image must not linger in shared caches after a preview.
    cache = "private, no-store" if may_preview else "public, max-age=3600"
    return FileResponse(path, media_type=image.media_type, headers={"Cache-Control": cache})

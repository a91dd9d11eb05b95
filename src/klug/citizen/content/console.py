"""Console pages where editors keep pages, news and events (permission content.manage)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from klug.citizen.content import images, items
from klug.citizen.content.models import ContentItem
from klug.citizen.content.public import image_dir
from klug.citizen.content.schemas import ImageAlt, ItemCreate
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import FormValues, RawForm, form_values, validate
from klug.core.i18n import CITY_TZ, N_, current_language, gettext, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, client_ip, require
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)

CanEdit = Annotated[Principal, Depends(require(Permission.CONTENT_MANAGE))]

# Image uploads may exceed the platform's body limit: a 10 MB file plus the form around it.
UPLOAD_LIMITS = {"/console/inhalte/": images.MAX_UPLOAD_BYTES + 1024 * 1024}

KIND_LABELS = {"page": N_("Page"), "news": N_("News item"), "event": N_("Event")}
KIND_FILTERS = {"seiten": "page", "nachrichten": "news", "veranstaltungen": "event"}


def _here(path: str) -> str:
    return localise_path(path, current_language())


def _local(value: dt.datetime | None) -> str:
    """A stored UTC time as the value of a datetime-local field (city time)."""
    return value.astimezone(CITY_TZ).strftime("%Y-%m-%dT%H:%M") if value else ""


def _values_of(item: ContentItem) -> dict[str, str]:
    values = {
        name: getattr(item, name)
        for name in (
            "slug", "title_de", "title_en", "summary_de", "summary_en", "body_de", "body_en",
            "place_de", "place_en",
        )
    }  # fmt: skip
    values.update(
        published_at=_local(item.published_at),
        starts_at=_local(item.starts_at),
        ends_at=_local(item.ends_at),
    )
    return values


def _form(
    request: Request,
    *,
    kind: str,
    item: ContentItem | None,
    values: dict[str, Any],
    errors: dict[str, str],
    image_errors: dict[str, str] | None = None,
    image_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "content/console_item.html",
        {
            "kind": kind,
            "kind_label": KIND_LABELS[kind],
            "item": item,
            "values": values,
            "errors": errors,
            "image_errors": image_errors or {},
            "image_values": image_values or {},
            "saved": request.query_params.get("gespeichert") == "1",
            "preview": items.shown(item, current_language()) if item is not None else None,
            "now": dt.datetime.now(dt.UTC),
        },
        status_code=status_code,
    )


def _item_or_404(session: SessionDep, item_id: int) -> ContentItem:
    item = items.get(session=session, item_id=item_id)
    if item is None:
        raise NotFound
    return item


@router.get("/console/inhalte", response_class=HTMLResponse)
def console_items(request: Request, session: SessionDep, _: CanEdit) -> HTMLResponse:
    """All pages, news and events with their state, latest change first."""
    chosen = request.query_params.get("art", "")
    kind = KIND_FILTERS.get(chosen)
    return render(
        request,
        "content/console_items.html",
        {
            "items": items.list_for_console(session=session, kind=kind),
            "chosen": chosen if kind else "",
            "kind_filters": KIND_FILTERS,
            "kind_labels": KIND_LABELS,
            "deleted": request.query_params.get("geloescht") == "1",
            "now": dt.datetime.now(dt.UTC),
        },
    )


@router.get("/console/inhalte/neu", response_class=HTMLResponse)
def console_new_item(request: Request, _: CanEdit) -> HTMLResponse:
    """The form for a new page, news item or event (``?art=``)."""
    kind = KIND_FILTERS.get(request.query_params.get("art", ""), "page")
    return _form(request, kind=kind, item=None, values={}, errors={})


@router.post("/console/inhalte/neu", response_class=HTMLResponse)
def console_create_item(
    request: Request, session: SessionDep, values: FormValues, principal: CanEdit
) -> Response:
    """Save a new item as a draft."""
    kind = values.get("kind") if values.get("kind") in KIND_LABELS else "page"
    item_in, errors = validate(ItemCreate, {**values, "kind": kind})
    if item_in is not None:
        try:
            item = items.create(
                session=session, item_in=item_in, actor=principal.actor, ip=client_ip(request)
            )
        except items.SlugTaken:
            errors = {"slug": gettext("This address is already used by another item.")}
        else:
            return RedirectResponse(
                _here(f"/console/inhalte/{item.id}") + "?gespeichert=1", status_code=303
            )
    return _form(request, kind=str(kind), item=None, values=values, errors=errors, status_code=400)


@router.get("/console/inhalte/{item_id}", response_class=HTMLResponse)
def console_edit_item(
    request: Request, item_id: int, session: SessionDep, _: CanEdit
) -> HTMLResponse:
    """Edit an item, publish or withdraw it, give it an image."""
    item = _item_or_404(session, item_id)
    return _form(request, kind=item.kind, item=item, values=_values_of(item), errors={})


@router.post("/console/inhalte/{item_id}", response_class=HTMLResponse)
def console_update_item(
    request: Request, item_id: int, session: SessionDep, values: FormValues, principal: CanEdit
) -> Response:
    """Save changes (a published item stays published)."""
    item = _item_or_404(session, item_id)
    item_in, errors = validate(ItemCreate, {**values, "kind": item.kind})
    if item_in is not None:
        try:
            items.update(
                session=session,
                item=item,
                item_in=item_in,
                actor=principal.actor,
                ip=client_ip(request),
            )
        except items.SlugTaken:
            errors = {"slug": gettext("This address is already used by another item.")}
        else:
            return RedirectResponse(
                _here(f"/console/inhalte/{item.id}") + "?gespeichert=1", status_code=303
            )
    return _form(request, kind=item.kind, item=item, values=values, errors=errors, status_code=400)


@router.post("/console/inhalte/{item_id}/veroeffentlichen", response_class=HTMLResponse)
def console_publish_item(
    request: Request, item_id: int, session: SessionDep, principal: CanEdit
) -> RedirectResponse:
    """Publish now (or at the publish time set)."""
    item = _item_or_404(session, item_id)
    items.publish(session=session, item=item, actor=principal.actor, ip=client_ip(request))
    return RedirectResponse(
        _here(f"/console/inhalte/{item.id}") + "?gespeichert=1", status_code=303
    )


@router.post("/console/inhalte/{item_id}/zurueckziehen", response_class=HTMLResponse)
def console_unpublish_item(
    request: Request, item_id: int, session: SessionDep, principal: CanEdit
) -> RedirectResponse:
    """Withdraw a published item: it becomes a draft again."""
    item = _item_or_404(session, item_id)
    items.unpublish(session=session, item=item, actor=principal.actor, ip=client_ip(request))
    return RedirectResponse(
        _here(f"/console/inhalte/{item.id}") + "?gespeichert=1", status_code=303
    )


@router.post("/console/inhalte/{item_id}/loeschen", response_class=HTMLResponse)
def console_delete_item(
    request: Request, item_id: int, session: SessionDep, principal: CanEdit
) -> RedirectResponse:
    """Delete an item and its image."""
    item = _item_or_404(session, item_id)
    images.forget_with_item(session=session, item=item, image_dir=image_dir(request))
    items.delete(session=session, item=item, actor=principal.actor, ip=client_ip(request))
    return RedirectResponse(_here("/console/inhalte") + "?geloescht=1", status_code=303)


@router.post("/console/inhalte/{item_id}/bild", response_class=HTMLResponse)
def console_attach_image(
    request: Request, item_id: int, session: SessionDep, principal: CanEdit, form: RawForm
) -> Response:
    """Upload the item's image with its alt texts (JPEG, PNG or WebP, at most 10 MB)."""
    item = _item_or_404(session, item_id)
    text_values = form_values(form)
    alt, image_errors = validate(ImageAlt, text_values)
    upload = form.get("image")
    data = b""
    if isinstance(upload, UploadFile):
        # One byte more than allowed is enough to know that it is too large.
        data = upload.file.read(images.MAX_UPLOAD_BYTES + 1)
    try:
        if alt is None:
            images.prepare(data)  # only to explain what is wrong with the file as well
        else:
            images.attach(
                session=session,
                item=item,
                upload=data,
                alt=alt,
                image_dir=image_dir(request),
                actor=principal.actor,
                ip=client_ip(request),
            )
            return RedirectResponse(
                _here(f"/console/inhalte/{item.id}") + "?gespeichert=1#bild", status_code=303
            )
    except images.ImageRejected as rejected:
        image_errors["image"] = gettext(rejected.message)
    return _form(
        request,
        kind=item.kind,
        item=item,
        values=_values_of(item),
        errors={},
        image_errors=image_errors,
        image_values=text_values,
        status_code=400,
    )


@router.post("/console/inhalte/{item_id}/bild/entfernen", response_class=HTMLResponse)
def console_detach_image(
    request: Request, item_id: int, session: SessionDep, principal: CanEdit
) -> RedirectResponse:
    """Remove the item's image."""
    item = _item_or_404(session, item_id)
    images.detach(
        session=session,
        item=item,
        image_dir=image_dir(request),
        actor=principal.actor,
        ip=client_ip(request),
    )
    return RedirectResponse(
        _here(f"/console/inhalte/{item.id}") + "?gespeichert=1#bild", status_code=303
    )

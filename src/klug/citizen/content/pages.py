"""Pages: accessibility statement with feedback form; console for notices and feedback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from klug.citizen.content import service as content_service
from klug.citizen.content.schemas import FeedbackCreate, NoticeCreate
from klug.core.cache import app_cell
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.forms import FormValues, validate
from klug.core.i18n import LANGUAGES, current_language, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public, require
from klug.identity.permissions import Permission

router = Router(include_in_schema=False)

Anyone = Annotated[Principal, Depends(public)]
CanManage = Annotated[Principal, Depends(require(Permission.NOTICES_MANAGE))]
CanReadFeedback = Annotated[Principal, Depends(require(Permission.FEEDBACK_READ))]


def notice_context(request: Request) -> Mapping[str, Any]:
    """The current notices for the layout of every page (cached for 5 s per process)."""

    def load() -> dict[str, list[content_service.ShownNotice]]:
        with request.app.state.session_factory() as session:
            current = content_service.list_current(session=session)
            return {
                language: [content_service.in_language(n, language) for n in current]
                for language in LANGUAGES
            }

    by_language = app_cell(request.app.state.cells, "notices", 5.0).get(load)
    return {"notices": by_language[current_language()]}  # type: ignore[index]


@router.get("/barrierefreiheit", response_class=HTMLResponse)
async def accessibility_statement(request: Request, _: Anyone) -> HTMLResponse:
    """The accessibility statement (BITV 2.0) with its feedback form."""
    sent = request.query_params.get("gesendet") == "1"
    return render(request, "content/accessibility.html", {"errors": {}, "values": {}, "sent": sent})


@router.post("/barrierefreiheit", response_class=HTMLResponse)
def submit_accessibility_feedback(
    request: Request, session: SessionDep, values: FormValues, _: Anyone
) -> Response:
    """Store a report of a barrier and forward it to the accessibility contact."""
    feedback_in, errors = validate(FeedbackCreate, values)
    if feedback_in is None:
        return render(
            request,
            "content/accessibility.html",
            {"errors": errors, "values": values, "sent": False},
            status_code=400,
        )
    content_service.submit_feedback(
        session=session,
        feedback_in=feedback_in,
        language=current_language(),
        contact=request.app.state.settings.accessibility_contact,
    )
    target = localise_path("/barrierefreiheit", current_language()) + "?gesendet=1#rueckmeldung"
    return RedirectResponse(target, status_code=303)


@router.get("/console/hinweise", response_class=HTMLResponse)
def console_notices(request: Request, session: SessionDep, _: CanManage) -> HTMLResponse:
    """Editors publish and end site notices."""
    notices = content_service.list_recent(session=session)
    return render(
        request,
        "content/console_notices.html",
        {"recent_notices": notices, "errors": {}, "values": {}},
    )


@router.post("/console/hinweise", response_class=HTMLResponse)
def console_create_notice(
    request: Request, session: SessionDep, values: FormValues, principal: CanManage
) -> Response:
    """Publish a notice from the console form."""
    notice_in, errors = validate(NoticeCreate, values)
    if notice_in is None:
        notices = content_service.list_recent(session=session)
        return render(
            request,
            "content/console_notices.html",
            {"recent_notices": notices, "errors": errors, "values": values},
            status_code=400,
        )
    content_service.create(session=session, notice_in=notice_in, actor=principal.actor)
    return RedirectResponse(localise_path("/console/hinweise", current_language()), status_code=303)


@router.post("/console/hinweise/{notice_id}/beenden", response_class=HTMLResponse)
def console_end_notice(
    request: Request, notice_id: int, session: SessionDep, _: CanManage
) -> RedirectResponse:
    """End a notice now."""
    if content_service.end(session=session, notice_id=notice_id) is None:
        raise NotFound
    return RedirectResponse(localise_path("/console/hinweise", current_language()), status_code=303)


@router.get("/console/rueckmeldungen", response_class=HTMLResponse)
def console_feedback(request: Request, session: SessionDep, _: CanReadFeedback) -> HTMLResponse:
    """Reports of accessibility barriers, newest first."""
    return render(
        request,
        "content/console_feedback.html",
        {"feedback": content_service.list_feedback(session=session)},
    )

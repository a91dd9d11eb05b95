"""JSON API and live stream of site notices."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import StreamingResponse

from klug.citizen.content import service as content_service
from klug.citizen.content.schemas import NoticeCreate, NoticeRead
from klug.core.db import SessionDep
from klug.core.errors import NotFound
from klug.core.live import event_stream
from klug.core.routes import Router
from klug.identity.deps import Principal, public, require
from klug.identity.permissions import Permission

router = Router(tags=["notices"])

CanManage = Annotated[Principal, Depends(require(Permission.NOTICES_MANAGE))]
Anyone = Annotated[Principal, Depends(public)]


@router.get("/api/citizen/notices", response_model=list[NoticeRead])
def list_notices(session: SessionDep, _: Anyone) -> list[NoticeRead]:
    """Notices shown on the portal right now."""
    return [NoticeRead.model_validate(n) for n in content_service.list_current(session=session)]


@router.post("/api/citizen/notices", response_model=NoticeRead, status_code=201)
def create_notice(notice_in: NoticeCreate, session: SessionDep, principal: CanManage) -> NoticeRead:
    """Publish a notice on every page (live pages show it at once)."""
    notice = content_service.create(session=session, notice_in=notice_in, actor=principal.actor)
    return NoticeRead.model_validate(notice)


@router.post("/api/citizen/notices/{notice_id}/end", response_model=NoticeRead)
def end_notice(notice_id: int, session: SessionDep, _: CanManage) -> NoticeRead:
    """Take a notice down now."""
    notice = content_service.end(session=session, notice_id=notice_id)
    if notice is None:
        raise NotFound
    return NoticeRead.model_validate(notice)


@router.get(
    "/api/live/notices",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def live_notices(request: Request, _: Anyone) -> StreamingResponse:
    """Server-Sent Events: event ``notices`` with the current list whenever it changes."""
    return event_stream(request.app.state.bus, content_service.NOTICES_TOPIC)

"""What the application pages share: access rules, uploads, the submission limit, files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import anyio.from_thread
from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import FileResponse

from klug.citizen.applications import attachments
from klug.citizen.applications.attachments import AttachmentRejected, PreparedFile
from klug.citizen.applications.models import ApplicationAttachment
from klug.core.errors import NotFound, Problem
from klug.core.i18n import CITY_TZ, gettext
from klug.core.ratelimit import Verdict
from klug.identity.deps import Principal, client_ip, public, require
from klug.identity.permissions import Permission

Anyone = Annotated[Principal, Depends(public)]
Applicant = Annotated[Principal, Depends(require(Permission.ACCOUNT_SELF))]
Caseworker = Annotated[Principal, Depends(require(Permission.CASES_MANAGE))]
# Submissions and messages per account (issue 5: "≤ 10 submissions per minute").
SUBMISSIONS = "10/minute"


def today() -> dt.date:
    return dt.datetime.now(CITY_TZ).date()


def files_directory(request: Request) -> Path:
    return attachments.files_dir(request.app.state.settings.var_dir)


def base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url)


def submission_allowed(request: Request, principal: Principal) -> None:
    """Count one submission or message; refuse (429) past the limit."""
    key = f"account:{principal.id}" if principal.id is not None else f"ip:{client_ip(request)}"
    limiter = request.app.state.rate_limiter
    verdict: Verdict = anyio.from_thread.run(limiter.hit, SUBMISSIONS, "applications", key)
    if not verdict.allowed:
        raise Problem(429, headers={"Retry-After": str(verdict.retry_after_s)})


def read_upload(
    request: Request, form: FormData, name: str, accept: list[str]
) -> tuple[PreparedFile | None, str | None]:
    """The checked file of an input (None when none was chosen) or the reason it is
    refused, in the visitor's language."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, None
    data = upload.file.read(attachments.MAX_BYTES + 1)
    try:
        prepared = attachments.prepare(
            data,
            upload.filename,
            accept=accept,
            clamd_socket=request.app.state.settings.clamd_socket,
        )
    except AttachmentRejected as exc:
        return None, gettext(exc.message) % exc.variables if exc.variables else gettext(exc.message)
    return prepared, None


def text_values(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}


def download(request: Request, attachment: ApplicationAttachment) -> FileResponse:
    """A stored file, as a download that the browser does not run in our origin."""
    path = attachments.path_of(files_directory(request), attachment)
    disposition = f"attachment; filename*=UTF-8''{quote(attachment.original_name)}"
    if not path.is_file():
        raise NotFound
    return FileResponse(
        path,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        },
    )

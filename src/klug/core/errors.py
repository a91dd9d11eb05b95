"""Errors as people and programs should see them.

Pages get an error page in the visitor's language; the JSON API gets an RFC 9457
problem document (``application/problem+json``). Nobody gets a stack trace, and a
malformed request is a 4xx, never a 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from klug.core import i18n
from klug.core.i18n import N_
from klug.core.web import render

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_MACHINE_PREFIXES = (
    "/api/",
    "/sta/",
    "/open311/",
    "/opendata/catalog",
    "/metrics",
    "/healthz",
    "/readyz",
)


class Problem(Exception):
    """An error with a status, a short title and a human explanation."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.title = title
        self.type = type_
        self.headers = headers or {}
        self.extensions = extensions


class NotFound(Problem):
    def __init__(self, detail: str | None = None) -> None:
        super().__init__(404, detail)


class Forbidden(Problem):
    def __init__(self, detail: str | None = None) -> None:
        super().__init__(403, detail)


class LoginRequired(Problem):
    """Anonymous access to a protected resource: pages redirect to the login form."""

    def __init__(self) -> None:
        super().__init__(401, headers={"WWW-Authenticate": 'Bearer realm="klug"'})


def is_machine_request(request: Request) -> bool:
    path = request.scope.get("klug_page_path", request.url.path)
    return path.startswith(_MACHINE_PREFIXES) or path in {"/metrics", "/healthz", "/readyz"}


# Titles and explanations of the error pages, translated at render time.
_PAGE_TEXT: dict[int, tuple[str, str]] = {
    400: (
        N_("Invalid request"),
        N_("The request could not be understood. Please check your input."),
    ),
    401: (N_("Login required"), N_("Please log in to see this page.")),
    403: (N_("Access denied"), N_("You do not have permission to see this page.")),
    404: (N_("Page not found"), N_("The page you asked for does not exist or has moved.")),
    405: (N_("Method not allowed"), N_("This page cannot be used in this way.")),
    413: (N_("Request too large"), N_("What you sent is larger than we accept.")),
    429: (N_("Too many requests"), N_("Please wait a moment and try again.")),
    500: (
        N_("Something went wrong"),
        N_("An error occurred on our side. It has been logged; please try again later."),
    ),
    503: (
        N_("Temporarily unavailable"),
        N_("The service is temporarily unavailable. Please try again later."),
    ),
}


def _page_text(status: int) -> tuple[str, str]:
    fallback = 500 if status >= 500 else 400
    title, text = _PAGE_TEXT.get(status, _PAGE_TEXT[fallback])
    return i18n.gettext(title), i18n.gettext(text)


def problem_response(
    request: Request,
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    if is_machine_request(request):
        with i18n.use_language(i18n.negotiate(request.headers.get("accept-language"))):
            default_title, _text = _page_text(status)
        body: dict[str, Any] = {
            "type": type_,
            "title": title
            or (default_title if type_ == "about:blank" else HTTPStatus(status).phrase),
            "status": status,
        }
        if detail:
            body["detail"] = detail
        body["instance"] = request.url.path
        body.update(extensions or {})
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    if status == 401:
        target = request.scope.get("klug_page_path", request.url.path)
        if request.url.query:
            target += "?" + request.url.query
        login = i18n.localise_path("/konto/anmelden", i18n.current_language())
        return RedirectResponse(f"{login}?next={quote(target, safe='/')}", status_code=303)
    page_title, text = _page_text(status)
    return render(
        request,
        "error.html",
        {"status": status, "title": title or page_title, "text": text, "detail": detail},
        status_code=status,
        headers=headers,
    )


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(
        request,
        exc.status,
        detail=exc.detail,
        title=exc.title,
        type_=exc.type,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = (
        exc.detail
        if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase
        else None
    )
    return problem_response(
        request, exc.status_code, detail=detail, headers=dict(exc.headers or {})
    )


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Never echo the input back: it may hold a password or a token.
    errors = [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": error.get("msg", "")}
        for error in exc.errors()
    ]
    if is_machine_request(request):
        return problem_response(
            request,
            422,
            title="Unprocessable content",
            type_="/api/problems/validation-error",
            detail="The request did not pass validation; see 'errors'.",
            extensions={"errors": errors},
        )
    return problem_response(request, 400)


def unexpected_error_response(request: Request, exc: BaseException) -> Response:
    """The 500 response; the traceback goes to the log only."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)

"""ASGI middleware: language prefix, security headers, observation, limits, CSRF.

All pure ASGI (no BaseHTTPMiddleware) because they sit on every request, including
streaming ones (SSE), and must not buffer responses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from http.cookies import SimpleCookie
from typing import Any, TypeVar

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from klug.core import i18n, metrics
from klug.core.errors import Problem, problem_response, unexpected_error_response
from klug.core.ratelimit import RateLimiter
from klug.core.security import csrf_token_for, csrf_token_valid, new_token

log = logging.getLogger("klug.access")

CSRF_COOKIE = "klug_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def content_security_policy(*, image_origins: Sequence[str] = ()) -> str:
    """The policy of every answer; ``image_origins`` may add image hosts (the city's map
    tile server, ``KLUG_MAP_TILE_URL``) and nothing else."""
    # No inline script or style anywhere: every script and stylesheet is a file of ours.
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            " ".join(["img-src 'self' data:", *image_origins]),
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()


def get_route_path(scope: Scope) -> str:
    """The path below the application's root path (a reverse proxy may mount us deeper)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path + "/"):
        return path[len(root_path) :]
    return path


class LanguageMiddleware:
    """Serve English under ``/en/...`` with the same handlers as German.

    ``/en`` becomes part of the ``root_path``: routing sees the German path, while
    URLs that Starlette builds (redirects) keep the prefix.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = get_route_path(scope)
        language: i18n.Language = "de"
        if path == "/en":
            await RedirectResponse(scope.get("root_path", "") + "/en/", status_code=308)(
                scope, receive, send
            )
            return
        if path.startswith("/en/"):
            language = "en"
            path = path[3:]
            scope = dict(scope, root_path=scope.get("root_path", "") + "/en")
        scope["klug_page_path"] = path
        scope["klug_language"] = language
        token = i18n.set_language(language)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n._current.reset(token)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, csp: str = CONTENT_SECURITY_POLICY) -> None:
        self.app = app
        self.hsts = hsts
        self.csp = csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self.hsts or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self.csp)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault(
                    "Permissions-Policy", "camera=(), microphone=(), geolocation=(self), payment=()"
                )
                if https:
                    headers.setdefault(
                        "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
                    )
                if "cache-control" not in headers and headers.get("content-type", "").startswith(
                    ("text/html", "application/json", "application/problem+json")
                ):
                    # Answers for a logged-in person must not land in any shared cache.
                    principal = scope.get("state", {}).get("principal")
                    personal = getattr(principal, "kind", "anonymous") != "anonymous"
                    headers["Cache-Control"] = "private, no-store" if personal else "no-cache"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ObservationMiddleware:
    """Metrics and access log per request; turns an unhandled error into a clean 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def observe(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, observe)
        except Exception as exc:
            if response_started:
                log.error("error after the response started on %s", scope["path"], exc_info=exc)
            else:
                await unexpected_error_response(Request(scope), exc)(scope, receive, observe)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or (
                "/static" if scope["path"].startswith("/static/") else "unmatched"
            )
            method = scope["method"]
            metrics.REQUESTS.labels(template, method, str(status)).inc()
            metrics.LATENCY.labels(template, method).observe(elapsed)
            # The path without its query string: queries may carry tokens (e-mail links).
            log.info(
                "%s %s %s %.1fms",
                method,
                scope["path"],
                status,
                elapsed * 1000,
                extra={
                    "method": method,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, whether announced or streamed.

    ``uploads`` names page paths (prefixes, without ``/en``) that accept larger bodies
    (file uploads); their routes check the files themselves and explain what is wrong.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, uploads: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = tuple((uploads or {}).items())

    def _limit(self, scope: Scope) -> int:
        path = scope.get("klug_page_path", scope["path"])
        for prefix, limit in self.uploads:
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    await problem_response(Request(scope), 400, detail="Invalid Content-Length")(
                        scope, receive, send
                    )
                    return
                if announced > limit:
                    await self._too_large(scope, receive, send, limit)
                    return
        received = 0
        response_started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now; the application then sees a client that went away.
                    refused = True
                    if not response_started:
                        await self._too_large(scope, receive, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # whatever the application still says after our 413
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            Request(scope), 413, detail=f"The request body is limited to {limit} bytes."
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


_UNLIMITED_PREFIXES = ("/static/", "/healthz", "/readyz")


class RateLimitMiddleware:
    """A ceiling per client IP on all requests (static files and probes excepted)."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, limit: str) -> None:
        self.app = app
        self.limiter = limiter
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        verdict = await self.limiter.hit(self.limit, "ip", ip)
        if not verdict.allowed:
            response = problem_response(
                Request(scope), 429, headers={"Retry-After": str(verdict.retry_after_s)}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            cookies: SimpleCookie = SimpleCookie()
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:
                return None
            morsel = cookies.get(name)
            return morsel.value if morsel else None
    return None


class CsrfCookieMiddleware:
    """Give every browser a CSRF cookie and put the matching form token in the scope.

    The check itself is ``klug.core.http.verify_csrf``, a dependency on every route.
    """

    def __init__(self, app: ASGIApp, *, secret: bytes, secure: bool) -> None:
        self.app = app
        self.secret = secret
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        value = _cookie(scope, CSRF_COOKIE)
        fresh = not value or len(value) > 128
        if fresh:
            value = new_token(24)
        assert value is not None
        scope["klug_csrf_cookie"] = None if fresh else value
        scope["klug_csrf_token"] = csrf_token_for(self.secret, value)
        if not fresh:
            await self.app(scope, receive, send)
            return
        cookie = f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax"
        if self.secure:
            cookie += "; Secure"

        async def send_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_cookie)


_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


CSRF_EXEMPT = "__klug_csrf_exempt__"
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


def csrf_exempt(endpoint: _Endpoint) -> _Endpoint:
    """Mark a route whose callers prove themselves with a credential inside the request
    (Open311's ``api_key`` form field) and that never acts on cookies: a forged form
    could only carry the forger's own credential, and standard clients of such a
    protocol cannot send our token."""
    setattr(endpoint, CSRF_EXEMPT, True)
    return endpoint


def _authenticated_by_header(request: Request) -> bool:
    auth = request.headers.get("authorization", "")
    return auth.lower().startswith("bearer ") or "x-api-key" in request.headers


async def verify_csrf(request: Request) -> None:
    """Refuse state-changing requests that a foreign site could have forged.

    Machine clients that authenticate with an API key header are exempt (a browser
    cannot be made to send that header cross-site). Everything else that a browser
    can send cross-site - forms, or any request carrying our cookies - needs the
    token, as form field ``csrf_token`` or header ``X-CSRF-Token``.
    """
    if request.method in _SAFE_METHODS or _authenticated_by_header(request):
        return
    if getattr(request.scope.get("endpoint"), CSRF_EXEMPT, False):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    has_cookies = "cookie" in request.headers
    if not has_cookies and content_type not in _FORM_TYPES:
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None and content_type in _FORM_TYPES[:2]:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        token = field if isinstance(field, str) else None
    cookie = request.scope.get("klug_csrf_cookie")
    if not csrf_token_valid(request.app.state.secret, cookie, token):
        raise Problem(
            403,
            i18n.gettext(
                "The form has expired or was not sent from this site. "
                "Please reload the page and try again."
            ),
            title=i18n.gettext("Security check failed"),
            type_="/api/problems/csrf",
        )

"""Server-rendered pages: the Jinja2 environment and ``render``.

Templates live in ``klug/web/templates`` (layout, components, shell pages) and in
``klug/<domain>/templates/<domain>/`` for domain pages. Domains add values to every
page through context providers (e.g. the notice banner), so that the shell needs
no import of any domain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute

from klug.core import i18n
from klug.core.pagecache import PageCache

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE_DIR / "web" / "static"
VENDOR_DIR = PACKAGE_DIR / "web" / "vendor"

ContextProvider = Callable[[Request], Mapping[str, Any]]
_providers: list[ContextProvider] = []


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    dependencies: tuple[Callable[..., Any], ...]


def api_routes(app: FastAPI, routes: Sequence[BaseRoute] | None = None) -> list[RouteInfo]:
    """Every method and path of the app's API routes (or of ``routes`` among them) with
    their top-level dependencies."""
    found = []
    for context in iter_route_contexts(app.routes if routes is None else routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        calls = tuple(d.call for d in context.dependant.dependencies if d.call is not None)
        for method in sorted((context.methods or set()) - {"HEAD"}):
            found.append(RouteInfo(method, str(context.path), calls))
    return found


def register_context_provider(provider: ContextProvider) -> None:
    """Add values to the context of every page (called by app assembly)."""
    if provider not in _providers:
        _providers.append(provider)


def _template_dirs() -> list[Path]:
    dirs = [PACKAGE_DIR / "web" / "templates"]
    dirs += sorted(p for p in PACKAGE_DIR.glob("*/templates") if p.parent.name != "web")
    dirs += sorted(PACKAGE_DIR.glob("*/*/templates"))
    return dirs


@cache
def asset_version(relative: str) -> str:
    """A content hash for cache-busting static URLs (files are served immutable)."""
    if relative.startswith("vendor/"):
        path = VENDOR_DIR / relative.removeprefix("vendor/")
    else:
        path = STATIC_DIR / relative
    if not path.is_file():
        # A missing vendor file means `make` did not install the front-end libraries.
        raise FileNotFoundError(f"static file {path} is missing; run `make run` to install assets")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(relative: str) -> str:
    prefix = "/static/vendor/" if relative.startswith("vendor/") else "/static/"
    name = relative.removeprefix("vendor/")
    return f"{prefix}{name}?v={asset_version(relative)}"


def page_url(path: str) -> str:
    """A page path in the language of the current request."""
    return i18n.localise_path(path, i18n.current_language())


def pager_query(params: Mapping[str, str], page: int) -> str:
    """The current query string with another page number (``seite``)."""
    items = [(k, v) for k, v in params.items() if k != "seite"]
    items.append(("seite", str(page)))
    return urlencode(items)


# Translated, escaped messages without variables, per language. Pages show the same
# few hundred messages over and over; formatting each anew was half of the render time.
_translated: dict[tuple[str, str], Markup] = {}


def _trusted(translation: str) -> Markup:
    # Catalogue texts are ours (reviewed like code), as in Jinja's newstyle gettext;
    # the variables formatted into them are escaped by Markup's % operator.
    return Markup(translation)  # noqa: S704


@pass_context
def _template_gettext(context: Context, message: str, **variables: Any) -> Markup | str:
    """Jinja's "newstyle" gettext (trusted translation, escaped variables), memoised."""
    if not context.eval_ctx.autoescape:
        return i18n.gettext(message) % variables
    if variables:
        return _trusted(i18n.gettext(message)) % variables
    key = (i18n.current_language(), message)
    found = _translated.get(key)
    if found is None:
        found = _translated[key] = _trusted(i18n.gettext(message)) % {}
    return found


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, n: int, **variables: Any
) -> Markup | str:
    variables.setdefault("num", n)
    text = i18n.ngettext(singular, plural, n)
    return (_trusted(text) if context.eval_ctx.autoescape else text) % variables


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in _template_dirs()]),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the package and change only with a new release (a restart):
        # no file-system check of every template on every render.
        auto_reload=False,
    )
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(
        _=_template_gettext,
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        url=page_url,
        static=static_url,
        localise_path=i18n.localise_path,
        current_language=i18n.current_language,
    )
    env.filters["datetime"] = i18n.format_datetime
    env.filters["number"] = i18n.format_number
    env.filters["euro"] = i18n.format_euro
    env.filters["pager_query"] = pager_query
    return env


@dataclass(frozen=True)
class MapTiles:
    """The background map of the maps (``components/map.html``); empty: none."""

    url: str = ""
    attribution: str = ""


def map_tiles(request: Request) -> MapTiles:
    app = request.scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    if settings is None:
        return MapTiles()
    return MapTiles(url=settings.map_tile_url, attribution=settings.map_attribution)


def base_context(request: Request) -> dict[str, Any]:
    language = i18n.current_language()
    page_path: str = request.scope.get("klug_page_path", request.url.path)
    query = request.url.query
    suffix = f"?{query}" if query and request.method == "GET" else ""
    context: dict[str, Any] = {
        "request": request,
        "lang": language,
        "page_path": page_path,
        "alternate_urls": {
            other: i18n.localise_path(page_path, other) + suffix for other in i18n.LANGUAGES
        },
        "csrf_token": request.scope.get("klug_csrf_token", ""),
        "principal": getattr(request.state, "principal", None),
        "map_tiles": map_tiles(request),
    }
    for provider in _providers:
        context.update(provider(request))
    return context


_FRESH: Any = object()


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    anonymous_version: Any = _FRESH,
    account_version: Any = _FRESH,
) -> HTMLResponse:
    """A page; with ``anonymous_version`` (the version of the page's own data) it is
    kept for anonymous visitors, with ``account_version`` for each logged-in account on
    its own (``klug.core.pagecache``). ``context`` may then be a function: it is called
    only when the page is built."""
    kept = _kept_key(request, anonymous_version, account_version)
    if kept is not None:
        key, version = kept

        def build(token: str) -> tuple[str, int]:
            full = base_context(request)
            full["csrf_token"] = token
            if context:
                full.update(context() if callable(context) else context)
            return environment().get_template(template).render(full), status_code

        token = request.scope.get("klug_csrf_token", "")
        html, status_code = _page_cache(request).page((template, *key), version, token, build)
        return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    full = base_context(request)
    if context:
        full.update(context() if callable(context) else context)
    html = environment().get_template(template).render(full)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


def _page_cache(request: Request) -> PageCache:
    """The application's own cache (one per app: per database and settings)."""
    state = request.app.state
    cache: PageCache | None = getattr(state, "page_cache", None)
    if cache is None:
        cache = state.page_cache = PageCache()
    return cache


def _kept_key(
    request: Request, anonymous_version: Any, account_version: Any
) -> tuple[tuple[Any, ...], Any] | None:
    """The cache key and version under which this page may be kept, or None."""
    if request.method != "GET":
        return None
    principal = getattr(request.state, "principal", None)
    page = (request.url.path, request.url.query, i18n.current_language())
    if getattr(principal, "kind", "anonymous") == "anonymous":
        return None if anonymous_version is _FRESH else (page, anonymous_version)
    if account_version is _FRESH:
        return None
    # The whole principal: a changed role, name or permission is another page.
    return (*page, principal), account_version

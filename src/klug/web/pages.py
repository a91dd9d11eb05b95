"""The shell: home page, legal pages, Leichte Sprache and the console home."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klug.core.cache import app_cell
from klug.core.db import DEMO_FLAG, read_flag
from klug.core.errors import NotFound
from klug.core.i18n import N_, current_language
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, public, require
from klug.identity.permissions import ROLE_LABELS, Permission

router = Router(include_in_schema=False)


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    permission: Permission | None = None


PROGRAMMES = [
    NavItem("/energie", N_("Energy")),
    NavItem("/mobilitaet", N_("Mobility")),
    NavItem("/sicherheit", N_("Safety")),
    NavItem("/buergerservice", N_("Citizen services")),
    NavItem("/opendata", N_("Open data")),
    NavItem("/ziele", N_("Goals")),
]

FOOTER = [
    NavItem("/impressum", N_("Legal notice")),
    NavItem("/datenschutz", N_("Privacy")),
    NavItem("/barrierefreiheit", N_("Accessibility")),
    NavItem("/leichte-sprache", N_("Easy language")),
]

CONSOLE_SECTIONS = [
    NavItem("/console/", N_("Overview"), Permission.CONSOLE),
    NavItem("/console/sensoren", N_("Sensors"), Permission.SENSORS_READ),
    NavItem("/console/energie", N_("Energy"), Permission.ENERGY_MANAGE),
    NavItem("/console/hinweise", N_("Notices"), Permission.NOTICES_MANAGE),
    NavItem("/console/inhalte", N_("Pages, news and events"), Permission.CONTENT_MANAGE),
    NavItem("/console/rueckmeldungen", N_("Accessibility feedback"), Permission.FEEDBACK_READ),
    NavItem("/console/meldungen", N_("Reports"), Permission.REPORTS_MANAGE),
    NavItem("/console/antraege", N_("Applications"), Permission.CASES_MANAGE),
    NavItem("/console/konten", N_("Accounts"), Permission.ACCOUNTS_MANAGE),
    NavItem("/console/api-schluessel", N_("API keys"), Permission.APIKEYS_MANAGE),
    NavItem("/console/protokoll", N_("Audit log"), Permission.AUDIT_READ),
]


def _demo_present(request: Request) -> bool:
    def load() -> bool:
        with request.app.state.session_factory() as session:
            return read_flag(session, DEMO_FLAG) == "true"

    return bool(app_cell(request.app.state.cells, DEMO_FLAG, 5.0).get(load))


def shell_context(request: Request) -> Mapping[str, Any]:
    """What the layout of every page needs."""
    principal = getattr(request.state, "principal", None)
    sections = []
    if isinstance(principal, Principal):
        sections = [s for s in CONSOLE_SECTIONS if s.permission in principal.permissions]
    return {
        "demo": _demo_present(request),
        "programmes": PROGRAMMES,
        "footer_links": FOOTER,
        "console_sections": sections,
        "role_labels": ROLE_LABELS,
    }


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, _: Annotated[Principal, Depends(public)]) -> HTMLResponse:
    """The portal's front page."""
    return render(request, "home.html")


def _content_page(name: str) -> Any:
    async def page(request: Request, _: Annotated[Principal, Depends(public)]) -> HTMLResponse:
        return render(request, f"legal/{name}.{current_language()}.html")

    page.__name__ = name.replace("-", "_")
    return page


for _slug in ("impressum", "datenschutz", "leichte-sprache"):
    router.add_api_route(
        f"/{_slug}", _content_page(_slug), methods=["GET"], response_class=HTMLResponse
    )


async def unknown_page(request: Request, _: Annotated[Principal, Depends(public)]) -> HTMLResponse:
    """Any other GET path: the 404 page, with the visitor's login known (header, language)."""
    raise NotFound


@router.get("/console/", response_class=HTMLResponse)
async def console_home(
    request: Request, principal: Annotated[Principal, Depends(require(Permission.CONSOLE))]
) -> HTMLResponse:
    """The operator console's start page: the sections this account may use."""
    return render(request, "console/home.html", {"principal": principal})

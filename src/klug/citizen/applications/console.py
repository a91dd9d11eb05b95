"""Case work in the console: the queues (per office, filtered) and bulk actions.

Bulk actions apply the same rules as the case page, case by case: a transition that is
not allowed for one case is refused for that case alone and named in the result.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from klug.citizen.applications import cases
from klug.citizen.applications.models import CASE_STATUSES
from klug.citizen.applications.texts import STATUS_LABELS
from klug.citizen.applications.web import Caseworker, base_url
from klug.citizen.services import catalogue as services_catalogue
from klug.core import versions
from klug.core.db import SessionDep
from klug.core.forms import RawForm
from klug.core.i18n import current_language, localise_path
from klug.core.routes import Router
from klug.core.web import render
from klug.identity import service as account_service
from klug.identity.deps import Principal, client_ip
from klug.identity.permissions import Role

router = Router(include_in_schema=False)
CONSOLE = "/console/antraege"
PER_PAGE = 50
MAX_BULK = 200


def caseworkers(session: Session) -> list[tuple[int, str]]:
    """Accounts that may work on cases (caseworkers and administrators), for assignment."""
    found = account_service.active_names(session=session, roles=(Role.CASEWORKER, Role.ADMIN))
    return sorted(found, key=lambda item: item[1].casefold())


def _filter(request: Request) -> cases.QueueFilter:
    params = request.query_params
    status = params.get("status", "open")
    return cases.QueueFilter(
        office=params.get("amt") or None,
        status=status if status in (*CASE_STATUSES, "open") else None,
        assignee=params.get("zugewiesen") if params.get("zugewiesen") in ("me", "none") else None,
        overdue=params.get("ueberfaellig") == "1",
        reference=params.get("aktenzeichen") or None,
    )


def _page_number(request: Request) -> int:
    raw = request.query_params.get("seite", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


@router.get(CONSOLE, response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, principal: Caseworker) -> HTMLResponse:
    """The case queue: filters by office, status, assignment and deadline; bulk actions.

    Kept per caseworker and address while no application and no account has changed
    (and for at most a few seconds, so a deadline passing shows soon after)."""
    wanted = _filter(request)
    page = _page_number(request)

    def context() -> dict[str, object]:
        now = dt.datetime.now(dt.UTC)
        rows, total = cases.queue(
            session=session,
            wanted=wanted,
            me=principal.id,
            now=now,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
        language = current_language()
        workers = caseworkers(session)
        return {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "wanted": wanted,
            "offices": sorted(
                {s.office.name.de for s in services_catalogue.catalogue() if s.online_form}
                | set(cases.offices(session=session))
            ),
            "titles": {s.slug: s.title.get(language) for s in services_catalogue.catalogue()},
            "status_labels": STATUS_LABELS,
            "statuses": CASE_STATUSES,
            "workers": workers,
            "names": dict(workers),
            "now": now,
            "is_overdue": cases.is_overdue,
            "done": request.query_params.get("erledigt"),
            "refused": [r for r in request.query_params.get("abgelehnt", "").split(",") if r],
        }

    return render(
        request,
        "applications/console_queue.html",
        context,
        account_version=versions.current(session, "cases", "accounts"),
    )


def _bulk_result(done: int, refused: list[str]) -> RedirectResponse:
    query = urlencode({"erledigt": str(done), "abgelehnt": ",".join(refused[:50])})
    return RedirectResponse(
        localise_path(CONSOLE, current_language()) + "?" + query, status_code=303
    )


def assignee_from(choice: str, principal: Principal, workers: list[tuple[int, str]]) -> int | None:
    if choice == "me":
        return principal.id
    if choice.isdigit() and int(choice) in dict(workers):
        return int(choice)
    return None


@router.post(CONSOLE + "/sammelaktion", response_class=HTMLResponse)
def bulk_action(
    request: Request, session: SessionDep, raw: RawForm, principal: Caseworker
) -> Response:
    """Assign or move on the selected cases; each transition is checked on its own."""
    references = [v for v in raw.getlist("case") if isinstance(v, str)][:MAX_BULK]
    selected = cases.by_references(session=session, references=references)
    action = raw.get("action")
    done, refused = 0, []
    if action == "assign":
        choice = str(raw.get("assignee", ""))
        assignee = assignee_from(choice, principal, caseworkers(session))
        for case in selected:
            cases.assign(
                session=session,
                case=case,
                assignee_id=assignee,
                actor=principal.actor,
                ip=client_ip(request),
            )
            done += 1
    elif action == "status":
        to_status = str(raw.get("to_status", ""))
        for case in selected:
            try:
                cases.change_status(
                    session=session,
                    case=case,
                    to_status=to_status,
                    actor=principal.actor,
                    base_url=base_url(request),
                    ip=client_ip(request),
                )
                done += 1
            except cases.TransitionRefused:
                refused.append(case.reference or "")
    return _bulk_result(done, refused)

"""The report form: choose a category, answer its questions, say where – then either
support one of the open reports nearby ("me too") or send a new one.

Works without JavaScript: the category is a first step (a GET form), the location is
coordinates, an address or words (the map only fills in coordinates), and duplicates
are a page of their own between sending and storing.
"""

from __future__ import annotations

from typing import Annotated

import anyio.from_thread
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from klug.citizen.reports import photo_form
from klug.citizen.reports import photos as report_photos
from klug.citizen.reports import service as report_service
from klug.citizen.reports.categories import Category, catalogue, check_answers
from klug.citizen.reports.schemas import read_report
from klug.core.db import SessionDep
from klug.core.errors import Problem
from klug.core.forms import RawForm
from klug.core.i18n import current_language, localise_path
from klug.core.ratelimit import Verdict
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, client_ip, public

router = Router(include_in_schema=False)
Anyone = Annotated[Principal, Depends(public)]
FORM_PATH = "/maengelmelder/melden"
# New reports and "me too" per account (or per address when not logged in).
SUBMISSIONS = "10/minute"
LOCATION_FIELDS = ("lat", "long", "address_string", "location_text", "location")


def is_citizen_login(principal: Principal) -> bool:
    return principal.kind == "account" and principal.is_authenticated


def submission_allowed(request: Request, principal: Principal) -> None:
    """Count one stored submission; refuse (429) past the limit."""
    key = f"account:{principal.id}" if is_citizen_login(principal) else f"ip:{client_ip(request)}"
    limiter = request.app.state.rate_limiter
    verdict: Verdict = anyio.from_thread.run(limiter.hit, SUBMISSIONS, "reports", key)
    if not verdict.allowed:
        raise Problem(429, headers={"Retry-After": str(verdict.retry_after_s)})


def question_answers(form: FormData) -> dict[str, list[str]]:
    """Answers to category questions, named ``attribute[code]`` as in Open311."""
    given: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if name.startswith("attribute[") and name.endswith("]") and isinstance(value, str):
            given.setdefault(name[len("attribute[") : -1], []).append(value)
    return given


def _choose_page(request: Request, *, unknown: bool) -> HTMLResponse:
    return render(
        request,
        "reports/choose.html",
        {"groups": catalogue().grouped(), "unknown": unknown},
        status_code=400 if unknown else 200,
    )


def _form_page(
    request: Request,
    principal: Principal,
    category: Category,
    *,
    values: dict[str, str],
    chosen: dict[str, list[str]],
    errors: dict[str, str],
    photo: photo_form.PhotoStep | None = None,
) -> HTMLResponse:
    return render(
        request,
        "reports/form.html",
        {
            "category": category,
            "values": values,
            "chosen": chosen,
            "errors": errors,
            "photo": photo.shown() if photo is not None else None,
            "photo_kinds": report_photos.kinds_label(),
            "photo_accept": report_photos.accept_attribute(),
            "anonymous": not is_citizen_login(principal),
            "area": catalogue().area,
        },
        status_code=400 if errors else 200,
    )


@router.get(FORM_PATH, response_class=HTMLResponse)
async def report_form(request: Request, principal: Anyone, kategorie: str = "") -> HTMLResponse:
    """Report a problem: first the category, then its questions and the place."""
    category = catalogue().get(kategorie) if kategorie else None
    if category is None:
        return _choose_page(request, unknown=bool(kategorie))
    return _form_page(request, principal, category, values={}, chosen={}, errors={})


def _ordered_errors(
    category: Category, answer_errors: dict[str, str], errors: dict[str, str]
) -> dict[str, str]:
    """Errors keyed by the id of their field, in the order of the form."""
    ordered = {
        f"q-{q.code}": answer_errors[q.code] for q in category.questions if q.code in answer_errors
    }
    for name in ("description", photo_form.FILE_FIELD, *LOCATION_FIELDS, "email"):
        if name in errors:
            ordered[name] = errors[name]
    return ordered


@router.post(FORM_PATH, response_class=HTMLResponse)
def submit_report(
    request: Request, session: SessionDep, form: RawForm, principal: Anyone
) -> Response:
    """Check the report; show open reports nearby first; store it."""
    known = catalogue()
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    category = known.get(values.get("kategorie", ""))
    if category is None:
        return _choose_page(request, unknown=True)
    if is_citizen_login(principal):
        values.pop("email", None)
    account_id = principal.id if is_citizen_login(principal) else None
    chosen = question_answers(form)
    answers, answer_errors = check_answers(category, chosen)
    photo = photo_form.read(request, session, form, values, account_id)
    location_hint = photo_form.use_location(photo, values, known.area)
    report_in, errors = read_report(
        values, category=category, answers=answers, area=known.area, description_required=True
    )
    if location_hint and "location" in errors:
        errors["location"] += " " + location_hint
    if photo.error:
        errors[photo_form.FILE_FIELD] = photo.error
    if report_in is None or answer_errors or photo.error:
        values[photo_form.TOKEN_FIELD] = photo_form.keep(request, session, photo)
        return _form_page(
            request,
            principal,
            category,
            values=values,
            chosen=chosen,
            errors=_ordered_errors(category, answer_errors, errors),
            photo=photo,
        )
    if report_in.lat is not None and report_in.lon is not None and values.get("neu") != "1":
        nearby = report_service.find_duplicates(
            session=session, category=category, lat=report_in.lat, lon=report_in.lon
        )
        if nearby:
            token = photo_form.keep(request, session, photo)
            return _duplicates_page(request, category, nearby, form, values, token)
    submission_allowed(request, principal)
    report = report_service.create(
        session=session, report_in=report_in, category=category, reporter_account_id=account_id
    )
    if not photo_form.attach(request, session, photo, report):
        # The held photo expired while the form was open: store nothing, ask again.
        session.rollback()
        values[photo_form.TOKEN_FIELD] = ""
        return _form_page(
            request,
            principal,
            category,
            values=values,
            chosen=chosen,
            errors={photo_form.FILE_FIELD: photo_form.expired_message()},
        )
    target = localise_path(f"/maengelmelder/{report.id}/danke", current_language())
    return RedirectResponse(target, status_code=303)


def _duplicates_page(
    request: Request,
    category: Category,
    nearby: list[report_service.Nearby],
    form: FormData,
    values: dict[str, str],
    photo_token: str,
) -> HTMLResponse:
    # The point as checked (it may come from the photo) and the held photo's token.
    replaced = {"csrf_token", "neu", "lat", "long", photo_form.TOKEN_FIELD, photo_form.REMOVE_FIELD}
    carried = [
        (name, value)
        for name, value in form.multi_items()
        if isinstance(value, str) and name not in replaced
    ]
    carried += [(name, values[name]) for name in ("lat", "long") if values.get(name)]
    if photo_token:
        carried.append((photo_form.TOKEN_FIELD, photo_token))
    return render(
        request,
        "reports/duplicates.html",
        {
            "category": category,
            "nearby": nearby,
            "carried": carried,
            "email": values.get("email", ""),
        },
    )

"""One-click unsubscribe for addresses given without an account: the link in a status
mail shows a confirmation; confirming removes the address from that report. No login –
the signed token is the proof (``notify.find_subscription``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from klug.citizen.reports import notify as report_notify
from klug.core.db import SessionDep
from klug.core.forms import FormValues
from klug.core.routes import Router
from klug.core.web import render
from klug.identity.deps import Principal, client_ip, public

router = Router(include_in_schema=False)
Anyone = Annotated[Principal, Depends(public)]


def masked(address: str) -> str:
    """``m…@example.org``: enough to recognise one's own address, not to read it off."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def _page(
    request: Request, state: str, token: str, subscription: report_notify.Subscription | None
) -> HTMLResponse:
    return render(
        request,
        "reports/unsubscribe.html",
        {
            "state": state,
            "token": token,
            "report_id": subscription.report.id if subscription else None,
            "address": masked(subscription.email) if subscription and subscription.email else "",
        },
        status_code=400 if state == "invalid" else 200,
    )


def _find(request: Request, session: SessionDep, token: str) -> report_notify.Subscription | None:
    return report_notify.find_subscription(
        session=session, secret=request.app.state.secret, token=token.strip()
    )


@router.get(report_notify.UNSUBSCRIBE_PATH, response_class=HTMLResponse)
def unsubscribe_form(
    request: Request, session: SessionDep, _: Anyone, token: str = ""
) -> HTMLResponse:
    """Confirm that an address should get no more e-mails about a report."""
    subscription = _find(request, session, token)
    if subscription is None:
        return _page(request, "invalid", "", None)
    return _page(request, "confirm" if subscription.email else "gone", token, subscription)


@router.post(report_notify.UNSUBSCRIBE_PATH, response_class=HTMLResponse)
def unsubscribe_confirm(
    request: Request, session: SessionDep, values: FormValues, _: Anyone
) -> HTMLResponse:
    """Remove the address from the report: no more e-mails about it."""
    token = values.get("token", "")
    subscription = _find(request, session, token)
    if subscription is None:
        return _page(request, "invalid", "", None)
    if subscription.email is None:
        return _page(request, "gone", token, subscription)
    report_notify.unsubscribe(session=session, subscription=subscription, ip=client_ip(request))
    return _page(request, "done", token, subscription)

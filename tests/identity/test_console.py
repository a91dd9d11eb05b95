"""Administration in the console: accounts, roles, second factors, the audit log."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.core.audit import AuditEvent
from klug.identity.models import Account
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, MailSink, csrf_token, log_in, post_form, soup


def _entries(client: TestClient, action: str) -> list[AuditEvent]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_admin_changes_a_role_which_is_audited_and_ends_the_sessions(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    admin_browser, editor_browser = client_factory(), client_factory()
    admin = make_account(Role.ADMIN)
    editor = make_account(Role.EDITOR)
    log_in(admin_browser, admin)
    log_in(editor_browser, editor)
    assert editor_browser.get("/console/hinweise").status_code == 200

    token = csrf_token(admin_browser, f"/console/konten/{editor.id}")
    response = admin_browser.post(
        f"/console/konten/{editor.id}/rolle",
        data={"csrf_token": token, "role": "caseworker"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with admin_browser.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert session.get_one(Account, editor.id).role == "caseworker"
    [entry] = _entries(admin_browser, "account.role_changed")
    assert (entry.actor_id, entry.target_id, entry.detail) == (
        admin.id,
        str(editor.id),
        {"from": "editor", "to": "caseworker"},
    )
    assert editor_browser.get("/console/hinweise", follow_redirects=False).status_code == 303, (
        "must log in again"
    )
    log_in(editor_browser, editor)
    assert editor_browser.get("/console/hinweise").status_code == 403, (
        "the new role has fewer rights"
    )


def test_the_last_administrator_keeps_the_role(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    admin = logged_in(Role.ADMIN)
    token = csrf_token(client, f"/console/konten/{admin.id}")
    response = client.post(
        f"/console/konten/{admin.id}/rolle", data={"csrf_token": token, "role": "editor"}
    )
    assert response.status_code == 400
    assert soup(response).find(class_="message--error") is not None
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert session.get_one(Account, admin.id).role == "admin"


def test_invited_staff_choose_a_password_then_must_set_up_2fa(
    client_factory: Callable[..., TestClient],
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
) -> None:
    admin_browser = client_factory(smtp_url=mail_sink.url)  # type: ignore[attr-defined]
    log_in(admin_browser, make_account(Role.ADMIN))
    token = csrf_token(admin_browser, "/console/konten")
    created = admin_browser.post(
        "/console/konten",
        data={
            "csrf_token": token,
            "email": "neu@example.org",
            "role": "operator_energy",
            "display_name": "Neu",
            "language": "en",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    message = mail_sink.wait_for("neu@example.org")[0]
    assert message["Subject"] == "An account on klug has been created for you"
    path = mail_sink.link(message, "/konto/passwort-neu").split("testserver", 1)[1]
    assert path.startswith("/en/konto/passwort-neu")
    newcomer = client_factory()
    form_token = soup(newcomer.get(path)).find("input", attrs={"name": "token"})["value"]
    done = post_form(
        newcomer,
        "/en/konto/passwort-neu",
        {
            "token": form_token,
            "password": "Energiewende 2025!",
            "password_repeat": "Energiewende 2025!",
        },
        token_from=path,
    )
    assert done.status_code == 200
    first = post_form(
        newcomer,
        "/konto/anmelden",
        {"email": "neu@example.org", "password": "Energiewende 2025!"},
        follow_redirects=False,
    )
    assert first.headers["location"] == "/konto/zwei-faktor/einrichten"


def test_admin_resets_a_lost_second_factor(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    admin_browser = client_factory()
    log_in(admin_browser, make_account(Role.ADMIN))
    operator = make_account(Role.OPERATOR_MOBILITY)
    token = csrf_token(admin_browser, f"/console/konten/{operator.id}")
    admin_browser.post(
        f"/console/konten/{operator.id}/zwei-faktor-zuruecksetzen", data={"csrf_token": token}
    )
    assert len(_entries(admin_browser, "account.second_factor_reset")) == 1
    browser = client_factory()
    first = post_form(
        browser,
        "/konto/anmelden",
        {"email": operator.email, "password": operator.password},
        follow_redirects=False,
    )
    assert first.headers["location"] == "/konto/zwei-faktor/einrichten"


def test_disabled_accounts_cannot_log_in(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    admin_browser = client_factory()
    log_in(admin_browser, make_account(Role.ADMIN))
    citizen = make_account(Role.CITIZEN)
    citizen_browser = client_factory()
    log_in(citizen_browser, citizen)
    token = csrf_token(admin_browser, f"/console/konten/{citizen.id}")
    admin_browser.post(
        f"/console/konten/{citizen.id}/status", data={"csrf_token": token, "disabled": "1"}
    )
    assert citizen_browser.get("/konto/", follow_redirects=False).status_code == 303
    refused = post_form(
        citizen_browser, "/konto/anmelden", {"email": citizen.email, "password": citizen.password}
    )
    assert refused.status_code == 401
    assert len(_entries(admin_browser, "account.disabled")) == 1


def test_account_search_by_text_and_role(
    client: TestClient,
    logged_in: Callable[..., KnownAccount],
    make_account: Callable[..., KnownAccount],
) -> None:
    logged_in(Role.ADMIN)
    make_account(Role.EDITOR, email="redaktion.presse@example.org")
    make_account(Role.CITIZEN, email="buerger.presse@example.org")
    page = soup(client.get("/console/konten?suche=presse&rolle=editor"))
    emails = [
        a.get_text(strip=True) for a in page.select("table.data-table tbody td:first-child a")
    ]
    assert emails == ["redaktion.presse@example.org"]
    wildcard = soup(client.get("/console/konten?suche=%25"))
    assert wildcard.select("table.data-table tbody tr") == [], "% is searched for literally"


def test_audit_log_view_filters_by_action_outcome_account_and_day(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    other = client_factory()
    post_form(other, "/konto/anmelden", {"email": citizen.email, "password": "falsch falsch"})
    log_in(other, citizen)
    admin_browser = client_factory()
    log_in(admin_browser, make_account(Role.ADMIN))

    page = soup(
        admin_browser.get(f"/console/protokoll?aktion=login&ergebnis=failure&konto={citizen.email}")
    )
    rows = page.select("table.data-table tbody tr")
    assert len(rows) == 1
    cells = [td.get_text(strip=True) for td in rows[0].find_all("td")]
    assert cells[1:3] == ["login", "failure"]
    assert cells[3] == f"account #{citizen.id}"
    assert "reason=password" in cells[6]
    everything = soup(admin_browser.get("/console/protokoll?aktion=login"))
    assert len(everything.select("table.data-table tbody tr")) == 3
    none_yet = soup(admin_browser.get("/console/protokoll?von=2099-01-01"))
    assert none_yet.select("table.data-table tbody tr") == []
    options = [
        o["value"] for o in everything.find("select", id="aktion").find_all("option") if o["value"]
    ]
    assert "login" in options and "account.created" in options


def test_audit_log_api_for_siem_export(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    from klug.core.audit import SYSTEM
    from klug.identity import apikeys

    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        _key, plain = apikeys.create(
            session=session, name="SIEM", scopes="audit.read", actor=SYSTEM
        )
        session.commit()
    make_account(Role.CITIZEN)
    response = client.get(
        "/api/identity/audit?action=account.created&limit=5",
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1 and body["items"][0]["action"] == "account.created"
    assert (
        client.get(
            "/api/identity/audit?limit=0", headers={"Authorization": f"Bearer {plain}"}
        ).status_code
        == 422
    )

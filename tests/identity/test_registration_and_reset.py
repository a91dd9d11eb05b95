"""Registration with e-mail verification, password reset, CSRF on every form."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.identity.models import Account, LoginSession
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, MailSink, log_in, post_form, soup


def _path(link: str) -> str:
    return link.split("testserver", 1)[1]


def _confirm_form_token(client: TestClient, path: str) -> str:
    return str(soup(client.get(path)).find("input", attrs={"name": "token"})["value"])


def test_registration_needs_a_confirmed_address(
    mail_client: TestClient, mail_sink: MailSink
) -> None:
    email = "anna.beispiel@example.org"
    password = "Pfälzerwald im Herbst"
    response = post_form(
        mail_client,
        "/konto/registrieren",
        {"email": email, "password": password, "privacy": "1", "display_name": "Anna"},
    )
    assert response.status_code == 200
    assert soup(response).find(class_="message--success") is not None
    before = post_form(mail_client, "/konto/anmelden", {"email": email, "password": password})
    assert before.status_code == 401, "no login before the address is confirmed"

    message = mail_sink.wait_for(email)[0]
    link = _path(mail_sink.link(message, "/konto/bestaetigen"))
    # Opening the link does not confirm (mail scanners open links); the button does.
    token = _confirm_form_token(mail_client, link)
    with mail_client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert (
            session.scalar(select(Account).where(Account.email == email)).email_verified_at is None
        )
    confirmed = post_form(mail_client, "/konto/bestaetigen", {"token": token}, token_from=link)
    assert confirmed.status_code == 200
    after = post_form(
        mail_client,
        "/konto/anmelden",
        {"email": email, "password": password},
        follow_redirects=False,
    )
    assert after.status_code == 303
    with mail_client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        account = session.scalar(select(Account).where(Account.email == email))
        assert account.role == Role.CITIZEN
        assert password not in account.password_hash and account.password_hash.startswith(
            "$argon2id$"
        )


def test_registration_does_not_reveal_existing_accounts(
    mail_client: TestClient, mail_sink: MailSink, make_account: Callable[..., KnownAccount]
) -> None:
    existing = make_account(Role.CITIZEN)
    fresh = post_form(
        mail_client,
        "/konto/registrieren",
        {"email": "new@example.org", "password": "ein langes Passwort", "privacy": "1"},
    )
    known = post_form(
        mail_client,
        "/konto/registrieren",
        {"email": existing.email, "password": "ein langes Passwort", "privacy": "1"},
    )
    assert fresh.status_code == known.status_code == 200
    assert (
        soup(fresh).find(class_="message--success").get_text()
        == soup(known).find(class_="message--success").get_text()
    )
    warning = mail_sink.wait_for(existing.email)[0]
    assert "/konto/passwort-vergessen" in warning.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_registration_form_explains_errors_per_field(client: TestClient) -> None:
    response = post_form(
        client, "/konto/registrieren", {"email": "not-an-address", "password": "short"}
    )
    assert response.status_code == 400
    page = soup(response)
    summary = page.find(class_="error-summary")
    assert summary is not None and summary["role"] == "alert"
    email_input = page.find("input", id="email")
    assert email_input["aria-invalid"] == "true"
    assert "email-error" in email_input["aria-describedby"]
    assert page.find(id="privacy")["aria-invalid"] == "true"
    assert email_input["value"] == "not-an-address", "entered values are kept"
    assert page.find("input", id="password").get("value") is None, "passwords are never echoed"


def test_password_reset_by_mail_unlocks_and_ends_sessions(
    mail_client: TestClient,
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
    client: TestClient,
) -> None:
    citizen = make_account(Role.CITIZEN)
    log_in(client, citizen)  # another browser, logged in
    for attempt in range(10):
        post_form(
            mail_client,
            "/konto/anmelden",
            {"email": citizen.email, "password": f"falsch {attempt}"},
        )
    response = post_form(mail_client, "/konto/passwort-vergessen", {"email": citizen.email})
    assert response.status_code == 200
    unknown = post_form(mail_client, "/konto/passwort-vergessen", {"email": "nobody@example.org"})
    assert (
        soup(unknown).find(class_="message--success").get_text()
        == soup(response).find(class_="message--success").get_text()
    )

    reset_mail = next(
        m
        for m in mail_sink.wait_for(citizen.email, count=2)
        if "/konto/passwort-neu" in m.get_payload(decode=True).decode()
    )  # type: ignore[union-attr]
    link = _path(mail_sink.link(reset_mail, "/konto/passwort-neu"))
    token = _confirm_form_token(mail_client, link)
    mismatch = post_form(
        mail_client,
        "/konto/passwort-neu",
        {"token": token, "password": "Neues Passwort 2026", "password_repeat": "anders"},
        token_from=link,
    )
    assert mismatch.status_code == 400
    done = post_form(
        mail_client,
        "/konto/passwort-neu",
        {
            "token": token,
            "password": "Neues Passwort 2026",
            "password_repeat": "Neues Passwort 2026",
        },
        token_from=link,
    )
    assert done.status_code == 200
    assert client.get("/konto/", follow_redirects=False).status_code == 303, "old sessions end"
    citizen.password = "Neues Passwort 2026"
    assert log_in(mail_client, citizen).headers["location"] == "/konto/"
    reused = post_form(
        mail_client,
        "/konto/passwort-neu",
        {"token": token, "password": "Noch ein Passwort", "password_repeat": "Noch ein Passwort"},
        token_from="/konto/anmelden",
    )
    assert reused.status_code == 400, "a reset link works once"


def test_forms_without_a_valid_csrf_token_are_refused(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    client.get("/konto/anmelden")
    missing = client.post(
        "/konto/anmelden", data={"email": citizen.email, "password": citizen.password}
    )
    forged = client.post(
        "/konto/anmelden",
        data={"email": citizen.email, "password": citizen.password, "csrf_token": "0" * 48},
    )
    assert missing.status_code == forged.status_code == 403
    assert "klug_session" not in missing.headers.get("set-cookie", "")
    page = soup(forged)
    assert page.html["lang"] == "de"
    assert page.find("h1").get_text(strip=True) != ""

    log_in(client, citizen)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        sessions_before = session.scalars(select(LoginSession)).all()
    # A logged-in browser: a state change without the token must not happen.
    refused = client.post("/konto/andere-sitzungen-beenden", data={})
    assert refused.status_code == 403
    refused_logout = client.post("/konto/abmelden", data={"csrf_token": "wrong"})
    assert refused_logout.status_code == 403
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert len(session.scalars(select(LoginSession)).all()) == len(sessions_before)


def test_a_token_from_another_browser_is_refused(client_factory: Callable[..., TestClient]) -> None:
    victim = client_factory()
    attacker = client_factory()
    attacker_token = str(
        soup(attacker.get("/konto/anmelden")).find("input", attrs={"name": "csrf_token"})["value"]
    )
    victim.get("/konto/anmelden")
    response = victim.post(
        "/konto/registrieren",
        data={
            "email": "x@example.org",
            "password": "a long password!",
            "privacy": "1",
            "csrf_token": attacker_token,
        },
    )
    assert response.status_code == 403


def test_json_api_calls_with_session_cookie_need_the_csrf_header(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.EDITOR)
    notice = {"title_de": "Test", "title_en": "Test"}
    refused = client.post("/api/citizen/notices", json=notice)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    token = str(
        soup(client.get("/console/hinweise")).find("input", attrs={"name": "csrf_token"})["value"]
    )
    accepted = client.post("/api/citizen/notices", json=notice, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201

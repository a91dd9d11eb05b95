"""Logging in: password, second factor, enrolment, lock-out, sessions, cookies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from klug.core.audit import AuditEvent
from klug.identity.login import MAX_FAILED_LOGINS
from klug.identity.models import Account, LoginSession
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, csrf_token, log_in, post_form, soup


def _audit(client: TestClient, action: str) -> list[AuditEvent]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def test_citizen_logs_in_with_password_and_sees_account(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    response = log_in(client, citizen)
    assert response.headers["location"] == "/konto/"
    page = soup(client.get("/konto/"))
    assert citizen.email in page.find("main").get_text()
    assert page.find("form", attrs={"action": "/konto/abmelden"}) is not None
    successes = _audit(client, "login")
    assert [e.outcome for e in successes] == ["success"]
    assert successes[0].actor_id == citizen.id


def test_session_cookie_is_httponly_and_samesite(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    response = log_in(client, citizen)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("klug_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie


def test_session_cookie_is_secure_when_served_over_https(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    secure_client = client_factory(base_url="https://klug.example.org")
    secure_client.base_url = "https://testserver"  # type: ignore[assignment]
    citizen = make_account(Role.CITIZEN)
    response = log_in(secure_client, citizen)
    assert "Secure" in response.headers["set-cookie"]
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_wrong_password_is_refused_without_telling_which_part_was_wrong(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    wrong = post_form(
        client, "/konto/anmelden", {"email": citizen.email, "password": "not the password"}
    )
    unknown = post_form(
        client, "/konto/anmelden", {"email": "nobody@example.org", "password": "whatever-123456"}
    )
    assert wrong.status_code == unknown.status_code == 401
    wrong_text = soup(wrong).find(class_="message--error").get_text(strip=True)
    unknown_text = soup(unknown).find(class_="message--error").get_text(strip=True)
    assert wrong_text == unknown_text
    assert "klug_session" not in wrong.headers.get("set-cookie", "")
    assert client.get("/konto/", follow_redirects=False).status_code == 303


def test_staff_login_needs_the_second_factor(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    editor = make_account(Role.EDITOR)
    first = post_form(
        client,
        "/konto/anmelden",
        {"email": editor.email, "password": editor.password},
        follow_redirects=False,
    )
    assert first.headers["location"] == "/konto/zwei-faktor"
    # Between password and code, nothing protected is reachable.
    assert client.get("/console/", follow_redirects=False).status_code == 303
    wrong = post_form(client, "/konto/zwei-faktor", {"code": "000000"})
    assert wrong.status_code == 401
    good = post_form(client, "/konto/zwei-faktor", {"code": editor.code()}, follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == "/console/"
    console = client.get("/console/")
    assert console.status_code == 200
    assert soup(console).find("h1").get_text(strip=True) in {"Betriebskonsole", "Operator console"}


def test_a_used_code_cannot_be_replayed(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    editor = make_account(Role.EDITOR)
    code = editor.code()
    for attempt in ("first", "replay"):
        client.cookies.clear()
        post_form(
            client,
            "/konto/anmelden",
            {"email": editor.email, "password": editor.password},
            follow_redirects=False,
        )
        response = post_form(client, "/konto/zwei-faktor", {"code": code}, follow_redirects=False)
        if attempt == "first":
            assert response.status_code == 303
        else:
            assert response.status_code == 401, "the same code must not log in twice"


def test_staff_without_second_factor_must_enrol_before_anything_else(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    admin = make_account(Role.ADMIN, totp=False)
    first = post_form(
        client,
        "/konto/anmelden",
        {"email": admin.email, "password": admin.password},
        follow_redirects=False,
    )
    assert first.headers["location"] == "/konto/zwei-faktor/einrichten"
    assert client.get("/console/", follow_redirects=False).status_code == 303
    enrol_page = soup(client.get("/konto/zwei-faktor/einrichten"))
    secret = enrol_page.find(id="totp-secret").get_text().replace(" ", "")
    assert enrol_page.find(class_="qr").find("svg") is not None
    assert enrol_page.find(class_="qr")["role"] == "img"
    done = post_form(
        client,
        "/konto/zwei-faktor/einrichten",
        {"code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/"
    assert client.get("/console/").status_code == 200
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        account = session.get_one(Account, admin.id)
        assert account.totp_enabled_at is not None
        assert secret not in (account.totp_secret_sealed or ""), "the seed is stored sealed"
    assert [e.actor_id for e in _audit(client, "account.second_factor_enabled")] == [admin.id]


def test_lock_out_after_ten_failures_and_unlock_by_mail(
    mail_client: TestClient, make_account: Callable[..., KnownAccount], mail_sink: object
) -> None:
    citizen = make_account(Role.CITIZEN)
    for attempt in range(MAX_FAILED_LOGINS):
        response = post_form(
            mail_client, "/konto/anmelden", {"email": citizen.email, "password": f"wrong {attempt}"}
        )
        assert response.status_code == 401
    # Now even the right password is refused, with a message that explains the lock.
    locked = post_form(
        mail_client, "/konto/anmelden", {"email": citizen.email, "password": citizen.password}
    )
    assert locked.status_code == 401
    assert "klug_session" not in locked.headers.get("set-cookie", "")
    assert [e.outcome for e in _audit(mail_client, "account.locked")] == ["denied"]
    unlock_mail = mail_sink.wait_for(citizen.email)[0]  # type: ignore[attr-defined]
    link = mail_sink.link(unlock_mail, "/konto/entsperren")  # type: ignore[attr-defined]
    path = link.split("testserver", 1)[1]
    page = soup(mail_client.get(path))
    token = page.find("input", attrs={"name": "token"})["value"]
    unlocked = post_form(mail_client, "/konto/entsperren", {"token": token}, token_from=path)
    assert unlocked.status_code == 200
    assert log_in(mail_client, citizen).headers["location"] == "/konto/"
    # The link works once.
    again = post_form(
        mail_client, "/konto/entsperren", {"token": token}, token_from="/konto/anmelden"
    )
    assert again.status_code == 400


def test_wrong_codes_count_towards_the_lock_out(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    editor = make_account(Role.EDITOR)
    post_form(
        client,
        "/konto/anmelden",
        {"email": editor.email, "password": editor.password},
        follow_redirects=False,
    )
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert post_form(client, "/konto/zwei-faktor", {"code": "123456"}).status_code == 401
    last = post_form(client, "/konto/zwei-faktor", {"code": "123456"})
    assert last.status_code == 401
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert session.get_one(Account, editor.id).locked_at is not None
        assert (
            session.scalars(select(LoginSession).where(LoginSession.account_id == editor.id)).all()
            == []
        )


def test_staff_session_ends_after_thirty_idle_minutes(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    editor = make_account(Role.EDITOR)
    log_in(client, editor)
    assert client.get("/console/").status_code == 200
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == editor.id)
            .values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31))
        )
        session.commit()
    response = client.get("/console/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/konto/anmelden?next=/console/")


def test_citizen_session_survives_thirty_idle_minutes(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    log_in(client, citizen)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == citizen.id)
            .values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31))
        )
        session.commit()
    assert client.get("/konto/").status_code == 200


def test_logout_ends_the_session_on_the_server(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    log_in(client, citizen)
    stolen_cookie = client.cookies.get("klug_session")
    response = post_form(
        client, "/konto/abmelden", {}, token_from="/konto/", follow_redirects=False
    )
    assert response.status_code == 303
    client.cookies.set("klug_session", stolen_cookie)
    assert client.get("/konto/", follow_redirects=False).status_code == 303
    assert [e.actor_id for e in _audit(client, "logout")] == [citizen.id]


def test_login_redirects_back_to_a_local_page_only(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    response = log_in(client, citizen, next_path="/konto/")
    assert response.headers["location"] == "/konto/"
    client.cookies.clear()
    evil = log_in(client, citizen, next_path="//evil.example.org/")
    assert evil.headers["location"] == "/konto/"


def test_english_login_stays_in_english(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    token = csrf_token(client, "/en/konto/anmelden")
    response = client.post(
        "/en/konto/anmelden",
        data={"email": citizen.email, "password": citizen.password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/en/konto/"
    assert soup(client.get("/en/konto/")).html["lang"] == "en"


def test_login_gives_the_browser_a_new_csrf_cookie(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> None:
    citizen = make_account(Role.CITIZEN)
    client.get("/konto/anmelden")
    before = client.cookies.get("klug_csrf")
    log_in(client, citizen)
    after = client.cookies.get("klug_csrf")
    assert before and after and before != after
    token = csrf_token(client, "/konto/")
    assert (
        post_form(client, "/konto/andere-sitzungen-beenden", {"csrf_token": token}).status_code
        == 200
    )

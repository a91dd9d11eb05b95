"""Site notices on every page, and reports of accessibility barriers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.citizen.content.models import AccessibilityFeedback
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, MailSink, csrf_token, post_form, soup


def test_editor_publishes_a_notice_that_every_page_shows_in_both_languages(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    from tests.conftest import log_in

    editor_browser, visitor = client_factory(), client_factory()
    log_in(editor_browser, make_account(Role.EDITOR))
    response = post_form(
        editor_browser,
        "/console/hinweise",
        {
            "title_de": "Bürgerbüro geschlossen",
            "title_en": "Citizens' office closed",
            "body_de": "Am Freitag.",
            "body_en": "On Friday.",
            "severity": "warning",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    visitor.app.state.cells.clear()  # type: ignore[attr-defined]
    german = soup(visitor.get("/energie")).find(id="notices").find("section")
    english = soup(visitor.get("/en/energie")).find(id="notices").find("section")
    assert german.find("h2").get_text(strip=True) == "Bürgerbüro geschlossen"
    assert english.find("h2").get_text(strip=True) == "Citizens' office closed"
    assert "notice--warning" in german["class"]
    assert soup(visitor.get("/")).find(id="notices")["aria-live"] == "polite"

    end_form = soup(editor_browser.get("/console/hinweise")).find(
        "form", action=lambda a: bool(a) and a.endswith("/beenden")
    )
    editor_browser.post(
        end_form["action"], data={"csrf_token": csrf_token(editor_browser, "/console/hinweise")}
    )
    visitor.app.state.cells.clear()  # type: ignore[attr-defined]
    assert soup(visitor.get("/energie")).find(id="notices").find("section") is None


def test_notice_form_errors_are_explained(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.EDITOR)
    response = post_form(
        client, "/console/hinweise", {"title_de": "", "title_en": "x" * 200, "severity": "panic"}
    )
    assert response.status_code == 400
    page = soup(response)
    assert page.find("input", id="title_de")["aria-invalid"] == "true"
    assert page.find("input", id="title_en")["aria-invalid"] == "true"
    assert page.find(class_="error-summary") is not None


def test_api_notices_have_start_and_end_times(client: TestClient) -> None:
    from klug.core.audit import SYSTEM
    from klug.identity import apikeys

    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        _key, key = apikeys.create(
            session=session, name="Redaktionssystem", scopes="notices.manage", actor=SYSTEM
        )
        session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    created = client.post(
        "/api/citizen/notices",
        json={"title_de": "Später", "title_en": "Later", "starts_at": later},
        headers=headers,
    )
    assert created.status_code == 201
    assert client.get("/api/citizen/notices").json() == [], "not shown before it starts"
    naive = client.post(
        "/api/citizen/notices",
        json={"title_de": "a", "title_en": "b", "starts_at": "2026-01-01T10:00:00"},
        headers=headers,
    )
    assert naive.status_code == 422, "times without a zone are ambiguous"
    backwards = client.post(
        "/api/citizen/notices",
        json={
            "title_de": "a",
            "title_en": "b",
            "starts_at": "2026-01-02T10:00:00Z",
            "ends_at": "2026-01-01T10:00:00Z",
        },
        headers=headers,
    )
    assert backwards.status_code == 422
    now = client.post(
        "/api/citizen/notices", json={"title_de": "Jetzt", "title_en": "Now"}, headers=headers
    ).json()
    assert [n["title_en"] for n in client.get("/api/citizen/notices").json()] == ["Now"]
    ended = client.post(f"/api/citizen/notices/{now['id']}/end", headers=headers)
    assert ended.status_code == 200 and ended.json()["ends_at"] is not None
    assert client.get("/api/citizen/notices").json() == []
    assert client.post("/api/citizen/notices/9999/end", headers=headers).status_code == 404


def test_barrier_report_is_stored_forwarded_and_listed_for_editors(
    client_factory: Callable[..., TestClient],
    mail_sink: MailSink,
    make_account: Callable[..., KnownAccount],
) -> None:
    from tests.conftest import log_in

    visitor = client_factory(
        smtp_url=mail_sink.url, accessibility_contact="barrierefreiheit@example.org"
    )  # type: ignore[attr-defined]
    response = post_form(
        visitor,
        "/en/barrierefreiheit",
        {
            "message": "The map on the parking page cannot be used with a keyboard.",
            "page_url": "/mobilitaet",
            "reply_email": "leser@example.org",
        },
        token_from="/en/barrierefreiheit",
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/en/barrierefreiheit?gesendet=1#rueckmeldung"
    thanks = soup(visitor.get(response.headers["location"]))
    assert thanks.find(class_="message--success") is not None
    forwarded = mail_sink.wait_for("barrierefreiheit@example.org")[0]
    assert "keyboard" in forwarded.get_content()  # type: ignore[attr-defined]
    with visitor.app.state.session_factory() as session:  # type: ignore[attr-defined]
        stored = session.scalars(select(AccessibilityFeedback)).one()
        assert (stored.language, stored.reply_email, stored.page_url) == (
            "en",
            "leser@example.org",
            "/mobilitaet",
        )

    editor_browser = client_factory()
    log_in(editor_browser, make_account(Role.EDITOR))
    listing = soup(editor_browser.get("/console/rueckmeldungen"))
    assert "keyboard" in listing.find(class_="record").get_text()


def test_barrier_report_email_is_optional_but_must_be_valid(client: TestClient) -> None:
    ok = post_form(
        client,
        "/barrierefreiheit",
        {"message": "Der Kontrast der Fußzeile ist zu gering."},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    bad = post_form(
        client,
        "/barrierefreiheit",
        {"message": "Der Kontrast ist zu gering.", "reply_email": "kein-at"},
    )
    assert bad.status_code == 400
    assert soup(bad).find("input", id="reply_email")["aria-invalid"] == "true"

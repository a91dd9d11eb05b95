"""Editors keep pages, news and events in the console; every change is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.citizen.content.models import ContentItem
from klug.core.audit import AuditEvent
from klug.core.i18n import CITY_TZ
from klug.identity.permissions import Role
from tests.citizen.content.conftest import (
    console_action,
    create_through_console,
    session_of,
)
from tests.conftest import KnownAccount, csrf_token, post_form, soup


def _audit_trail(client: TestClient, item_id: int) -> list[tuple[str, str | None, int | None]]:
    with session_of(client) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_kind == "content_item", AuditEvent.target_id == str(item_id))
            .order_by(AuditEvent.id)
        )
        return [(e.action, e.actor_kind, e.actor_id) for e in events]


def test_editor_creates_publishes_and_withdraws_news_and_each_step_is_audited(
    client: TestClient, editor: KnownAccount, client_factory: Callable[..., TestClient]
) -> None:
    visitor = client_factory()
    item_id = create_through_console(
        client,
        "news",
        title_de="Neue Öffnungszeiten",
        title_en="New opening hours",
        body_de="Das Bürgerbüro hat **länger** geöffnet.",
        slug="oeffnungszeiten",
    )
    editing = soup(client.get(f"/console/inhalte/{item_id}?gespeichert=1"))
    assert editing.find(class_="message--success") is not None
    assert editing.find("input", id="title_de")["value"] == "Neue Öffnungszeiten"
    assert visitor.get("/aktuelles/oeffnungszeiten").status_code == 404, "a draft is not public"

    assert console_action(client, item_id, "veroeffentlichen").status_code == 303
    page = soup(visitor.get("/aktuelles/oeffnungszeiten"))
    assert page.find("h1").get_text(strip=True) == "Neue Öffnungszeiten"
    assert page.find(class_="prose").find("strong").get_text() == "länger"
    listed = [a.get_text(strip=True) for a in soup(visitor.get("/aktuelles")).select("main h2 a")]
    assert listed == ["Neue Öffnungszeiten"]

    assert console_action(client, item_id, "zurueckziehen").status_code == 303
    assert visitor.get("/aktuelles/oeffnungszeiten").status_code == 404
    assert soup(visitor.get("/aktuelles")).select("main h2 a") == []

    assert _audit_trail(client, item_id) == [
        ("content.created", "account", editor.id),
        ("content.published", "account", editor.id),
        ("content.unpublished", "account", editor.id),
    ]


def test_editing_a_published_item_changes_the_public_page_and_is_audited(
    client: TestClient, editor: KnownAccount
) -> None:
    item_id = create_through_console(client, "page", title_de="Abfall", slug="abfall")
    console_action(client, item_id, "veroeffentlichen")
    response = post_form(
        client,
        f"/console/inhalte/{item_id}",
        {"title_de": "Abfall und Wertstoffe", "body_de": "Neu.", "slug": "abfall"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with session_of(client) as session:
        stored = session.get_one(ContentItem, item_id)
        assert (stored.title_de, stored.body_de, stored.status) == (
            "Abfall und Wertstoffe",
            "Neu.",
            "published",
        )
        assert session.scalars(select(ContentItem)).all() == [stored], "no second item"
    assert soup(client.get("/seiten/abfall")).find("h1").get_text(strip=True) == (
        "Abfall und Wertstoffe"
    )
    assert [a for a, _k, _i in _audit_trail(client, item_id)] == [
        "content.created",
        "content.published",
        "content.updated",
    ]


def test_form_errors_are_explained_next_to_the_fields(
    client: TestClient, editor: KnownAccount
) -> None:
    response = post_form(
        client,
        "/console/inhalte/neu",
        {"kind": "event", "slug": "Nicht gültig!", "ends_at": "2026-12-01T10:00"},
        token_from="/console/inhalte/neu?art=veranstaltungen",
    )
    assert response.status_code == 400
    page = soup(response)
    summary = page.find(class_="error-summary")
    assert summary is not None
    linked = {a["href"] for a in summary.find_all("a")}
    assert {"#title_de", "#body_de", "#slug", "#starts_at", "#place_de"} <= linked
    for name in ("title_de", "starts_at", "place_de", "slug"):
        assert page.find("input", id=name)["aria-invalid"] == "true", name
    assert page.find("textarea", id="body_de")["aria-invalid"] == "true"
    with session_of(client) as session:
        assert session.scalars(select(ContentItem)).all() == []


def test_an_address_is_used_once_per_kind(client: TestClient, editor: KnownAccount) -> None:
    create_through_console(client, "page", title_de="Parken", slug="parken")
    again = post_form(
        client,
        "/console/inhalte/neu",
        {"kind": "page", "title_de": "Parken 2", "body_de": "x", "slug": "parken"},
        token_from="/console/inhalte/neu?art=seiten",
    )
    assert again.status_code == 400
    error = soup(again).find(id="slug-error")
    assert error is not None and error.get_text(strip=True) != ""
    # The same address for another kind is a different page.
    create_through_console(client, "news", title_de="Parken", slug="parken")


def test_the_address_is_made_from_the_german_title(
    client: TestClient, editor: KnownAccount
) -> None:
    item_id = create_through_console(client, "page", title_de="Müllabfuhr & Straßenreinigung")
    with session_of(client) as session:
        assert session.get_one(ContentItem, item_id).slug == "muellabfuhr-strassenreinigung"


def test_scheduled_items_appear_at_their_publish_time(
    client: TestClient, editor: KnownAccount, client_factory: Callable[..., TestClient]
) -> None:
    tomorrow = (dt.datetime.now(CITY_TZ) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    item_id = create_through_console(
        client, "news", title_de="Morgen", slug="morgen", published_at=tomorrow
    )
    console_action(client, item_id, "veroeffentlichen")
    # English pages: their texts are the message ids, independent of the German catalogue.
    state = soup(client.get(f"/en/console/inhalte/{item_id}")).find("dl", class_="facts")
    assert "Scheduled for" in state.get_text(" ", strip=True)
    visitor = client_factory()
    assert visitor.get("/aktuelles/morgen").status_code == 404
    with session_of(client) as session:
        item = session.get_one(ContentItem, item_id)
        item.published_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        session.commit()
    assert visitor.get("/aktuelles/morgen").status_code == 200


def test_deleting_an_item_removes_its_page(client: TestClient, editor: KnownAccount) -> None:
    item_id = create_through_console(client, "page", title_de="Weg damit", slug="weg")
    console_action(client, item_id, "veroeffentlichen")
    response = console_action(client, item_id, "loeschen")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/inhalte?geloescht=1"
    assert client.get("/seiten/weg").status_code == 404
    assert client.get(f"/console/inhalte/{item_id}").status_code == 404
    assert [a for a, _k, _i in _audit_trail(client, item_id)][-1] == "content.deleted"


def test_the_console_lists_items_with_their_state_and_is_in_the_navigation(
    client: TestClient, editor: KnownAccount
) -> None:
    draft = create_through_console(client, "page", title_de="Entwurf")
    published = create_through_console(
        client, "event", title_de="Fest", starts_at="2030-05-01T18:00", place_de="Rathaus"
    )
    console_action(client, published, "veroeffentlichen")
    page = soup(client.get("/en/console/inhalte"))
    rows = {
        row.find("a").get_text(strip=True): [td.get_text(strip=True) for td in row.find_all("td")]
        for row in page.select("table tbody tr")
    }
    assert rows["Entwurf"][1:3] == ["Page", "Draft"]
    assert rows["Fest"][1:3] == ["Event", "Published"]
    only_events = soup(client.get("/console/inhalte?art=veranstaltungen"))
    assert [a.get_text(strip=True) for a in only_events.select("table tbody tr a")] == ["Fest"]
    nav = page.find("nav", class_="console-nav")
    assert nav.find("a", href="/en/console/inhalte")["aria-current"] == "page"
    assert draft != published


def test_citizens_and_visitors_cannot_use_the_content_console(
    client: TestClient,
    client_factory: Callable[..., TestClient],
    logged_in: Callable[..., KnownAccount],
) -> None:
    anonymous = client_factory()
    response = anonymous.get("/console/inhalte", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/konto/anmelden?next=")
    logged_in(Role.CITIZEN)
    assert client.get("/console/inhalte").status_code == 403
    forged = client.post(
        "/console/inhalte/neu",
        data={"csrf_token": csrf_token(client, "/konto/"), "kind": "page", "title_de": "x"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    with session_of(client) as session:
        assert session.scalars(select(ContentItem)).all() == []

"""Every route declares who may use it, and anonymous visitors reach only public ones."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from klug.core.web import api_routes
from klug.identity.deps import access_marker
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, csrf_token

# Routes that anyone may use. A new public route must be added here on purpose.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/energie"),
    ("GET", "/mobilitaet"),
    ("GET", "/sicherheit"),
    ("GET", "/buergerservice"),
    ("GET", "/opendata"),
    ("GET", "/ziele"),
    ("GET", "/impressum"),
    ("GET", "/datenschutz"),
    ("GET", "/leichte-sprache"),
    ("GET", "/barrierefreiheit"),
    ("POST", "/barrierefreiheit"),
    ("GET", "/api/citizen/notices"),
    ("GET", "/api/live/notices"),
    ("GET", "/konto/anmelden"),
    ("POST", "/konto/anmelden"),
    ("POST", "/konto/abmelden"),
    ("GET", "/konto/registrieren"),
    ("POST", "/konto/registrieren"),
    ("GET", "/konto/bestaetigen"),
    ("POST", "/konto/bestaetigen"),
    ("GET", "/konto/passwort-vergessen"),
    ("POST", "/konto/passwort-vergessen"),
    ("GET", "/konto/passwort-neu"),
    ("POST", "/konto/passwort-neu"),
    ("GET", "/konto/entsperren"),
    ("POST", "/konto/entsperren"),
    ("GET", "/{unknown_path:path}"),
    ("GET", "/sta/v1.1"),
    ("GET", "/sta/v1.1/"),
    ("GET", "/sta/v1.1/{resource:path}"),
    ("GET", "/api/sensors/latest"),
    ("GET", "/api/sensors/datastreams/{datastream_id}"),
    ("GET", "/api/sensors/datastreams/{datastream_id}/series"),
    ("GET", "/api/live/observations"),
    # The energy programme's public figures, forecast, planner and their CSV downloads.
    ("GET", "/energie/prognose"),
    ("GET", "/energie/solar"),
    ("GET", "/energie/szenario"),
    ("GET", "/energie/szenario.csv"),
    ("GET", "/energie/daten.csv"),
    ("GET", "/api/energy/summary"),
    ("GET", "/api/energy/mix"),
    ("GET", "/api/energy/forecast"),
    ("GET", "/api/energy/series"),
    ("GET", "/api/energy/series.csv"),
    ("POST", "/api/energy/scenario"),
    ("POST", "/api/energy/scenario.csv"),
    # The service catalogue (pages and JSON) is public.
    ("GET", "/leistungen"),
    ("GET", "/leistungen/{slug}"),
    ("GET", "/api/citizen/services"),
    ("GET", "/api/citizen/services/{slug}"),
    ("GET", "/transparenz"),
    ("GET", "/api/citizen/transparency"),
    # An application form may be read by anyone; applying needs an account.
    ("GET", "/leistungen/{slug}/antrag"),
    # The Mängelmelder: reports are public; sending and "me too" need no account.
    ("GET", "/maengelmelder"),
    ("GET", "/maengelmelder/karte.json"),
    # A report's photo: published ones for everyone; unpublished ones only for staff, the
    # route decides and answers 404 to everyone else (tests/citizen/reports/test_report_photos.py).
    ("GET", "/maengelmelder/{report_id:int}/foto/{name}"),
    ("GET", "/maengelmelder/melden"),
    ("POST", "/maengelmelder/melden"),
    ("GET", "/maengelmelder/statistik"),
    ("GET", "/maengelmelder/{report_id:int}"),
    ("GET", "/maengelmelder/{report_id:int}/danke"),
    ("POST", "/maengelmelder/{report_id:int}/unterstuetzen"),
    # Unsubscribing from a report's status mails: the signed token is the proof, no login.
    ("GET", "/maengelmelder/abbestellen"),
    ("POST", "/maengelmelder/abbestellen"),
    # Open311 GeoReport v2: reading is open; POST requests checks its api_key itself
    # (Open311 sends it in the form, and answers 403 in the spec's format).
    ("GET", "/open311/v2/discovery.{fmt}"),
    ("GET", "/open311/v2/services.{fmt}"),
    ("GET", "/open311/v2/services/{service_code}.{fmt}"),
    ("GET", "/open311/v2/requests.{fmt}"),
    ("POST", "/open311/v2/requests.{fmt}"),
    ("GET", "/open311/v2/requests/{request_id}.{fmt}"),
    ("GET", "/open311/v2/tokens/{token}.{fmt}"),
    ("GET", "/open311/v2/{unknown:path}"),
    # Published pages, news and events, their feed, images and the search.
    ("GET", "/aktuelles"),
    ("GET", "/aktuelles/feed.atom"),
    ("GET", "/aktuelles/{slug}"),
    ("GET", "/veranstaltungen"),
    ("GET", "/veranstaltungen/archiv"),
    ("GET", "/veranstaltungen/{slug}"),
    ("GET", "/veranstaltungen/{slug}/kalender.ics"),
    ("GET", "/seiten/{slug}"),
    ("GET", "/inhalte/bilder/{image_id}"),
    ("GET", "/suche"),
    ("GET", "/api/content/search"),
}


def _routes(client: TestClient) -> list[tuple[str, str, set[str]]]:
    found = []
    for route in api_routes(client.app):  # type: ignore[arg-type]
        markers = {access_marker(call) for call in route.dependencies} - {None}
        found.append((route.method, route.path, markers))
    assert len(found) > 40, "the route list must not come back empty"
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_has_exactly_one_access_rule(client: TestClient) -> None:
    for method, path, markers in _routes(client):
        assert len(markers) == 1, f"{method} {path}: {markers}"
        is_public = markers == {"public"}
        assert is_public == ((method, path) in PUBLIC), (
            f"{method} {path} public={is_public} disagrees with the list"
        )


def test_anonymous_requests_cannot_reach_any_protected_route(client: TestClient) -> None:
    token = csrf_token(client)
    checked = 0
    for method, path, _route in _routes(client):
        if (method, path) in PUBLIC:
            continue
        url = _concrete(path)
        response = client.request(
            method,
            url,
            data={"csrf_token": token} if method != "GET" else None,
            follow_redirects=False,
        )
        if url.startswith(("/api/", "/metrics", "/sta/")):
            assert response.status_code == 401, f"{method} {url} answered {response.status_code}"
            assert response.headers["content-type"].startswith("application/problem+json")
        else:
            assert response.status_code == 303, f"{method} {url} answered {response.status_code}"
            assert response.headers["location"].startswith("/konto/anmelden?next=")
        checked += 1
    assert checked >= 25


def test_a_citizen_cannot_reach_staff_routes(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.CITIZEN)
    token = csrf_token(client, "/konto/")
    for method, path, markers in _routes(client):
        marker = next(iter(markers))
        if not marker.startswith("permission:") or marker == "permission:account.self":
            continue
        url = _concrete(path)
        response = client.request(
            method,
            url,
            data={"csrf_token": token} if method != "GET" else None,
            follow_redirects=False,
        )
        assert response.status_code == 403, (
            f"{method} {url} answered {response.status_code} to a citizen"
        )


@pytest.mark.parametrize(
    ("role", "allowed", "forbidden"),
    [
        (
            Role.EDITOR,
            ["/console/", "/console/hinweise", "/console/rueckmeldungen", "/console/inhalte"],
            ["/console/konten", "/console/protokoll", "/console/api-schluessel"],
        ),
        (
            Role.CASEWORKER,
            ["/console/", "/console/meldungen"],
            ["/console/hinweise", "/console/konten", "/console/protokoll", "/console/inhalte"],
        ),
        (
            Role.OPERATOR_SAFETY,
            ["/console/"],
            ["/console/hinweise", "/console/konten", "/console/api-schluessel"],
        ),
        (
            Role.ADMIN,
            [
                "/console/",
                "/console/konten",
                "/console/protokoll",
                "/console/api-schluessel",
                "/console/hinweise",
            ],
            [],
        ),
    ],
)
def test_staff_roles_see_only_their_sections(
    client: TestClient,
    logged_in: Callable[..., KnownAccount],
    role: Role,
    allowed: list[str],
    forbidden: list[str],
) -> None:
    logged_in(role)
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in forbidden:
        assert client.get(path).status_code == 403, path

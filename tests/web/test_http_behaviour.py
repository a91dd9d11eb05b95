"""Security headers, limits, and clean errors for bad input (never a 500, never a trace)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from klug.citizen.content.models import AccessibilityFeedback
from klug.identity.permissions import Role
from tests.conftest import KnownAccount, post_form, soup


def test_security_headers_on_pages_api_and_errors(client: TestClient) -> None:
    for path in (
        "/",
        "/api/citizen/notices",
        "/gibt-es-nicht",
        "/api/gibt-es-nicht",
        "/static/css/klug.css",
    ):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in headers, "no HSTS over plain HTTP"


def test_hsts_behind_https(client_factory: Callable[..., TestClient]) -> None:
    secure = client_factory(base_url="https://klug.example.org")
    assert (
        secure.get("/healthz").headers["strict-transport-security"].startswith("max-age=31536000")
    )


def test_pages_have_no_inline_scripts_or_styles(client: TestClient) -> None:
    for path in ("/", "/konto/anmelden", "/barrierefreiheit", "/en/"):
        page = soup(client.get(path))
        for script in page.find_all("script"):
            assert script.get("src"), f"inline script on {path}"
        assert page.find("style") is None
        assert not page.find_all(style=True), f"style attribute on {path}"


def test_oversized_body_is_refused_with_413(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(max_body_bytes=2048)
    response = client.post(
        "/api/citizen/notices", content=b"x" * 5000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 413


def test_oversized_streamed_body_without_length_is_refused(
    client_factory: Callable[..., TestClient],
) -> None:
    client = client_factory(max_body_bytes=2048)

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"y" * 1000

    response = client.post(
        "/api/citizen/notices", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"title_de": 5}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[]", "application/json"),
        (b"title_de=x", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_api_input_is_a_problem_document(
    client: TestClient, make_account: Callable[..., KnownAccount], body: bytes, content_type: str
) -> None:
    from klug.identity import apikeys

    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        from klug.core.audit import SYSTEM

        _key, plain = apikeys.create(
            session=session, name="test", scopes="notices.manage", actor=SYSTEM
        )
        session.commit()
    response = client.post(
        "/api/citizen/notices",
        content=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {plain}"},
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == response.status_code
    assert "Traceback" not in response.text
    assert "garbage" not in response.text, "input is not echoed back"


def test_unknown_api_path_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/gibt-es-nicht", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Page not found"
    german = client.get("/api/gibt-es-nicht", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert german.json()["title"] == "Seite nicht gefunden"


def test_malformed_path_parameter_is_not_a_server_error(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    logged_in(Role.ADMIN)
    assert client.get("/console/konten/abc").status_code == 400
    assert client.get("/console/konten/999999").status_code == 404
    assert client.get("/console/protokoll?von=kein-datum&seite=x").status_code == 400


def test_malformed_form_keeps_the_visitor_on_the_form(client: TestClient) -> None:
    response = post_form(client, "/barrierefreiheit", {"message": "zu kurz"})
    assert response.status_code == 400
    page = soup(response)
    assert page.find("textarea", id="message").get_text() == "zu kurz"
    assert page.find(class_="error-summary") is not None
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(AccessibilityFeedback)) == 0


def test_unexpected_error_is_a_clean_500_page(client: TestClient) -> None:
    from fastapi import Depends

    from klug.identity.deps import public

    def explode() -> None:
        raise RuntimeError("secret internal detail")

    app = client.app
    for path in ("/explode", "/api/explode"):
        app.add_api_route(path, explode, dependencies=[Depends(public)])  # type: ignore[attr-defined]
        # In front of the catch-all 404 route, which is last.
        app.router.routes.insert(0, app.router.routes.pop())  # type: ignore[attr-defined]
    page = client.get("/en/explode")
    assert page.status_code == 500
    assert "secret internal detail" not in page.text and "Traceback" not in page.text
    assert soup(page).find("h1").get_text(strip=True) == "Something went wrong"
    assert page.headers["content-security-policy"]
    api = client.get("/api/explode")
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
    assert "secret internal detail" not in api.text


def test_rate_limit_per_ip(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(rate_limit_ip="5/minute")
    statuses = [client.get("/impressum").status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    limited = client.get("/impressum")
    assert int(limited.headers["retry-after"]) >= 1
    assert soup(limited).find("h1").get_text(strip=True) == "Zu viele Anfragen"
    assert client.get("/healthz").status_code == 200, "probes are never limited"


def test_login_attempts_are_limited_per_ip(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(rate_limit_login="3/minute")
    statuses = [
        post_form(
            client, "/konto/anmelden", {"email": "a@example.org", "password": "x"}
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


def test_rate_limit_per_account(
    client_factory: Callable[..., TestClient], make_account: Callable[..., KnownAccount]
) -> None:
    from tests.conftest import log_in

    client = client_factory(rate_limit_account="4/minute")
    citizen = make_account(Role.CITIZEN)
    log_in(client, citizen)
    statuses = [client.get("/konto/").status_code for _ in range(6)]
    assert 429 in statuses
    assert statuses.index(429) <= 4


def test_personal_pages_are_never_stored_by_caches(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    assert client.get("/").headers["cache-control"] == "no-cache"
    logged_in(Role.CITIZEN)
    assert client.get("/konto/").headers["cache-control"] == "private, no-store"
    assert client.get("/").headers["cache-control"] == "private, no-store"
    assert client.get("/api/identity/me").headers["cache-control"] == "private, no-store"
    assert "immutable" in client.get("/static/css/klug.css?v=1").headers["cache-control"]

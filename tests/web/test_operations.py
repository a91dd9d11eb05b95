"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from klug.core.audit import SYSTEM
from klug.identity import apikeys


def _metrics_key(client: TestClient) -> str:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        _key, plain = apikeys.create(
            session=session, name="Prometheus", scopes="metrics.read", actor=SYSTEM
        )
        session.commit()
    return plain


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_readiness_fails_when_the_database_is_unreachable(client_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_factory(database_url="postgresql://nobody@127.0.0.1:1/none")
    assert client.get("/healthz").status_code == 200, "liveness does not depend on the database"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"


def test_metrics_count_requests_by_route_and_show_pool_and_bus(client: TestClient) -> None:
    key = _metrics_key(client)
    for _ in range(3):
        client.get("/impressum")
    client.get("/console/konten/7", follow_redirects=False)
    text = client.get("/metrics", headers={"Authorization": f"Bearer {key}"}).text
    lines = text.splitlines()
    impressum = [
        li
        for li in lines
        if li.startswith("klug_http_requests_total{")
        and 'route="/impressum"' in li
        and 'status="200"' in li
    ]
    assert impressum and float(impressum[0].rsplit(" ", 1)[1]) >= 3
    assert any('route="/console/konten/{account_id}"' in li for li in lines), (
        "labels use route templates, not paths"
    )
    assert any(li.startswith("klug_http_request_duration_seconds_bucket{") for li in lines)
    assert any(li.startswith("klug_db_pool_connections{") for li in lines)
    assert any(li.startswith('klug_event_bus_subscribers{backend="inprocess"') for li in lines)


def test_metrics_need_a_key(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")

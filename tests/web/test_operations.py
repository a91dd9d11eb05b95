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


def test_rate_limit_counters_are_shared_through_redis(client_factory) -> None:  # type: ignore[no-untyped-def]
    import os

    import redis

    from tests.conftest import need

    redis_url = os.environ.get("KLUG_TEST_REDIS_URL", "")
    need(bool(redis_url), "Redis (set KLUG_TEST_REDIS_URL)")
    store = redis.Redis.from_url(redis_url)
    for key in store.scan_iter(match="klug-ratelimit*"):
        store.delete(key)
    store.close()
    # Two application instances stand for two workers; the limit is per client IP.
    first = client_factory(redis_url=redis_url, rate_limit_ip="4/minute")
    second = client_factory(redis_url=redis_url, rate_limit_ip="4/minute")
    clients = (first, second, first, second, first, second)
    statuses = [client.get("/impressum").status_code for client in clients]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_json_access_log_without_query_strings(client_factory, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    client = client_factory(log_json=True, log_level="INFO")
    client.get("/konto/bestaetigen?token=very-secret-one-time-token")
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    access = [entry for entry in lines if entry.get("logger") == "klug.access"]
    assert access, "one JSON object per request"
    entry = access[-1]
    assert entry["path"] == "/konto/bestaetigen"
    assert entry["status"] == 400 and entry["method"] == "GET"
    assert {"time", "level", "message", "duration_ms"} <= set(entry)
    assert "very-secret" not in json.dumps(lines)


def test_several_workers_serve_and_sum_their_metrics(database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    import httpx

    from klug.core.db import create_db_engine, make_session_factory
    from tests.conftest import need
    from tests.servers import start_server

    redis_url = os.environ.get("KLUG_TEST_REDIS_URL", "")
    need(bool(redis_url), "Redis (set KLUG_TEST_REDIS_URL)")
    engine = create_db_engine(database_url)
    with make_session_factory(engine)() as session:
        _key, key = apikeys.create(
            session=session, name="Prometheus", scopes="metrics.read", actor=SYSTEM
        )
        session.commit()
    engine.dispose()
    server = start_server(database_url, tmp_path / "var", workers=2, redis_url=redis_url)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for _ in range(20):
                assert http.get("/impressum").status_code == 200
            text = http.get("/metrics", headers={"Authorization": f"Bearer {key}"}).text
    finally:
        server.stop()
    counts = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("klug_http_requests_total{") and 'route="/impressum"' in line
    ]
    assert sum(counts) == 20, "the scrape sums the requests of both workers"

"""API keys for machines and the ``klug`` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from klug.core.audit import AuditEvent
from klug.identity.models import Account
from klug.identity.permissions import Role
from tests.conftest import TEST_SECRET, KnownAccount, log_in, post_form, soup

KLUG = [sys.executable, "-m", "klug"]


def _cli(
    args: list[str],
    database_url: str,
    tmp_path: Path,
    *,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "KLUG_DATABASE_URL": database_url,
        "KLUG_VAR_DIR": str(tmp_path / "var"),
        "KLUG_SECRET_KEY": TEST_SECRET,
        **(env or {}),
    }
    return subprocess.run(
        [*KLUG, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_cli_creates_api_key_and_prints_only_the_key_on_the_last_line(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    result = _cli(
        ["apikeys", "create", "--name", "Leitstelle", "--scopes", "notices.manage,metrics.read"],
        database_url,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("klug_") and len(key) > 40
    assert result.stdout.strip() == key, "stdout holds the key and nothing else"

    created = client.post(
        "/api/citizen/notices",
        json={"title_de": "Sperrung", "title_en": "Closure"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert created.status_code == 201
    metrics = client.get("/metrics", headers={"X-API-Key": key})
    assert metrics.status_code == 200
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "apikey.created")
        ).one()
        assert entry.actor_kind == "system"
        assert key not in str(entry.detail)


def test_api_key_scopes_are_enforced(client: TestClient, database_url: str, tmp_path: Path) -> None:
    result = _cli(
        ["apikeys", "create", "--name", "Monitoring", "--scopes", "metrics.read"],
        database_url,
        tmp_path,
    )
    key = result.stdout.strip().splitlines()[-1]
    refused = client.post(
        "/api/citizen/notices",
        json={"title_de": "x", "title_en": "x"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get("/api/identity/me", headers={"Authorization": f"Bearer {key}"}).status_code
        == 403
    )


def test_unknown_and_revoked_keys_are_refused(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    assert (
        client.get("/metrics", headers={"Authorization": "Bearer klug_abc_def"}).status_code == 401
    )
    key = (
        _cli(
            ["apikeys", "create", "--name", "Alt", "--scopes", "metrics.read"],
            database_url,
            tmp_path,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    assert client.get("/metrics", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    prefix = key.split("_")[1]
    assert _cli(["apikeys", "revoke", prefix], database_url, tmp_path).returncode == 0
    response = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]


def test_cli_refuses_scopes_that_machines_may_not_hold(
    database_url: str, tmp_path: Path, client: TestClient
) -> None:
    result = _cli(
        ["apikeys", "create", "--name", "x", "--scopes", "accounts.manage"], database_url, tmp_path
    )
    assert result.returncode == 2
    assert "accounts.manage" in result.stderr


def test_admin_creates_and_revokes_a_key_in_the_console(
    client: TestClient, logged_in: Callable[..., KnownAccount]
) -> None:
    admin = logged_in(Role.ADMIN)
    token = str(
        soup(client.get("/console/api-schluessel")).find("input", attrs={"name": "csrf_token"})[
            "value"
        ]
    )
    page = client.post(
        "/console/api-schluessel",
        data={"csrf_token": token, "name": "Parkleitsystem", "scopes": ["metrics.read"]},
    )
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    key = soup(page).find(id="new-key").get_text(strip=True)
    assert client.get("/metrics", headers={"X-API-Key": key}).status_code == 200
    again = soup(client.get("/console/api-schluessel"))
    assert again.find(id="new-key") is None, "the key is shown once"
    revoke_form = again.find("form", action=lambda a: bool(a) and a.endswith("/widerrufen"))
    client.post(revoke_form["action"], data={"csrf_token": token})
    assert client.get("/metrics", headers={"X-API-Key": key}).status_code == 401
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        actions = [
            (e.action, e.actor_id)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action.like("apikey.%")))
        ]
    assert actions == [("apikey.created", admin.id), ("apikey.revoked", admin.id)]


def test_cli_creates_users_from_stdin_and_refuses_bad_input(
    database_url: str, tmp_path: Path, client: TestClient
) -> None:
    ok = _cli(
        [
            "users",
            "create",
            "--email",
            "Leitung@Example.org",
            "--role",
            "admin",
            "--password-stdin",
        ],
        database_url,
        tmp_path,
        stdin="ein sehr gutes Passwort\n",
    )
    assert ok.returncode == 0, ok.stderr
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        account = session.scalars(
            select(Account).where(Account.email == "leitung@example.org")
        ).one()
        assert account.role == "admin" and account.email_verified_at is not None
    weak = _cli(
        ["users", "create", "--email", "b@example.org", "--role", "editor", "--password-stdin"],
        database_url,
        tmp_path,
        stdin="kurz\n",
    )
    assert weak.returncode == 1 and "12" in weak.stderr
    bad_role = _cli(
        ["users", "create", "--email", "c@example.org", "--role", "king", "--password-stdin"],
        database_url,
        tmp_path,
        stdin="ein sehr gutes Passwort\n",
    )
    assert bad_role.returncode == 2
    no_stdin = _cli(
        ["users", "create", "--email", "d@example.org", "--role", "editor"], database_url, tmp_path
    )
    assert no_stdin.returncode == 2
    duplicate = _cli(
        [
            "users",
            "create",
            "--email",
            "leitung@example.org",
            "--role",
            "admin",
            "--password-stdin",
        ],
        database_url,
        tmp_path,
        stdin="ein sehr gutes Passwort\n",
    )
    assert duplicate.returncode == 1


def test_cli_unlocks_a_locked_account(
    client: TestClient, make_account: Callable[..., KnownAccount], database_url: str, tmp_path: Path
) -> None:
    citizen = make_account(Role.CITIZEN)
    for attempt in range(10):
        post_form(
            client, "/konto/anmelden", {"email": citizen.email, "password": f"falsch {attempt}"}
        )
    assert (
        post_form(
            client, "/konto/anmelden", {"email": citizen.email, "password": citizen.password}
        ).status_code
        == 401
    )
    assert _cli(["users", "unlock", citizen.email], database_url, tmp_path).returncode == 0
    assert log_in(client, citizen).status_code == 303


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["demo"],
        ["migrate"],
        ["users"],
        ["users", "create"],
        ["users", "unlock"],
        ["apikeys"],
        ["apikeys", "create"],
        ["apikeys", "revoke"],
        ["backup"],
        ["restore"],
    ],
)
def test_every_command_explains_itself(command: list[str], tmp_path: Path) -> None:
    result = _cli([*command, "--help"], "sqlite:///unused.db", tmp_path)
    assert result.returncode == 0
    assert "Usage" in result.stdout
    assert len(result.stdout.strip().splitlines()) > 3


def test_demo_is_refused_in_production(tmp_path: Path) -> None:
    result = _cli(
        ["demo", "--no-serve"],
        f"sqlite:///{tmp_path}/x.db",
        tmp_path,
        env={
            "KLUG_ENV": "prod",
            "KLUG_BASE_URL": "https://klug.example.org",
            "KLUG_SMTP_URL": "smtp://127.0.0.1:25",
        },
    )
    assert result.returncode == 2
    assert "refused" in result.stderr
    assert not (tmp_path / "x.db").exists(), "nothing was created"


def test_demo_seeds_one_account_per_role_and_prints_its_credentials(
    database_url: str, tmp_path: Path, client: TestClient
) -> None:
    result = _cli(["demo", "--no-serve"], database_url, tmp_path)
    assert result.returncode == 0, result.stderr
    for role in Role:
        assert role.value in result.stdout
    assert result.stdout.count("TOTP secret:") == len(Role) - 1, (
        "every staff account gets a second factor"
    )
    line = next(li for li in result.stdout.splitlines() if li.strip().startswith("admin "))
    email, password = line.split()[1], line.split("password:")[1].strip()
    secret = result.stdout.split(line, 1)[1].splitlines()[1].split("TOTP secret:")[1].strip()
    log_in(client, KnownAccount(0, email, password, Role.ADMIN, secret))
    assert client.get("/console/konten").status_code == 200
    client.app.state.cells.clear()  # type: ignore[attr-defined]
    assert soup(client.get("/")).find(class_="demo-banner") is not None


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = _cli(["serve", "--port", "1"], f"sqlite:///{tmp_path}/fresh.db", tmp_path)
    assert result.returncode == 2
    assert "klug migrate" in result.stderr


def test_weak_production_configuration_is_refused(tmp_path: Path) -> None:
    result = _cli(
        ["migrate"],
        f"sqlite:///{tmp_path}/x.db",
        tmp_path,
        env={"KLUG_ENV": "prod", "KLUG_SECRET_KEY": "changeme"},
    )
    assert result.returncode == 2
    assert "KLUG_SECRET_KEY" in result.stderr
    assert "changeme" not in result.stderr, "secrets are never printed"

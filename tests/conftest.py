"""Shared fixtures: a fresh migrated database per test, the app, a test client, SMTP.

The suite runs on SQLite; with ``KLUG_TEST_DATABASE=postgres`` (set by ``make test``
when ``KLUG_TEST_POSTGRES_URL`` is given) the same tests run on PostgreSQL.
Under ``CI=true`` a missing service fails a test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from klug.app import create_app
from klug.core import migrate
from klug.core.config import Settings
from klug.core.security import SecretBox, totp_code
from klug.identity.permissions import Role

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parent.parent


def need(condition: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) when something a test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing under CI=true: {what}")
    pytest.skip(f"missing: {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Every page of the web shell that anyone may open (the programme pages, legal pages,
# account forms); browser and server tests check them in both languages.
SHELL_PAGES = [
    "/",
    "/energie",
    "/energie/szenario",
    "/energie/prognose",
    "/energie/solar",
    "/mobilitaet",
    "/sicherheit",
    "/buergerservice",
    "/maengelmelder",
    "/maengelmelder/melden",
    "/maengelmelder/statistik",
    "/leistungen",
    "/transparenz",
    "/leistungen/bewohnerparkausweis",
    "/leistungen/sperrmuellabholung/antrag",
    "/aktuelles",
    "/veranstaltungen",
    "/veranstaltungen/archiv",
    "/suche",
    "/opendata",
    "/ziele",
    "/impressum",
    "/datenschutz",
    "/barrierefreiheit",
    "/leichte-sprache",
    "/konto/anmelden",
    "/konto/registrieren",
    "/konto/passwort-vergessen",
]

# --- databases --------------------------------------------------------------------

BACKEND = os.environ.get("KLUG_TEST_DATABASE", "sqlite")


def _pg_admin_url() -> str:
    url = os.environ.get("KLUG_TEST_POSTGRES_URL", "")
    need(bool(url), "PostgreSQL (set KLUG_TEST_POSTGRES_URL)")
    return url


def _pg_connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    )


@dataclass
class PostgresDatabase:
    url: str
    tables: list[str] = field(default_factory=list)
    _connection: psycopg.Connection[Any] | None = None

    def clean(self) -> None:
        """Empty every table and restart every sequence: the state TRUNCATE … RESTART
        IDENTITY leaves, at a seventh of its cost (TRUNCATE of 42 tables takes ~110 ms,
        which over the suite's ~1,150 tests was two minutes)."""
        if self._connection is None or self._connection.closed:
            self._connection = _pg_connect(self.url)
        with self._connection.transaction():
            # Test clean-up only: replica mode skips the audit log's append-only triggers
            # and the foreign-key triggers, so the order of the tables does not matter.
            self._connection.execute("SET LOCAL session_replication_role = replica")
            for table in self.tables:
                self._connection.execute(f'DELETE FROM "{table}"')  # noqa: S608 – our tables
            self._connection.execute(
                "SELECT setval(oid::regclass, 1, false) FROM pg_class"
                " WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
            )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def create_postgres_database(prefix: str = "klug_test") -> str:
    admin_url = _pg_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with _pg_connect(admin_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    with _pg_connect(_pg_admin_url()) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A migrated database made once per session (a file for SQLite)."""
    if BACKEND == "postgres":
        url = create_postgres_database()
        migrate.upgrade(url)
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        with engine.connect() as connection:
            tables = [
                row[0]
                for row in connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables"
                        " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
            ]
        engine.dispose()
        database = PostgresDatabase(url, tables)
        yield database
        database.close()
        drop_postgres_database(url)
    else:
        path = tmp_path_factory.mktemp("template") / "klug.db"
        migrate.upgrade(f"sqlite:///{path}")
        yield path


@pytest.fixture
def database_url(migrated_template: Any, tmp_path: Path) -> Iterator[str]:
    if isinstance(migrated_template, PostgresDatabase):
        yield migrated_template.url
        migrated_template.clean()
    else:
        target = tmp_path / "klug.db"
        shutil.copyfile(migrated_template, target)
        yield f"sqlite:///{target}"


# --- application ------------------------------------------------------------------

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def settings_factory(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "dev",
            "database_url": database_url,
            "secret_key": TEST_SECRET,
            "base_url": "http://testserver",
            "var_dir": tmp_path / "var",
            "rate_limit_ip": "100000/minute",
            "rate_limit_account": "100000/minute",
            "rate_limit_login": "1000/minute",
            "log_level": "WARNING",
            # The scheduled jobs would run beside the test on their own timing (the first
            # run right after start-up, late under load) and change rows the test is
            # about; a test that wants the runner asks for it with jobs=True.
            "jobs": False,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory()


@pytest.fixture
def client_factory(
    settings_factory: Callable[..., Settings],
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(settings_factory(**overrides)), base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(client_factory: Callable[..., TestClient]) -> TestClient:
    return client_factory()


# --- HTML helpers -----------------------------------------------------------------


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf_token(client: TestClient, path: str = "/konto/anmelden") -> str:
    """The form token of this client's browser session (as a form on the page carries it)."""
    page = soup(client.get(path))
    field = page.find("input", attrs={"name": "csrf_token"})
    assert field is not None, f"no CSRF field on {path}"
    return str(field["value"])


def post_form(
    client: TestClient,
    path: str,
    data: dict[str, Any],
    *,
    token_from: str | None = None,
    **kwargs: Any,
) -> Any:
    form = dict(data)
    form.setdefault("csrf_token", csrf_token(client, token_from or path.split("?")[0]))
    return client.post(path, data=form, **kwargs)


# --- accounts ---------------------------------------------------------------------


@dataclass
class KnownAccount:
    id: int
    email: str
    password: str
    role: Role
    totp_secret: str | None

    codes_used: int = 0

    def code(self) -> str:
        """A valid code that was not used yet: a code counts once (replay protection),
        so a second login within the same 30 s uses the next step (clock-drift window)."""
        assert self.totp_secret
        assert self.codes_used < 2, "at most two logins per 30 s with TOTP in one test"
        code = totp_code(self.totp_secret, time.time() + 30 * self.codes_used)
        self.codes_used += 1
        return code


@pytest.fixture
def make_account(client: TestClient) -> Callable[..., KnownAccount]:
    """Create an account directly through the services (as an administrator would)."""
    from klug.identity import service as account_service
    from klug.identity.schemas import AccountCreate

    counter = iter(range(1, 10_000))

    def make(
        role: Role = Role.CITIZEN,
        *,
        totp: bool | None = None,
        verified: bool = True,
        email: str | None = None,
    ) -> KnownAccount:
        email = email or f"{role.value.replace('_', '-')}-{next(counter)}@example.org"
        password = f"correct horse battery {uuid.uuid4().hex[:6]}"
        with_totp = totp if totp is not None else role is not Role.CITIZEN
        secret = None
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        with factory() as session:
            account = account_service.create(
                session=session,
                account_in=AccountCreate(email=email, password=password, role=role),
                verified=verified,
                actor=None,
            )
            if with_totp:
                from klug.core.db import utcnow
                from klug.core.security import new_totp_secret

                secret = new_totp_secret()
                account.totp_secret_sealed = SecretBox(TEST_SECRET.encode()).seal(secret)
                account.totp_enabled_at = utcnow()
            session.commit()
            return KnownAccount(account.id, email, password, role, secret)

    return make


def log_in(client: TestClient, account: KnownAccount, *, next_path: str | None = None) -> Any:
    """Log in through the forms, entering the TOTP code where asked. Returns the last response."""
    data = {"email": account.email, "password": account.password}
    if next_path:
        data["next"] = next_path
    response = post_form(client, "/konto/anmelden", data, follow_redirects=False)
    assert response.status_code == 303, response.text
    if "/konto/zwei-faktor" in response.headers["location"]:
        response = post_form(
            client,
            "/konto/zwei-faktor",
            {"code": account.code()},
            token_from="/konto/zwei-faktor",
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    return response


@pytest.fixture
def logged_in(
    client: TestClient, make_account: Callable[..., KnownAccount]
) -> Callable[..., KnownAccount]:
    def login_as(role: Role, **kwargs: Any) -> KnownAccount:
        account = make_account(role, **kwargs)
        log_in(client, account)
        return account

    return login_as


# --- mail -------------------------------------------------------------------------


class MailSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, recipient: str, *, count: int = 1, timeout_s: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [m for m in self.messages if m["To"] == recipient]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"no mail to {recipient} within {timeout_s} s; got {[m['To'] for m in self.messages]}"
        )

    @staticmethod
    def link(message: Message, path: str) -> str:
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        match = re.search(rf"https?://[^\s]+{re.escape(path)}\?token=[\w\-]+", body.decode())
        assert match, f"no link to {path} in the mail"
        return match.group(0)


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.url = f"smtp://127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield sink
    controller.stop()


@pytest.fixture
def mail_client(client_factory: Callable[..., TestClient], mail_sink: MailSink) -> TestClient:
    return client_factory(smtp_url=mail_sink.url)  # type: ignore[attr-defined]

"""The ``klug`` command line. Exit codes: 0 ok, 1 failed, 2 bad usage or configuration."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from klug.core.config import Settings, SettingsError, load_settings

app = typer.Typer(
    help="klug – the open urban platform of the city of Kaiserslautern.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
apikeys_app = typer.Typer(help="Manage API keys for machines.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(apikeys_app, name="apikeys")


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        _fail(f"configuration refused: {exc}", 2)


def _factory(settings: Settings):  # type: ignore[no-untyped-def]
    from klug.core.db import create_db_engine, make_session_factory

    return make_session_factory(create_db_engine(settings.database_url, pool_size=2))


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from klug.core import migrate as migrations

    settings = _settings()
    migrations.upgrade(settings.database_url)
    typer.echo(f"database at revision {migrations.current_revision(settings.database_url)}")
    _index_catalogue(settings)


def _index_catalogue(settings: Settings) -> None:
    """The service catalogue ships with the release: index it with the schema update."""
    from klug.citizen.services.indexing import index_catalogue

    with _factory(settings)() as session:
        count = index_catalogue(session)
        session.commit()
    typer.echo(f"service catalogue: {count} services in the search index")


def _run_server(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from klug.core import migrate as migrations

    if not migrations.is_up_to_date(settings.database_url):
        _fail("the database schema is not up to date: run `klug migrate` first", 2)
    if workers > 1:
        # Request metrics of all workers are summed from files in this directory.
        metrics_dir = tempfile.mkdtemp(prefix="klug-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    uvicorn.run(
        "klug.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (use Redis to share live events).")
    ] = 1,
) -> None:
    """Serve klug (the schema must be migrated)."""
    settings = _settings()
    if workers > 1 and not settings.redis_url:
        typer.secho(
            "warning: several workers without KLUG_REDIS_URL – "
            "live updates and rate limits are per worker",
            err=True,
            fg=typer.colors.YELLOW,
        )
    _run_server(settings, host, port, workers)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")
    ] = True,
) -> None:
    """Migrate, seed the demo city (one account per role) and serve it. Development only."""
    from klug.core import migrate as migrations
    from klug.sim import seed
    from klug.sim.energy import demo_feeder

    settings = _settings()
    if settings.env == "prod":
        _fail(
            "`klug demo` is refused when KLUG_ENV=prod: it creates accounts with known passwords", 2
        )
    migrations.upgrade(settings.database_url)
    _index_catalogue(settings)
    factory = _factory(settings)
    with factory() as session:
        accounts = seed.seed_demo(session=session, secret=settings.secret())
        feeder = demo_feeder(session, _local_url(host, port)) if serve_after else None
        session.commit()
    typer.secho("\nklug demo – accounts (valid until the next `klug demo`):", bold=True)
    for item in accounts:
        typer.echo(f"  {item.role:<18} {item.email:<41} password: {item.password}")
        if item.totp_secret:
            typer.echo(f"  {'':<18} TOTP secret: {item.totp_secret}")
    typer.echo(f"\nPortal: http://{host}:{port}/   English: http://{host}:{port}/en/\n")
    if serve_after:
        if feeder is not None:
            # The simulated meters deliver through the HTTP API like real ones, from a
            # thread of their own that ends with the server.
            threading.Thread(
                target=asyncio.run, args=(feeder.run(),), name="demo-energy-feeder", daemon=True
            ).start()
        _run_server(settings, host, port, 1)


def _local_url(host: str, port: int) -> str:
    """Where this machine reaches a server listening on ``host``."""
    local = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="E-mail address (login name).")],
    role: Annotated[
        str,
        typer.Option(
            help="citizen, editor, caseworker, operator_energy, operator_mobility, "
            "operator_safety or admin."
        ),
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create an account with a confirmed e-mail address."""
    from pydantic import ValidationError

    from klug.core.audit import SYSTEM
    from klug.identity import service as account_service
    from klug.identity.permissions import Role
    from klug.identity.schemas import AccountCreate

    if not password_stdin:
        _fail("give the password on standard input with --password-stdin (never as an argument)", 2)
    password = sys.stdin.readline().rstrip("\n")
    try:
        account_in = AccountCreate(
            email=email, password=password, role=Role(role), display_name=name
        )
    except (ValidationError, ValueError) as exc:
        _fail(f"invalid input: {exc}", 2)
    settings = _settings()
    with _factory(settings)() as session:
        try:
            account = account_service.create(
                session=session, account_in=account_in, verified=True, actor=SYSTEM
            )
        except account_service.AccountError as exc:
            _fail(exc.message, 1)
        session.commit()
        typer.echo(f"created account {account.id} ({account.email}, {account.role})")


@users_app.command("unlock")
def users_unlock(
    email: Annotated[str, typer.Argument(help="E-mail address of the account.")],
) -> None:
    """Lift the lock-out of an account."""
    from klug.core.audit import SYSTEM
    from klug.identity import service as account_service

    with _factory(_settings())() as session:
        account = account_service.get_by_email(session=session, email=email)
        if account is None:
            _fail(f"no account with e-mail {email}", 1)
        account_service.unlock(session=session, account=account, actor=SYSTEM)
        session.commit()
        typer.echo(f"unlocked {account.email}")


@apikeys_app.command("create")
def apikeys_create(
    name: Annotated[str, typer.Option(help="What or who uses the key.")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated scopes, e.g. notices.manage,metrics.read.")
    ],
) -> None:
    """Create an API key and print it once, on the last line."""
    from klug.core.audit import SYSTEM
    from klug.identity import apikeys

    with _factory(_settings())() as session:
        try:
            key, plain = apikeys.create(session=session, name=name, scopes=scopes, actor=SYSTEM)
        except ValueError as exc:
            _fail(str(exc), 2)
        session.commit()
        typer.echo(
            f"created API key {key.id} '{key.name}' with scopes {key.scopes}; "
            "it is shown only now:",
            err=True,
        )
        typer.echo(plain)


@apikeys_app.command("revoke")
def apikeys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after klug_).")],
) -> None:
    """Revoke an API key."""
    from sqlalchemy import select

    from klug.core.audit import SYSTEM
    from klug.identity import apikeys
    from klug.identity.models import ApiKey

    with _factory(_settings())() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if key is None:
            _fail(f"no API key with prefix {prefix}", 1)
        apikeys.revoke(session=session, key=key, actor=SYSTEM)
        session.commit()
        typer.echo(f"revoked API key {key.id} '{key.name}'")


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="File to write the backup to.")]) -> None:
    """Consistent online backup (SQLite backup API; pg_dump for PostgreSQL)."""
    from klug.core import backup as backups

    settings = _settings()
    try:
        written = backups.backup(settings.database_url, path)
    except backups.BackupError as exc:
        _fail(str(exc), 1)
    typer.echo(f"backup written to {written}")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A backup written by `klug backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the current database without asking.")
    ] = False,
) -> None:
    """Replace the database with a backup (stop the servers first)."""
    from klug.core import backup as backups

    settings = _settings()
    if not yes:
        typer.confirm("This replaces ALL data of the current database. Continue?", abort=True)
    try:
        backups.restore(settings.database_url, path)
    except backups.BackupError as exc:
        _fail(str(exc), 1)
    typer.echo(f"database restored from {path}")


def main() -> None:
    app()

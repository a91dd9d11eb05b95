"""Migrations on both engines, the append-only audit log, backup and restore."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import delete, inspect, text, update
from sqlalchemy.exc import DatabaseError

from klug.core import audit, backup, migrate
from klug.core.audit import AuditEvent
from klug.core.db import create_db_engine, make_session_factory, normalise_url
from tests.conftest import BACKEND, create_postgres_database, drop_postgres_database


@pytest.fixture
def empty_database_url(tmp_path: Path):  # type: ignore[no-untyped-def]
    if BACKEND == "postgres":
        url = create_postgres_database("klug_migrations")
        yield url
        drop_postgres_database(url)
    else:
        yield f"sqlite:///{tmp_path}/empty.db"


# Belongs to the PostGIS extension, which the SensorThings migration enables and a
# downgrade leaves in place (other applications of the database may use it).
EXTENSION_TABLES = {"spatial_ref_sys"}


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - EXTENSION_TABLES
    finally:
        engine.dispose()


def test_migrations_go_up_down_and_up_again(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert migrate.is_up_to_date(empty_database_url)
    assert {
        "identity_account",
        "core_audit_event",
        "identity_api_key",
        "citizen_site_notice",
    } <= _tables(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert migrate.is_up_to_date(empty_database_url)


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/wal.db"
    migrate.upgrade(url)
    engine = create_db_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_audit_log_is_append_only_in_the_database(database_url: str) -> None:
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        entry = audit.record(session, action="login", actor=audit.SYSTEM)
        session.commit()
        entry_id = entry.id
    for statement in (
        update(AuditEvent).where(AuditEvent.id == entry_id).values(action="forged"),
        delete(AuditEvent).where(AuditEvent.id == entry_id),
    ):
        with factory() as session, pytest.raises(DatabaseError, match="append-only"):
            session.execute(statement)
    with factory() as session:
        assert session.get_one(AuditEvent, entry_id).action == "login"
    engine.dispose()


def test_backup_and_restore_round_trip(database_url: str, tmp_path: Path) -> None:
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        audit.record(session, action="before.backup", actor=audit.SYSTEM)
        session.commit()
    target = backup.backup(database_url, tmp_path / "klug.backup")
    assert target.stat().st_size > 0
    with factory() as session:
        audit.record(session, action="after.backup", actor=audit.SYSTEM)
        session.commit()
    engine.dispose()

    backup.restore(database_url, target)
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        actions = {
            row[0] for row in connection.execute(text("SELECT action FROM core_audit_event"))
        }
    engine.dispose()
    assert "before.backup" in actions
    assert "after.backup" not in actions, "the restore brought back the state of the backup"


def test_sqlite_backup_is_consistent_while_the_database_is_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/busy.db"
    migrate.upgrade(url)
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        for n in range(200):
            audit.record(session, action=f"row.{n}", actor=audit.SYSTEM)
        # The backup runs while this transaction is open and uncommitted.
        target = backup.backup(url, tmp_path / "busy.backup")
        session.commit()
    engine.dispose()
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM core_audit_event").fetchone()[0] == 0
    copy.close()


def test_restore_refuses_a_file_that_is_not_a_backup(database_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a database")
    with pytest.raises(backup.BackupError):
        backup.restore(database_url, junk)
    assert migrate.is_up_to_date(database_url), "the database is untouched"


def test_postgres_urls_are_accepted_as_written() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"

"""Backup and restore of the whole database.

SQLite: the online backup API copies a consistent snapshot while klug keeps
running. PostgreSQL: ``pg_dump``/``pg_restore`` in their custom format, so a backup
can also be restored by hand with the PostgreSQL tools (see README, Operations).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from klug.core.db import normalise_url, sqlite_path


class BackupError(RuntimeError):
    pass


def _pg_url(database_url: str) -> str:
    return (
        normalise_url(database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client tools "
            "(Debian: postgresql-client) "
            f"or run `{name}` on the database host yourself, with the custom format (-Fc)."
        )
    return found


def backup(database_url: str, target: Path) -> Path:
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    backend = normalise_url(database_url).get_backend_name()
    if backend == "sqlite":
        source_path = sqlite_path(database_url)
        if source_path is None or not source_path.exists():
            raise BackupError(f"no SQLite database at {source_path}")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(source_path)
        destination = sqlite3.connect(partial)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
    elif backend == "postgresql":
        result = subprocess.run(  # noqa: S603 - fixed argv, URL from the operator's own settings
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--file",
                str(partial),
                "--dbname",
                _pg_url(database_url),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"backups of {backend} databases are not supported")
    os.replace(partial, target)
    return target


def _check_sqlite_backup(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            integrity = connection.execute("PRAGMA quick_check").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a klug SQLite backup ({exc})") from None
    if not revision or not integrity or integrity[0] != "ok":
        raise BackupError(f"{path} is not a complete klug SQLite backup")


def restore(database_url: str, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    backend = normalise_url(database_url).get_backend_name()
    if backend == "sqlite":
        _check_sqlite_backup(source)
        target_path = sqlite_path(database_url)
        if target_path is None:
            raise BackupError("cannot restore into an in-memory database")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        backup_connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            # The backup API replaces the target page by page under its own lock.
            backup_connection.backup(target)
        finally:
            target.close()
            backup_connection.close()
    elif backend == "postgresql":
        result = subprocess.run(  # noqa: S603 - fixed argv, URL from the operator's own settings
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                _pg_url(database_url),
                str(source),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"restores of {backend} databases are not supported")

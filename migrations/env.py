"""Alembic environment: runs every migration on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import klug.citizen.applications.models
import klug.citizen.content.models
import klug.citizen.notifications.models
import klug.citizen.reports.models
import klug.citizen.search.models
import klug.core.audit
import klug.core.mail
import klug.core.versions
import klug.energy.models
import klug.identity.models
import klug.sensors.models  # noqa: F401 - registers the tables on Base.metadata
from klug.core.config import load_settings
from klug.core.db import Base, create_db_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("klug.database_url") or load_settings().database_url
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("klug migrations run online only: `klug migrate`")
run_migrations_online()

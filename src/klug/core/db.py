"""Database engine, declarative base and the per-request session.

SQLite (default, embedded) and PostgreSQL (psycopg 3) are both first-class: every
migration and every test runs on both.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request
from sqlalchemy import DateTime, Engine, MetaData, String, create_engine, event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator
from starlette.concurrency import run_in_threadpool

# Stable constraint names, so alembic can alter constraints on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zones and hands back naive values; we store UTC and re-attach
    the zone on the way out so that comparisons never mix naive and aware times.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; klug stores timezone-aware UTC times only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Set while the demo city's data is in the database: every page then shows a banner.
DEMO_FLAG = "demo_data"


class PlatformFlag(Base):
    """Small platform-wide facts, e.g. whether demo data is present."""

    __tablename__ = "core_platform_flag"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


def normalise_url(url: str) -> URL:
    """Accept the URLs people write (``postgresql://``) and pick our drivers."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: str) -> Path | None:
    parsed = normalise_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


# SQL functions that domains add to SQLite (PostgreSQL has them built in or from
# extensions): name → (number of arguments, implementation).
SQLITE_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {}


def register_sqlite_function(name: str, arguments: int, implementation: Callable[..., Any]) -> None:
    SQLITE_FUNCTIONS[name] = (arguments, implementation)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    for name, (arguments, implementation) in SQLITE_FUNCTIONS.items():
        dbapi_connection.create_function(name, arguments, implementation, deterministic=True)
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed during a write; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # SQLite connections cost little but are slow to open (pragmas, functions):
        # keep one per thread-pool thread (40) rather than opening and closing under load.
        engine = create_engine(parsed, pool_size=max(pool_size, 40), max_overflow=10)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_session_factory(engine: Engine, **info: Any) -> sessionmaker[Session]:
    """Sessions carry the process's event bus and mailer in ``session.info``, so that
    services can publish and send after commit without threading them through."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info)


def finish_session(session: Session, *, commit: bool) -> None:
    """Commit or roll back, then close (in a worker thread: it waits for the database)."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session and one transaction per request, committed before the response.

    Services only ``flush()``; the commit happens here, after the route returned and
    before the response is sent, so a failed commit is an error response, not a lie.
    A request that never touched the database costs no thread hand-off and no I/O, nor
    does one whose route committed in its own thread already (``klug.core.routes``).
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    request.state.klug_session = session
    try:
        yield session
    except BaseException:
        request.state.klug_session = None
        if session.in_transaction():
            await run_in_threadpool(finish_session, session, commit=False)
        else:
            session.close()
        raise
    request.state.klug_session = None
    if session.in_transaction():
        await run_in_threadpool(finish_session, session, commit=True)
    else:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def request_session(request: Request) -> Session | None:
    """The request's session if its route opened it already (``get_session``)."""
    return getattr(request.state, "klug_session", None)


def read_flag(session: Session, name: str) -> str | None:
    return session.scalar(select(PlatformFlag.value).where(PlatformFlag.name == name))


def write_flag(session: Session, name: str, value: str | None) -> None:
    flag = session.get(PlatformFlag, name)
    if value is None:
        if flag is not None:
            session.delete(flag)
    elif flag is None:
        session.add(PlatformFlag(name=name, value=value))
    else:
        flag.value = value
        flag.updated_at = utcnow()
    session.flush()


_Kept = TypeVar("_Kept")


class PerEngine(Generic[_Kept]):
    """One object per database engine – an app has one engine, tests make many, and
    what is kept in memory for one database must never answer for another."""

    def __init__(self, factory: Callable[[], _Kept]) -> None:
        self._factory = factory
        self._kept: weakref.WeakKeyDictionary[Engine, _Kept] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, session: Session) -> _Kept:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        with self._lock:
            kept = self._kept.get(engine)
            if kept is None:
                kept = self._kept[engine] = self._factory()
            return kept

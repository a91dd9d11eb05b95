"""Data versions: one counter per kind of data, raised in the transaction of every change.

A page kept in memory (``klug.core.pagecache``) is valid while the versions of the data it
was made from are unchanged. The counters live in the database, so every process sees a
change the moment any process commits it, and a rolled-back change raises nothing;
reading them is one small query by primary key.

Changes are noticed by the ORM, so services need not remember to raise anything: a flush
that writes an object of a tracked model, and an ORM bulk INSERT/UPDATE/DELETE on one,
raise the model's counter in the same transaction, just before it commits. (Changes the
ORM does not see must be noted with :func:`note`.)
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import BigInteger, String, event, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, UOWTransaction, mapped_column

from klug.core.db import Base

_TRACKED: dict[type[Any], str] = {}


class DataVersion(Base):
    __tablename__ = "core_data_version"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


def track(model: type[Any], name: str) -> None:
    """Raise the counter ``name`` whenever rows of ``model`` are written."""
    _TRACKED[model] = name


# One statement on SQLite and PostgreSQL: the first change of a kind creates its row.
_RAISE = text(
    "INSERT INTO core_data_version (name, value) VALUES (:name, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = core_data_version.value + 1"
)
# The table holds one row per kind of data (a handful): reading all of them is cheaper
# than a statement with a list parameter, which SQLAlchemy compiles anew every time.
_READ = text("SELECT name, value FROM core_data_version")


def raise_version(session: Session, name: str) -> None:
    session.connection().execute(_RAISE, {"name": name})


def current(session: Session, *names: str) -> tuple[int, ...]:
    """The counters ``names`` as this transaction sees them (0: never changed)."""
    rows = session.connection().execute(_READ).all()
    found: dict[str, int] = {row.name: row.value for row in rows}
    return tuple(int(found.get(name, 0)) for name in names)


def _names_of(objects: Any) -> set[str]:
    return {name for obj in objects for model, name in _TRACKED.items() if isinstance(obj, model)}


# The counters a transaction changed are noted as it goes and raised just before it commits,
# all in one order: two transactions that change cases and accounts in opposite orders then
# cannot deadlock on the counters' rows (PostgreSQL), and each row is locked only briefly.
_PENDING = "klug_versions_to_raise"


def note(session: Session, names: set[str]) -> None:
    """Raise the counters ``names`` when this transaction commits (for changes the ORM
    does not see, e.g. SQL written by hand)."""
    if names:
        session.info.setdefault(_PENDING, set()).update(names)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: UOWTransaction) -> None:
    # The new/dirty/deleted sets still hold what this flush wrote.
    note(session, _names_of(chain(session.new, session.dirty, session.deleted)))


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    name = _TRACKED.get(mapper.class_) if mapper is not None else None
    if name is not None:
        note(state.session, {name})


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this hook: note its writes too
    for name in sorted(session.info.pop(_PENDING, set())):
        raise_version(session, name)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)

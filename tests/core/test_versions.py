"""Data versions: raised by the ORM in the transaction of a change, never by a rollback."""

from __future__ import annotations

from sqlalchemy import update

from klug.core import versions
from klug.core.db import PlatformFlag, create_db_engine, make_session_factory
from klug.identity.models import Account
from klug.identity.permissions import Role


def test_writes_of_a_tracked_model_raise_its_version_and_nothing_else_does(
    database_url: str,
) -> None:
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            assert versions.current(session, "accounts", "nothing") == (0, 0)
            account = Account(email="a@example.org", role=Role.CITIZEN.value, password_hash="x")
            session.add(account)
            session.commit()
            assert versions.current(session, "accounts") == (1,)

            account.display_name = "Anna"  # an object written by a flush
            session.commit()
            assert versions.current(session, "accounts") == (2,)

            session.execute(update(Account).values(display_name="Anne"))  # ORM bulk
            session.rollback()
            assert versions.current(session, "accounts") == (2,), "rolled back"

            session.add(PlatformFlag(name="untracked", value="1"))
            session.commit()
            assert versions.current(session, "accounts") == (2,), "another model"

            session.delete(session.get(Account, account.id))
            session.commit()
            assert versions.current(session, "accounts") == (3,)
    finally:
        engine.dispose()

"""The PDL table's own guard on PostgreSQL (migration 0016): whoever does not switch triggers off,
the table's owner included, can fill in a record's link once and change nothing else.

The roles (``test_pdl_roles``) keep the application from such statements by privilege; these run
as the owner that ran the migrations, which has every privilege, so only the trigger stands in the
way. Every column the table has is attacked, read from the database itself: a column added by a
later migration without the guard naming it fails here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from store import pdl
from store.migrate import make_config
from store.session import UnitOfWork, make_engine, make_session_factory, transaction
from tests.security.test_pdl_forgery import record
from usecases.pdl_log import seal_all

pytestmark = pytest.mark.postgres

LINK = ("seq", "prev_hash", "hash")


@pytest.fixture
def owner(pg_db_url: str) -> Iterator[Engine]:
    """The migrated database as its owner, with a sealed record (log-1) and an unsealed one (log-2)."""
    engine = make_engine(pg_db_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        pdl.append(session, record(1))
    seal_all(UnitOfWork(factory), wait=True)
    with transaction(factory) as session:
        pdl.append(session, record(2))
    yield engine
    engine.dispose()


def _changed(column: str, data_type: str) -> str:
    """An SQL expression of ``column``'s type that differs from its value, NULL or not (no stored text
    starts with an ``x``)."""
    if data_type in ("bigint", "integer"):
        return f"COALESCE({column}, 0) + 1"
    if data_type.startswith("timestamp"):
        return f"COALESCE({column}, now()) + interval '1 second'"
    return f"'x' || substr(COALESCE({column}, ''), 2)"  # the same length: hashes are 64 characters at most


def _columns(connection: Connection) -> dict[str, str]:
    rows = connection.execute(text(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'pdl_record'"
    )).all()  # fmt: skip
    return {str(row[0]): str(row[1]) for row in rows}


def _change(column: str, data_type: str, log_id: str) -> str:
    return f"UPDATE pdl_record SET {column} = {_changed(column, data_type)} WHERE log_id = '{log_id}'"


def _guard(engine: Engine) -> str:
    """The trigger's definition as PostgreSQL gives it back."""
    with engine.connect() as connection:
        return str(connection.execute(text(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'pdl_record_append_only'"
        )).scalar_one())  # fmt: skip


def _refused(engine: Engine, statement: str) -> str:
    with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
        connection.execute(text(statement))
    return str(refused.value)


def test_the_owner_can_change_no_column_of_a_record_but_its_link_before_the_seal(owner: Engine) -> None:
    with owner.connect() as connection:
        columns = _columns(connection)
    assert len(columns) > 30 and set(LINK) <= set(columns)
    for column, data_type in columns.items():
        if column in LINK:
            continue
        assert "content cannot be changed" in _refused(owner, _change(column, data_type, "log-2")), column


def test_the_owner_can_change_nothing_of_a_sealed_record(owner: Engine) -> None:
    with owner.connect() as connection:
        columns = _columns(connection)
    for column, data_type in columns.items():
        assert "is sealed and cannot be changed" in _refused(owner, _change(column, data_type, "log-1")), column


def test_the_link_is_filled_in_and_an_update_to_the_same_values_passes(owner: Engine) -> None:
    """What the sealer does, and a statement that changes nothing, are not refused."""
    with owner.begin() as connection:
        connection.execute(text("UPDATE pdl_record SET user_id = user_id, stored_at = stored_at "
                                "WHERE log_id = 'log-2'"))
    assert seal_all(UnitOfWork(make_session_factory(owner)), wait=True) == 1
    with owner.connect() as connection:
        sealed = connection.execute(text("SELECT count(*) FROM pdl_record WHERE seq IS NOT NULL")).scalar()
    assert sealed == 2


def test_the_downgrade_brings_back_0015s_guard_and_the_upgrade_this_one(owner: Engine) -> None:
    content = "UPDATE pdl_record SET purpose = 'x' WHERE log_id = 'log-2'"
    command.downgrade(make_config(owner), "0015")
    try:
        assert "WHEN" not in _guard(owner)
        assert "content cannot be changed" in _refused(owner, content)
        assert "is sealed" in _refused(owner, "UPDATE pdl_record SET hash = NULL WHERE log_id = 'log-1'")
    finally:
        command.upgrade(make_config(owner), "head")
    assert "WHEN" in _guard(owner)
    assert "content cannot be changed" in _refused(owner, content)

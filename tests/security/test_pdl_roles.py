"""The application's PostgreSQL role may append to the PDL log and seal it, never change or delete it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from cli import main
from scheduler.pdl_retention import export_and_purge
from store import pdl
from store.roles import APP_ROLE, PURGE_ROLE, grant_roles
from store.session import UnitOfWork, make_engine, make_session_factory, transaction
from tests.security.test_pdl_forgery import record
from usecases.pdl_log import seal_all, verify_log

pytestmark = pytest.mark.postgres


def _login(admin: Engine, role: str) -> str:
    name = f"login_{uuid.uuid4().hex[:10]}"
    with admin.begin() as connection:
        connection.execute(text(f"CREATE ROLE {name} LOGIN IN ROLE {role}"))
    return name


@pytest.fixture
def as_roles(pg_db_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Engines logged in as the application's role and as the purge role, after ``db upgrade --with-roles``."""
    assert main(["db", "upgrade", "--with-roles", "--db", pg_db_url]) == 0
    grant_roles(pg_db_url)  # a second run changes nothing
    admin = make_engine(pg_db_url)
    try:
        app_login, purge_login = _login(admin, APP_ROLE), _login(admin, PURGE_ROLE)
        url = make_url(pg_db_url)
        app = make_engine(url.set(username=app_login).render_as_string(hide_password=False))
        purge = make_engine(url.set(username=purge_login).render_as_string(hide_password=False))
        yield app, purge
        app.dispose()
        purge.dispose()
    finally:
        admin.dispose()


def test_the_application_role_appends_and_seals_but_cannot_change_or_delete(as_roles: tuple[Engine, Engine]) -> None:
    app, _purge = as_roles
    factory = make_session_factory(app)
    with transaction(factory) as session:
        pdl.append_all(session, [record(n) for n in range(1, 4)])
    assert seal_all(UnitOfWork(factory), wait=True) == 3
    assert verify_log(UnitOfWork(factory)).chain.broken is None

    attacks = [
        "UPDATE pdl_record SET user_id = 'SE2321000016-OTHER' WHERE seq = 2",
        "UPDATE pdl_record SET hash = repeat('0', 64) WHERE seq = 2",
        "DELETE FROM pdl_record WHERE seq = 1",
        "TRUNCATE pdl_record",
        "DELETE FROM pdl_checkpoint",
        "UPDATE pdl_checkpoint SET seq = 0",
        "INSERT INTO pdl_chain_anchor (seq, hash, purged_before, purged_at, purged_records) "
        "VALUES (2, repeat('0', 64), now(), now(), 2)",
    ]
    for statement in attacks:
        with pytest.raises(DBAPIError) as refused, app.begin() as connection:
            connection.execute(text(statement))
        assert "permission denied" in str(refused.value) or "cannot be changed" in str(refused.value), statement


def test_a_sealed_record_cannot_be_resealed_even_through_the_granted_link_columns(
    as_roles: tuple[Engine, Engine],
) -> None:
    app, _purge = as_roles
    factory = make_session_factory(app)
    with transaction(factory) as session:
        pdl.append(session, record(1))
    seal_all(UnitOfWork(factory), wait=True)
    with pytest.raises(DBAPIError, match="sealed"), app.begin() as connection:
        connection.execute(text("UPDATE pdl_record SET seq = 7 WHERE seq = 1"))


def test_the_purge_role_purges_what_the_application_role_cannot(
    as_roles: tuple[Engine, Engine], tmp_path: Path
) -> None:
    app, purge = as_roles
    factory = make_session_factory(app)
    with transaction(factory) as session:
        pdl.append_all(session, [record(n) for n in range(1, 4)])
    seal_all(UnitOfWork(factory), wait=True)
    now = datetime(2040, 1, 1, tzinfo=UTC)
    with pytest.raises(DBAPIError):
        export_and_purge(UnitOfWork(factory), now - timedelta(days=1), tmp_path / "a.jsonl", now)
    report = export_and_purge(
        UnitOfWork(make_session_factory(purge)), now - timedelta(days=1), tmp_path / "b.jsonl", now
    )
    assert report.purged == 3

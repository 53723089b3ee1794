"""Engines, the unit of work, error translation and the UTC column type."""

from __future__ import annotations

import math
import os
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, URL, Engine, make_url, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from domain.values import HsaId
from store.errors import DatabaseUnavailable
from store.health import ping
from store.session import make_engine, make_session_factory, read_json, transaction
from store.types import NaiveDatetimeError
from store.units import get_integrated_unit, register_integrated_unit

UNIT = HsaId("SE2321000016-1000")
CARE_GIVER = HsaId("SE2321000016-0001")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Boom(Exception):
    pass


def test_transaction_commits_on_success(session_factory: sessionmaker[Session]) -> None:
    """What a transaction writes is visible to the next one."""
    with transaction(session_factory) as session:
        register_integrated_unit(session, UNIT, CARE_GIVER, NOW)
    with transaction(session_factory) as session:
        assert get_integrated_unit(session, UNIT) is not None


def test_transaction_rolls_back_on_exception(session_factory: sessionmaker[Session]) -> None:
    """An exception inside the block undoes every write and propagates unchanged."""
    with pytest.raises(Boom), transaction(session_factory) as session:
        register_integrated_unit(session, UNIT, CARE_GIVER, NOW)
        raise Boom
    with transaction(session_factory) as session:
        assert get_integrated_unit(session, UNIT) is None


def test_ping_answers_on_a_live_database(engine: Engine) -> None:
    """``ping`` returns quietly when the database answers."""
    ping(engine)


def test_unreachable_postgres_is_database_unavailable_within_seconds() -> None:
    """A PostgreSQL URL nobody listens on gives DatabaseUnavailable quickly, for ping and transactions."""
    engine = make_engine("postgresql://intygsgateway@127.0.0.1:1/intygsgateway")
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as raised:
            ping(engine)
        with pytest.raises(DatabaseUnavailable), transaction(make_session_factory(engine)) as session:
            session.execute(text("SELECT 1"))
        assert time.monotonic() - started < 3
        assert raised.value.__cause__ is not None
    finally:
        engine.dispose()


def test_unsupported_urls_are_refused() -> None:
    """Only SQLite and PostgreSQL through psycopg 3 are accepted."""
    with pytest.raises(ValueError):
        make_engine("mysql://localhost/gateway")
    with pytest.raises(ValueError):
        make_engine("postgresql+psycopg2://localhost/gateway")


def test_utc_column_refuses_naive_datetimes(session_factory: sessionmaker[Session]) -> None:
    """Writing a datetime without a zone fails instead of guessing one."""
    naive = datetime(2026, 11, 20, 8, 0, tzinfo=UTC).replace(tzinfo=None)
    with pytest.raises(StatementError) as raised, transaction(session_factory) as session:
        register_integrated_unit(session, UNIT, CARE_GIVER, naive)
    assert isinstance(raised.value.orig, NaiveDatetimeError)


def test_utc_column_returns_aware_utc(session_factory: sessionmaker[Session]) -> None:
    """A time written with any offset comes back as the same instant, aware and in UTC."""
    stockholm_winter = timezone(timedelta(hours=1))
    written = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=stockholm_winter)
    with transaction(session_factory) as session:
        register_integrated_unit(session, UNIT, CARE_GIVER, written)
    with transaction(session_factory) as session:
        stored = get_integrated_unit(session, UNIT)
    assert stored is not None
    assert stored.first_seen == written
    assert stored.first_seen.tzinfo is UTC
    assert stored.first_seen.hour == 8


def test_json_columns_read_what_the_standard_parser_reads(engine: Engine) -> None:
    """JSON is read with orjson; what orjson refuses (an integer beyond 64 bits; NaN, which
    PostgreSQL does not store) still reads as the standard library reads it, on both databases."""
    document = '{"big": 18446744073709551616, "text": "\u00e5 \\u00e4", "list": [1, 2.5, null]}'
    postgresql = engine.dialect.name == "postgresql"
    query = "SELECT CAST(:document AS json) AS value" if postgresql else "SELECT :document AS value"
    with engine.connect() as connection:
        value = connection.execute(text(query).columns(value=JSON), {"document": document}).scalar_one()
    assert value == {"big": 2**64, "text": "å ä", "list": [1, 2.5, None]}
    assert math.isnan(read_json('{"nan": NaN}')["nan"])
    assert read_json(b'{"a": [1, "x"]}') == {"a": [1, "x"]}
    with pytest.raises(ValueError):
        read_json("{not json")


@pytest.mark.parametrize("db_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_postgresql_sessions_read_times_in_utc_whatever_the_servers_zone(db_url: str) -> None:
    """A server (here: its database) set to Swedish time still gives the gateway's sessions UTC, so
    times arrive with the standard library's UTC, not converted to a zone and back."""
    admin = make_engine(db_url)
    try:
        with admin.connect() as connection:
            database = connection.execute(text("SELECT current_database()")).scalar()
            connection.execute(text(f"ALTER DATABASE {database} SET TimeZone TO 'Europe/Stockholm'"))
            connection.commit()
    finally:
        admin.dispose()
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            zone = connection.execute(text("SHOW TimeZone")).scalar()
            moment = connection.execute(text("SELECT TIMESTAMPTZ '2026-11-20 09:30:15+01'")).scalar()
    finally:
        engine.dispose()
    assert zone == "UTC"
    assert moment is not None and moment.tzinfo is UTC
    assert moment == NOW.replace(hour=8, minute=30, second=15)


@pytest.mark.parametrize("db_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_server_on_the_same_host_is_reached_through_its_unix_socket(db_url: str) -> None:
    """The URL form docs/deployment.md gives for a database on the gateway's host (``host=`` naming the
    socket's folder) connects without TCP, in UTC like any other session."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            folder = str(connection.execute(text("SHOW unix_socket_directories")).scalar()).split(",")[0].strip()
            port = connection.execute(text("SHOW port")).scalar()
    finally:
        engine.dispose()
    if not os.path.isdir(folder):
        pytest.skip(f"the server's socket folder {folder} is not on this host")
    tcp = make_url(db_url)
    url = URL.create(tcp.drivername, tcp.username, tcp.password, database=tcp.database,
                     query={"host": folder, "port": str(port)})
    assert url.host is None  # nothing for TCP to resolve
    socket_engine = make_engine(url.render_as_string(hide_password=False))
    try:
        ping(socket_engine)
        with socket_engine.connect() as connection:
            over_tcp = connection.execute(text("SELECT inet_server_addr()")).scalar()
            zone = connection.execute(text("SHOW TimeZone")).scalar()
    finally:
        socket_engine.dispose()
    assert over_tcp is None and zone == "UTC"


def test_psycopg_caches_the_conversion_of_the_widest_insert() -> None:
    """A PostgreSQL engine lets psycopg cache the certificate INSERT's conversion (its 54 parameters are
    over psycopg's default limit of 50, and converting it anew cost about 115 µs per draft)."""
    from psycopg import _queries

    from store.certificates import CertificateRow

    make_engine("postgresql+psycopg://gateway@127.0.0.1:1/gateway").dispose()  # connects to nothing
    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= len(CertificateRow.__table__.columns)


def test_psycopg_caches_the_conversion_of_the_longest_statement() -> None:
    """The one statement that stores a group of new drafts (``store.draft_groups``) is longer than the
    4,096 characters psycopg converts anew every time by default."""
    from psycopg import _queries
    from sqlalchemy.dialects import postgresql

    from store.draft_groups import statement_for
    from tests.builders import make_new_draft
    from usecases.create_draft import draft_rows

    make_engine("postgresql+psycopg://gateway@127.0.0.1:1/gateway").dispose()  # connects to nothing
    rows = draft_rows([make_new_draft("longest-statement")])
    statement, _ = statement_for(rows.certificates, rows.units, rows.events, rows.records)
    written = str(statement.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]  # the dialect's stub
    assert len(written) > 4096
    assert _queries.MAX_CACHED_STATEMENT_LENGTH >= len(written)

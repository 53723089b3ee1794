"""Engines, sessions and the unit of work: the only place that knows how to connect.

One URL picks the database:

* ``sqlite:///path/to/gateway.db`` (embedded): foreign keys on, WAL so that readers do not block
  the writer, ``BEGIN IMMEDIATE`` for every transaction (see ``_sqlite_engine``), and writers queued
  in order, within the process and between the processes sharing the file, before SQLite's lock
  (``store.sqlite_gate``); the busy timeout bounds that wait and covers tools outside the gateway.
  An in-memory ``sqlite://`` works too (one connection shared by all threads) but lives only as
  long as its engine.
* ``postgresql://...`` or ``postgresql+psycopg://...`` (psycopg 3; other drivers are refused):
  no ``pool_pre_ping`` (it costs a round trip, about a third of a small transaction here): a
  connection the server dropped fails the one request that meets it, SQLAlchemy then discards the
  whole pool, and that request answers TECHNICAL_ERROR, which callers resend. ``pool_recycle``
  retires connections before idle timeouts in firewalls or poolers cut them. A short
  ``connect_timeout`` makes a dead server answer within seconds rather than after the kernel's TCP
  timeout.

``UnitOfWork`` is the unit of work (``sessionmaker.begin()``: commit on success, roll back on any
exception) and translates driver failures into ``store.errors``, once, so that no caller has to know
SQLAlchemy's exception tree. The layers above hold a ``UnitOfWork`` and pass the ``Tx`` it yields to
the store's query functions without looking inside: they never import SQLAlchemy.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from store.errors import Conflict, DatabaseUnavailable
from store.sqlite_gate import GatedConnection, connection_class

SQLITE_BUSY_TIMEOUT_MS = 10_000
POOL_RECYCLE_S = 1800  # below common firewall and pooler idle timeouts
POSTGRES_CONNECT_TIMEOUT_S = 3  # libpq treats anything below 2 as 2


def read_json(text: str | bytes) -> Any:
    """A JSON column's value, read with orjson: the certificates' content and their issuer's details
    are JSON, and a list of 200 certificates spent a tenth of its time in the standard library's
    parser, three times slower. orjson refuses what the standard parser reads (integers beyond 64
    bits, ``NaN``); such a value, which the gateway never writes, is read by the standard parser."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


#: An open transaction, as the store's query functions take it. Above ``store`` it is opaque: a use
#: case receives it from its ``UnitOfWork`` and hands it on, and never calls it.
Tx = Session


def make_engine(url: str) -> Engine:
    """Build an engine for a SQLite or PostgreSQL URL with the settings described in the module doc.

    Raises:
        ValueError: for any other database or a PostgreSQL driver other than psycopg 3.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend in ("postgresql", "postgres"):
        return _postgres_engine(parsed)
    raise ValueError(f"unsupported database {backend!r}: use a sqlite:// or postgresql:// URL")


def _sqlite_engine(url: URL) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    connect_args: dict[str, Any] = {
        # The pool hands connections to other threads; SQLite is safe for that as long as one
        # connection is not used by two threads at once, which the pool guarantees.
        "check_same_thread": False,
    }
    if not in_memory:
        # Writers queue in order before SQLite's own lock (store.sqlite_gate: no busy-handler pauses).
        connect_args["factory"] = connection_class(str(url.database), SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(
        url,
        hide_parameters=True,  # bound values are patient data: never in an exception's text or a log
        connect_args=connect_args,
        json_deserializer=read_json,
        # An in-memory database lives and dies with its connection: share one.
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Leave transaction control to the "begin" hook below instead of pysqlite's own, which
        # starts transactions late (only before DML) and breaks SAVEPOINT.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front. With a deferred BEGIN, two transactions that both
        # read and then write deadlock on the upgrade and one fails at once with "database is locked"
        # (the busy timeout does not apply to that case). The price is that read-only transactions
        # also queue behind a writer; with WAL and short transactions that is milliseconds.
        dbapi_connection = connection.connection.driver_connection
        if not isinstance(dbapi_connection, GatedConnection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        try:
            dbapi_connection.begin_immediate()
        except sqlite3.OperationalError as error:  # "database is locked": as SQLAlchemy reports it for a statement
            raise sa_exc.OperationalError("BEGIN IMMEDIATE", None, error) from error

    return engine


#: psycopg caches a query's conversion (named placeholders to ``$n``) only for queries of at most 50
#: parameters, since ORMs' multi-row INSERTs rarely repeat; the certificate INSERT has 54, and converting
#: it anew cost about 115 µs of every CreateDraftCertificate stored alone (issue 16), and the outbox's
#: statements over a claimed batch (``IN`` one placeholder per event, 100 events and a status: 101) cost
#: about a tenth of the resend worker's CPU. Our statements are fixed in shape, so a higher limit only
#: caches them (psycopg's cache holds 128, least recently used first). The same for the length: psycopg
#: converts queries over 4,096 characters each time, and a group of new drafts is one statement of
#: about 4,800 (``store.draft_groups``).
PSYCOPG_CACHED_PARAMETERS = 1000
PSYCOPG_CACHED_LENGTH = 16_384


def _cache_wide_statements() -> None:
    """Raise psycopg's limits to ``PSYCOPG_CACHED_PARAMETERS`` and ``PSYCOPG_CACHED_LENGTH``; a psycopg
    without them is left alone (they are module constants, not an API: only speed depends on them)."""
    try:
        from psycopg import _queries
    except ImportError:
        return
    for name, ours in (("MAX_CACHED_STATEMENT_PARAMS", PSYCOPG_CACHED_PARAMETERS),
                       ("MAX_CACHED_STATEMENT_LENGTH", PSYCOPG_CACHED_LENGTH)):
        if getattr(_queries, name, ours) < ours:
            setattr(_queries, name, ours)


def _postgres_engine(url: URL, **pool: Any) -> Engine:
    """The PostgreSQL engine of the module doc; ``pool`` adds ``create_engine`` options (the statement
    engine of ``one_statement``)."""
    _cache_wide_statements()
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise ValueError(f"unsupported PostgreSQL driver {url.drivername!r}: use postgresql+psycopg")
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    engine = create_engine(url, pool_recycle=POOL_RECYCLE_S, connect_args=connect_args, hide_parameters=True,
                           json_deserializer=read_json, **pool)

    @event.listens_for(engine, "connect")
    def _utc(dbapi_connection: Any, _record: Any) -> None:
        # Times are read in the session's time zone. In UTC, psycopg gives them with the standard
        # library's UTC as they come (``UtcDateTime`` then has nothing to convert); in any other
        # zone, Etc/UTC included (the usual server default), each one is converted to that zone and
        # back: about a microsecond per time, and a certificate row or a claimed event holds several.
        # A SET after connecting rather than a startup option: connection poolers refuse those.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.autocommit = autocommit

    return engine


def describe_url(url: str) -> str:
    """The URL for messages and logs, its password masked (``postgresql://gw:***@db/gw``)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable database URL)"


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names, or None for an in-memory database or another backend."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory for ``transaction``.

    ``expire_on_commit=False`` because the store returns domain values, not ORM objects: nothing
    should reload rows after the commit.
    """
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn SQLAlchemy's connection and constraint failures, and psycopg's from a statement run on the
    driver itself (``store.driver``), into ``store.errors``.

    Connection-level failures (``OperationalError``, ``InterfaceError``, an invalidated connection,
    an exhausted pool) become ``DatabaseUnavailable``; constraint violations become ``Conflict``. The
    new exception names only the failure's type and constraint, never the driver's text, which for a
    unique violation quotes the offending key (possibly a personnummer); the cause stays chained.
    A connection that broke under psycopg needs nothing more here: the transaction's owner rolls back,
    the rollback meets the broken connection, and SQLAlchemy invalidates it (with the rest of the
    pool) as after a failure of its own.
    """
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
            psycopg.OperationalError, psycopg.InterfaceError) as error:
        raise DatabaseUnavailable(f"database unavailable ({_cause_name(error)})") from error
    except (sa_exc.IntegrityError, psycopg.IntegrityError) as error:
        constraint = getattr(getattr(getattr(error, "orig", error), "diag", None), "constraint_name", None)
        raise Conflict(f"write refused by constraint {constraint or '(unnamed)'}") from error
    except sa_exc.DBAPIError as error:
        if error.connection_invalidated:
            raise DatabaseUnavailable(f"database connection lost ({_cause_name(error)})") from error
        raise


def _cause_name(error: Exception) -> str:
    """The driver's exception type: SQLAlchemy's ``orig``, or the error itself when psycopg raised it."""
    orig = getattr(error, "orig", None)
    return type(orig if orig is not None else error).__name__


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: yields a session in a transaction, commits on success, rolls back on error.

    Raises:
        DatabaseUnavailable: the database could not be reached or the connection broke.
        Conflict: a constraint refused a write (at flush or at commit).
    """
    with translate_errors(), factory.begin() as session:
        yield session


class UnitOfWork:
    """Opens transactions on one database: ``with uow() as tx:`` commits on success, rolls back on error.

    The one handle the use cases, the scheduler's jobs and the commands are given to reach the
    database. Calling it gives ``transaction(factory)``'s context manager.
    """

    __slots__ = ("factory",)

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def __call__(self) -> AbstractContextManager[Tx]:
        return transaction(self.factory)

    @property
    def dialect(self) -> str:
        """The database's dialect name (``postgresql``, ``sqlite``), for a store function that writes
        differently on each."""
        return str(self.factory.kw["bind"].dialect.name)

    def one_statement(self) -> AbstractContextManager[Connection]:
        """A connection for exactly one statement, run outside a transaction block (autocommit).

        PostgreSQL runs such a statement as a transaction of its own: all of it or none of it, its
        ``WITH`` clauses included. Sent inside ``BEGIN`` and ``COMMIT`` instead it costs three round
        trips where this costs one, and each round trip costs the gateway and the database CPU (a
        group of new drafts: about a tenth of the gateway's CPU per request, issue 16). A caller that
        needs a second statement, or a read before its write, needs a transaction (``__call__``).
        Only on PostgreSQL: SQLite's writers are queued at ``BEGIN`` (``store.sqlite_gate``). The
        connection comes from a pool of its own, in autocommit from the start (``_statement_engine``).

        Raises (on leaving the block):
            DatabaseUnavailable, Conflict: as ``transaction``; nothing was written.
        """
        if self.dialect != "postgresql":
            raise NotImplementedError(f"one statement in autocommit is for PostgreSQL, not {self.dialect}")
        return _autocommit(self.factory)


@contextmanager
def _autocommit(factory: sessionmaker[Session]) -> Iterator[Connection]:
    with translate_errors(), _statement_engine(factory.kw["bind"]).connect() as connection:
        yield connection


#: The statement engines (``_statement_engine``), one per engine that asked for one; an engine's goes with it.
_STATEMENT_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_STATEMENT_ENGINES_LOCK = threading.Lock()
#: Connections a statement engine keeps open. Only a group commit's leader uses one (a group of drafts,
#: a StoreLog group): one at a time per group, so two per process; more are opened and closed as needed.
STATEMENT_POOL_SIZE = 2


def _statement_engine(engine: Engine) -> Engine:
    """A second engine on ``engine``'s database whose connections stay in autocommit, for ``one_statement``.

    Switching a pooled connection to autocommit and back (SQLAlchemy's ``isolation_level`` execution
    option) runs SQLAlchemy's isolation-level machinery and psycopg's transaction-state changes on
    every checkout and return: about half of what a group's one statement cost the gateway besides
    the statement itself (issue 16). These connections are put in autocommit once, when opened, and
    come back from a statement with no transaction to reset (``pool_reset_on_return=None``: in
    autocommit there is none to roll back). Created on first use; disposed with ``engine``.
    """
    with _STATEMENT_ENGINES_LOCK:
        statements = _STATEMENT_ENGINES.get(engine)
        if statements is None:
            statements = _postgres_engine(engine.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                                          pool_size=STATEMENT_POOL_SIZE)
            event.listen(engine, "engine_disposed", lambda _disposed: statements.dispose())
            _STATEMENT_ENGINES[engine] = statements
    return statements

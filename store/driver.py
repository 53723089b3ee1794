"""Statements handed to psycopg directly, on the connection of the caller's transaction (PostgreSQL).

SQLAlchemy runs a statement through an execution context, a cursor result and row objects of its
own, and on this machine that costs the gateway more CPU than psycopg spends on the statement: in
SendMessageToCare's transaction (a lock, a read and a write for each group of messages) it came to
about a tenth of every message's CPU (issue 16; docs/serving.md has the figures). Only caching the
compiled SQL, or leaving the ORM session for its connection, saves nothing measurable: the cost is
in the execution itself. So the statements of that transaction go to psycopg as they are.

They stay SQLAlchemy statements, written once in the store modules, and on SQLite (in the process,
no round trips) SQLAlchemy still runs them. On PostgreSQL each is compiled once for the dialect,
its parameters pass through their types' bind processors and its columns through their result
processors, as SQLAlchemy would convert them (an ``Enum`` column gives the enum, ``UtcDateTime`` an
aware UTC datetime). ``store.session.translate_errors`` turns the driver's failures into the store's
errors as it does SQLAlchemy's.

Statements run here are not seen by SQLAlchemy's events (``before_cursor_execute``).
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Connection, Select, TextClause
from sqlalchemy.engine import Dialect

from store.session import Tx, translate_errors

Processor = Callable[[Any], Any]
Statement = Select[Any] | TextClause


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement as psycopg takes it: its SQL, its parameters' processors and its rows' shape."""

    sql: bytes
    binds: tuple[tuple[str, Processor], ...]  # only the parameters whose type converts the value
    make: Callable[[Iterable[Any]], tuple[Any, ...]] | None  # a named tuple of the result columns' values
    results: tuple[Processor | None, ...]

    def parameters(self, given: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(given)
        for name, process in self.binds:
            if name in values:
                values[name] = process(values[name])
        return values

    def rows(self, fetched: list[tuple[Any, ...]]) -> list[Any]:
        assert self.make is not None
        make, results = self.make, self.results
        if not any(results):
            return [make(row) for row in fetched]
        return [make([value if process is None else process(value)
                      for value, process in zip(row, results, strict=True)]) for row in fetched]


@functools.lru_cache(maxsize=256)
def _compiled(statement: Statement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    binds = tuple(
        (name, process) for name, bind in compiled.binds.items()
        if (process := bind.type.bind_processor(dialect)) is not None
    )
    columns = list(getattr(statement, "selected_columns", ()))
    if not columns:
        return _Compiled(str(compiled).encode(), binds, None, ())
    row = namedtuple("Row", [column.name for column in columns])  # type: ignore[misc]
    results = tuple(column.type.result_processor(dialect, None) for column in columns)
    return _Compiled(str(compiled).encode(), binds, row._make, results)


def fetch_all(session: Tx, statement: Statement, parameters: Mapping[str, Any]) -> list[Any]:
    """The rows of a ``SELECT`` in the session's transaction: on PostgreSQL run by psycopg, as named
    tuples of the statement's columns with their values converted as SQLAlchemy converts them;
    elsewhere SQLAlchemy's rows. Either kind is read by attribute or with ``_asdict()``.

    Raises:
        DatabaseUnavailable, Conflict: as ``store.session.translate_errors``.
    """
    connection = session.connection()
    with translate_errors():
        if connection.dialect.name != "postgresql":
            return list(session.execute(statement, parameters).all())
        compiled = _compiled(statement, connection.dialect)
        fetched = _run(connection, compiled, parameters).fetchall()
    return compiled.rows(fetched)


def execute(session: Tx, statement: Statement, parameters: Mapping[str, Any]) -> None:
    """Run a statement that returns no rows in the session's transaction (on PostgreSQL by psycopg).

    Raises:
        Conflict: a constraint refused the write (the transaction is then rolled back by its owner).
        DatabaseUnavailable: as ``store.session.translate_errors``.
    """
    connection = session.connection()
    with translate_errors():
        if connection.dialect.name != "postgresql":
            session.execute(statement, parameters)
            return
        _run(connection, _compiled(statement, connection.dialect), parameters)


def _run(connection: Connection, compiled: _Compiled, parameters: Mapping[str, Any]) -> psycopg.Cursor[Any]:
    driver: psycopg.Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    return driver.execute(compiled.sql, compiled.parameters(parameters))

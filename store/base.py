"""The declarative base every mapped class derives from, and the one dialect-specific statement.

Constraint names follow a fixed naming convention so that Alembic migrations can refer to them
by name on both databases (SQLite otherwise leaves constraints unnamed, and a later ``batch_alter_table``
could not drop them).

The ``type_annotation_map`` decides how plain annotations become columns:

* ``datetime`` is ``UtcDateTime``: aware UTC in, aware UTC out, on SQLite as well as PostgreSQL.
* any ``enum.Enum`` (our wire codes are ``StrEnum``) is stored **by value** as ``VARCHAR(32)``
  without a database enum type or CHECK constraint, so a later release can add a member (a new
  event code, an outbox status) without a migration that rewrites a type, and the stored text is the
  wire spelling that an operator would search for.
* ``str`` is an unbounded ``VARCHAR``: ids and names come from other systems and we do not want
  PostgreSQL and SQLite to disagree about which lengths are accepted.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

import orjson
from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    Dialect,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    TextClause,
    bindparam,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine

from store.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ENUM_LENGTH = 32


def _enum_values(enum_class: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_class]


# A 64-bit id on PostgreSQL; on SQLite only "INTEGER PRIMARY KEY" is an alias of the rowid and
# autoincrements, so the variant keeps the column an INTEGER there (SQLite integers are 64-bit anyway).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Base class of all mapped classes; holds the metadata Alembic compares against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        enum.Enum: Enum(
            enum.Enum,
            native_enum=False,
            create_constraint=False,
            length=ENUM_LENGTH,
            values_callable=_enum_values,
            validate_strings=True,
        ),
        str: String(),
    }


def dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` that supports ``ON CONFLICT`` for the database the session is bound to."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"ON CONFLICT is not implemented for the {dialect} dialect")


def json_rows(rows: Sequence[Mapping[str, Any]]) -> str:
    """``rows`` as one JSON array of objects, for a statement that reads them all from one parameter
    (``json_to_recordset`` and ``json_populate_recordset`` on PostgreSQL).

    One text parameter instead of a value per column and row: psycopg converts each parameter in
    Python, and the statements that take many rows at once are on the hot paths (a group of new
    drafts, the outcomes of a drain). Times go as ISO 8601 with their offset, dates as ISO dates,
    nested values (JSON columns) as they are.

    Written by orjson, about five times the standard library's pace on these rows (a group of drafts
    carries a certificate's whole content); times and dates still go through ``_json_value``, which
    refuses a time without a zone. What orjson refuses (an integer beyond 64 bits) the standard
    library writes.

    Raises:
        TypeError: a value JSON cannot hold, or a time without a zone (which would be read in the
            session's zone; ``UtcDateTime`` refuses one in the other statements too).
    """
    try:
        return orjson.dumps(rows, default=_json_value, option=_ROWS_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(rows, default=_json_value)


#: Times and dataclasses go to ``_json_value`` as with the standard library: a time without a zone
#: and a value of our own types are refused, not written in orjson's own way.
_ROWS_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise TypeError(f"expected an aware datetime, got {value!r}")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


#: Each table and the columns of its rows (none for a table without rows): ``json_tables``'s shape.
TableShape = tuple[tuple[str, tuple[str, ...]], ...]


def json_tables(rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> tuple[TableShape, dict[str, str]]:
    """The shape of ``rows`` by table (each table and the columns of its rows, none for a table without
    rows: what a statement written once per shape needs) and the JSON parameters (``json_rows``),
    each named after its table."""
    shape = tuple((table, tuple(table_rows[0]) if table_rows else ()) for table, table_rows in rows.items())
    return shape, {table: json_rows(table_rows) for table, table_rows in rows.items()}


def json_recordset(columns: Mapping[str, str], parameter: str) -> str:
    """``json_to_recordset(CAST(:parameter AS json)) AS v(a t, …)``: one row per object of the JSON
    array (``json_rows``), with ``columns`` (name: PostgreSQL type), for an UPDATE's ``FROM``.

    One text parameter for all the rows: psycopg writes a list parameter (an array per column, as
    ``unnest`` takes them) element by element in Python, about three times the cost of one
    ``json.dumps`` of the same rows; an executemany is one statement per row.
    """
    typed = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    return f"json_to_recordset(CAST(:{parameter} AS json)) AS v({typed})"


def select_from_json(table: str, columns: Sequence[str], parameter: str, where: str | None = None) -> str:
    """``SELECT columns`` of the rows of the JSON parameter (``json_rows``), in the array's order;
    with ``where``, only the rows it holds for (an SQL condition on the columns).

    PostgreSQL only. Each object's fields are read as the table's own column types
    (``json_populate_recordset``).
    """
    condition = "" if where is None else f"WHERE {where} "
    return (f"SELECT {', '.join(columns)} FROM json_populate_recordset(NULL::{table}, CAST(:{parameter} AS json)) "
            f"WITH ORDINALITY AS r {condition}ORDER BY r.ordinality")


def insert_from_json(table: str, columns: Sequence[str], parameter: str, where: str | None = None) -> str:
    """``INSERT INTO table (columns)`` the rows of the JSON parameter (``select_from_json``), in order,
    so ids from a sequence follow the array."""
    return f"INSERT INTO {table} ({', '.join(columns)}) {select_from_json(table, columns, parameter, where)}"


def insert_clauses(shape: TableShape, upserts: tuple[tuple[str, Callable[[str], str]], ...] = ()) -> list[str]:
    """The clause inserting each table's rows of ``shape`` from its JSON parameter (``json_tables``),
    for tables that have rows, PostgreSQL only; a table in ``upserts`` gets the clause its function
    writes around the table's ``select_from_json`` instead."""
    special = dict(upserts)
    return [special[table](select_from_json(table, columns, table)) if table in special
            else insert_from_json(table, columns, table) for table, columns in shape if columns]


@functools.cache
def inserts_from_json(shape: TableShape, upserts: tuple[tuple[str, Callable[[str], str]], ...] = ()) -> TextClause:
    """``insert_clauses`` as one statement (``with_all``). Written once per shape and taken from the
    statement caches after that (the row functions always give the same columns: a handful of
    shapes)."""
    return text(with_all(insert_clauses(shape, upserts)))


def with_all(clauses: Sequence[str]) -> str:
    """One statement of data-modifying clauses (PostgreSQL): the last is the statement, the others its
    ``WITH`` clauses.

    Each clause runs to completion whether or not the statement reads it, and all of them see the
    database as it was when the statement began: a clause must not depend on another's rows. The
    statement returns no row: a closing ``SELECT 1`` would return one, which the driver reads and
    SQLAlchemy describes anew on every execution of a text statement (about 3 % of a
    CreateDraftCertificate's CPU).
    """
    *before, last = clauses
    if not before:
        return last
    return "WITH " + ", ".join(f"w{n} AS ({clause})" for n, clause in enumerate(before)) + " " + last


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows`` into ``table``; where ``key`` already exists, overwrite the ``update`` columns.

    ``INSERT ... ON CONFLICT`` is atomic on both databases, unlike select-then-insert, which loses a
    race on PostgreSQL when two requests insert the same key at once. Both dialects spell it the same
    way in SQLAlchemy but through different ``insert`` constructs, which is why this helper exists.
    With an empty ``update`` the existing row is left as it is (``DO NOTHING``).
    """
    if not rows:
        return
    statement = dialect_insert(session, table)
    if update:
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=list(key), set_={name: excluded[name] for name in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    session.execute(statement, list(rows))


class IdList(TypeDecorator[Sequence[str]]):
    """A list of ids bound as one parameter (``among``): a ``text[]`` on PostgreSQL, a JSON array on
    SQLite, whatever the list's length."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(String()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Sequence[str] | None, dialect: Dialect) -> Any:
        ids = list(value or ())
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class _Among(ColumnElement[bool]):
    """``column`` is one of the ids of one ``IdList`` parameter (``among``)."""

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a test of its own, as a comparison is: never written as "... = 1"
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("ids", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any], ids: BindParameter[Any]) -> None:
        self.column = column
        self.ids = ids


def among(column: ColumnElement[Any], parameter: str) -> ColumnElement[bool]:
    """``column`` is one of the ids bound to ``parameter`` (a list), as one parameter of the statement.

    Instead of ``column.in_(bindparam(..., expanding=True))``, which SQLAlchemy rewrites into one
    placeholder per id on every execution and psycopg then converts id by id: for the 200 ids of a
    patient's list, about a millisecond of each of its reads. ``= ANY(text[])`` on PostgreSQL,
    ``IN (SELECT value FROM json_each(...))`` on SQLite; an empty list matches nothing.
    """
    return _Among(column, bindparam(parameter, type_=IdList()))


@compiles(_Among, "postgresql")
def _among_postgresql(element: _Among, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY ({ids})"


@compiles(_Among, "sqlite")
def _among_sqlite(element: _Among, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"

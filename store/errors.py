"""Errors raised by the store.

::

    StoreError                  base: anything the store refuses or cannot do
    ├── DatabaseUnavailable     the database did not answer (connection refused, lost, timed out)
    ├── SchemaNotReady          the database answers but does not hold this version's schema
    ├── Conflict                a write clashed with a stored row (duplicate key, broken reference)
    └── DirectoryImportError    a directory document refers to HSA-ids the database does not know

``DatabaseUnavailable`` is raised ``from`` the driver's exception so the cause stays in the traceback;
inside a running transaction callers answer TECHNICAL_ERROR (the caller may resend). Met while a
command or the server opens its database, it and ``SchemaNotReady`` carry the URL (password masked),
the cause and the fix, and their text says all three, for the operator who reads one line. The texts
never carry patient identifiers.
"""

from __future__ import annotations

from enum import StrEnum


class StoreError(Exception):
    """Base class of everything the store raises on purpose."""


class DatabaseUnavailable(StoreError):
    """Raised when the database cannot be reached or the connection broke during a transaction.

    ``url`` (password masked), ``cause`` and ``fix`` are set when it was met opening the database
    (``store.migrate.require_schema``, ``upgrade``); None inside a transaction.
    """

    def __init__(self, message: str, *, url: str | None = None, cause: str | None = None,
                 fix: str | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.cause = cause
        self.fix = fix


class SchemaState(StrEnum):
    """What a database that answers holds, measured against this version's migrations."""

    EMPTY = "empty"  # no tables at all: a new database
    FOREIGN = "foreign"  # tables, but no migration record: another application's database
    OUTDATED = "outdated"  # an earlier revision of ours: ``db upgrade`` brings it up
    UNKNOWN_REVISION = "unknown-revision"  # a revision we do not know: a newer release's, or not ours


class SchemaNotReady(StoreError):
    """Raised when a command needs the schema and the database does not hold this version's.

    ``state`` says why, ``revision`` is the database's (None when it has none), ``head`` the
    revision this version needs, ``fix`` what the operator should do.
    """

    def __init__(self, message: str, *, url: str, state: SchemaState, revision: str | None, head: str,
                 fix: str) -> None:
        super().__init__(message)
        self.url = url
        self.state = state
        self.revision = revision
        self.head = head
        self.fix = fix


class Conflict(StoreError):
    """Raised when a write violates a constraint, e.g. a draft id that is already stored."""


class DirectoryImportError(StoreError):
    """Raised by ``import_directory`` when a reference resolves neither in the document nor in the DB.

    ``record`` names the record by its list and index (``units[3]``), never by a personnummer;
    ``field`` is the field inside it (``parent``, ``assignments[0].unit``).
    """

    def __init__(self, record: str, field: str, reason: str) -> None:
        super().__init__(f"{record}: {field}: {reason}")
        self.record = record
        self.field = field
        self.reason = reason

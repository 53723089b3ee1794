"""Persistence: SQLAlchemy models and queries per concept, the unit of work, and the migrations.

The same code runs on SQLite (embedded, one process) and PostgreSQL (psycopg 3). Query functions take
a ``Session`` first, return domain values (never ORM objects) and never commit: the caller's
``transaction(factory)`` does, once, so a usecase's writes (draft, integrated unit, outbox event, PDL
record) commit or roll back together.

What the store must not know: the certificate rules, the wire formats and HTTP. It imports only the
domain's value types (``domain.values``, ``domain.directory``, ``domain.drafts``,
``domain.certificates``, ``domain.messages``, ``domain.events``, ``domain.pdl``, the ``DirectoryDocument`` of
``domain.directory_import``) to map rows to values.

Modules: ``session`` (engines, ``transaction``), ``errors``, ``directory`` (embedded HSA/PU and its
import; its tables are in ``directory_tables``, the importer in ``directory_import``), ``certificates``,
``messages`` (ärenden and their kompletteringar), ``units`` (integrated units), ``outbox``, ``pdl``,
``health`` (``ping``) and
``migrate`` (``upgrade``/``check``; not imported here, so that serving does not load Alembic).
"""

from __future__ import annotations

from store import (
    certificates,
    directory,
    errors,
    health,
    messages,
    outbox,
    pdl,
    session,
    units,
)
from store.directory import (
    ImportSummary,
    SqlDirectory,
    directory_produced_at,
    import_directory,
)
from store.errors import Conflict, DatabaseUnavailable, DirectoryImportError, StoreError
from store.health import ping
from store.outbox import OutboxStatus, StoredEvent
from store.session import Tx, UnitOfWork, make_engine, make_session_factory, transaction
from store.units import IntegratedUnit

__all__ = [
    "Conflict",
    "DatabaseUnavailable",
    "DirectoryImportError",
    "ImportSummary",
    "IntegratedUnit",
    "OutboxStatus",
    "SqlDirectory",
    "StoreError",
    "StoredEvent",
    "Tx",
    "UnitOfWork",
    "certificates",
    "directory",
    "directory_produced_at",
    "errors",
    "health",
    "import_directory",
    "make_engine",
    "make_session_factory",
    "messages",
    "outbox",
    "pdl",
    "ping",
    "session",
    "transaction",
    "units",
]

"""Persistence: SQLAlchemy models and queries per concept, the unit of work, and the migrations.

The same code runs on SQLite (embedded, one process) and PostgreSQL (psycopg 3). Query functions take
the open transaction (``Tx``) first, return domain values (never ORM objects) and never commit: the
caller's ``UnitOfWork`` does, once, so a use case's writes (draft, integrated unit, outbox event, PDL
record) commit or roll back together.

What the store must not know: the certificate rules, the wire formats and HTTP. It imports only the
domain's value types (``domain.values``, ``domain.directory``, ``domain.drafts``,
``domain.certificates``, ``domain.arenden``, ``domain.events``, ``domain.pdl``, the ``DirectoryDocument`` of
``domain.directory_import``) to map rows to values.

Modules: ``session`` (engines, ``transaction``), ``errors``, ``directory`` (embedded HSA/PU and its
import; its tables are in ``directory_tables``, the importer in ``directory_import``), ``certificates``,
``arenden`` (ärenden and their kompletteringar), ``caregiver`` (a care giver's certificates as one
set: inventory, export record, purge), ``directory_check`` (the facts the directory check reads),
``units`` (integrated units), ``draft_groups`` and ``message_groups`` (the writes of a group of new
drafts, or of received messages, in one statement on PostgreSQL), ``outbox`` (a package: tables, queue,
claims, report, resend), ``pdl``, ``routing`` (the catalogue and its versions),
``leader`` (the scheduler's election), ``health`` (``ping``) and
``migrate`` (``upgrade``/``check``; not imported here, so that serving does not load Alembic).
"""

from __future__ import annotations

from store import (
    arenden,
    caregiver,
    certificates,
    directory,
    errors,
    health,
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
    "arenden",
    "caregiver",
    "certificates",
    "directory",
    "directory_produced_at",
    "errors",
    "health",
    "import_directory",
    "make_engine",
    "make_session_factory",
    "outbox",
    "pdl",
    "ping",
    "session",
    "transaction",
    "units",
]

"""The figures a metrics scrape reads from the database, in one bounded aggregate query.

Every gateway process answers ``/metrics``; without care each scrape would cost a handful of queries
per process. ``operations_figures`` is one ``SELECT`` (a ``UNION ALL`` of small aggregates), and each
part reads only rows that an index keeps few, so its cost does not grow with the history kept:

* the open outbox events (``PENDING`` and ``FAILED``) by status and the last attempt's outcome class,
  with the oldest pending one's time (index ``ix_outbox_event_status_next_attempt_at``; delivered,
  superseded and purged events are never read);
* the ``worst_units`` units whose oldest pending event is oldest (``LIMIT``: a bounded number of rows
  however many units wait);
* the PDL records not yet sealed into the chain, and the oldest one's time (the partial index
  ``ix_pdl_record_unsealed``, a few entries long while the sealers keep up);
* when the latest directory import was produced (one row by primary key).

The caller caches the result for a few seconds (``usecases.operations_metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, select, type_coerce, union_all

from store.directory_tables import DirectoryImportRow
from store.outbox.tables import OutboxRow, OutboxStatus
from store.pdl import UNSEALED, PdlRow
from store.session import Tx
from store.types import UtcDateTime


@dataclass(frozen=True, slots=True)
class OpenEvents:
    """Open outbox events of one status and last outcome class (``-``: never tried)."""

    status: str
    outcome: str
    count: int
    oldest: datetime | None


@dataclass(frozen=True, slots=True)
class UnitBacklog:
    """One unit's pending events and the oldest one's time."""

    unit: str
    pending: int
    oldest: datetime


@dataclass(frozen=True, slots=True)
class OperationsFigures:
    """What ``operations_figures`` read."""

    open_events: list[OpenEvents]
    worst_units: list[UnitBacklog]  # oldest pending first
    pdl_unsealed: int
    pdl_oldest_unsealed: datetime | None
    directory_produced_at: datetime | None


def _when(expression: ColumnElement[Any]) -> ColumnElement[datetime]:
    """A time column of a union part, read back as an aware UTC datetime on both databases."""
    return type_coerce(expression, UtcDateTime)


def operations_figures(session: Tx, worst_units: int) -> OperationsFigures:
    """Read the figures in one statement (module docstring)."""
    outcome = func.coalesce(OutboxRow.last_outcome, "-")
    open_events = (
        select(literal("outbox").label("part"), type_coerce(OutboxRow.status, String).label("key"),
               outcome.label("detail"), func.count().label("n"), _when(func.min(OutboxRow.occurred_at)).label("at"))
        .where(OutboxRow.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
        .group_by(OutboxRow.status, outcome)
    )
    oldest = func.min(OutboxRow.occurred_at)
    units = (
        select(OutboxRow.unit_hsa_id.label("unit"), func.count().label("n"), oldest.label("at"))
        .where(OutboxRow.status == OutboxStatus.PENDING)
        .group_by(OutboxRow.unit_hsa_id)
        .order_by(oldest, OutboxRow.unit_hsa_id)
        .limit(max(0, worst_units))
        .subquery()
    )
    worst = select(literal("unit"), units.c.unit, literal(""), units.c.n, _when(units.c.at))
    unsealed = select(literal("pdl"), literal(""), literal(""), func.count(),
                      _when(func.min(PdlRow.stored_at))).where(UNSEALED)
    latest_import = (
        select(DirectoryImportRow.produced_at.label("at")).order_by(DirectoryImportRow.id.desc()).limit(1).subquery()
    )
    directory = select(literal("directory"), literal(""), literal(""), func.count(),
                       _when(func.max(latest_import.c.at)))
    rows = session.execute(union_all(open_events, worst, unsealed, directory)).all()
    events: list[OpenEvents] = []
    backlog: list[UnitBacklog] = []
    unsealed_count, oldest_unsealed, produced_at = 0, None, None
    for part, key, detail, count, at in rows:
        if part == "outbox":
            events.append(OpenEvents(str(key), str(detail), int(count), at))
        elif part == "unit":
            backlog.append(UnitBacklog(str(key), int(count), at))
        elif part == "pdl":
            unsealed_count, oldest_unsealed = int(count), at
        else:
            produced_at = at
    backlog.sort(key=lambda line: (line.oldest, line.unit))
    return OperationsFigures(events, backlog, unsealed_count, oldest_unsealed, produced_at)

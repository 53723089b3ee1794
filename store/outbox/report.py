"""What operators read about the outbox: the overall picture and one event's whole history.

``outbox_summary`` is the first thing to look at when journal systems or recipients complain: how
many events are pending and failed, how old the oldest pending one is, and the same per unit (status
updates: which units' journal systems are down), per onward destination (which recipient, or the
archive, is not accepting), per contract and per outcome class of the last attempt. Everything is
computed from the rows, so it is the same for every gateway process and survives restarts; the
failed-for-good count is the counter that alerting reads (also on the operations API, ``GET /outbox/status``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from domain.events import JOURNAL
from store.outbox.tables import AttemptRow, OutboxRow, OutboxStatus
from store.session import Tx


@dataclass(frozen=True, slots=True)
class UnitLine:
    unit: str
    pending: int
    failed: int
    oldest_pending: datetime | None


@dataclass(frozen=True, slots=True)
class OutcomeLine:
    outcome: str  # the last attempt's outcome class, "-" when never tried
    pending: int
    failed: int


@dataclass(frozen=True, slots=True)
class ContractLine:
    contract: str  # domain.events.OutboundContract value
    pending: int
    failed: int


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    counts: dict[str, int]  # by status value, every status present (0 when none)
    oldest_pending: datetime | None
    units: list[UnitLine]  # status updates, by the unit whose journal system they go to
    outcomes: list[OutcomeLine]
    destinations: list[UnitLine]  # onward events, by the logical address they go to
    contracts: list[ContractLine]


def _count_of(status: OutboxStatus) -> Any:
    return func.sum(case((OutboxRow.status == status, 1), else_=0))


def _oldest_pending() -> Any:
    return func.min(case((OutboxRow.status == OutboxStatus.PENDING, OutboxRow.occurred_at), else_=None))


def outbox_summary(session: Tx) -> OutboxSummary:
    """Counts by status, the oldest pending event's time, and pending/failed by unit and by outcome."""
    counts = {status.value: 0 for status in OutboxStatus}
    for status, count in session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)):
        counts[OutboxStatus(status).value] = count
    open_rows = OutboxRow.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED])
    by_unit, by_destination = (
        [
            UnitLine(key, int(pending), int(failed), oldest)
            for key, pending, failed, oldest in session.execute(
                select(column, _count_of(OutboxStatus.PENDING), _count_of(OutboxStatus.FAILED), _oldest_pending())
                .where(open_rows, journal)
                .group_by(column)
                .order_by(column)
            )
        ]
        for column, journal in ((OutboxRow.unit_hsa_id, OutboxRow.destination == JOURNAL),
                                (OutboxRow.destination, OutboxRow.destination != JOURNAL))
    )
    contracts = [
        ContractLine(contract, int(pending), int(failed))
        for contract, pending, failed in session.execute(
            select(OutboxRow.contract, _count_of(OutboxStatus.PENDING), _count_of(OutboxStatus.FAILED))
            .where(open_rows).group_by(OutboxRow.contract).order_by(OutboxRow.contract)
        )
    ]
    outcome = func.coalesce(OutboxRow.last_outcome, "-")
    outcomes = [
        OutcomeLine(name, int(pending), int(failed))
        for name, pending, failed in session.execute(
            select(outcome, _count_of(OutboxStatus.PENDING), _count_of(OutboxStatus.FAILED))
            .where(open_rows)
            .group_by(outcome)
            .order_by(outcome)
        )
    ]
    oldest = session.execute(
        select(func.min(OutboxRow.occurred_at)).where(OutboxRow.status == OutboxStatus.PENDING)
    ).scalar_one()
    return OutboxSummary(counts, oldest, by_unit, outcomes, by_destination, contracts)


@dataclass(frozen=True, slots=True)
class EventReport:
    """One event as stored, with every attempt, oldest first."""

    event: dict[str, Any]
    attempts: list[dict[str, Any]]


def event_report(session: Tx, event_id: int) -> EventReport | None:
    """The event ``event_id`` and its attempts, or None when there is no such event."""
    row = session.get(OutboxRow, event_id, populate_existing=True)
    if row is None:
        return None
    event = {column.key: getattr(row, column.key) for column in OutboxRow.__mapper__.column_attrs}
    attempts = [
        {column.key: getattr(attempt, column.key) for column in AttemptRow.__mapper__.column_attrs
         if column.key not in ("id", "event_id")}
        for attempt in session.scalars(
            select(AttemptRow).where(AttemptRow.event_id == event_id).order_by(AttemptRow.id)
        )
    ]
    return EventReport(event, attempts)

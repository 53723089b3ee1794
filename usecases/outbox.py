"""The operators' outbox tasks: the overview, one event's history, and manual resend with its preview.

``intygsgateway outbox status|show``, ``intygsgateway resend`` and the operations API's outbox routes
(``gateway.internal_api.outbox``) all call these, so the two front ends cannot drift apart. Each
task is one short transaction. The JSON views (``summary_json``, ``report_json``) are the shapes the
CLI's ``--json`` and the API answer with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from domain.resend_request import DEFAULT_CAP, ResendSelection
from store import UnitOfWork
from store.outbox import (
    EventReport,
    OutboxSummary,
    ResendResult,
    SelectionCount,
    event_report,
    outbox_summary,
    preview,
    resend,
)


class OutboxOperations:
    """The outbox tasks on one database and clock."""

    def __init__(self, uow: UnitOfWork, clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self._clock = clock

    def now(self) -> datetime:
        """The time the tasks judge ages and resends by."""
        return self._clock()

    def summary(self) -> OutboxSummary:
        """Pending and failed counts, the oldest pending event, by unit and by outcome class."""
        with self._uow() as tx:
            return outbox_summary(tx)

    def event(self, event_id: int) -> EventReport | None:
        """One event with every attempt, or None when there is no such event."""
        with self._uow() as tx:
            return event_report(tx, event_id)

    def preview(self, selection: ResendSelection) -> list[SelectionCount]:
        """What a resend with ``selection`` would re-arm, per unit and status; changes nothing.

        Raises:
            ResendRefused: the selection has no criterion.
        """
        with self._uow() as tx:
            return preview(tx, selection)

    def resend(self, selection: ResendSelection, by: str, reason: str, cap: int = DEFAULT_CAP) -> ResendResult:
        """Re-arm the selected failed (or delivered) events and log the request.

        Raises:
            ResendRefused: no criterion, or more than ``cap`` events match.
        """
        with self._uow() as tx:
            return resend(tx, selection, self._clock(), by, reason, cap)


def summary_json(summary: OutboxSummary, now: datetime) -> dict[str, Any]:
    """``outbox status`` as JSON (the CLI's --json and the operations API)."""
    oldest = summary.oldest_pending
    return {
        "counts": summary.counts,
        "oldestPending": oldest.isoformat() if oldest else None,
        "oldestPendingSeconds": int((now - oldest).total_seconds()) if oldest else None,
        "units": [{"unit": u.unit, "pending": u.pending, "failed": u.failed,
                   "oldestPending": u.oldest_pending.isoformat() if u.oldest_pending else None}
                  for u in summary.units],
        "outcomes": [{"outcome": o.outcome, "pending": o.pending, "failed": o.failed} for o in summary.outcomes],
        "destinations": [{"destination": d.unit, "pending": d.pending, "failed": d.failed,
                          "oldestPending": d.oldest_pending.isoformat() if d.oldest_pending else None}
                         for d in summary.destinations],
        "contracts": [{"contract": c.contract, "pending": c.pending, "failed": c.failed} for c in summary.contracts],
    }


def report_json(report: EventReport) -> dict[str, Any]:
    """``outbox show`` as JSON: times as ISO 8601, enums as their values."""
    def plain(row: dict[str, Any]) -> dict[str, Any]:
        return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()}
    return {"event": plain(report.event), "attempts": [plain(attempt) for attempt in report.attempts]}


def counts_json(counts: list[SelectionCount]) -> list[dict[str, Any]]:
    """A resend preview as JSON: one object per unit and status."""
    return [asdict(line) for line in counts]


def resend_json(result: ResendResult) -> dict[str, Any]:
    """A resend's result as JSON."""
    return asdict(result)

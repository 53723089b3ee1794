"""Manual resend: put failed (or delivered) events back in the queue, by a precise selection.

A resend re-arms the same outbox row: status back to PENDING, due now, a new series of tries (the
schedule's count and maximum age start again from the resend), while the row keeps its id (so its
place in the certificate's order), its original ``occurred_at`` and its whole attempt history. A row
that is already pending is never touched, so a resend cannot queue a second copy of an event. Every
resend is logged with who asked, why, the selection and the counts; a cap on how many events one
resend may select guards against an overly broad selection (raise it explicitly to go beyond).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, insert, or_, select, update

from domain.onward import DELIVERING
from domain.resend_policy import ScheduleKind
from domain.resend_request import (
    DEFAULT_CAP,
    ResendRefusalReason,
    ResendRefused,
    ResendSelection,
)
from store.outbox.tables import OutboxRow, OutboxStatus, ResendRequestRow
from store.session import Tx


@dataclass(frozen=True, slots=True)
class SelectionCount:
    unit: str
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class ResendResult:
    request_id: int
    selected: int  # events matching the selection in a resendable status
    rearmed: int
    already_pending: int  # matching events left alone because they are queued already


def _statuses(selection: ResendSelection) -> list[OutboxStatus]:
    """The statuses a resend re-arms."""
    if selection.include_delivered:
        return [OutboxStatus.FAILED, OutboxStatus.DELIVERED]
    return [OutboxStatus.FAILED]


def _criteria(selection: ResendSelection) -> list[ColumnElement[bool]]:
    """The selection as SQL conditions (without the status).

    Tombstones of purged certificates (``store.caregiver``: a ``purged`` payload) are never
    selected: their certificate is gone, so there is nothing to send again. Nor is an onward event
    that carries a send (``domain.onward.carries_send``): its failure returned the certificate to
    SIGNED, and sending it again is ``intygsgateway certificate send``, which checks the recipient
    and the certificate's state again and marks it SENDING.
    """
    where: list[ColumnElement[bool]] = [
        OutboxRow.payload["purged"].as_string().is_(None),
        or_(OutboxRow.recipient.is_(None), OutboxRow.contract.not_in([c.value for c in DELIVERING])),
    ]
    if selection.event_ids:
        where.append(OutboxRow.id.in_(selection.event_ids))
    if selection.certificate_id is not None:
        where.append(OutboxRow.certificate_id == selection.certificate_id)
    if selection.unit is not None:
        where.append(func.lower(OutboxRow.unit_hsa_id) == selection.unit.key)
    if selection.care_giver is not None:
        where.append(func.lower(OutboxRow.care_giver_hsa_id) == selection.care_giver.key)
    if selection.occurred_from is not None:
        where.append(OutboxRow.occurred_at >= selection.occurred_from)
    if selection.occurred_to is not None:
        where.append(OutboxRow.occurred_at < selection.occurred_to)
    return where


def preview(session: Tx, selection: ResendSelection) -> list[SelectionCount]:
    """Counts per unit and status of what the selection matches (pending ones are left alone)."""
    _require_criteria(selection)
    statuses = [*_statuses(selection), OutboxStatus.PENDING]
    rows = session.execute(
        select(OutboxRow.unit_hsa_id, OutboxRow.status, func.count())
        .where(*_criteria(selection), OutboxRow.status.in_(statuses))
        .group_by(OutboxRow.unit_hsa_id, OutboxRow.status)
        .order_by(OutboxRow.unit_hsa_id, OutboxRow.status)
    )
    return [SelectionCount(unit, OutboxStatus(status).value, count) for unit, status, count in rows]


def resend(
    session: Tx,
    selection: ResendSelection,
    now: datetime,
    requested_by: str,
    reason: str,
    cap: int = DEFAULT_CAP,
) -> ResendResult:
    """Re-arm the selected events in the caller's transaction and log the request.

    Raises:
        ResendRefused: the selection has no criterion, or matches more than ``cap`` events.
    """
    _require_criteria(selection)
    counts = preview(session, selection)
    pending = sum(line.count for line in counts if line.status == OutboxStatus.PENDING.value)
    selected = sum(line.count for line in counts) - pending
    if selected > cap:
        raise ResendRefused(ResendRefusalReason.OVER_CAP, selected, cap)
    rearmed = session.execute(
        update(OutboxRow)
        .where(*_criteria(selection), OutboxRow.status.in_(_statuses(selection)))
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=now,
            series_started_at=now,
            series_attempts=0,
            schedule_kind=ScheduleKind.TECHNICAL,
            finished_at=None,
            claimed_by=None,
            lease_until=None,
        )
        .returning(OutboxRow.id),
        execution_options={"synchronize_session": False},
    ).scalars().all()
    request_id = session.execute(
        insert(ResendRequestRow).returning(ResendRequestRow.id),
        [{"requested_at": now, "requested_by": requested_by, "reason": reason, "selection": selection.as_json(),
              "selected": selected, "rearmed": len(rearmed)}],
    ).scalar_one()
    return ResendResult(int(request_id), selected, len(rearmed), pending)


def _require_criteria(selection: ResendSelection) -> None:
    if not selection.has_criteria():
        raise ResendRefused(ResendRefusalReason.NO_CRITERIA)

"""Writing events into the outbox (in the caller's transaction) and reading a certificate's events back.

``enqueue`` writes an event in the caller's transaction, the same one as the change it reports, so
an event exists exactly when its change was committed (no lost or phantom notifications, unlike a
message queue written to after the commit). Each event gets its own correlation id here, once: every
attempt to deliver it sends the same one. The dispatcher sends them later (``store.outbox.claims``).

Every status update enqueued here also enters its certificate's own history
(``store.certificate_events``), in the same transaction: the outbox is where each change's events are
written, so this is the one place that sees them all, and the history outlives the outbox's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select, update

from domain.certificate_list import HistoryEvent, history_event
from domain.delivery import Decision, OutcomeClass, clip
from domain.events import JOURNAL, OutboundContract, OutboxEvent
from domain.onward import PAYLOAD_MESSAGE, OnwardRecord
from domain.values import EventCode, HsaId
from store import certificate_events
from store.base import inserts_from_json, json_tables
from store.outbox.tables import AttemptRow, OutboxRow, OutboxStatus
from store.session import Tx

# The table itself, for Core statements on the hot path.
_OUTBOX = cast(Table, OutboxRow.__table__)
_ATTEMPTS = cast(Table, AttemptRow.__table__)
# Built once: the statement and its cache key are the same for every event, only the values change.
_INSERT_EVENT = insert(_OUTBOX).returning(_OUTBOX.c.id)
_INSERT_EVENTS = insert(_OUTBOX).inline()  # no RETURNING of the ids: enqueue_all reads none


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent(OutboxEvent):
    """An outbox event as stored: the event's fields plus its row id (its place in the order),
    its own correlation id, its delivery status and when the row was written."""

    id: int
    correlation_id: str
    status: OutboxStatus
    created_at: datetime

    @property
    def event(self) -> OutboxEvent:
        """The plain event, without the storage fields."""
        return OutboxEvent(**{f.name: getattr(self, f.name) for f in fields(OutboxEvent)})


def enqueue(session: Tx, event: OutboxEvent) -> int:
    """Add ``event`` to the outbox in the caller's transaction and return its row id.

    Raises:
        TypeError: the payload is not JSON-serialisable (found when the row is sent).
    """
    event_id = _insert(session, event)
    _record_history(session, [event])
    return event_id


def _insert(session: Tx, event: OutboxEvent) -> int:
    """The event's outbox row (and the edits it supersedes), without its history entry."""
    # A Core INSERT ... RETURNING on the table: no ORM bulk-persistence machinery for a row nobody
    # reads back here (about a third of the statement's cost on the hot path).
    event_id = int(session.execute(_INSERT_EVENT, event_row(event)).scalar_one())
    if supersedes(event):
        _supersede_edits(session, event, event_id)
    return event_id


def _record_history(session: Tx, events: Sequence[OutboxEvent]) -> None:
    """Add the status updates among ``events`` to their certificates' histories."""
    certificate_events.record_all(session, histories(events))


def rows_by_table(events: Sequence[OutboxEvent]) -> dict[str, list[dict[str, Any]]]:
    """The rows ``enqueue_all`` writes for ``events`` (none of which supersedes), by table: the outbox
    rows and the history entries."""
    return {
        str(OutboxRow.__tablename__): [event_row(event) for event in events],
        str(certificate_events.CertificateEventRow.__tablename__):
            [certificate_events.history_row(entry) for entry in histories(events)],
    }


def histories(events: Sequence[OutboxEvent]) -> list[HistoryEvent]:
    """The history entries of ``events``: their status updates (``history_event``)."""
    return [entry for entry in map(history_event, events) if entry is not None]


def supersedes(event: OutboxEvent) -> bool:
    """Only a status update makes earlier edits moot (an onward event coded SIGNAT is not one)."""
    return event.code in SUPERSEDING_CODES and not event.is_onward


def enqueue_all(session: Tx, events: Sequence[OutboxEvent]) -> None:
    """Add ``events`` to the outbox in the caller's transaction, in order, with the status updates
    among them in their certificates' histories.

    Row ids increase in the order of ``events``, which keeps each certificate's events in order when
    a group is stored at once. On PostgreSQL, when none of them supersedes earlier edits (a group of
    SKICKA after accepted sends, a group of received messages), the outbox rows and the history
    entries are one statement (``store.base.inserts_from_json``): the outcome writer of a drain
    queues them, and each statement cost it more in SQLAlchemy and psycopg than the rows it carried
    (issue 18). Otherwise ``enqueue_per_table``.
    """
    if not events:
        return
    if session.get_bind().dialect.name == "postgresql" and not any(map(supersedes, events)):
        shape, parameters = json_tables(rows_by_table(events))
        session.execute(inserts_from_json(shape), parameters)
        return
    enqueue_per_table(session, events)


def enqueue_per_table(session: Tx, events: Sequence[OutboxEvent]) -> None:
    """``enqueue_all`` as a statement per table: events that supersede nothing go as one multi-row
    INSERT per run of them; an event that supersedes earlier edits goes through ``enqueue``'s insert,
    which needs its row id; the history entries as one more multi-row INSERT."""
    plain: list[dict[str, Any]] = []
    for event in events:
        if not supersedes(event):
            plain.append(event_row(event))
            continue
        if plain:
            session.execute(_INSERT_EVENTS, plain)
            plain = []
        _insert(session, event)
    if plain:
        session.execute(_INSERT_EVENTS, plain)
    _record_history(session, events)


def event_row(event: OutboxEvent) -> dict[str, Any]:
    """The values of a new event's outbox row, by column name (a new correlation id of its own)."""
    return {
        "certificate_id": event.certificate_id,
        "event_code": event.code,
        "occurred_at": event.occurred_at,
        "unit_hsa_id": event.unit.value,
        "care_giver_hsa_id": event.care_giver.value,
        "correlation_id": str(uuid.uuid4()),  # the event's own, for every attempt of it
        "request_correlation_id": event.request_correlation_id,
        "acting_user_hsa_id": event.acting_user.value if event.acting_user else None,
        "payload": dict(event.payload),
        "payload_version": event.payload_version,
        "status": OutboxStatus.PENDING,
        "next_attempt_at": event.occurred_at,
        "series_started_at": event.occurred_at,
        "contract": event.contract.value,
        "recipient": event.recipient,
        "logical_address": event.logical_address,
        "destination": event.destination,
    }


#: Events that make an earlier unsent ANDRAT of the same certificate moot: the journal system reads
#: the whole certificate from every status update, so the newer message carries the older edit.
SUPERSEDING_CODES = frozenset({EventCode.ANDRAT, EventCode.SIGNAT})


def _supersede_edits(session: Tx, event: OutboxEvent, event_id: int) -> None:
    """Mark the certificate's earlier undelivered ANDRAT events superseded by ``event_id``.

    Runs in the enqueuing transaction, so the newer event and the superseding commit together. A row
    a worker is sending right now (``claimed_by`` set) is left alone: its attempt will be recorded,
    and the newer event waits behind it in the certificate's order.
    """
    session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.certificate_id == event.certificate_id,
            OutboxRow.destination == JOURNAL,
            OutboxRow.event_code == EventCode.ANDRAT,
            OutboxRow.status == OutboxStatus.PENDING,
            OutboxRow.claimed_by.is_(None),
            OutboxRow.id < event_id,
        )
        .values(status=OutboxStatus.SUPERSEDED, superseded_by=event_id, finished_at=event.occurred_at),
        execution_options={"synchronize_session": False},
    )


def events_for_certificate(session: Tx, certificate_id: str) -> list[StoredEvent]:
    """All outbox rows of one certificate, oldest first (by id)."""
    rows = session.scalars(
        select(OutboxRow).where(OutboxRow.certificate_id == certificate_id).order_by(OutboxRow.id)
    )
    return [
        StoredEvent(
            id=row.id,
            correlation_id=row.correlation_id,
            status=row.status,
            created_at=row.created_at,
            certificate_id=row.certificate_id,
            code=row.event_code,
            occurred_at=row.occurred_at,
            unit=HsaId(row.unit_hsa_id),
            care_giver=HsaId(row.care_giver_hsa_id),
            request_correlation_id=row.request_correlation_id,
            acting_user=HsaId(row.acting_user_hsa_id) if row.acting_user_hsa_id else None,
            payload=dict(row.payload),
            payload_version=row.payload_version,
            contract=OutboundContract(row.contract),
            recipient=row.recipient,
            logical_address=row.logical_address,
        )
        for row in rows
    ]


def onward_records(session: Tx, certificate_id: str, now: datetime) -> list[OnwardRecord]:
    """The certificate's onward events as revoking judges them (``domain.onward.OnwardRecord``):
    pending, held by a worker now (claimed with a live lease), delivered, and the classes of their
    attempts. Read with the certificate's row locked by the caller, so none is added meanwhile."""
    rows = session.execute(
        select(OutboxRow.id, OutboxRow.contract, OutboxRow.destination, OutboxRow.recipient, OutboxRow.status,
               OutboxRow.claimed_by, OutboxRow.lease_until, OutboxRow.payload)
        .where(OutboxRow.certificate_id == certificate_id, OutboxRow.destination != JOURNAL)
        .order_by(OutboxRow.id)
    ).all()
    if not rows:
        return []
    outcomes: dict[int, set[OutcomeClass]] = {}
    for event_id, outcome in session.execute(
        select(AttemptRow.event_id, AttemptRow.outcome).where(AttemptRow.event_id.in_([row.id for row in rows]))
    ):
        outcomes.setdefault(event_id, set()).add(OutcomeClass(outcome))
    return [
        OnwardRecord(
            event_id=row.id, contract=OutboundContract(row.contract), destination=row.destination,
            recipient=row.recipient, pending=row.status == OutboxStatus.PENDING,
            in_flight=row.status == OutboxStatus.PENDING and row.claimed_by is not None
            and row.lease_until is not None and row.lease_until > now,
            delivered=row.status == OutboxStatus.DELIVERED,
            outcomes=frozenset(outcomes.get(row.id, ())),
            message_id=_message_id(row.payload),
        )
        for row in rows
    ]


def _message_id(payload: Any) -> str | None:
    message = payload.get(PAYLOAD_MESSAGE) if isinstance(payload, dict) else None
    found = message.get("messageId") if isinstance(message, dict) else None
    return found if isinstance(found, str) else None


def cancel_pending(session: Tx, event_ids: Sequence[int], at: datetime, reason: str) -> list[int]:
    """Mark these events ``CANCELLED`` unless a worker holds them now (its call may be under way);
    return the ids cancelled. A claim that came in between keeps its event: its outcome decides.

    Each cancelled event gets an attempt of class ``cancelled`` with ``reason`` (no call), so that its
    history says why; a ``sending`` attempt a dead worker left on it becomes ``unknown``.
    """
    if not event_ids:
        return []
    cancelled = session.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(list(event_ids)), _OUTBOX.c.status == OutboxStatus.PENDING.value,
               or_(_OUTBOX.c.claimed_by.is_(None), _OUTBOX.c.lease_until < at))
        .values(status=OutboxStatus.CANCELLED.value, finished_at=at, claimed_by=None, lease_until=None,
                last_outcome=OutcomeClass.CANCELLED.value, last_error=clip(reason), attempts=_OUTBOX.c.attempts + 1)
        .returning(_OUTBOX.c.id, _OUTBOX.c.correlation_id)
    ).all()
    if not cancelled:
        return []
    ids = [event_id for event_id, _ in cancelled]
    session.execute(update(_ATTEMPTS).where(_ATTEMPTS.c.event_id.in_(ids),
                                            _ATTEMPTS.c.outcome == OutcomeClass.SENDING.value)
                    .values(outcome=OutcomeClass.UNKNOWN.value, decision=Decision.RETRY.value))
    session.execute(insert(_ATTEMPTS), [{
        "event_id": event_id, "at": at, "outcome": OutcomeClass.CANCELLED.value,
        "decision": Decision.CANCELLED.value, "http_status": None, "result_code": None, "error_id": None,
        "text": clip(reason), "url": None, "correlation_id": correlation_id, "duration_ms": 0.0, "claimed_by": None,
    } for event_id, correlation_id in cancelled])
    return sorted(ids)

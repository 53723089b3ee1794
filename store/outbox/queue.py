"""Writing events into the outbox (in the caller's transaction) and reading a certificate's events back.

``enqueue`` writes an event in the caller's transaction, the same one as the change it reports, so
an event exists exactly when its change was committed (no lost or phantom notifications, unlike a
message queue written to after the commit). The dispatcher sends them later (``store.outbox.claims``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from domain.events import OutboxEvent
from domain.values import EventCode, HsaId
from store.outbox.tables import OutboxRow, OutboxStatus
from store.session import Tx

# The table itself, for Core statements on the hot path.
_OUTBOX = cast(Table, OutboxRow.__table__)
# Built once: the statement and its cache key are the same for every event, only the values change.
_INSERT_EVENT = insert(_OUTBOX).returning(_OUTBOX.c.id)
_INSERT_EVENTS = insert(_OUTBOX).inline()  # no RETURNING of the ids: enqueue_all reads none


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent(OutboxEvent):
    """An outbox event as stored: the event's fields plus its row id (its place in the order),
    its delivery status and when the row was written."""

    id: int
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
    # A Core INSERT ... RETURNING on the table: no ORM bulk-persistence machinery for a row nobody
    # reads back here (about a third of the statement's cost on the hot path).
    event_id = int(session.execute(_INSERT_EVENT, _event_columns(event)).scalar_one())
    if event.code in SUPERSEDING_CODES:
        _supersede_edits(session, event, event_id)
    return event_id


def enqueue_all(session: Tx, events: Sequence[OutboxEvent]) -> None:
    """Add ``events`` to the outbox in the caller's transaction, in order.

    Row ids increase in the order of ``events``, which keeps each certificate's events in order
    when a group of received messages is stored at once. Events that supersede nothing go as one
    multi-row INSERT per run of them; an event that supersedes earlier edits goes through
    ``enqueue``, which needs its row id.
    """
    plain: list[dict[str, Any]] = []
    for event in events:
        if event.code not in SUPERSEDING_CODES:
            plain.append(_event_columns(event))
            continue
        if plain:
            session.execute(_INSERT_EVENTS, plain)
            plain = []
        enqueue(session, event)
    if plain:
        session.execute(_INSERT_EVENTS, plain)


def _event_columns(event: OutboxEvent) -> dict[str, Any]:
    return {
        "certificate_id": event.certificate_id,
        "event_code": event.code,
        "occurred_at": event.occurred_at,
        "unit_hsa_id": event.unit.value,
        "care_giver_hsa_id": event.care_giver.value,
        "correlation_id": event.correlation_id,
        "acting_user_hsa_id": event.acting_user.value if event.acting_user else None,
        "payload": dict(event.payload),
        "payload_version": event.payload_version,
        "status": OutboxStatus.PENDING,
        "next_attempt_at": event.occurred_at,
        "series_started_at": event.occurred_at,
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
            status=row.status,
            created_at=row.created_at,
            certificate_id=row.certificate_id,
            code=row.event_code,
            occurred_at=row.occurred_at,
            unit=HsaId(row.unit_hsa_id),
            care_giver=HsaId(row.care_giver_hsa_id),
            correlation_id=row.correlation_id,
            acting_user=HsaId(row.acting_user_hsa_id) if row.acting_user_hsa_id else None,
            payload=dict(row.payload),
            payload_version=row.payload_version,
        )
        for row in rows
    ]

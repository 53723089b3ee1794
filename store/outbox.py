"""The status-update outbox: certificate events waiting to be sent to the unit's journal system.

``enqueue`` writes an event in the caller's transaction, the same one as the change it reports, so
an event exists exactly when its change was committed (no lost or phantom notifications, unlike a
message queue written to after the commit). The dispatcher sends them later.

Columns beyond the event itself, and why each exists now:

* ``id``: a monotonically increasing 64-bit id. It orders one certificate's events (SKAPAT before
  ANDRAT before SIGNAT): a certificate's changes are serialised by its own row, so its events get
  increasing ids in the order they were committed. SQLite uses AUTOINCREMENT so ids are never reused.
* ``status``: ``PENDING`` on enqueue. The resend engine adds its states and its lease and attempt
  columns by migration; the column is a plain ``VARCHAR`` so new states need no type change.
* ``next_attempt_at``: when the dispatcher may pick the row up; ``occurred_at`` on enqueue (due at
  once). With ``status`` it forms the dispatcher's index, so the claim query needs no migration.
* ``created_at``: set by the database when the row is inserted, for operators (queue age).
* ``payload`` and ``payload_version``: what the message needs beyond the certificate, as JSON, with
  the version it was written in so that a newer release can still read older rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import JSON, Index, Table, insert, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.events import OutboxEvent
from domain.resend_policy import ScheduleKind
from domain.values import EventCode, HsaId
from store.base import Base, BigId


class OutboxStatus(StrEnum):
    """Where an outbox row is in delivery (docs/resend.md has the state diagram).

    ``PENDING`` rows wait for (or are in) an attempt; the other three are final until an operator
    resends: ``DELIVERED`` (the journal system answered OK or INFO), ``FAILED`` (refused for good,
    or every try of the schedule spent) and ``SUPERSEDED`` (an unsent ANDRAT made moot by a newer
    ANDRAT or SIGNAT of the same certificate, never sent).
    """

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    SUPERSEDED = "SUPERSEDED"


class OutboxRow(Base):
    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_certificate_id_id", "certificate_id", "id"),
        Index("ix_outbox_event_status_next_attempt_at", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    certificate_id: Mapped[str]
    event_code: Mapped[EventCode]
    occurred_at: Mapped[datetime]
    unit_hsa_id: Mapped[str]
    care_giver_hsa_id: Mapped[str]
    correlation_id: Mapped[str]
    acting_user_hsa_id: Mapped[str | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload_version: Mapped[int]
    status: Mapped[OutboxStatus]
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=text("CURRENT_TIMESTAMP"))
    # The resend engine's columns (migration 0006); docs/resend.md explains each.
    claimed_by: Mapped[str | None]  # the claim token of the worker sending it now
    lease_until: Mapped[datetime | None]  # the claim is void after this; another worker may take it
    attempts: Mapped[int] = mapped_column(server_default=text("0"))  # every attempt ever
    series_attempts: Mapped[int] = mapped_column(server_default=text("0"))  # failed tries in this series
    series_started_at: Mapped[datetime | None]  # start of the max age: occurred_at, or the manual resend
    schedule_kind: Mapped[ScheduleKind] = mapped_column(server_default=text("'technical'"))
    last_attempt_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None]  # domain.delivery.OutcomeClass value
    last_error: Mapped[str | None]  # start of the last failure's text, for operators
    finished_at: Mapped[datetime | None]  # when it became DELIVERED, FAILED or SUPERSEDED
    superseded_by: Mapped[int | None] = mapped_column(BigId)


class AttemptRow(Base):
    """One delivery attempt of one outbox event: the event's history, kept after delivery."""

    __tablename__ = "outbox_attempt"
    __table_args__ = (
        Index("ix_outbox_attempt_event_id_id", "event_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId)
    at: Mapped[datetime]
    outcome: Mapped[str]  # domain.delivery.OutcomeClass value
    decision: Mapped[str]  # domain.delivery.Decision value
    http_status: Mapped[int | None]
    result_code: Mapped[str | None]
    error_id: Mapped[str | None]
    text: Mapped[str | None]
    url: Mapped[str | None]
    correlation_id: Mapped[str]
    duration_ms: Mapped[float]


class ResendRequestRow(Base):
    """One manual resend: who asked, why, when, what they selected and how many events it re-armed."""

    __tablename__ = "outbox_resend_request"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    requested_at: Mapped[datetime]
    requested_by: Mapped[str]
    reason: Mapped[str]
    selection: Mapped[dict[str, Any]] = mapped_column(JSON)
    selected: Mapped[int]  # events the selection matched
    rearmed: Mapped[int]  # of those, events put back to PENDING (others were already pending)


# The table itself, for Core statements on the hot path.
_OUTBOX = cast(Table, OutboxRow.__table__)
# Built once: the statement and its cache key are the same for every event, only the values change.
_INSERT_EVENT = insert(_OUTBOX).returning(_OUTBOX.c.id)
_INSERT_EVENTS = insert(_OUTBOX)


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


def enqueue(session: Session, event: OutboxEvent) -> int:
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


def enqueue_all(session: Session, events: Sequence[OutboxEvent]) -> None:
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


def _supersede_edits(session: Session, event: OutboxEvent, event_id: int) -> None:
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


def events_for_certificate(session: Session, certificate_id: str) -> list[StoredEvent]:
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

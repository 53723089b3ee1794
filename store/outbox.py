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

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.events import OutboxEvent
from domain.values import EventCode, HsaId
from store.base import Base, BigId


class OutboxStatus(StrEnum):
    """Where an outbox row is in delivery. The resend engine adds the states after ``PENDING``."""

    PENDING = "PENDING"


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
        TypeError: the payload is not JSON-serialisable (found when the row is flushed).
    """
    values = dict(
        certificate_id=event.certificate_id,
        event_code=event.code,
        occurred_at=event.occurred_at,
        unit_hsa_id=event.unit.value,
        care_giver_hsa_id=event.care_giver.value,
        correlation_id=event.correlation_id,
        acting_user_hsa_id=event.acting_user.value if event.acting_user else None,
        payload=dict(event.payload),
        payload_version=event.payload_version,
        status=OutboxStatus.PENDING,
        next_attempt_at=event.occurred_at,
    )
    # A bulk-style INSERT ... RETURNING: no unit-of-work bookkeeping for a row nobody reads back here.
    return int(session.execute(insert(OutboxRow).returning(OutboxRow.id), [values]).scalar_one())


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

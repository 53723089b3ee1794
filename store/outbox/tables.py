"""The outbox tables: events waiting for (or done with) delivery, their attempts, and manual resends.

Columns of ``outbox_event`` beyond the event itself, and why each exists now:

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
* ``correlation_id`` and ``request_correlation_id`` (migration 0012): the event's own correlation
  id, the same for every attempt and sent as ``x-skltp-correlation-id`` (a journal system recognises
  a repeat by it), and the correlation id of the request that caused the event.
* ``contract``, ``recipient``, ``logical_address`` and ``destination`` (migration 0013): the contract
  an event is delivered with (status updates, and the onward contracts of ``domain.onward``), the
  recipient it concerns, where it goes, and the destination its certificate's order is kept per
  (``domain.events.OutboxEvent.destination``: ``journal``, or the logical address).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.events import JOURNAL, OutboundContract
from domain.resend_policy import ScheduleKind
from domain.values import EventCode
from store.base import Base, BigId


class OutboxStatus(StrEnum):
    """Where an outbox row is in delivery (docs/resend.md has the state diagram).

    ``PENDING`` rows wait for (or are in) an attempt; the next three are final until an operator
    resends: ``DELIVERED`` (the receiver answered OK or INFO), ``FAILED`` (refused for good,
    or every try of the schedule spent) and ``SUPERSEDED`` (an unsent ANDRAT made moot by a newer
    ANDRAT or SIGNAT of the same certificate, never sent). ``PURGED`` is final for good: the
    certificate was purged with its care giver (``intygsgateway caregiver purge``) before the
    event was delivered, so there is nothing left to send; the row stays as a tombstone.
    ``CANCELLED`` is final too: an onward delivery that must never be made (its certificate was
    revoked before it started, or is a test certificate); it is not a failure.
    """

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    SUPERSEDED = "SUPERSEDED"
    PURGED = "PURGED"
    CANCELLED = "CANCELLED"


class OutboxRow(Base):
    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_certificate_id_destination_id", "certificate_id", "destination", "id"),
        Index("ix_outbox_event_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ux_outbox_event_correlation_id", "correlation_id", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    certificate_id: Mapped[str]
    event_code: Mapped[EventCode]
    occurred_at: Mapped[datetime]
    unit_hsa_id: Mapped[str]
    care_giver_hsa_id: Mapped[str]
    correlation_id: Mapped[str]  # the event's own: every attempt sends it (migration 0012)
    request_correlation_id: Mapped[str]  # the request that caused the event
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
    # Claims since an outcome was last recorded (migration 0012): an event whose holders keep dying or
    # failing to record gives up after ``resend_max_claims`` of them (outcome ``claim-limit``).
    open_claims: Mapped[int] = mapped_column(server_default=text("0"))
    # Onward delivery (migration 0013): the contract, the recipient, where it goes, the order's destination.
    contract: Mapped[str] = mapped_column(server_default=text(f"'{OutboundContract.STATUS_UPDATE.value}'"))
    recipient: Mapped[str | None]
    logical_address: Mapped[str | None]
    destination: Mapped[str] = mapped_column(server_default=text(f"'{JOURNAL}'"))


class AttemptRow(Base):
    """One delivery attempt of one outbox event: the event's history, kept after delivery.

    A call's row is written with outcome ``sending`` before the call and completed after it; a row
    still ``sending`` when the event is claimed again becomes ``unknown`` (its worker died in the call).
    """

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
    correlation_id: Mapped[str]  # the event's own (the same for all its attempts)
    duration_ms: Mapped[float]
    claimed_by: Mapped[str | None]  # the claim (worker process) that made it (migration 0012)


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

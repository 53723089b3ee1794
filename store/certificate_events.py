"""Each certificate's own event history, kept for as long as the certificate (migration 0015).

The outbox holds the same events, but for delivery: its rows may be purged by retention, tombstoned
when a care giver is purged, and were never meant to be read as a certificate's history.
ListCertificatesForCareWithQA answers from this table instead. Rows are written by
``store.outbox.queue`` as it enqueues a status update, in the same statement batch and transaction,
so a certificate's history holds exactly the events whose changes were committed. They are
deleted with the certificate (a deleted draft, a purged care giver), never on their own.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Index, Table, bindparam, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.arenden import Amne
from domain.certificate_list import HistoryEvent
from domain.values import EventCode, HsaId
from store.base import Base, BigId


class CertificateEventRow(Base):
    __tablename__ = "certificate_event"
    # The list reads one certificate's events in a window: (certificate_id, occurred_at) serves both
    # the "any event in the window" test and the read of the events themselves.
    __table_args__ = (
        Index("ix_certificate_event_certificate_id_occurred_at", "certificate_id", "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    certificate_id: Mapped[str]
    event_code: Mapped[EventCode]
    occurred_at: Mapped[datetime]
    handled_by_hsa_id: Mapped[str | None]
    amne: Mapped[Amne | None]
    last_answer_date: Mapped[date | None]


_EVENTS = cast(Table, CertificateEventRow.__table__)
_INSERT = _EVENTS.insert()
_IN_IDS = _EVENTS.c.certificate_id.in_(bindparam("certificate_ids", expanding=True))
_SELECT = select(
    _EVENTS.c.certificate_id, _EVENTS.c.event_code, _EVENTS.c.occurred_at, _EVENTS.c.handled_by_hsa_id,
    _EVENTS.c.amne, _EVENTS.c.last_answer_date,
).where(_IN_IDS).order_by(_EVENTS.c.certificate_id, _EVENTS.c.occurred_at, _EVENTS.c.id)


def record_all(session: Session, events: Sequence[HistoryEvent]) -> None:
    """Add ``events`` to their certificates' histories in the caller's transaction (one INSERT)."""
    if events:
        session.execute(_INSERT, [_columns(event) for event in events])


def _columns(event: HistoryEvent) -> dict[str, Any]:
    return {
        "certificate_id": event.certificate_id,
        "event_code": event.code.value,
        "occurred_at": event.at,
        "handled_by_hsa_id": event.handled_by.value if event.handled_by is not None else None,
        "amne": event.amne.value if event.amne is not None else None,
        "last_answer_date": event.deadline,
    }


def events_of(
    session: Session, certificate_ids: Collection[str], start: datetime | None = None, end: datetime | None = None
) -> dict[str, list[HistoryEvent]]:
    """The events of ``certificate_ids`` between ``start`` and ``end`` (both inclusive, None: open),
    per certificate, oldest first (storage order among events of the same instant)."""
    if not certificate_ids:
        return {}
    statement = _SELECT
    if start is not None:
        statement = statement.where(_EVENTS.c.occurred_at >= start)
    if end is not None:
        statement = statement.where(_EVENTS.c.occurred_at <= end)
    found: dict[str, list[HistoryEvent]] = {}
    for row in session.execute(statement, {"certificate_ids": sorted(certificate_ids)}).all():
        found.setdefault(row.certificate_id, []).append(HistoryEvent(
            certificate_id=row.certificate_id,
            code=EventCode(row.event_code),
            at=row.occurred_at,
            handled_by=HsaId(row.handled_by_hsa_id) if row.handled_by_hsa_id else None,
            amne=Amne(row.amne) if row.amne else None,
            deadline=row.last_answer_date,
        ))
    return found


def forget(session: Session, certificate_ids: Collection[str]) -> None:
    """Delete the histories of ``certificate_ids``, whose certificates are being deleted in this transaction."""
    if certificate_ids:
        session.execute(delete(_EVENTS).where(_IN_IDS), {"certificate_ids": sorted(certificate_ids)})

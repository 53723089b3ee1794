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
from typing import Any, NamedTuple, cast

from sqlalchemy import Index, String, Table, delete, func, select, type_coerce
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.arenden import Amne
from domain.certificate_list import HistoryEvent
from domain.values import EventCode, HsaId
from store.base import Base, BigId, among


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
_IN_IDS = among(_EVENTS.c.certificate_id, "certificate_ids")
_STAMPS = select(_EVENTS.c.certificate_id, func.count(), func.max(_EVENTS.c.id)).where(_IN_IDS).group_by(
    _EVENTS.c.certificate_id
)
# The codes are read as the stored text and mapped by ``_CODES`` and ``_AMNEN``: the columns' own
# conversion (an enum call per value) cost more than a dictionary lookup, for 2,000 events a list.
_SELECT = select(
    _EVENTS.c.id, _EVENTS.c.certificate_id, type_coerce(_EVENTS.c.event_code, String), _EVENTS.c.occurred_at,
    _EVENTS.c.handled_by_hsa_id, type_coerce(_EVENTS.c.amne, String), _EVENTS.c.last_answer_date,
).where(_IN_IDS).order_by(_EVENTS.c.certificate_id, _EVENTS.c.occurred_at, _EVENTS.c.id)


def record_all(session: Session, events: Sequence[HistoryEvent]) -> None:
    """Add ``events`` to their certificates' histories in the caller's transaction (one INSERT)."""
    if events:
        session.execute(_INSERT, [history_row(event) for event in events])


def history_row(event: HistoryEvent) -> dict[str, Any]:
    """The values of a history entry's row, by column name."""
    return {
        "certificate_id": event.certificate_id,
        "event_code": event.code.value,
        "occurred_at": event.at,
        "handled_by_hsa_id": event.handled_by.value if event.handled_by is not None else None,
        "amne": event.amne.value if event.amne is not None else None,
        "last_answer_date": event.deadline,
    }


class History(NamedTuple):
    """A certificate's whole history, oldest first, and its stamp as ``history_stamps`` gives it."""

    stamp: tuple[int, int]
    events: list[HistoryEvent]


def events_of(session: Session, certificate_ids: Collection[str]) -> dict[str, History]:
    """The whole histories of ``certificate_ids``, per certificate, oldest first (storage order among
    events of the same instant), each with its stamp; a certificate without events is left out.

    The stamp comes from the rows read, so a caller that reads a history whole needs no
    ``history_stamps`` query for it.
    """
    if not certificate_ids:
        return {}
    found: dict[str, list[HistoryEvent]] = {}
    newest: dict[str, int] = {}
    users: dict[str, HsaId] = {}  # one HsaId per user, however many events they handled
    # The rows come certificate by certificate (``_SELECT``'s order): a certificate's events share one
    # id string, the first row's, rather than each holding its own copy (fewer objects to keep and free).
    current_id, events = "", None
    for row_id, certificate_id, code, at, user, amne, deadline in session.execute(
        _SELECT, {"certificate_ids": sorted(certificate_ids)}
    ).all():
        if events is None or certificate_id != current_id:
            current_id, events = certificate_id, found.setdefault(certificate_id, [])
        handled_by = None
        if user:
            handled_by = users.get(user) or users.setdefault(user, HsaId(user))
        events.append(HistoryEvent(current_id, _CODES[code], at, handled_by, _AMNEN[amne] if amne else None, deadline))
        if row_id > newest.get(current_id, 0):
            newest[current_id] = row_id
    return {
        certificate_id: History((len(history), newest[certificate_id]), history)
        for certificate_id, history in found.items()
    }


# The enum members by stored value: a dictionary lookup instead of an enum call, for the thousands of
# events of one list. A value outside them raises KeyError, as the enum call raised ValueError.
_CODES = {code.value: code for code in EventCode}
_AMNEN = {amne.value: amne for amne in Amne}


def history_stamps(session: Session, certificate_ids: Collection[str]) -> dict[str, tuple[int, int]]:
    """How many events each certificate's history holds and its newest row id: a history with the
    same two is the same history (rows are only ever added, and go only with their certificate)."""
    if not certificate_ids:
        return {}
    rows = session.execute(_STAMPS, {"certificate_ids": sorted(certificate_ids)}).all()
    return {certificate_id: (int(count), int(newest)) for certificate_id, count, newest in rows}


def forget(session: Session, certificate_ids: Collection[str]) -> None:
    """Delete the histories of ``certificate_ids``, whose certificates are being deleted in this transaction."""
    if certificate_ids:
        session.execute(delete(_EVENTS).where(_IN_IDS), {"certificate_ids": sorted(certificate_ids)})

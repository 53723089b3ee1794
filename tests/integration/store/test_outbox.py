"""Outbox events are stored pending, with their payload, in the order they were enqueued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from domain.events import PAYLOAD_VERSION, OutboxEvent
from domain.values import EventCode, HsaId
from store.outbox import OutboxStatus, enqueue, events_for_certificate
from store.session import transaction

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def event(certificate_id: str, code: EventCode, minutes: int, **extra: object) -> OutboxEvent:
    return OutboxEvent(
        certificate_id=certificate_id,
        code=code,
        occurred_at=T0 + timedelta(minutes=minutes),
        unit=HsaId("SE2321000016-1000"),
        care_giver=HsaId("SE2321000016-0001"),
        request_correlation_id=f"corr-{certificate_id}-{minutes}",
        **extra,  # type: ignore[arg-type]
    )


def test_events_come_back_in_enqueue_order(session_factory: sessionmaker[Session]) -> None:
    """A certificate's events are listed by increasing id, pending, with every field intact."""
    first = event("cert-1", EventCode.SKAPAT, 0, acting_user=HsaId("SE2321000016-P001"))
    # Occurred earlier but enqueued later: the order is the enqueue (commit) order.
    second = event("cert-1", EventCode.NYFRFM, -5, payload={"amne": "KOMPLT", "antal": 2})
    with transaction(session_factory) as session:
        first_id = enqueue(session, first)
        enqueue(session, event("cert-2", EventCode.SKAPAT, 1))
    with transaction(session_factory) as session:
        second_id = enqueue(session, second)
    assert second_id > first_id

    with transaction(session_factory) as session:
        stored = events_for_certificate(session, "cert-1")
    assert [s.id for s in stored] == [first_id, second_id]
    assert [s.event for s in stored] == [first, second]
    assert {s.status for s in stored} == {OutboxStatus.PENDING}
    assert all(s.created_at.tzinfo is UTC for s in stored)
    assert stored[1].event.payload_version == PAYLOAD_VERSION


def test_certificate_without_events_has_none(session_factory: sessionmaker[Session]) -> None:
    """An unknown certificate has an empty outbox."""
    with transaction(session_factory) as session:
        assert events_for_certificate(session, "cert-unknown") == []

"""Outbox events are stored pending, with their payload, in the order they were enqueued, one at a time or
in groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from domain.events import PAYLOAD_AMNE, PAYLOAD_LAST_ANSWER_DATE, PAYLOAD_VERSION, OutboundContract, OutboxEvent
from domain.values import EventCode, HsaId
from store.outbox import OutboxStatus, enqueue, enqueue_all, events_for_certificate
from store.outbox.queue import enqueue_per_table
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


def test_a_group_of_events_is_stored_as_the_statements_per_table_store_it(
        session_factory: sessionmaker[Session]) -> None:
    """``enqueue_all`` (on PostgreSQL one statement, its rows as JSON) leaves exactly the outbox rows and
    history entries ``enqueue_per_table`` leaves, in the order given: status updates with a user,
    payloads with an ämne, a deadline, nested values and characters JSON escapes, and an onward event
    (no history)."""

    def group(prefix: str) -> list[OutboxEvent]:
        return [
            event(f"{prefix}cert-1", EventCode.SKICKA, 0, acting_user=HsaId("SE2321000016-P001")),
            event(f"{prefix}cert-2", EventCode.NYFRFM, 1, payload={
                PAYLOAD_AMNE: "KOMPLT", PAYLOAD_LAST_ANSWER_DATE: "2026-12-24",
                "counts": {"received": [1, 1, 0, 0]}, "text": 'a "quote" \\ åäö \u2028 <&>'}),
            event(f"{prefix}cert-1", EventCode.SIGNAT, 2, contract=OutboundContract.REGISTER,
                  recipient="FKASSA", logical_address="2021005521"),
            event(f"{prefix}cert-3", EventCode.NYSVFM, 3),
        ]

    together, apart = group("a-"), group("b-")
    with transaction(session_factory) as session:
        enqueue_all(session, together)
        enqueue_per_table(session, apart)
    made_anew = {"id", "correlation_id", "created_at"}
    with transaction(session_factory) as session:
        for table in ("outbox_event", "certificate_event"):
            rows = {prefix: [
                {name: value.replace(prefix, "") if isinstance(value, str) else value
                 for name, value in row.items() if name not in made_anew}
                for row in session.execute(text(
                    f"SELECT * FROM {table} WHERE certificate_id LIKE :like ORDER BY id"),
                    {"like": f"{prefix}%"}).mappings()]
                for prefix in ("a-", "b-")}
            assert rows["a-"] == rows["b-"], table
        assert len(rows["a-"]) == 3  # the history: the three status updates, not the registration
        assert [s.event for s in events_for_certificate(session, "a-cert-1")] == [together[0], together[2]]

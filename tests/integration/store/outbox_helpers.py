"""Building outbox events and attempts for the resend-engine tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from domain.delivery import Attempt, OutcomeClass, decide
from domain.events import OutboxEvent
from domain.values import EventCode, HsaId
from store.outbox import enqueue
from store.session import transaction

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
UNIT = "SE2321000016-1000"
CARE_GIVER = "SE2321000016-0001"


def make_event(certificate_id: str, code: EventCode = EventCode.SKAPAT, seconds: float = 0,
               unit: str = UNIT, care_giver: str = CARE_GIVER) -> OutboxEvent:
    return OutboxEvent(
        certificate_id=certificate_id,
        code=code,
        occurred_at=T0 + timedelta(seconds=seconds),
        unit=HsaId(unit),
        care_giver=HsaId(care_giver),
        request_correlation_id=f"corr-{certificate_id}-{code}-{seconds}",
    )


def add_events(factory: sessionmaker[Session], *events: OutboxEvent) -> list[int]:
    """Enqueue ``events`` in one transaction and return their ids."""
    with transaction(factory) as session:
        return [enqueue(session, event) for event in events]


def attempt(outcome: OutcomeClass, at: datetime, *, http_status: int | None = None,
            text: str | None = None) -> Attempt:
    return Attempt(
        at=at, outcome=outcome, decision=decide(outcome), url="http://127.0.0.1:1/journal",
        http_status=http_status, result_code=None, error_id=None, text=text,
        correlation_id=f"attempt-{at.timestamp()}", duration_ms=1.5,
    )

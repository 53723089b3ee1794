"""The outbox as the dispatcher sees it: each step of its cycle as one short transaction.

``scheduler.dispatcher`` runs the cycle (claim, prepare, send, record) and never touches SQLAlchemy;
this facade owns the sessions. Each method is one transaction, so nothing is held open while a
journal system is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from domain.certificates import Certificate
from store.certificates import certificates_by_id
from store.outbox_delivery import (
    ClaimedEvent,
    Outcome,
    claim_due,
    finish_unsent,
    record_outcomes,
    release,
)
from store.session import transaction
from store.units import integrated_unit_keys


@dataclass(frozen=True, slots=True)
class EventContext:
    """What building one event's message needs from the database, read at send time."""

    claimed: ClaimedEvent
    integrated: bool  # only integrated units receive status updates
    certificate: Certificate | None  # None: the row is gone (a deleted draft)


class OutboxStore:
    """The dispatcher's database steps on one session factory."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def claim(self, token: str, now: datetime, lease: timedelta, limit: int,
              hold_until: datetime | None) -> list[ClaimedEvent]:
        with transaction(self._factory) as session:
            return claim_due(session, token, now, lease, limit, hold_until)

    def contexts(self, claimed: Sequence[ClaimedEvent]) -> list[EventContext]:
        """Whether each event's unit is integrated, and its certificate as it is now."""
        found: list[EventContext] = []
        with transaction(self._factory) as session:
            integrated = integrated_unit_keys(session, {item.event.unit for item in claimed})
            certificates = certificates_by_id(session, {item.event.certificate_id for item in claimed
                                                         if item.event.unit.key in integrated})
            for item in claimed:
                integrated_unit = item.event.unit.key in integrated
                found.append(EventContext(item, integrated_unit, certificates.get(item.event.certificate_id)))
        return found

    def finish_unsent(self, token: str, reasons: Mapping[int, str], now: datetime) -> None:
        """Mark events that cannot be sent at all FAILED, each with its reason."""
        with transaction(self._factory) as session:
            for reason in sorted(set(reasons.values())):
                finish_unsent(session, token, [i for i, r in reasons.items() if r == reason], now, reason)

    def record(self, token: str, outcomes: Sequence[Outcome], unsent: Sequence[int]) -> set[int]:
        """Record the outcomes and give back ``unsent``; return the ids whose outcome was recorded."""
        with transaction(self._factory) as session:
            recorded = set(record_outcomes(session, token, outcomes))
            release(session, token, unsent)
        return recorded

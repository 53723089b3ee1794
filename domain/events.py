"""Certificate events as they enter the status-update outbox, and as a worker claims them for delivery.

An ``OutboxEvent`` is written in the same transaction as the change that caused it; the resend engine
turns it into a CertificateStatusUpdateForCare call later. ``payload`` holds what the message needs
beyond the certificate itself (for example ``amne`` for NYFRFM); ``PAYLOAD_VERSION`` is stored with
each row so that events queued by an older release can still be read after an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.certificates import Certificate, CertificateHeader
from domain.resend_policy import Series
from domain.values import EventCode, HsaId

PAYLOAD_VERSION = 1


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event on one certificate, waiting to be reported to the unit's journal system."""

    certificate_id: str
    code: EventCode
    occurred_at: datetime
    unit: HsaId
    care_giver: HsaId
    request_correlation_id: str  # the x-skltp-correlation-id of the request that caused the event
    acting_user: HsaId | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    payload_version: int = PAYLOAD_VERSION


def event_about(
    certificate: CertificateHeader,
    code: EventCode,
    at: datetime,
    request_correlation_id: str,
    acting_user: HsaId | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxEvent:
    """The event ``code`` on ``certificate``, addressed to its unit and care giver.

    Every use case that changes a certificate reports it this way; ``acting_user`` (the user who
    caused it, ``hanteratAv``) is None for what arrives from outside, such as FK's messages.
    ``request_correlation_id`` is the correlation id of the request that caused the change, so that
    an operator can follow one request to the status updates it caused.
    """
    return OutboxEvent(
        certificate_id=certificate.id,
        code=code,
        occurred_at=at,
        unit=certificate.unit,
        care_giver=certificate.care_giver,
        request_correlation_id=request_correlation_id,
        acting_user=acting_user,
        payload=payload if payload is not None else {},
    )


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    """An event a worker holds a lease on: its row id, what to send and the series of tries it belongs to.

    ``correlation_id`` is the event's own (the same for every attempt, sent as
    ``x-skltp-correlation-id``); ``token`` is the claim this worker holds it by; ``claims`` counts
    the claims since an outcome was last recorded, this one included (1 in the normal case; more
    when earlier holders died or could not record).
    """

    id: int
    event: OutboxEvent
    attempts: int
    series: Series
    correlation_id: str
    token: str
    claims: int


@dataclass(frozen=True, slots=True)
class EventContext:
    """What building one claimed event's message needs from the database, read at send time."""

    claimed: ClaimedEvent
    integrated: bool  # only integrated units receive status updates
    certificate: Certificate | None  # None: the row is gone (a deleted draft)

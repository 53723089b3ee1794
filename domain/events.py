"""Certificate events as they enter the outbox, and as a worker claims them for delivery.

An ``OutboxEvent`` is written in the same transaction as the change that caused it; the delivery
engine turns it into a call later. Most events are status updates for the unit's journal system
(CertificateStatusUpdateForCare); the onward events (``domain.onward``) take the certificate, its
revocation and care's messages to the recipient or the certificate archive, each with its contract
(``OutboundContract``), the recipient it concerns and the logical address it goes to.

``payload`` holds what the message needs beyond the certificate itself (for example ``amne`` for
NYFRFM, or the message care wrote); ``PAYLOAD_VERSION`` is stored with each row so that events queued
by an older release can still be read after an upgrade.

**Destinations.** Each event belongs to one destination: ``JOURNAL`` for status updates, the logical
address for an onward event. A certificate's events are delivered in order per destination: its
status updates one after the other, and everything that goes to one recipient (registration, then
revocation and messages) one after the other; but a journal system that is down never holds back
the certificate's registration at Försäkringskassan, nor the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.certificates import Certificate, CertificateHeader
from domain.resend_policy import Series
from domain.values import EventCode, HsaId

PAYLOAD_VERSION = 1
#: Payload keys of an NYFRFM event: the question's ämne and its answer deadline (``sistaDatumForSvar``),
#: read by the status update and kept in the certificate's history.
PAYLOAD_AMNE = "amne"
PAYLOAD_LAST_ANSWER_DATE = "sistaDatumForSvar"
#: Events the recipient caused (a question or an answer arrived): no user of ours handled them.
RECIPIENT_EVENTS = frozenset({EventCode.NYFRFM, EventCode.NYSVFM})
#: The destination of every status update: the certificate's unit's journal system.
JOURNAL = "journal"


class OutboundContract(StrEnum):
    """The contract an outbox event is delivered with, spelled as the contract is named."""

    STATUS_UPDATE = "CertificateStatusUpdateForCare"
    REGISTER = "RegisterCertificate"
    SEND = "SendCertificateToRecipient"
    REVOKE = "RevokeCertificate"
    MESSAGE = "SendMessageToRecipient"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event on one certificate, waiting to be delivered.

    ``code`` is the event (KV_HANDELSE) it reports or follows from: SIGNAT for a registration at
    the archive, SKICKA for a send, MAKULE for a revocation, NYFRFV or HANFRFM for care's messages.
    ``recipient`` is the recipient's part code an onward event concerns (None for status updates and
    for the archive's registration); ``logical_address`` is where an onward event goes (None for
    status updates, which go to the unit).
    """

    certificate_id: str
    code: EventCode
    occurred_at: datetime
    unit: HsaId
    care_giver: HsaId
    request_correlation_id: str  # the x-skltp-correlation-id of the request that caused the event
    acting_user: HsaId | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    payload_version: int = PAYLOAD_VERSION
    contract: OutboundContract = OutboundContract.STATUS_UPDATE
    recipient: str | None = None
    logical_address: str | None = None

    @property
    def destination(self) -> str:
        """Whom the event goes to, for ordering: ``JOURNAL``, or the onward event's logical address."""
        return self.logical_address if self.logical_address is not None else JOURNAL

    @property
    def is_onward(self) -> bool:
        return self.contract is not OutboundContract.STATUS_UPDATE

    @property
    def lane_key(self) -> str:
        """Whom the event's call goes to, as claims skip a busy receiver's events: the unit for a
        status update (its journal system is found by routing), the logical address for an onward event."""
        return self.destination if self.is_onward else self.unit.value


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

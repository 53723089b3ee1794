"""What came of one attempt to deliver an outbox event, and what the resend engine does about it.

Every attempt ends in exactly one ``OutcomeClass`` from a closed set, and each class leads to one
``Decision``: delivered, retry on the technical schedule, retry on the slower "address" schedule
(routing and access rights take days to fix in the national catalogue, TAK), or failed for good.
Which class an answer from the wire is (a ResultType, a SOAP fault, an HTTP status, a transport
error) is decided in ``outbound.classify``; what each class leads to is decided here.

Some classes are not answers but what the engine itself knows: ``sending`` (committed before the
call, so that a crash leaves a trace), ``unknown`` (the worker died during the call; the journal
may have received it), ``unbuildable``, ``not-integrated`` and ``claim-limit`` (the event itself
cannot be sent; final, an operator resends after fixing the cause), and ``cancelled`` (an onward
delivery of a certificate that was revoked, or of a test certificate: it must never be made).

``repeat`` is an answer: the receiver says it already has what we sent ("Certificate already
exists" for the same patient, "already sent", "already revoked", a meddelande-id it stored). It is
delivered, and logged as a repeat rather than retried (the incumbent retried these until its
dead-letter queue took them).

Plain values and functions: ``outbound`` builds ``Attempt`` values from the wire, the dispatcher
(``scheduler``) stores them with the event's next state (``domain.resend_policy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: How much of a result or fault text an attempt keeps: enough to read, bounded in the database.
TEXT_LIMIT = 200


class OutcomeClass(StrEnum):
    """The closed set of outcomes of one delivery attempt, spelled as in the outbox history."""

    OK = "ok"
    INFO = "info"
    REPEAT = "repeat"  # an idempotent answer: the receiver already had it (delivered, logged as a repeat)
    VALIDATION_ERROR = "validation-error"
    APPLICATION_ERROR = "application-error"
    REVOKED = "revoked"
    TECHNICAL_ERROR = "technical-error"
    SOAP_FAULT = "soap-fault"
    PLATFORM_NO_ROUTE = "platform-no-route"
    PLATFORM_NO_ACCESS = "platform-no-access"
    INSECURE_ROUTE = "insecure-route"  # our route is plain http:// to another host: not sent (no call)
    HTTP_ERROR = "http-error"
    EMPTY_BODY = "empty-body"
    NON_SOAP_BODY = "non-soap-body"
    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect-error"
    TLS_ERROR = "tls-error"
    RESPONSE_TOO_LARGE = "response-too-large"
    # No answer to classify: what the engine itself knows about the attempt.
    SENDING = "sending"  # the call is being made; committed before it, so a crash leaves this behind
    UNKNOWN = "unknown"  # the worker stopped during the call: the journal may or may not have it
    UNBUILDABLE = "unbuildable"  # the message could not be built, or our own code failed for this event
    NOT_INTEGRATED = "not-integrated"  # the unit receives no status updates (no CreateDraftCertificate)
    CLAIM_LIMIT = "claim-limit"  # claimed again and again without an outcome ever being recorded
    CANCELLED = "cancelled"  # an onward delivery that must not be made: the certificate was revoked, or is a test


class Decision(StrEnum):
    """What the engine does with the event after an attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"  # the technical schedule: the journal system or the network is down
    RETRY_ADDRESS = "retry-address"  # the address schedule: a route or access right is missing
    FAILED = "failed"  # resending the same message cannot help
    PENDING = "pending"  # the call is in flight: nothing decided yet
    CANCELLED = "cancelled"  # never to be made (no call): final, and not a failure


@dataclass(frozen=True, slots=True)
class Attempt:
    """One row of an event's delivery history.

    ``text`` is the start (``TEXT_LIMIT`` characters) of the result text, fault string or error
    description; ``url`` is None when no endpoint was found (or no call was made); ``http_status``
    is None when no HTTP answer came (timeout, connection or TLS error). ``correlation_id`` is the
    event's own, the same for every attempt (sent as ``x-skltp-correlation-id``).
    """

    at: datetime
    outcome: OutcomeClass
    decision: Decision
    url: str | None
    http_status: int | None
    result_code: str | None
    error_id: str | None
    text: str | None
    correlation_id: str
    duration_ms: float


_DECISIONS: dict[OutcomeClass, Decision] = {
    OutcomeClass.OK: Decision.DELIVERED,
    OutcomeClass.INFO: Decision.DELIVERED,
    OutcomeClass.REPEAT: Decision.DELIVERED,
    OutcomeClass.VALIDATION_ERROR: Decision.FAILED,
    OutcomeClass.APPLICATION_ERROR: Decision.FAILED,
    OutcomeClass.REVOKED: Decision.FAILED,
    OutcomeClass.TECHNICAL_ERROR: Decision.RETRY,
    OutcomeClass.SOAP_FAULT: Decision.RETRY,
    OutcomeClass.PLATFORM_NO_ROUTE: Decision.RETRY_ADDRESS,
    OutcomeClass.PLATFORM_NO_ACCESS: Decision.RETRY_ADDRESS,
    OutcomeClass.INSECURE_ROUTE: Decision.RETRY_ADDRESS,
    OutcomeClass.HTTP_ERROR: Decision.RETRY,
    OutcomeClass.EMPTY_BODY: Decision.RETRY,
    OutcomeClass.NON_SOAP_BODY: Decision.RETRY,
    OutcomeClass.TIMEOUT: Decision.RETRY,
    OutcomeClass.CONNECT_ERROR: Decision.RETRY,
    OutcomeClass.TLS_ERROR: Decision.RETRY,
    OutcomeClass.RESPONSE_TOO_LARGE: Decision.RETRY,
    OutcomeClass.SENDING: Decision.PENDING,
    # The event is claimed again at once (its lease ran out), not on a schedule.
    OutcomeClass.UNKNOWN: Decision.RETRY,
    OutcomeClass.UNBUILDABLE: Decision.FAILED,
    OutcomeClass.NOT_INTEGRATED: Decision.FAILED,
    OutcomeClass.CLAIM_LIMIT: Decision.FAILED,
    OutcomeClass.CANCELLED: Decision.CANCELLED,
}

#: Attempts after which the receiver may have stored what was sent although no acceptance came back:
#: the call went out and its answer was lost, cut, unreadable or a server's fault. A revocation
#: follows a registration whose attempts include one of these (``domain.onward``). An ERROR answer
#: (TECHNICAL_ERROR included: "not done, try again"), a refused connection or handshake and the
#: platform's routing faults mean the receiver did not store it.
MAY_HAVE_ARRIVED = frozenset({
    OutcomeClass.SENDING, OutcomeClass.UNKNOWN, OutcomeClass.TIMEOUT, OutcomeClass.RESPONSE_TOO_LARGE,
    OutcomeClass.EMPTY_BODY, OutcomeClass.NON_SOAP_BODY, OutcomeClass.HTTP_ERROR, OutcomeClass.SOAP_FAULT,
})


def decide(outcome: OutcomeClass, *, malformed: bool = False) -> Decision:
    """Return what to do after an attempt that ended in ``outcome``.

    OK and INFO are delivered (the ResultType's INFO still means "done"). VALIDATION_ERROR,
    APPLICATION_ERROR and REVOKED are the receiver's "do not resend"; a SOAP fault that says our
    message was malformed (``malformed``) fails too, since the same bytes would be refused again.
    Everything technical retries; platform routing and access faults retry on the address schedule.
    ``malformed`` is meaningful for SOAP faults only and is refused for any other class.
    """
    if malformed:
        if outcome is not OutcomeClass.SOAP_FAULT:
            raise ValueError(f"only a SOAP fault can say the message was malformed, not {outcome}")
        return Decision.FAILED
    return _DECISIONS[outcome]


def clip(text: str | None) -> str | None:
    """The start of a text as an attempt keeps it (``TEXT_LIMIT`` characters), None when empty."""
    if not text:
        return None
    return text[:TEXT_LIMIT]

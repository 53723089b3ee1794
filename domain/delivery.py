"""What came of one attempt to deliver a status update, and what the resend engine does about it.

Every attempt ends in exactly one ``OutcomeClass`` from a closed set, and each class leads to one
``Decision``: delivered, retry on the technical schedule, retry on the slower "address" schedule
(routing and access rights take days to fix in the national catalogue, TAK), or failed for good.
The incumbent retries every exception alike and tells a malformed message apart by searching the
fault text for "Marshalling Error"; here the class is decided from typed values only: the
ResultType codes, the SOAP fault code and the platform's VPnnn code, the HTTP status, and the kind
of transport error.

Plain values and functions: the outbound client (``outbound.status_update``) builds the inputs
from the wire, the engine (``scheduler``) stores ``Attempt`` rows and picks the schedule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.values import ErrorId, ResultCode

#: How much of a result or fault text an attempt keeps: enough to read, bounded in the database.
TEXT_LIMIT = 200


class OutcomeClass(StrEnum):
    """The closed set of outcomes of one delivery attempt, spelled as in the outbox history."""

    OK = "ok"
    INFO = "info"
    VALIDATION_ERROR = "validation-error"
    APPLICATION_ERROR = "application-error"
    REVOKED = "revoked"
    TECHNICAL_ERROR = "technical-error"
    SOAP_FAULT = "soap-fault"
    PLATFORM_NO_ROUTE = "platform-no-route"
    PLATFORM_NO_ACCESS = "platform-no-access"
    HTTP_ERROR = "http-error"
    EMPTY_BODY = "empty-body"
    NON_SOAP_BODY = "non-soap-body"
    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect-error"
    TLS_ERROR = "tls-error"


class Decision(StrEnum):
    """What the engine does with the event after an attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"  # the technical schedule: the journal system or the network is down
    RETRY_ADDRESS = "retry-address"  # the address schedule: a route or access right is missing
    FAILED = "failed"  # resending the same message cannot help


@dataclass(frozen=True, slots=True)
class Attempt:
    """One row of an event's delivery history.

    ``text`` is the start (``TEXT_LIMIT`` characters) of the result text, fault string or error
    description; ``url`` is None when no endpoint was found; ``http_status`` is None when no HTTP
    answer came (timeout, connection or TLS error).
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
    OutcomeClass.VALIDATION_ERROR: Decision.FAILED,
    OutcomeClass.APPLICATION_ERROR: Decision.FAILED,
    OutcomeClass.REVOKED: Decision.FAILED,
    OutcomeClass.TECHNICAL_ERROR: Decision.RETRY,
    OutcomeClass.SOAP_FAULT: Decision.RETRY,
    OutcomeClass.PLATFORM_NO_ROUTE: Decision.RETRY_ADDRESS,
    OutcomeClass.PLATFORM_NO_ACCESS: Decision.RETRY_ADDRESS,
    OutcomeClass.HTTP_ERROR: Decision.RETRY,
    OutcomeClass.EMPTY_BODY: Decision.RETRY,
    OutcomeClass.NON_SOAP_BODY: Decision.RETRY,
    OutcomeClass.TIMEOUT: Decision.RETRY,
    OutcomeClass.CONNECT_ERROR: Decision.RETRY,
    OutcomeClass.TLS_ERROR: Decision.RETRY,
}


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


def classify_result(result_code: str, error_id: str | None) -> OutcomeClass:
    """Classify a contract answer (``core:ResultType``) by its codes.

    An ERROR without an errorId (the schema allows it) gives no sign that a resend could succeed, so
    it counts as APPLICATION_ERROR, as the incumbent treats it. Codes outside the schema's
    enumerations raise ``ValueError``; the caller validated the answer first.
    """
    code = ResultCode(result_code)
    if code is ResultCode.OK:
        return OutcomeClass.OK
    if code is ResultCode.INFO:
        return OutcomeClass.INFO
    if error_id is None:
        return OutcomeClass.APPLICATION_ERROR
    return _ERROR_CLASSES[ErrorId(error_id)]


_ERROR_CLASSES: dict[ErrorId, OutcomeClass] = {
    ErrorId.VALIDATION_ERROR: OutcomeClass.VALIDATION_ERROR,
    ErrorId.APPLICATION_ERROR: OutcomeClass.APPLICATION_ERROR,
    ErrorId.REVOKED: OutcomeClass.REVOKED,
    ErrorId.TECHNICAL_ERROR: OutcomeClass.TECHNICAL_ERROR,
}


@dataclass(frozen=True, slots=True)
class FaultClass:
    """The class of a SOAP fault and whether it says our message was malformed."""

    outcome: OutcomeClass
    malformed: bool = False

    @property
    def decision(self) -> Decision:
        return decide(self.outcome, malformed=self.malformed)


#: The national platform's (VP's) fault codes that are not plain "try again later". VP004 (no
#: route), VP006 (several routes) and VP010 (route without URL) are routing-catalogue problems;
#: VP007 (no access right), VP002 (no usable client certificate) and VP011 (caller not allowed)
#: are access problems; all are fixed by an administrator, so they wait on the address schedule.
#: VP001, VP003 and VP015 say the request itself was unusable (no RIV version, no logical address,
#: not readable). Every other VP code (VP009 "producer error" above all) is technical.
PLATFORM_CODES: dict[str, FaultClass] = {
    "VP004": FaultClass(OutcomeClass.PLATFORM_NO_ROUTE),
    "VP006": FaultClass(OutcomeClass.PLATFORM_NO_ROUTE),
    "VP010": FaultClass(OutcomeClass.PLATFORM_NO_ROUTE),
    "VP007": FaultClass(OutcomeClass.PLATFORM_NO_ACCESS),
    "VP002": FaultClass(OutcomeClass.PLATFORM_NO_ACCESS),
    "VP011": FaultClass(OutcomeClass.PLATFORM_NO_ACCESS),
    "VP001": FaultClass(OutcomeClass.SOAP_FAULT, malformed=True),
    "VP003": FaultClass(OutcomeClass.SOAP_FAULT, malformed=True),
    "VP015": FaultClass(OutcomeClass.SOAP_FAULT, malformed=True),
}

# VP writes its code as the first word of faultstring: "VP004 [instance] text".
_PLATFORM_CODE = re.compile(r"\s*(VP\d{3})\b")

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"


def platform_code(fault_string: str | None) -> str | None:
    """The VPnnn code a platform fault starts with, or None for a fault from anyone else."""
    match = _PLATFORM_CODE.match(fault_string or "")
    return match.group(1) if match else None


def classify_fault(fault_code: str | None, fault_string: str | None) -> FaultClass:
    """Classify a SOAP 1.1 fault from its ``faultcode`` (Clark notation) and ``faultstring``.

    A platform fault is classified by its VP code (``PLATFORM_CODES``; an unlisted code retries).
    Any other fault whose code is SOAP's own ``Client`` says our message was at fault: "the message
    was incorrectly formed or did not contain the appropriate information" (SOAP 1.1, 4.4.1), so
    it fails at once. Every other fault (``Server``, custom codes) retries on the technical schedule.
    """
    code = platform_code(fault_string)
    if code is not None:
        return PLATFORM_CODES.get(code, FaultClass(OutcomeClass.SOAP_FAULT))
    client = f"{{{SOAP_ENV_NS}}}Client"
    if fault_code is not None and (fault_code == client or fault_code.startswith(f"{client}.")):
        return FaultClass(OutcomeClass.SOAP_FAULT, malformed=True)
    return FaultClass(OutcomeClass.SOAP_FAULT)


def routing_outcome(code: str) -> OutcomeClass:
    """The outcome of an attempt our own routing table could not address, by its VP-style code.

    The gateway's routing raises the platform's codes (``routing.errors``); a missing route or
    access right in our table is the same kind of problem as the platform's VP004/VP007, and waits
    on the address schedule the same way.
    """
    found = PLATFORM_CODES.get(code)
    if found is None or found.malformed:
        raise ValueError(f"{code} is not a routing or access-right code")
    return found.outcome


def clip(text: str | None) -> str | None:
    """The start of a text as an attempt keeps it (``TEXT_LIMIT`` characters), None when empty."""
    if not text:
        return None
    return text[:TEXT_LIMIT]

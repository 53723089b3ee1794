"""Classifying what came back from a call: a ResultType, a SOAP fault, an HTTP status, a transport error.

The incumbent retries every exception alike and tells a malformed message apart by searching the
fault text for "Marshalling Error"; here the class (``domain.delivery.OutcomeClass``) is decided from
typed values only: the ResultType codes, the SOAP fault code and the platform's VPnnn code, the HTTP
status, and the kind of transport error. What each class leads to (deliver, retry on which
schedule, fail) is the domain's ``decide``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

from contracts.answers import ContractAnswer, FaultAnswer
from contracts.ns import SOAP11_ENV
from domain.delivery import Attempt, Decision, OutcomeClass, clip, decide
from domain.values import ErrorId, ResultCode
from outbound.sender import OutboundCall


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
    client = f"{{{SOAP11_ENV}}}Client"
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


def classify_answer(at: datetime, started: float, call: OutboundCall, status: int, content: bytes) -> Attempt:
    """Classify an HTTP answer: its body decides when it is a fault or the contract's answer."""
    answer = call.read_answer(content) if content.strip() else None
    if isinstance(answer, FaultAnswer):
        fault = classify_fault(answer.code, answer.string)
        return attempt(at, started, call, fault.outcome, http_status=status, text=answer.string,
                       malformed=fault.malformed)
    if status != 200:
        return attempt(at, started, call, OutcomeClass.HTTP_ERROR, http_status=status,
                       text=content.decode("utf-8", "replace").strip() or None)
    if answer is None:
        return attempt(at, started, call, OutcomeClass.EMPTY_BODY, http_status=status)
    if isinstance(answer, ContractAnswer):
        outcome = call.classify(answer) if call.classify else classify_result(answer.result_code, answer.error_id)
        return attempt(at, started, call, outcome,
                       http_status=status, text=answer.text, result_code=answer.result_code.value,
                       error_id=answer.error_id.value if answer.error_id else None)
    return attempt(at, started, call, OutcomeClass.NON_SOAP_BODY, http_status=status, text=answer.reason)


def attempt(
    at: datetime,
    started: float,
    call: OutboundCall,
    outcome: OutcomeClass,
    *,
    http_status: int | None = None,
    text: str | None = None,
    result_code: str | None = None,
    error_id: str | None = None,
    malformed: bool = False,
) -> Attempt:
    """The attempt of ``call`` that began at ``at`` (``started`` on the performance counter)."""
    return Attempt(
        at=at,
        outcome=outcome,
        decision=decide(outcome, malformed=malformed),
        url=call.url,
        http_status=http_status,
        result_code=result_code,
        error_id=error_id,
        text=clip(text),
        correlation_id=call.correlation_id,
        duration_ms=(time.perf_counter() - started) * 1000,
    )

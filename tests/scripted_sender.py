"""A ``Sender`` that answers from a script instead of the network, for dispatcher and delivery tests.

Like httpx's ``MockTransport``: the code under test builds and addresses its calls as in production;
only the HTTP exchange is replaced. Each logical address gets a list of answers, played in order (the
last one repeats). An answer is either what a journal system could send back (an HTTP status and a
body, classified by the real ``outbound.classify``), a transport failure, or a crash of the sender
itself. Every call is recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from contracts.certificate_status_update.v3.response import envelope_bytes, write_answer, write_fault
from contracts.ns import CORE, REGISTRY, STATUS_UPDATE_V3, TYPES, qname
from contracts.xmlparse import parse_xml
from domain.delivery import Attempt, OutcomeClass
from domain.values import ErrorId, ResultCode
from outbound.classify import attempt, classify_answer
from outbound.sender import OutboundCall, Timeouts


@dataclass(frozen=True, slots=True)
class Http:
    """An HTTP answer: status and body bytes."""

    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Failure:
    """No HTTP answer at all: a connection, TLS or timeout failure."""

    outcome: OutcomeClass


@dataclass(frozen=True, slots=True)
class Crash:
    """The sender itself raises (a bug in our own code, not anything the journal did)."""


Scripted = Http | Failure | Crash

OK = Http(200, envelope_bytes(write_answer(ResultCode.OK)))
TECHNICAL_ERROR = Http(200, envelope_bytes(write_answer(ResultCode.ERROR, "try later", ErrorId.TECHNICAL_ERROR)))
VALIDATION_ERROR = Http(200, envelope_bytes(write_answer(ResultCode.ERROR, "bad", ErrorId.VALIDATION_ERROR)))
VP004 = Http(500, envelope_bytes(write_fault("Server", "VP004 No route")))
DOWN = Failure(OutcomeClass.CONNECT_ERROR)


@dataclass(frozen=True, slots=True)
class SentCall:
    """One call as the scripted journal saw it."""

    url: str
    logical_address: str
    certificate_id: str
    event_code: str
    correlation_id: str
    timeouts: Timeouts


@dataclass
class ScriptedSender:
    """Answers each call from ``script`` by logical address (``default`` for any other); records every call.

    ``on_send`` runs before each answer (a test advances its clock there, to play a slow journal).
    """

    clock: Callable[[], datetime]
    script: Mapping[str, Sequence[Scripted]] = field(default_factory=dict)
    default: Scripted = OK
    on_send: Callable[[SentCall], None] | None = None
    sent: list[SentCall] = field(default_factory=list)
    _played: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, call: OutboundCall, timeouts: Timeouts) -> Attempt:
        at, started = self.clock(), time.perf_counter()
        seen = _seen(call, timeouts)
        with self._lock:
            self.sent.append(seen)
            answers = self.script.get(seen.logical_address, (self.default,))
            played = self._played.get(seen.logical_address, 0)
            self._played[seen.logical_address] = played + 1
        if self.on_send is not None:
            self.on_send(seen)
        answer = answers[min(played, len(answers) - 1)]
        if isinstance(answer, Crash):
            raise RuntimeError("a scripted bug in the sender")
        if isinstance(answer, Failure):
            return attempt(at, started, call, answer.outcome, text=f"scripted {answer.outcome.value}")
        return classify_answer(at, started, call, answer.status, answer.body)

    def close(self) -> None:
        """Nothing to release."""


def _seen(call: OutboundCall, timeouts: Timeouts) -> SentCall:
    envelope = parse_xml(call.envelope)
    request = envelope.find(f".//{qname(STATUS_UPDATE_V3, 'CertificateStatusUpdateForCare')}")
    assert request is not None, "the scripted journal only takes status updates"
    paths = {"c": CORE, "t": TYPES, "csu": STATUS_UPDATE_V3}
    return SentCall(
        url=call.url,
        logical_address=envelope.findtext(f".//{qname(REGISTRY, 'LogicalAddress')}") or "",
        certificate_id=request.findtext("csu:intyg/c:intygs-id/t:extension", namespaces=paths) or "",
        event_code=request.findtext("csu:handelse/c:handelsekod/t:code", namespaces=paths) or "",
        correlation_id=call.correlation_id,
        timeouts=timeouts,
    )


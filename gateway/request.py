"""One SOAP request as a typed value: who called which endpoint, under which correlation id.

``gateway.app`` builds a ``SoapRequest`` once the caller is identified and passes it down, by
argument, to the endpoint and into the Spyne glue (``gateway.soap``), which hands the responder what
a contract may know of it (``contracts.call.SoapCall``). It replaces four string keys that used to
travel in the WSGI environ (correlation id, caller, access control, outcome): an operator tracing
a request can follow one type instead of grepping for keys any layer could write or forget to.

The request itself is frozen. The one thing learnt while answering, the ``Outcome`` the request log
line reports, is a small mutable record the request holds: the SOAP layer writes it where the
answer is written (inside Spyne's ``serialize``, from which no return value reaches us) and
``gateway.app`` reads it after the body is produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.access import AccessControl
from gateway.identity import Caller

FAULT = "FAULT"
"""The ``result_code`` logged for a platform fault (VP002, VP007, VP011...): no ResultType was sent."""


@dataclass(slots=True)
class Outcome:
    """What the request was answered with, for its log line; empty until an answer is written.

    ``result_code`` and ``error_id`` of the contract's ResultType, or ``FAULT`` and the VP code.
    Whoever writes the answer records it: ``gateway.soap`` for what Spyne answers, ``gateway.app``
    for answers given before Spyne runs (a refused caller, an oversize body). Should an answer be
    written twice (Spyne serialises again when writing the first one fails), the later one is the
    one on the wire, so a later record replaces an earlier one.
    """

    result_code: str | None = None
    error_id: str | None = None

    def answered(self, result_code: str | None, error_id: str | None) -> None:
        """Record the contract's own answer (HTTP 200, whatever its result code)."""
        self.result_code, self.error_id = result_code, error_id

    def faulted(self, code: str) -> None:
        """Record a platform fault with its VP code instead of a contract answer."""
        self.result_code, self.error_id = FAULT, code


@dataclass(frozen=True, slots=True)
class SoapRequest:
    """One SOAP POST to a contract endpoint, from admission to the log line.

    ``caller`` is None when access control is off, and for a caller refused before its body was
    read (then ``outcome`` holds the refusal). ``access`` is the access control in force: present
    means the caller's access right is checked against ``contract`` once the envelope is split.
    """

    correlation_id: str
    endpoint: str  # the endpoint's name, e.g. "CreateDraftCertificate" (the log line's ``contract``)
    path: str  # the path it was called at: the RIVTA path or the incumbent's alias
    contract: str  # the responder's namespace, as the routing catalogue (TAK) names the contract
    caller: Caller | None = None
    access: AccessControl | None = field(default=None, compare=False)
    outcome: Outcome = field(default_factory=Outcome, compare=False)

    @property
    def consumer(self) -> str | None:
        """The caller's HSA-id, or None when no caller was identified."""
        return self.caller.consumer if self.caller is not None else None

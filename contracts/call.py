"""What a responder knows about an inbound call besides its body.

The gateway's typed request (``gateway.request.SoapRequest``) carries more than a contract may see:
the access control, the path, the caller's transport details. The Spyne glue hands responders only
this part, as contract-level values, so ``contracts`` never imports the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.values import HsaId


@dataclass(frozen=True, slots=True)
class SoapCall:
    """The LogicalAddress header (empty when absent), the request's correlation id, and the caller.

    ``consumer`` is the calling system's HSA-id as access control identified it (its client
    certificate), or None when access control is off and nobody was identified. StoreLog is the
    contract that needs it: who sends the log entries.
    """

    logical_address: str
    correlation_id: str
    consumer: HsaId | None = None
    consumer_auth: str | None = None  # how the consumer was identified: "mtls" or "proxy"


@dataclass(frozen=True, slots=True)
class WrittenAnswer:
    """A response body element a responder has already serialised: UTF-8, no XML declaration, every
    namespace it uses declared on its root.

    For an answer assembled from pieces written before (ListCertificatesForCareWithQA's list of
    certificates): building it as a tree only to serialise it again would cost more than the rest
    of the request. The gateway puts ``body`` into the SOAP Body as it is.
    """

    body: bytes

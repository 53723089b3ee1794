"""Send one CertificateStatusUpdateForCare call and classify whatever happens into an ``Attempt``.

One ``StatusUpdateSender`` per process: the zeep client is built once from the contract's WSDL in
``xsd/`` (its binding gives the soapAction), over one ``requests`` session that keeps connections
alive, with ``trust_env`` off (otherwise ``REQUESTS_CA_BUNDLE`` and proxy variables silently
override the configured CA bundle, psf/requests#3829) and the client certificate and CA bundle
from configuration.

Every call has explicit connect and read timeouts. zeep's ``timeout`` only covers loading the WSDL;
the call itself is bounded by the transport's ``operation_timeout``, which zeep hands to requests as
the ``(connect, read)`` pair. A route may override the pair, so there is one zeep transport per
distinct pair, all on the same session and connection pool. A journal system that never answers
frees the sender after ``read_s``, so the read timeout must stay below the outbox claim's lease.
The read timeout bounds each wait for bytes, not the whole answer: a server that sends one byte
every few seconds can hold a call longer (requests and urllib3 have no overall deadline); the
lease then runs out and the event is sent again, late but not lost.

``send`` never raises for anything the network or the journal system does: each outcome becomes
one class of ``domain.delivery.OutcomeClass`` (``docs/mock-journal.md`` lists how each is provoked).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests
import zeep
from requests.adapters import HTTPAdapter
from zeep.transports import Transport

from contracts.certificate_status_update.v3.request import (
    StatusUpdateBody,
    status_update_envelope,
)
from contracts.certificate_status_update.v3.response import (
    ContractAnswer,
    FaultAnswer,
    read_answer,
)
from domain.delivery import (
    Attempt,
    OutcomeClass,
    classify_fault,
    classify_result,
    clip,
    decide,
)

WSDL = (
    Path(__file__).resolve().parent.parent / "xsd" / "clinicalprocess-healthcond-certificate" / "interactions"
    / "CertificateStatusUpdateForCareInteraction" / "CertificateStatusUpdateForCareInteraction_3.2_RIVTABP21.wsdl"
)  # fmt: skip
TNS = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCare:3:rivtabp21"
BINDING = f"{{{TNS}}}CertificateStatusUpdateForCareResponderBinding"
OPERATION = "CertificateStatusUpdateForCare"
CORRELATION_HEADER = "x-skltp-correlation-id"
#: zeep's timeout for reading the WSDL and its schemas: local files, so only a guard.
WSDL_LOAD_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a connection, and for each read of the answer."""

    connect_s: float
    read_s: float

    def __post_init__(self) -> None:
        if self.connect_s <= 0 or self.read_s <= 0:
            raise ValueError(f"timeouts must be positive, got connect {self.connect_s} s, read {self.read_s} s")


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Mutual TLS: our client certificate (and its key, unless in the same PEM) and the CA to trust.

    ``ca_bundle`` None trusts the default CAs (certifi's), never the environment's.
    """

    client_cert: str | None = None
    client_key: str | None = None
    ca_bundle: str | None = None


class StatusUpdateSender:
    """Sends status updates over one kept-alive session; safe to share between threads."""

    def __init__(
        self,
        tls: TlsConfig | None,
        default_timeouts: Timeouts,
        clock: Callable[[], datetime],
        *,
        pool_size: int = 16,
    ) -> None:
        self._session = _session(tls, pool_size)
        self._default_timeouts = default_timeouts
        self._clock = clock
        self._lock = threading.Lock()
        self._transports: dict[Timeouts, Transport] = {}
        client = zeep.Client(  # type: ignore[no-untyped-call]
            str(WSDL),
            transport=self._transport(default_timeouts),
            settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True),
        )
        operation = client.wsdl.bindings[BINDING].get(OPERATION)
        self._headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{operation.soapaction}"',
        }

    def send(
        self,
        url: str,
        logical_address: str,
        message: StatusUpdateBody,
        correlation_id: str,
        timeouts: Timeouts | None = None,
    ) -> Attempt:
        """POST ``message`` to ``url`` with ``logical_address`` in the header; classify the outcome.

        Returns the attempt as the event's history keeps it. Transport failures, timeouts, HTTP
        errors, faults and contract errors are all outcomes, not exceptions.
        """
        at = self._clock()
        started = time.perf_counter()
        envelope = status_update_envelope(logical_address, message)
        headers = {**self._headers, CORRELATION_HEADER: correlation_id}
        transport = self._transport(timeouts or self._default_timeouts)
        try:
            response = transport.post_xml(url, envelope, headers)  # type: ignore[no-untyped-call]
        except requests.RequestException as failure:
            outcome, text = _failure(failure)
            return _attempt(at, started, url, correlation_id, outcome, text=text)
        return _answered(at, started, url, correlation_id, response.status_code, response.content)

    def close(self) -> None:
        """Close the pooled connections (the sender is not used afterwards)."""
        self._session.close()

    def _transport(self, timeouts: Timeouts) -> Transport:
        with self._lock:
            transport = self._transports.get(timeouts)
            if transport is None:
                transport = Transport(  # type: ignore[no-untyped-call]
                    session=self._session,
                    timeout=WSDL_LOAD_TIMEOUT_S,
                    operation_timeout=(timeouts.connect_s, timeouts.read_s),
                )
                self._transports[timeouts] = transport
            return transport


def _session(tls: TlsConfig | None, pool_size: int) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no REQUESTS_CA_BUNDLE overriding verify, no proxies from the environment
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if tls is not None:
        if tls.client_cert is not None:
            session.cert = tls.client_cert if tls.client_key is None else (tls.client_cert, tls.client_key)
        if tls.ca_bundle is not None:
            session.verify = tls.ca_bundle
    return session


def _failure(failure: requests.RequestException) -> tuple[OutcomeClass, str]:
    """Map a requests exception to its class once; order matters (SSLError is a ConnectionError,
    ConnectTimeout is both a ConnectionError and a Timeout)."""
    kind = type(failure).__name__
    if isinstance(failure, requests.exceptions.SSLError):
        return OutcomeClass.TLS_ERROR, f"{kind}: {failure}"
    if isinstance(failure, requests.exceptions.ConnectTimeout):
        return OutcomeClass.CONNECT_ERROR, f"{kind}: {failure}"
    if isinstance(failure, requests.exceptions.Timeout):
        return OutcomeClass.TIMEOUT, f"{kind}: {failure}"
    # Refused, reset, DNS, the connection dropped before an answer, a broken chunked answer.
    return OutcomeClass.CONNECT_ERROR, f"{kind}: {failure}"


def _answered(at: datetime, started: float, url: str, correlation_id: str, status: int, content: bytes) -> Attempt:
    """Classify an HTTP answer: its body decides when it is a fault or the contract's answer."""
    answer = read_answer(content) if content.strip() else None
    if isinstance(answer, FaultAnswer):
        fault = classify_fault(answer.code, answer.string)
        return _attempt(at, started, url, correlation_id, fault.outcome, http_status=status,
                        text=answer.string, malformed=fault.malformed)  # fmt: skip
    if status != 200:
        return _attempt(at, started, url, correlation_id, OutcomeClass.HTTP_ERROR, http_status=status,
                        text=content.decode("utf-8", "replace").strip() or None)  # fmt: skip
    if answer is None:
        return _attempt(at, started, url, correlation_id, OutcomeClass.EMPTY_BODY, http_status=status)
    if isinstance(answer, ContractAnswer):
        outcome = classify_result(answer.result_code, answer.error_id)
        return _attempt(at, started, url, correlation_id, outcome, http_status=status, text=answer.text,
                        result_code=answer.result_code.value,
                        error_id=answer.error_id.value if answer.error_id else None)  # fmt: skip
    return _attempt(at, started, url, correlation_id, OutcomeClass.NON_SOAP_BODY, http_status=status,
                    text=answer.reason)  # fmt: skip


def _attempt(
    at: datetime,
    started: float,
    url: str,
    correlation_id: str,
    outcome: OutcomeClass,
    *,
    http_status: int | None = None,
    text: str | None = None,
    result_code: str | None = None,
    error_id: str | None = None,
    malformed: bool = False,
) -> Attempt:
    return Attempt(
        at=at,
        outcome=outcome,
        decision=decide(outcome, malformed=malformed),
        url=url,
        http_status=http_status,
        result_code=result_code,
        error_id=error_id,
        text=clip(text),
        correlation_id=correlation_id,
        duration_ms=(time.perf_counter() - started) * 1000,
    )

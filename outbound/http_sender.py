"""``HttpSender``: post one SOAP call over a pooled, kept-alive HTTP session and classify the outcome.

One ``HttpSender`` per process, over one ``requests`` session that keeps connections alive, with
``trust_env`` off (otherwise ``REQUESTS_CA_BUNDLE`` and proxy variables silently override the
configured CA bundle, psf/requests#3829) and the client certificate and CA bundle from
configuration. The envelope is serialised with lxml and posted as it is; zeep proves our WSDLs in
the tests, and is not needed to post a message we build ourselves.

Every call has explicit connect and read timeouts. The read timeout bounds each wait for bytes, not
the whole answer: a server that sends one byte every few seconds can hold a call longer (requests
and urllib3 have no overall deadline); the lease then runs out and the event is sent again, late
but not lost.

``send`` never raises for anything the network or the peer does: each outcome becomes one class of
``domain.delivery.OutcomeClass`` (``docs/mock-journal.md`` lists how each is provoked).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import requests
from lxml import etree
from requests.adapters import HTTPAdapter

from domain.delivery import Attempt, OutcomeClass
from outbound.classify import attempt, classify_answer
from outbound.sender import OutboundCall, Timeouts, TlsConfig

CORRELATION_HEADER = "x-skltp-correlation-id"


class HttpSender:
    """Sends SOAP calls over one kept-alive session; safe to share between threads."""

    def __init__(self, tls: TlsConfig | None, clock: Callable[[], datetime], *, pool_size: int = 16) -> None:
        self._session = _session(tls, pool_size)
        self._clock = clock

    def send(self, call: OutboundCall, timeouts: Timeouts) -> Attempt:
        """POST the call's envelope; transport failures, HTTP errors, faults and ERRORs are all outcomes."""
        at = self._clock()
        started = time.perf_counter()
        body = etree.tostring(call.envelope, xml_declaration=True, encoding="utf-8")
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{call.soap_action}"',
            CORRELATION_HEADER: call.correlation_id,
        }
        try:
            response = self._session.post(
                call.url, data=body, headers=headers, timeout=(timeouts.connect_s, timeouts.read_s)
            )
        except requests.RequestException as failure:
            outcome, text = _failure(failure)
            return attempt(at, started, call, outcome, text=text)
        return classify_answer(at, started, call, response.status_code, response.content)

    def close(self) -> None:
        """Close the pooled connections (the sender is not used afterwards)."""
        self._session.close()


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

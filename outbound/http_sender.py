"""``HttpSender``: post one SOAP call over kept-alive connections, within a deadline, and classify the outcome.

Why not ``requests``: every call here must end by a hard deadline that covers connecting, sending
*and the whole answer*. ``requests`` and urllib3 bound each wait for bytes only, so a journal system
that trickles its answer a byte at a time holds a call for as long as it likes (past the claim's
lease, after which another worker sends the event again). Here every blocking socket operation
waits at most until the call's deadline (and at most the read timeout), and the answer is read up
to ``max_response_bytes`` and no further (``outbound.http11``, which also says why not
``http.client``, used here before: CPU per call sets the pace of draining a backlog).

Connections are kept alive per origin (scheme, host, port) and reused by any thread; a call takes
an idle one or opens a new one. An idle connection the server has closed meanwhile is noticed
before it is used (it is readable: the server's close is waiting) and discarded, as urllib3 does. A
call is never repeated by the sender: once a request may have reached the journal, whatever happens
is the attempt's outcome, and only the resend schedule sends again. TLS uses the configured client
certificate and CA bundle only, never the environment's (``SSL_CERT_FILE`` and the like): the CA
bundle defaults to certifi's.

``send`` never raises for anything the network or the peer does: each outcome becomes one class of
``domain.delivery.OutcomeClass`` (``docs/mock-journal.md`` lists how each is provoked).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import certifi

from domain.delivery import Attempt, OutcomeClass
from outbound.classify import attempt, classify_answer
from outbound.http11 import AnswerTooLarge, BrokenAnswer, HttpAnswer, Wire, request_head
from outbound.sender import OutboundCall, Timeouts, TlsConfig

CORRELATION_HEADER = "x-skltp-correlation-id"
#: The largest answer read: a status update's answer is under a kilobyte, an error page a few.
MAX_RESPONSE_BYTES = 256 * 1024
#: Idle connections kept per origin.
IDLE_PER_ORIGIN = 32

Origin = tuple[str, str, int]


class _Connection:
    """One kept-alive connection to an origin (``http11.Wire``), opened within the call's connect timeout."""

    def __init__(self, origin: Origin, tls: ssl.SSLContext | None) -> None:
        self.origin = origin
        self._tls = tls
        self.wire: Wire | None = None

    def open(self, timeouts: Timeouts, deadline: float) -> None:
        left = deadline - time.monotonic()
        raw = socket.create_connection((self.origin[1], self.origin[2]),
                                       timeout=max(0.001, min(timeouts.connect_s, left)))
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                raw = self._tls.wrap_socket(raw, server_hostname=self.origin[1])
        except BaseException:
            raw.close()
            raise
        self.wire = Wire(raw)

    def alive(self) -> bool:
        """False when the server closed the idle connection (or sent something unasked)."""
        return self.wire is not None and self.wire.idle_and_open()

    def close(self) -> None:
        if self.wire is not None:
            self.wire.close()
            self.wire = None


class _ConnectFailed(Exception):
    """Wraps a failure while connecting (refused, unreachable, TLS handshake, connect timeout)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class HttpSender:
    """Sends SOAP calls over kept-alive connections; safe to share between threads."""

    def __init__(self, tls: TlsConfig | None, clock: Callable[[], datetime], *, pool_size: int = IDLE_PER_ORIGIN,
                 max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self._tls = _tls_context(tls)
        self._clock = clock
        self._pool_size = pool_size
        self._max_bytes = max_response_bytes
        self._idle: dict[Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self.connections_opened = 0  # for tests and benchmarks: how often a call found no idle connection

    def send(self, call: OutboundCall, timeouts: Timeouts) -> Attempt:
        """POST the call's envelope; transport failures, HTTP errors, faults and ERRORs are all outcomes.

        The whole call (connecting, sending, reading the whole answer) ends within
        ``timeouts.deadline_s``; a deadline that passes is a ``timeout``.
        """
        at = self._clock()
        started = time.perf_counter()
        deadline = time.monotonic() + timeouts.deadline_s
        body = call.envelope
        parts = urlsplit(call.url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            return attempt(at, started, call, OutcomeClass.CONNECT_ERROR, text=f"not an http(s) URL: {call.url}")
        origin: Origin = (scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            head = request_head("POST", target, {
                "Host": parts.netloc,
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{call.soap_action}"',
                CORRELATION_HEADER: call.correlation_id,
            }, len(body))
        except ValueError as unsafe:
            return attempt(at, started, call, OutcomeClass.CONNECT_ERROR, text=f"not a usable URL: {unsafe}")
        try:
            answer = self._exchange(origin, head + body, timeouts, deadline)
        except _ConnectFailed as failed:
            outcome, text = _connect_failure(failed.cause)
            return attempt(at, started, call, outcome, text=text)
        except AnswerTooLarge as large:
            return attempt(at, started, call, OutcomeClass.RESPONSE_TOO_LARGE, http_status=large.status,
                           text=f"the answer is longer than {self._max_bytes} bytes")
        except TimeoutError as late:  # http11.DeadlinePassed, or one read's timeout
            return attempt(at, started, call, OutcomeClass.TIMEOUT,
                           text=f"no complete answer within {timeouts.deadline_s:g} s ({type(late).__name__})")
        except ssl.SSLError as failure:
            return attempt(at, started, call, OutcomeClass.TLS_ERROR, text=f"{type(failure).__name__}: {failure}")
        except (OSError, BrokenAnswer) as failure:
            # Reset, dropped before an answer, a broken chunked answer, an unreadable status line.
            return attempt(at, started, call, OutcomeClass.CONNECT_ERROR, text=f"{type(failure).__name__}: {failure}")
        return classify_answer(at, started, call, answer.status, answer.body)

    def _exchange(self, origin: Origin, request: bytes, timeouts: Timeouts, deadline: float) -> HttpAnswer:
        """One request and its whole answer, on an idle connection to ``origin`` or a new one."""
        connection = self._take(origin)
        if connection is None:
            self.connections_opened += 1
            connection = _Connection(origin, self._tls if origin[0] == "https" else None)
            try:
                connection.open(timeouts, deadline)
            except OSError as failure:  # ssl.SSLError and socket.timeout are OSErrors too
                connection.close()
                raise _ConnectFailed(failure) from failure
        wire = connection.wire
        assert wire is not None
        wire.deadline, wire.read_s = deadline, timeouts.read_s
        try:
            answer = wire.exchange(request, self._max_bytes)
        except BaseException:
            connection.close()
            raise
        if answer.reusable:
            self._give_back(connection)
        else:
            connection.close()
        return answer

    def _take(self, origin: Origin) -> _Connection | None:
        """An idle connection to ``origin`` the server has not closed, or None."""
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                connection = idle.pop() if idle else None
            if connection is None or connection.alive():
                return connection
            connection.close()

    def _give_back(self, connection: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(connection.origin, [])
            if len(idle) < self._pool_size:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        """Close the pooled connections (the sender is not used afterwards)."""
        with self._lock:
            pools, self._idle = self._idle, {}
        for connections in pools.values():
            for connection in connections:
                connection.close()


def _tls_context(tls: TlsConfig | None) -> ssl.SSLContext:
    """The client TLS context: our certificate, and the configured CA bundle (or certifi's), nothing else."""
    tls = tls or TlsConfig()
    context = ssl.create_default_context(cafile=tls.ca_bundle or certifi.where())
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.client_cert is not None:
        context.load_cert_chain(tls.client_cert, tls.client_key)
    return context


def _connect_failure(failure: BaseException) -> tuple[OutcomeClass, str]:
    """The class of a failure to connect: a TLS handshake that failed, or no connection at all."""
    kind = type(failure).__name__
    if isinstance(failure, ssl.SSLError):
        return OutcomeClass.TLS_ERROR, f"{kind}: {failure}"
    return OutcomeClass.CONNECT_ERROR, f"{kind}: {failure}"

"""``HttpSender``: post one SOAP call over kept-alive connections, within a deadline, and classify the outcome.

Why the standard library's ``http.client`` and not ``requests``: every call here must end by a hard
deadline that covers connecting, sending *and the whole answer*. ``requests`` and urllib3 bound each
wait for bytes only, so a journal system that trickles its answer a byte at a time holds a call for
as long as it likes (past the claim's lease, after which another worker sends the event again).
Here every blocking socket operation waits at most until the call's deadline (and at most the read
timeout), through a thin socket wrapper under ``http.client``; the answer is read up to
``max_response_bytes`` and no further. It is also about three times cheaper per call than
``requests``, which set the pace of draining a backlog.

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

import http.client
import io
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import certifi

from domain.delivery import Attempt, OutcomeClass
from outbound.classify import attempt, classify_answer
from outbound.sender import OutboundCall, Timeouts, TlsConfig

CORRELATION_HEADER = "x-skltp-correlation-id"
#: The largest answer read: a status update's answer is under a kilobyte, an error page a few.
MAX_RESPONSE_BYTES = 256 * 1024
#: Idle connections kept per origin.
IDLE_PER_ORIGIN = 32

Origin = tuple[str, str, int]


class DeadlinePassed(TimeoutError):
    """Raised inside a call when its deadline has passed before the answer was complete."""


class _Clocked:
    """A socket whose every blocking operation waits at most until the deadline and at most ``read_s``.

    ``http.client`` reads through ``makefile``; the file here reads through ``recv_into`` below, so
    a byte-by-byte answer meets the deadline however often bytes arrive. What ``http.client``
    writes is sent in one piece when the answer is first read.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline = float("inf")
        self.read_s = 60.0
        self._unsent: list[bytes] = []

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed("the call's deadline passed")
        self.sock.settimeout(min(left, self.read_s))

    def sendall(self, data: Any) -> None:
        # Held until the answer is read: ``http.client`` writes the headers and the body separately,
        # and one write instead of two saves a system call and a wake-up of the peer per request.
        self._unsent.append(bytes(data))

    def recv_into(self, buffer: Any, size: int = 0) -> int:
        if self._unsent:
            self._arm()
            self.sock.sendall(b"".join(self._unsent))
            self._unsent.clear()
        self._arm()
        return self.sock.recv_into(buffer, size)

    def makefile(self, mode: str, *_args: Any, **_kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:
        """Called by ``SocketIO.close``; the socket's life is the connection's, not the file's."""

    def fileno(self) -> int:
        return self.sock.fileno()

    def setsockopt(self, *args: Any) -> None:
        self.sock.setsockopt(*args)

    def close(self) -> None:
        self.sock.close()


class _Connection(http.client.HTTPConnection):
    """One kept-alive connection to an origin, connecting within the call's connect timeout."""

    def __init__(self, origin: Origin, tls: ssl.SSLContext | None) -> None:
        super().__init__(origin[1], origin[2])
        self.origin = origin
        self._tls = tls
        self.clocked: _Clocked | None = None

    def open(self, timeouts: Timeouts, deadline: float) -> None:
        left = deadline - time.monotonic()
        raw = socket.create_connection((self.host, self.port), timeout=max(0.001, min(timeouts.connect_s, left)))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            raw = self._tls.wrap_socket(raw, server_hostname=self.host)
        self.clocked = _Clocked(raw)
        self.sock = self.clocked

    def alive(self) -> bool:
        """False when the server closed the idle connection (or sent something unasked): a read is ready."""
        if self.clocked is None:
            return False
        try:
            readable, _, _ = select.select([self.clocked.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def arm(self, timeouts: Timeouts, deadline: float) -> None:
        assert self.clocked is not None
        self.clocked.deadline = deadline
        self.clocked.read_s = timeouts.read_s

    def connect(self) -> None:  # http.client calls this only when the connection was closed
        raise http.client.NotConnected("connections are opened by HttpSender")


class _ConnectFailed(Exception):
    """Wraps a failure while connecting (refused, unreachable, TLS handshake, connect timeout)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _TooLarge(Exception):
    """The answer is longer than the sender reads."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


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
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{call.soap_action}"',
            CORRELATION_HEADER: call.correlation_id,
            "Host": parts.netloc,
        }
        try:
            status, content = self._exchange(origin, target, body, headers, timeouts, deadline)
        except _ConnectFailed as failed:
            outcome, text = _connect_failure(failed.cause)
            return attempt(at, started, call, outcome, text=text)
        except _TooLarge as large:
            return attempt(at, started, call, OutcomeClass.RESPONSE_TOO_LARGE, http_status=large.status,
                           text=f"the answer is longer than {self._max_bytes} bytes")
        except (DeadlinePassed, TimeoutError) as late:
            return attempt(at, started, call, OutcomeClass.TIMEOUT,
                           text=f"no complete answer within {timeouts.deadline_s:g} s ({type(late).__name__})")
        except ssl.SSLError as failure:
            return attempt(at, started, call, OutcomeClass.TLS_ERROR, text=f"{type(failure).__name__}: {failure}")
        except (OSError, http.client.HTTPException) as failure:
            # Reset, dropped before an answer, a broken chunked answer, an unreadable status line.
            return attempt(at, started, call, OutcomeClass.CONNECT_ERROR, text=f"{type(failure).__name__}: {failure}")
        return classify_answer(at, started, call, status, content)

    def _exchange(self, origin: Origin, target: str, body: bytes, headers: dict[str, str], timeouts: Timeouts,
                  deadline: float) -> tuple[int, bytes]:
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
        try:
            return self._over(connection, target, body, headers, timeouts, deadline)
        except BaseException:
            connection.close()
            raise

    def _over(self, connection: _Connection, target: str, body: bytes, headers: dict[str, str],
              timeouts: Timeouts, deadline: float) -> tuple[int, bytes]:
        connection.arm(timeouts, deadline)
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > self._max_bytes:
            raise _TooLarge(response.status)
        content = response.read(self._max_bytes + 1)
        if len(content) > self._max_bytes:
            raise _TooLarge(response.status)
        response.read()  # the end of a chunked answer, so the connection can carry the next call
        if response.will_close:
            connection.close()
        else:
            self._give_back(connection)
        return response.status, content

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

"""The gunicorn worker that serves the gateway: every connection on an event loop with deadlines, the app in threads.

Why our own worker class: gunicorn's ``gthread`` worker hands a connection to a pool thread as
soon as it is readable, and that thread then reads the request with a blocking socket and no
deadline. A client sending one header line every two seconds holds a thread for as long as it likes;
``threads`` such clients per worker deny service to everyone (the review reproduced it with two). The
``sync`` worker is worse, and gunicorn's ``gevent``/``eventlet`` workers would need the database
driver to cooperate with monkey-patching (psycopg 3's C wait loop does not), while an ASGI server
(uvicorn, hypercorn, gunicorn's own ``asgi`` worker) through a WSGI adapter still has no deadline
for a request's head or body, only idle timeouts between reads, which a slow client resets with
every byte. waitress buffers requests on an event loop much as here, but it has the same idle-only
timeout, no TLS and no process management.

So: gunicorn keeps what it does well (processes, restarts after ``max_requests``, graceful stops,
the heartbeat), and each worker process runs one asyncio loop that owns every connection:

* accepted only while the worker has fewer than ``http_max_connections``; at the limit, the idle
  kept-alive connection that has waited longest is closed to make room, and when none is idle the
  worker stops accepting (the connection waits in the kernel's queue, where another worker may take
  it);
* the TLS handshake (when the gateway terminates TLS) within ``tls_handshake_timeout_seconds``;
* the request line and headers (parsed by ``httptools``: ``_Requests``) within
  ``http_header_timeout_seconds`` of the connection's start, or of the first byte of a kept-alive
  connection's next request (an idle kept-alive connection waits at most ``http_keepalive_seconds``
  for that byte);
* the whole body within ``http_body_timeout_seconds`` of the end of the headers, read into memory
  up to ``max_request_bytes``; a body declared or found to be larger is not read further, and the
  application, told its length, refuses it (``gateway.app``); the connection then closes after the
  answer, reading and discarding what the client still sends for a moment so that it gets the
  answer rather than a reset;
* the answer written within ``http_send_timeout_seconds``.

Only a complete request reaches an application thread (``threads`` per worker, ``AppThreads``), so
slow clients cost a coroutine each, never a thread; a deadline missed closes the connection (a 408 first when nothing
has been answered on it). The environ is plain WSGI; ``RAW_HEADERS_KEY`` adds the headers as
received, so that the gateway can tell two headers of one name from one (a proxy that appends).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import queue
import re
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools
import structlog
from gunicorn.workers.base import Worker

from cli.gc_tuning import tune_for_serving
from gateway.identity import PEER_CERT_KEY, RAW_HEADERS_KEY

MAX_HEAD_BYTES = 64 * 1024
READ_CHUNK = 64 * 1024
LINGER_SECONDS = 2.0
HEARTBEAT_SECONDS = 1.0

log = structlog.get_logger("cli.http_worker")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The deadlines and sizes of ``cli.settings`` that the worker enforces per connection."""

    header_seconds: float = 10.0
    body_seconds: float = 30.0
    send_seconds: float = 30.0
    keepalive_seconds: float = 15.0
    tls_handshake_seconds: float = 10.0
    max_connections: int = 1000
    max_body_bytes: int = 2 * 1024 * 1024
    threads: int = 4


class DeadlineMissed(Exception):
    """A client did not finish a phase (``phase``: head, body, send) in time."""

    def __init__(self, phase: str) -> None:
        super().__init__(phase)
        self.phase = phase


@dataclass(slots=True)
class _Conn:
    """One open connection: its task, and since when it has been idle between requests (None: busy)."""

    task: asyncio.Task[None] | None
    transport: asyncio.Transport | None = None
    idle_since: float | None = None


class DeadlineWorker(Worker):  # type: ignore[misc]
    """A gunicorn worker: one asyncio loop for the connections, a thread pool for the WSGI application.

    The application object is ours (``cli.serve.GatewayServer``); it carries ``limits`` and
    ``ssl_context`` (None for plain HTTP).
    """

    def run(self) -> None:
        limits: ConnectionLimits = getattr(self.app, "limits", ConnectionLimits())
        context: ssl.SSLContext | None = getattr(self.app, "ssl_context", None)
        server = LoopServer(self.wsgi, limits, context, self.sockets, self.max_requests, self._still_alive, self.notify)
        tune_for_serving()
        asyncio.run(server.serve(self.cfg.graceful_timeout))

    def _still_alive(self) -> bool:
        return bool(self.alive) and os.getppid() == self.ppid


class LoopServer:
    """The event loop's part: accept, read with deadlines, run the app in the pool, write; reusable without gunicorn."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        limits: ConnectionLimits,
        context: ssl.SSLContext | None,
        listeners: Iterable[Any],
        max_requests: int = sys.maxsize,
        alive: Callable[[], bool] = lambda: True,
        heartbeat: Callable[[], None] = lambda: None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.context = context
        self.listeners = [getattr(listener, "sock", listener) for listener in listeners]
        self.max_requests = max_requests
        self.alive = alive
        self.heartbeat = heartbeat
        self.served = 0
        self.conns: dict[int, _Conn] = {}
        self.slot_free = asyncio.Event()
        self.stopping = False
        self.pool = AppThreads(app, limits.threads)

    async def serve(self, graceful_seconds: float = 10.0) -> None:
        """Accept and serve until ``alive`` turns false or ``max_requests`` were served, then drain."""
        acceptors = [asyncio.create_task(self._accept(listener)) for listener in self.listeners]
        try:
            while self.alive() and self.served < self.max_requests and not self.stopping:
                self.heartbeat()
                await asyncio.sleep(HEARTBEAT_SECONDS / 4)
        finally:
            self.stopping = True
            for acceptor in acceptors:
                acceptor.cancel()
            self._close_idle(all_of_them=True)
            deadline = time.monotonic() + graceful_seconds
            while self.conns and time.monotonic() < deadline:
                self.heartbeat()
                self._close_idle(all_of_them=True)
                await asyncio.sleep(0.05)
            for conn in list(self.conns.values()):
                if conn.task is not None:
                    conn.task.cancel()
            self.pool.stop()

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        while not self.stopping:
            if len(self.conns) >= self.limits.max_connections and not self._close_idle():
                self.slot_free.clear()
                await self.slot_free.wait()
                continue
            try:
                sock, address = await loop.sock_accept(listener)
            except OSError:
                await asyncio.sleep(0.01)
                continue
            conn = _Conn(None)
            key = id(conn)
            self.conns[key] = conn
            conn.task = asyncio.create_task(self._connection(sock, address, conn))
            conn.task.add_done_callback(functools.partial(self._release, key))

    def _release(self, key: int, _task: object = None) -> None:
        self.conns.pop(key, None)
        self.slot_free.set()

    def _close_idle(self, all_of_them: bool = False) -> bool:
        """Close the longest-idle kept-alive connection (or all idle ones); whether any was closed."""
        idle = sorted((c for c in self.conns.values() if c.idle_since is not None), key=lambda c: c.idle_since or 0.0)
        for conn in idle if all_of_them else idle[:1]:
            if conn.task is not None:
                conn.task.cancel()
        return bool(idle)

    async def _connection(self, sock: socket.socket, address: Any, conn: _Conn) -> None:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        reader = asyncio.StreamReader(limit=READ_CHUNK)
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            try:
                transport, _ = await asyncio.wait_for(
                    loop.connect_accepted_socket(
                        lambda: protocol, sock, ssl=self.context,
                        ssl_handshake_timeout=self.limits.tls_handshake_seconds if self.context else None,
                    ),
                    self.limits.tls_handshake_seconds + 1,
                )  # fmt: skip
            except (OSError, TimeoutError, ssl.SSLError, ConnectionError):
                sock.close()
                return
            conn.transport = transport
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            try:
                await self._requests(reader, writer, address, conn, started)
            except (DeadlineMissed, ConnectionError, OSError, httptools.HttpParserError, asyncio.IncompleteReadError):
                pass
            finally:
                transport.abort() if transport.is_closing() else transport.close()
        except asyncio.CancelledError:
            if conn.transport is not None:
                conn.transport.abort()

    async def _requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: Any, conn: _Conn, started: float
    ) -> None:
        requests = _Requests(self.limits.max_body_bytes)
        peer_cert = self._peer_certificate(writer)
        sockname = writer.get_extra_info("sockname")
        head_deadline, data = started + self.limits.header_seconds, b""
        while True:
            try:
                request = await self._head(requests, reader, head_deadline, data)
                if request is None:
                    return
                body = await self._body(requests, request, reader, writer)
            except DeadlineMissed as missed:
                if missed.phase == "head":
                    await _send_raw(writer, b"408 Request Timeout")
                raise
            except httptools.HttpParserError:
                await _send_raw(writer, b"400 Bad Request")
                return
            environ = self._environ(request, body, address, peer_cert, sockname)
            status, headers, chunks = await self.pool.call(environ)
            self.served += 1
            keep = (not request.too_large and request.keep_alive and request.version == "1.1" and not requests.upgraded
                    and not self.stopping and self.limits.keepalive_seconds > 0)  # fmt: skip
            keep = await self._send(writer, status, headers, chunks, keep, head_only=request.method == b"HEAD")
            requests.queue.popleft()
            if request.too_large:
                await _linger(reader)
                return
            if not keep:
                return
            data = b""
            if not requests.queue:
                # Idle until the next request's first bytes, at most keepalive_seconds (and closed first
                # when the worker needs the slot); then that request's head has its own deadline.
                conn.idle_since = time.monotonic()
                try:
                    async with asyncio.timeout(self.limits.keepalive_seconds):
                        data = await reader.read(READ_CHUNK)
                except TimeoutError:
                    return
                finally:
                    conn.idle_since = None
                if not data:
                    return
            head_deadline = time.monotonic() + self.limits.header_seconds

    async def _head(
        self, requests: _Requests, reader: asyncio.StreamReader, deadline: float, data: bytes
    ) -> _Request | None:
        """The oldest request once its head is complete (``data``, already read, first); None when the
        client closed the connection instead.

        Raises:
            httptools.HttpParserError: a malformed or ambiguous head, or one over ``MAX_HEAD_BYTES``.
            DeadlineMissed: the head was not complete by ``deadline``.
        """
        received = 0
        while True:
            if data:
                received += len(data)
                requests.feed(data)
            if requests.queue and requests.queue[0].head_done:
                request = requests.queue[0]
                if request.head_bytes > MAX_HEAD_BYTES:
                    raise httptools.HttpParserError("request head too large")
                if request.version == "1.1" and sum(name == b"host" for name, _ in request.headers) != 1:
                    raise httptools.HttpParserError("an HTTP/1.1 request names exactly one Host")
                return request
            if received > MAX_HEAD_BYTES:
                raise httptools.HttpParserError("request head too large")
            data = await _read(reader, deadline, "head")
            if not data:
                return None

    async def _body(
        self, requests: _Requests, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes:
        """The body (read to its end), or, for a request ``too_large``, its first ``max_body_bytes + 1``
        bytes (nothing when it was declared too large): such a body is not read further."""
        limit = self.limits.max_body_bytes
        if request.expects_continue and not request.complete and not request.too_large:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        deadline = time.monotonic() + self.limits.body_seconds
        while not request.complete and not request.too_large:
            data = await _read(reader, deadline, "body")
            if not data or requests.upgraded:
                raise ConnectionError("the client closed the connection during the body")
            requests.feed(data)
        body = b"".join(request.body)
        return body[: limit + 1] if request.too_large else body

    def _environ(
        self, request: _Request, body: bytes, address: Any, peer_cert: bytes | None, sockname: Any
    ) -> dict[str, Any]:
        path, _, query = request.target.partition(b"?")
        raw = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers]
        sockname = sockname if isinstance(sockname, tuple) else ("", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method.decode("ascii"),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query.decode("latin-1"),
            "SERVER_NAME": str(sockname[0]),
            "SERVER_PORT": str(sockname[1]),
            "SERVER_PROTOCOL": "HTTP/" + request.version,
            "REMOTE_ADDR": str(address[0]) if isinstance(address, tuple) else "",
            "REMOTE_PORT": str(address[1]) if isinstance(address, tuple) else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.context is not None else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            RAW_HEADERS_KEY: raw,
        }
        for name, value in raw:
            key = name.upper().replace("-", "_")
            if "_" in name:  # X_Acting_User would pass as X-Acting-User: refuse the ambiguity
                continue
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key == "CONTENT_LENGTH":
                continue
            else:
                environ[f"HTTP_{key}"] = f"{environ[f'HTTP_{key}']},{value}" if f"HTTP_{key}" in environ else value
        # What the application may read: the body we hold; more than the limit when it was too large.
        environ["CONTENT_LENGTH"] = request.declared if request.too_large and request.declared else str(len(body))
        if self.context is not None:
            environ[PEER_CERT_KEY] = peer_cert
        return environ

    @staticmethod
    def _peer_certificate(writer: asyncio.StreamWriter) -> bytes | None:
        ssl_object = writer.get_extra_info("ssl_object")
        return ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: str,
        headers: list[tuple[str, str]],
        chunks: list[bytes],
        keep: bool,
        head_only: bool = False,
    ) -> bool:
        """Write the answer; whether the connection may serve another request.

        The framing is the worker's own: ``Content-Length`` from the body in hand (the application's
        own, and any ``Transfer-Encoding``, are dropped; for ``HEAD`` the application's is kept), and
        ``Connection: close`` when the connection ends (or the application asked for it). An answer
        whose status or headers would break the framing (a line break in a value, say) is not written:
        a plain 500 goes instead.
        """
        try:
            answer, keep = _answer(status, headers, b"".join(chunks), keep, head_only)
        except _Unsendable as unsendable:
            log.error("answer_unsendable", header=unsendable.header)
            answer, keep = _answer("500 Internal Server Error", [("Content-Type", "text/plain")],
                                   b"internal error\n", False, False)  # fmt: skip
        writer.write(answer)
        if writer.transport.get_write_buffer_size():
            try:
                async with asyncio.timeout(self.limits.send_seconds):
                    await writer.drain()
            except TimeoutError:
                raise DeadlineMissed("send") from None
        # Nothing to wait for when the kernel took it all (the usual case for an answer of a few KiB).
        return keep


class _Unsendable(Exception):
    """An answer's status or header that cannot be written as it is (``header``: its name, or "status")."""

    def __init__(self, header: str) -> None:
        super().__init__(header)
        self.header = header


#: A header name (RFC 9110's token), and what a status line or header value must not hold: control
#: characters but the tab, above all CR and LF, which would end the line and begin one of the client's making.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BREAKS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: Statuses that never carry a body nor a length (RFC 9110, 6.4.1; 1xx answers are the worker's own).
_BODYLESS = frozenset(("204", "304"))
#: The framing headers the worker writes itself.
_FRAMING = frozenset(("content-length", "transfer-encoding", "connection", "keep-alive"))


def _answer(
    status: str, headers: list[tuple[str, str]], body: bytes, keep: bool, head_only: bool
) -> tuple[bytes, bool]:
    """The answer as written: status line, headers, blank line and (unless ``HEAD`` or a status without
    one) the body; and whether the connection stays."""
    if _BREAKS.search(status) or not status[:3].isdigit():
        raise _Unsendable("status")
    lines = ["HTTP/1.1 " + status]
    length = str(len(body))
    for name, value in headers:
        lowered = name.lower()
        if lowered in _FRAMING:
            if lowered == "connection" and "close" in value.lower():
                keep = False
            elif lowered == "content-length" and head_only:
                length = value.strip()
            continue
        if not _TOKEN.fullmatch(name) or _BREAKS.search(value):
            raise _Unsendable(name if _TOKEN.fullmatch(name) else "(not a header name)")
        lines.append(f"{name}: {value}")
    bodyless = status[:3] in _BODYLESS
    if not bodyless:
        lines.append("Content-Length: " + length)
    if not keep:
        lines.append("Connection: close")
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        raise _Unsendable("(beyond Latin-1)") from None
    return (head if head_only or bodyless else head + body), keep


@dataclass(slots=True)
class _Request:
    """One request as the parser delivered it: its head, its body so far, and how it ends."""

    target: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)  # names in lower case, values trimmed
    head_bytes: int = 0  # the target's, the names' and the values' bytes: what MAX_HEAD_BYTES bounds
    method: bytes = b""
    version: str = "1.1"
    head_done: bool = False
    declared: str | None = None  # Content-Length as sent
    expects_continue: bool = False
    body: list[bytes] = field(default_factory=list)
    size: int = 0
    too_large: bool = False  # declared or found larger than the limit: not read further
    complete: bool = False  # read to its end
    keep_alive: bool = False  # the client lets the connection serve another request


class _Requests:
    """A connection's requests as httptools (llhttp) parses them, oldest first: a client may send several
    at once, and each waits in ``queue`` until the one before it is answered.

    llhttp is strict where a lenient reading would let a front proxy and the gateway disagree about
    where a request ends (request smuggling): it refuses a ``Content-Length`` beside a
    ``Transfer-Encoding``, two lengths, a ``Transfer-Encoding`` that does not end in ``chunked``, a
    folded header line, a space before a colon, and control characters in the target or a value.
    """

    def __init__(self, max_body: int) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._max_body = max_body
        self.queue: deque[_Request] = deque()
        self.upgraded = False  # a request asked to switch protocols: it is answered, then the connection closes

    def feed(self, data: bytes) -> None:
        """Parse what arrived. Raises ``httptools.HttpParserError`` for a request it refuses."""
        if self.upgraded:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.upgraded = True

    # httptools' callbacks, in the order it calls them for each request.

    def on_message_begin(self) -> None:
        self.queue.append(_Request())

    def on_url(self, url: bytes) -> None:
        request = self.queue[-1]
        request.target += url
        request.head_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        request = self.queue[-1]
        request.headers.append((name.lower(), value.strip(b" \t")))
        request.head_bytes += len(name) + len(value)

    def on_headers_complete(self) -> None:
        request = self.queue[-1]
        request.method = self._parser.get_method()
        request.version = self._parser.get_http_version()
        request.head_done = True
        request.declared = _header(request, b"content-length")
        if request.declared is not None and request.declared.isdigit() and int(request.declared) > self._max_body:
            request.too_large = True
        expect = _header(request, b"expect")
        request.expects_continue = request.version == "1.1" and expect is not None and expect.lower() == "100-continue"

    def on_body(self, body: bytes) -> None:
        request = self.queue[-1]
        if request.too_large:  # declared too large, or already past the limit: not kept
            return
        request.body.append(body)
        request.size += len(body)
        request.too_large = request.size > self._max_body

    def on_message_complete(self) -> None:
        request = self.queue[-1]
        request.complete = True
        request.keep_alive = self._parser.should_keep_alive()


_Answer = tuple[str, list[tuple[str, str]], list[bytes]]


class AppThreads:
    """``threads`` threads that run the WSGI application on complete requests and hand the answers back.

    What ``loop.run_in_executor`` with a ``ThreadPoolExecutor`` does, without its second future per
    request and the callbacks that chain the two: a request goes on a queue with the loop's own
    future, and the thread that answered it settles that future through ``call_soon_threadsafe``.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], threads: int) -> None:
        self.app = app
        self._jobs: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[_Answer], dict[str, Any]] | None]
        self._jobs = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, name=f"wsgi_{n}", daemon=True) for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def call(self, environ: dict[str, Any]) -> asyncio.Future[_Answer]:
        """The application's answer to ``environ``, once a thread has produced it."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[_Answer] = loop.create_future()
        self._jobs.put((loop, answer, environ))
        return answer

    def stop(self) -> None:
        """Let the threads end after the requests they hold (queued ones are dropped with their connections)."""
        for _ in self._threads:
            self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, answer, environ = job
            result = _call(self.app, environ)
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for the answer
                loop.call_soon_threadsafe(_settle, answer, result)


def _settle(answer: asyncio.Future[_Answer], result: _Answer) -> None:
    if not answer.done():  # a connection cancelled meanwhile (the worker stopping) no longer waits
        answer.set_result(result)


def _call(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """Run the WSGI application in a pool thread; its whole answer, or a 500 when it raises."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started[:] = [(status, list(headers))]
        return lambda _data: None

    try:
        result = app(environ, start_response)
        try:
            chunks = [bytes(chunk) for chunk in result]
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception:  # noqa: BLE001  (the application's own last resort failed; never leave the client hanging)
        body = b"internal error\n"
        return "500 Internal Server Error", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))], [body]
    status, headers = started[0]
    return status, headers, chunks


def _header(request: _Request, name: bytes) -> str | None:
    """The first ``name`` header's value (``name`` in lower case), or None."""
    for key, value in request.headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def _read(reader: asyncio.StreamReader, deadline: float, phase: str) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineMissed(phase)
    try:
        # A timeout scope rather than wait_for, which wraps every read in a task of its own.
        async with asyncio.timeout(remaining):
            return await reader.read(READ_CHUNK)
    except TimeoutError:
        raise DeadlineMissed(phase) from None


async def _send_raw(writer: asyncio.StreamWriter, status: bytes) -> None:
    """An error answer when no request could be understood (or read in time), then close."""
    writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    with contextlib.suppress(TimeoutError, ConnectionError, OSError):
        await asyncio.wait_for(writer.drain(), 1.0)


async def _linger(reader: asyncio.StreamReader) -> None:
    """Read and drop what a client still sends for a moment after an early answer, so it reads the answer
    before the connection closes (closing with unread data would send it a reset instead)."""
    deadline = time.monotonic() + LINGER_SECONDS
    with contextlib.suppress(DeadlineMissed, ConnectionError, OSError):
        while not reader.at_eof():
            if not await _read(reader, deadline, "linger"):
                return

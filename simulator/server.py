"""The simulator's HTTP/1.1 server: one asyncio event loop, keep-alive, and every way of answering badly.

Why asyncio and not a thread per connection: a benchmark drains a backlog at a few thousand calls a
second over dozens of kept-alive connections, and a fault test holds many answers back for seconds
at a time. A thread per connection (``http.server``) spent more time switching threads and parsing
headers with the ``email`` package than the journal spent reading the requests; one event loop
serves every connection and every waiting answer. Each connection is an ``asyncio.Protocol``: a
request that can be answered at once is answered from the callback that read it (no task, no
stream reader and writer in between: a drain's simulator shares the machine's two cores with the
gateway it measures), and only an answer that waits becomes a task.

The server carries out what ``MockJournal.handle`` decides: it waits ``delay_s`` before answering,
sends a trickled answer a byte at a time, or closes the connection without a word (``drop``). When
the server stops, every waiting answer is dropped at once, so a slow journal never holds a test run.
Requests are read with a Content-Length (what SOAP clients send); a chunked request closes the
connection unanswered rather than being half-read.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from simulator.http import Application, Deferred, Reply, Request
from simulator.journal import CONTRACT_PATH, MockJournal

#: The largest request head (request line and headers) read.
MAX_HEAD_BYTES = 64 * 1024
#: The largest request body read (a status update is a few kilobytes).
MAX_BODY_BYTES = 8 * 1024 * 1024


class _Closed(Exception):
    """The connection ends here: the request was unreadable, the answer is a dropped connection, or the
    server stops."""


class JournalServer:
    """Serves a simulator (``MockJournal``, ``MockRecipient``) on its own event loop in a background thread."""

    def __init__(self, journal: Application, host: str, port: int, tls: ssl.SSLContext | None) -> None:
        self.journal = journal
        self.scheme = "https" if tls else "http"
        self._loop = asyncio.new_event_loop()
        self._released = asyncio.Event()
        self.connections: set[_HttpConnection] = set()  # open now: ``stop`` aborts them
        self._handlers: set[asyncio.Task[None]] = set()
        self._server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _HttpConnection(self), host, port, ssl=tls, backlog=512))
        self.port: int = self._server.sockets[0].getsockname()[1]
        self._thread = threading.Thread(target=self._loop.run_forever, name="mock-journal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Drop every waiting answer, close the listening socket and the loop."""
        async def shut() -> None:
            self._released.set()
            self._server.close()
            for connection in list(self.connections):
                connection.abort()  # idle keep-alive connections end at once
            if self._handlers:
                await asyncio.wait(list(self._handlers), timeout=5)

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (an answer held back, trickled or waiting for a thread) on the loop; ``stop`` waits for it."""
        task = self._loop.create_task(work)
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def released_within(self, seconds: float) -> bool:
        """Wait ``seconds``; True at once if the server is stopping meanwhile."""
        try:
            await asyncio.wait_for(self._released.wait(), seconds)
        except TimeoutError:
            return False
        return True


class _HttpConnection(asyncio.Protocol):
    """One client's connection: its requests are read from what has arrived and answered in order.

    An answer that needs no waiting (a benchmark's every answer) is written from the callback that
    read its request, with no task and no stream objects in between; one that waits (held back,
    trickled, dropped after a delay, or computed in a thread) runs as a task on the loop, and the
    connection's next requests wait in the buffer until it is done.
    """

    def __init__(self, server: JournalServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._checked = False  # whether the first byte was seen to start an HTTP request line
        self._waiting = False  # an answer that waits is under way

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a stream server's transports are Transports
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > MAX_HEAD_BYTES + MAX_BODY_BYTES:
            # More than the largest request, still unread (sent ahead of a held-back answer): not kept.
            self.abort()
            return
        if not self._waiting:
            self._serve()

    def _serve(self) -> None:
        transport = self._transport
        while not self._waiting and transport is not None and not transport.is_closing():
            try:
                read = self._next()
            except _Closed:
                transport.close()
                return
            if read is None:
                return
            request, keep_alive = read
            answer = self._server.journal.handle(request)
            if isinstance(answer, Reply) and answer.at_once:
                transport.write(_wire(answer, keep_alive))
                if not keep_alive:
                    transport.close()
            else:
                self._waiting = True
                self._server.spawn(self._answer_later(answer, keep_alive))

    async def _answer_later(self, answer: Reply | Deferred, keep_alive: bool) -> None:
        transport = self._transport
        assert transport is not None
        try:
            if isinstance(answer, Deferred):  # blocking work (a call to the gateway): off the loop
                reply = await asyncio.get_running_loop().run_in_executor(None, answer.call)
            else:
                reply = answer
            if reply.delay_s and await self._server.released_within(reply.delay_s):
                raise _Closed  # shutting down: nobody is waiting for this answer any more
            if reply.drop:
                raise _Closed
            data = _wire(reply, keep_alive)
            if reply.trickle_s is None:
                transport.write(data)
            else:
                for offset in range(len(data)):  # a journal (or a proxy) that sends its answer a byte at a time
                    if transport.is_closing():
                        raise _Closed
                    transport.write(data[offset:offset + 1])
                    if await self._server.released_within(reply.trickle_s):
                        raise _Closed
            if not keep_alive:
                raise _Closed
        except _Closed:
            transport.close()
            return
        except BaseException:  # a failure of the simulator's own: the client is not left waiting
            transport.close()
            raise
        self._waiting = False
        self._serve()

    def _next(self) -> tuple[Request, bool] | None:
        """The next whole request in the buffer (taken out of it) and whether to keep the connection,
        or None until more has arrived.

        Raises:
            _Closed: not HTTP, a head or body over the limits, or a chunked body.
        """
        buffer = self._buffer
        if not self._checked:
            if not buffer:
                return None
            if not buffer[:1].isalpha():  # not HTTP (a TLS handshake to a plain port, say): say so and close
                assert self._transport is not None
                self._transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                raise _Closed
            self._checked = True
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD_BYTES:
                raise _Closed
            return None
        lines = buffer[:end].decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise _Closed from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise _Closed  # a SOAP client sends a Content-Length; refused rather than half-read
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            raise _Closed
        start = end + 4
        if len(buffer) < start + length:
            return None
        body = bytes(buffer[start:start + length])
        del buffer[:start + length]
        path, _, query = target.partition("?")
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" and (version != "HTTP/1.0" or connection == "keep-alive")
        arguments = parse_qs(query, keep_blank_values=True) if query else {}
        return Request(method, path, arguments, headers, body, self._server.scheme), keep_alive


def _wire(reply: Reply, keep_alive: bool) -> bytes:
    """The reply as bytes on the wire: status line, headers, body."""
    reason = HTTPStatus(reply.status).phrase if reply.status in HTTPStatus._value2member_map_ else ""
    head = [f"HTTP/1.1 {reply.status} {reason}", f"Content-Length: {len(reply.body)}"]
    if reply.body:
        head.append(f"Content-Type: {reply.content_type}")
    if not keep_alive:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body


@contextmanager
def running(
    journal: MockJournal, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """Serve ``journal`` in a background thread; yield the contract's URL. Stops on exit.

    With ``tls`` (a server-side context, possibly requiring client certificates) it serves HTTPS,
    the way a journal system behind the national platform's mutual TLS does.
    """
    with serving(journal, host, port, tls) as base:
        yield base + CONTRACT_PATH


@contextmanager
def serving(
    application: Application, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """Serve ``application`` in a background thread; yield its base URL (no path). Stops on exit."""
    server = JournalServer(application, host, port, tls)
    server.start()
    try:
        yield f"{'https' if tls else 'http'}://{host}:{server.port}"
    finally:
        server.stop()

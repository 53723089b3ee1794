"""The simulator's HTTP/1.1 server: one asyncio event loop, keep-alive, and every way of answering badly.

Why asyncio and not a thread per connection: a benchmark drains a backlog at a few thousand calls a
second over dozens of kept-alive connections, and a fault test holds many answers back for seconds
at a time. A thread per connection (``http.server``) spent more time switching threads and parsing
headers with the ``email`` package than the journal spent reading the requests; one event loop
serves every connection and every waiting answer for the price of a coroutine each.

The server carries out what ``MockJournal.handle`` decides: it waits ``delay_s`` before answering,
sends a trickled answer a byte at a time, or closes the connection without a word (``drop``). When
the server stops, every waiting answer is dropped at once, so a slow journal never holds a test run.
Requests are read with a Content-Length (what SOAP clients send); chunked requests are refused
with 411.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from urllib.parse import parse_qs

from simulator.http import Application, Deferred, Reply, Request
from simulator.journal import CONTRACT_PATH, MockJournal

#: The largest request head (request line and headers) read.
MAX_HEAD_BYTES = 64 * 1024
#: The largest request body read (a status update is a few kilobytes).
MAX_BODY_BYTES = 8 * 1024 * 1024


class _Closed(Exception):
    """The connection ends here: the client left, the request was unreadable, or the server stops."""


class JournalServer:
    """Serves a simulator (``MockJournal``, ``MockRecipient``) on its own event loop in a background thread."""

    def __init__(self, journal: Application, host: str, port: int, tls: ssl.SSLContext | None) -> None:
        self.journal = journal
        self._host = host
        self._tls = tls
        self._scheme = "https" if tls else "http"
        self._loop = asyncio.new_event_loop()
        self._released = asyncio.Event()
        self._open: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, host, port, ssl=tls, backlog=512, limit=MAX_HEAD_BYTES))
        self.port: int = self._server.sockets[0].getsockname()[1]
        self._thread = threading.Thread(target=self._loop.run_forever, name="mock-journal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Drop every waiting answer, close the listening socket and the loop."""
        async def shut() -> None:
            self._released.set()
            self._server.close()
            for writer in list(self._open):
                writer.transport.abort()  # idle keep-alive connections end their read at once
            if self._handlers:
                await asyncio.wait(list(self._handlers), timeout=5)

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._open.add(writer)
        try:
            first = await reader.readexactly(1)
            if not first.isalpha():  # not HTTP (a TLS handshake to a plain port, say): say so and close
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                raise _Closed
            while True:
                request, keep_alive = await self._read(reader, first)
                first = b""
                answer = self.journal.handle(request)
                if isinstance(answer, Deferred):  # blocking work (a call to the gateway): off the loop
                    reply = await asyncio.get_running_loop().run_in_executor(None, answer.call)
                else:
                    reply = answer
                if reply.delay_s and await self._released_within(reply.delay_s):
                    raise _Closed  # shutting down: nobody is waiting for this answer any more
                if reply.drop:
                    raise _Closed
                await self._write(writer, reply, keep_alive)
                if not keep_alive:
                    raise _Closed
        except (_Closed, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError,
                OSError):
            pass
        finally:
            self._open.discard(writer)
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader, first: bytes) -> tuple[Request, bool]:
        head = first + await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
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
        body = await reader.readexactly(length) if length else b""
        path, _, query = target.partition("?")
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" and (version != "HTTP/1.0" or connection == "keep-alive")
        return Request(method, path, parse_qs(query, keep_blank_values=True), headers, body, self._scheme), keep_alive

    async def _released_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._released.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _write(self, writer: asyncio.StreamWriter, reply: Reply, keep_alive: bool) -> None:
        reason = HTTPStatus(reply.status).phrase if reply.status in HTTPStatus._value2member_map_ else ""
        head = [f"HTTP/1.1 {reply.status} {reason}", f"Content-Length: {len(reply.body)}"]
        if reply.body:
            head.append(f"Content-Type: {reply.content_type}")
        if not keep_alive:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body
        if reply.trickle_s is None:
            writer.write(data)
            await writer.drain()
            return
        for offset in range(len(data)):  # a journal (or a proxy) that sends its answer a byte at a time
            writer.write(data[offset:offset + 1])
            await writer.drain()
            if await self._released_within(reply.trickle_s):
                raise _Closed


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
